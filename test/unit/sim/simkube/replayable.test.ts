import { expect } from 'chai';
import { getIn, getMap, toPlain } from '../../../../src/trace/model.js';
import type { MsgMap } from '../../../../src/trace/msgpack.js';
import { buildTrace, deploymentObject, nodeObject } from '../../../../src/trace/generate.js';
import { encodeTrace, traceEvents } from '../../../../src/trace/trace.js';
import { replayableBySimkube } from '../../../../src/sim/simkube/replayable.js';

function replicaSet(sa?: string): Record<string, unknown> {
  const d = deploymentObject({ replicas: 2, cpu: '100m', memory: '64Mi', name: 'rs' }) as {
    kind: string;
    spec: { template: { spec: Record<string, unknown> } };
  };
  d.kind = 'ReplicaSet';
  if (sa) d.spec.template.spec.serviceAccountName = sa;
  return d;
}

const names = (objs: MsgMap[]): string[] =>
  objs.map((o) => `${String(o.get('kind'))}/${String(getIn(o, ['metadata', 'name']))}`);

describe("simkube: the trace SimKube's driver can replay", () => {
  it('leaves a trace SimKube replays as it is unchanged, byte for byte, with no notes', () => {
    const t = buildTrace([deploymentObject({ replicas: 3, cpu: '500m', memory: '512Mi' })]);
    const r = replayableBySimkube(t);
    expect(r.notes).to.deep.equal([]);
    expect(Buffer.from(encodeTrace(r.trace)).equals(Buffer.from(encodeTrace(t)))).to.equal(true);
  });

  it('leaves cluster-scoped Node objects out of the events, with a note', () => {
    const t = buildTrace(
      [
        nodeObject({ name: 'n1', cpu: '8', memory: '16Gi', pods: 110 }),
        deploymentObject({ replicas: 1, cpu: '1', memory: '1Gi' }),
      ],
      [{ ts: 1730390500, deleted: [nodeObject({ name: 'n1', cpu: '8', memory: '16Gi', pods: 110 })] }],
    );
    const before = encodeTrace(t);
    const r = replayableBySimkube(t);
    expect(names(traceEvents(r.trace)[0]!.applied)).to.deep.equal(['Deployment/web']);
    expect(traceEvents(r.trace)[1]!.deleted).to.deep.equal([]);
    expect(r.notes).to.have.length(1);
    expect(r.notes[0]).to.match(
      /^2 cluster-scoped object\(s\) \(v1\/Node\) left out of the events: SimKube's driver replays only namespaced objects/,
    );
    expect(Buffer.from(encodeTrace(t)).equals(Buffer.from(before)), 'the input is not mutated').to.equal(true);
  });

  it("untracks apps/v1.ReplicaSet (SimKube's template path /spec breaks server-side apply) and adds a ServiceAccount the pods name", () => {
    const t = buildTrace([replicaSet('builder')], [{ ts: 1730390460, applied: [replicaSet('builder')] }]);
    const r = replayableBySimkube(t);
    expect([...getMap(r.trace, ['config', 'trackedObjects'])!.keys()]).to.not.include('apps/v1.ReplicaSet');
    expect([...getMap(t, ['config', 'trackedObjects'])!.keys()]).to.include('apps/v1.ReplicaSet');
    const [first, second] = traceEvents(r.trace);
    expect(names(first!.applied)).to.deep.equal(['ServiceAccount/builder', 'ReplicaSet/rs']);
    expect(toPlain(first!.applied[0])).to.deep.equal({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'builder', namespace: 'default' },
    });
    expect(names(second!.applied), 'added once').to.deep.equal(['ReplicaSet/rs']);
    expect(r.notes.join('\n'))
      .to.match(
        /apps\/v1\.ReplicaSet is left out of config\.trackedObjects: SimKube's pod template path for it is \/spec/,
      )
      .and.match(/ServiceAccount\(s\) default\/builder added/);
  });

  it('adds no ServiceAccount when the trace carries it, or for the default one', () => {
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder', namespace: 'default' } };
    expect(replayableBySimkube(buildTrace([sa, replicaSet('builder')])).notes.join()).to.not.match(/ServiceAccount/);
    expect(replayableBySimkube(buildTrace([replicaSet('default')])).notes.join()).to.not.match(/ServiceAccount/);
  });
});
