// The operator converts Node objects in a starting-trace ConfigMap like the CLI does on load: they leave the trace
// (step 0 replays a converted copy in the episode's own ConfigMap), describe the node pool unless spec.nodePool
// names one, and the episode says so (Progressing condition, NodeObjectsConverted event).
import { expect } from 'chai';
import { CoreV1Api, EventsV1Api } from '@kubernetes/client-node';
import { buildTrace, deploymentObject, nodeObject } from '../../../src/trace/generate.js';
import { decodeTrace, encodeTrace, isNodeObject } from '../../../src/trace/trace.js';
import type { MsgMap, MsgValue } from '../../../src/trace/msgpack.js';
import { waitFor } from '../../support/cluster.js';
import { createEpisode, getEpisode, operatorSuite, startOperator, traceConfigMap, waitForPhase } from './helpers.js';

/** 3 pods of 17 CPU: Pending on the default pool (16 CPU nodes), Running on the trace's own 32-CPU Node objects. */
const withNodes = () =>
  encodeTrace(
    buildTrace([
      deploymentObject({ replicas: 3, cpu: '17', memory: '2Gi' }),
      ...[1, 2, 3].map((i) => nodeObject({ name: `big-${i}`, cpu: '32', memory: '64Gi', pods: 110 })),
    ]),
  );

describe('operator: Node objects in the starting trace are converted into the node pool', function () {
  this.timeout(180_000);
  const suite = operatorSuite('opnodes');

  async function reasons(name: string): Promise<Map<string, string>> {
    const events = await suite.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: suite.ns });
    return new Map(
      events.items.filter((e) => e.regarding?.name === name).map((e) => [e.reason ?? '', e.note ?? ''] as const),
    );
  }

  it('replays on the pool the Node objects describe, from a converted copy, and says so', async () => {
    await traceConfigMap(suite.kc, suite.ns, 'old-trace', withNodes());
    suite.operator = await startOperator(suite.kc, suite.ns);
    await createEpisode(suite.kc, suite.ns, 'old', {
      trace: { configMapRef: { name: 'old-trace' } },
      targetReplicas: 3,
      maxSteps: 3,
      backend: 'embedded',
    });
    const ep = await waitForPhase(suite.kc, suite.ns, 'old', ['Succeeded', 'Failed']);
    expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
    // The 32-CPU nodes of the trace hold the 17-CPU pods: solved at step 0.
    expect(ep.status?.initialObservation).to.deep.equal({ ready: 3, pending: 0, total: 3 });
    expect(ep.status?.stepsToSolve).to.equal(0);

    // Step 0 replayed the episode's own converted copy, which holds no Node object; the user's ConfigMap is untouched.
    const cmName = ep.status!.traceConfigMap!;
    expect(cmName).to.match(/^old-trace-[0-9a-f]{12}$/);
    const core = suite.kc.makeApiClient(CoreV1Api);
    const cm = await core.readNamespacedConfigMap({ name: cmName, namespace: suite.ns });
    const converted = decodeTrace(Buffer.from(Object.values(cm.binaryData!)[0]!, 'base64')).trace;
    const objs = (converted.get('events') as MsgValue[]).flatMap((e) => (e as MsgMap).get('applied_objs') as MsgMap[]);
    expect(objs.filter((o) => isNodeObject(o))).to.deep.equal([]);
    expect(objs.map((o) => o.get('kind'))).to.deep.equal(['Deployment']);
    const original = await core.readNamespacedConfigMap({ name: 'old-trace', namespace: suite.ns });
    expect(Buffer.from(original.binaryData!['trace.msgpack']!, 'base64').equals(Buffer.from(withNodes()))).to.equal(
      true,
    );

    const note = await waitFor('the NodeObjectsConverted event', async () =>
      (await reasons('old')).get('NodeObjectsConverted'),
    );
    expect(note).to.match(/converted 3 v1 Node object\(s\) in the trace's events into a node pool of 3 node\(s\)/);
  });

  it('uses spec.nodePool instead when the episode names one, and says so', async () => {
    await traceConfigMap(suite.kc, suite.ns, 'old-trace', withNodes());
    suite.operator = await startOperator(suite.kc, suite.ns);
    await createEpisode(suite.kc, suite.ns, 'own-pool', {
      trace: { configMapRef: { name: 'old-trace' } },
      targetReplicas: 3,
      maxSteps: 1,
      backend: 'embedded',
      nodePool: { count: 3, cpu: '8', memory: '32Gi', pods: 110 },
    });
    const ep = await waitForPhase(suite.kc, suite.ns, 'own-pool', ['Succeeded', 'Failed']);
    // 17-CPU pods on 8-CPU nodes: all Pending, whatever the trace's Node objects said.
    expect(ep.status?.initialObservation).to.deep.equal({ ready: 0, pending: 3, total: 3 });
    const note = await waitFor('the NodeObjectsConverted event', async () =>
      (await reasons('own-pool')).get('NodeObjectsConverted'),
    );
    expect(note).to.match(/spec\.nodePool is used instead of that pool/);
    expect((await getEpisode(suite.kc, suite.ns, 'own-pool')).status?.history?.[0]?.action).to.equal('reduce-cpu');
  });
});
