// Finding a workload in every event of a trace, its containers, and the index entry it needs.
import { expect } from 'chai';
import type { MsgMap, MsgValue } from '../../../src/trace/msgpack.js';
import { fromPlain, getIn } from '../../../src/trace/model.js';
import { encodeTrace, TraceError } from '../../../src/trace/trace.js';
import {
  containerAt,
  currentObject,
  ensureIndexed,
  findOccurrences,
  formatWorkload,
  listContainers,
  listWorkloads,
  parseWorkloadArg,
  podSpecOf,
  replicasOf,
  requestOf,
  resolveContainer,
  setReplicas,
  setRequest,
  templateOccurrences,
  type WorkloadRef,
} from '../../../src/trace/workload.js';
import { applyAction } from '../../../src/arena/actions.js';
import {
  appliedAt,
  buildTrace,
  deletionStub,
  expectTraceError,
  loadLegacy,
  loadSimkube,
  workloadObject,
} from './helpers.js';

const web: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: 'web' };
const api: WorkloadRef = { kind: 'Deployment', namespace: 'prod', name: 'api' };

function webObject(replicas: number) {
  return workloadObject({
    replicas,
    containers: [
      { name: 'app', cpu: '500m', memory: '512Mi' },
      { name: 'sidecar', cpu: '100m', memory: '64Mi' },
    ],
    initContainers: [{ name: 'setup', cpu: '200m' }],
  });
}

/** web: applied (2), applied again (3), deleted as a stub, applied (5); api: applied, then deleted as a full object. */
function history() {
  return buildTrace([
    { ts: 100, applied_objs: [webObject(2), workloadObject({ name: 'api', namespace: 'prod', replicas: 1 })] },
    { ts: 200, applied_objs: [webObject(3)] },
    { ts: 300, deleted_objs: [deletionStub('web')] },
    {
      ts: 400,
      applied_objs: [webObject(5)],
      deleted_objs: [workloadObject({ name: 'api', namespace: 'prod', replicas: 1 })],
    },
  ]);
}

describe('workloads in a trace', () => {
  describe('findOccurrences', () => {
    it('finds the workload in applied and deleted entries of every event, in order', () => {
      const occ = findOccurrences(history(), web);
      expect(occ.map((o) => [o.event, o.list, o.position])).to.deep.equal([
        [0, 'applied_objs', 0],
        [1, 'applied_objs', 0],
        [2, 'deleted_objs', 0],
        [3, 'applied_objs', 0],
      ]);
      expect(occ.map((o) => replicasOf(o.obj))).to.deep.equal([2, 3, 1, 5]); // the stub has no spec.replicas
      expect(findOccurrences(history(), api).map((o) => [o.event, o.list, o.position])).to.deep.equal([
        [0, 'applied_objs', 1],
        [3, 'deleted_objs', 0],
      ]);
    });

    it('matches kind, namespace and name exactly', () => {
      expect(findOccurrences(history(), { ...web, namespace: 'prod' })).to.deep.equal([]);
      expect(findOccurrences(history(), { ...web, kind: 'StatefulSet' })).to.deep.equal([]);
      expect(findOccurrences(history(), { ...web, name: 'we' })).to.deep.equal([]);
    });

    it('follows the trace when its lists change after a lookup (the lookup index is rebuilt)', () => {
      const trace = history();
      const places = () => findOccurrences(trace, web).map((o) => [o.event, o.list, o.position]);
      expect(places()).to.have.length(4);
      const events = trace.get('events') as MsgMap[];
      // An object added to a list, a list replaced, an event added, a workload renamed in place: each is seen.
      (events[1]!.get('applied_objs') as MsgValue[]).unshift(fromPlain(workloadObject({ name: 'other', replicas: 1 })));
      expect(places()[1]).to.deep.equal([1, 'applied_objs', 1]);
      events[2]!.set('deleted_objs', []);
      expect(places()).to.have.length(3);
      events.push(fromPlain({ ts: 500, applied_objs: [webObject(6)], deleted_objs: [] }) as MsgMap);
      expect(places().at(-1)).to.deep.equal([4, 'applied_objs', 0]);
      (getIn(events[0]!, ['applied_objs', 0, 'metadata']) as MsgMap).set('name', 'renamed');
      expect(places()[0]).to.deep.equal([1, 'applied_objs', 1]);
      expect(findOccurrences(trace, { ...web, name: 'renamed' })).to.have.length(1);
    });

    it('templateOccurrences leaves out deletion stubs but keeps full deleted objects', () => {
      expect(templateOccurrences(history(), web).map((o) => o.event)).to.deep.equal([0, 1, 3]);
      expect(templateOccurrences(history(), api).map((o) => o.list)).to.deep.equal(['applied_objs', 'deleted_objs']);
    });

    it('currentObject is the last applied occurrence', () => {
      expect(replicasOf(currentObject(history(), web))).to.equal(5);
      const t = history();
      expect(currentObject(t, web)).to.equal(appliedAt(t, 3));
    });

    it('a CronJob applied then deleted (cronjob.sktrace) is found in both events', () => {
      const t = loadSimkube('cronjob.sktrace');
      const ref: WorkloadRef = { kind: 'CronJob', namespace: 'default', name: 'hello-simkube' };
      expect(findOccurrences(t, ref).map((o) => [o.event, o.list])).to.deep.equal([
        [1, 'applied_objs'],
        [2, 'deleted_objs'],
      ]);
      const spec = podSpecOf(currentObject(t, ref))!;
      expect(listContainers(spec).map((c) => c.name)).to.deep.equal(['sleeper']);
    });
  });

  describe('unknown workloads', () => {
    it('the error names the workload field and lists the known workloads', () => {
      const err = expectTraceError(() => templateOccurrences(history(), { ...web, name: 'nope' }), 'workload');
      expect(err.message).to.contain('Deployment default/nope');
      expect(err.hint).to.contain('Deployment default/web');
      expect(err.hint).to.contain('Deployment prod/api');
    });

    it('a trace without workloads says so', () => {
      const t = buildTrace([{ ts: 1 }]);
      const err = expectTraceError(() => templateOccurrences(t, web), 'workload');
      expect(err.hint).to.match(/no workloads/);
    });

    it('a kind without a known pod template is refused', () => {
      expectTraceError(() => templateOccurrences(history(), { ...web, kind: 'Service' }), 'workload.kind');
    });

    it('a workload seen only as deletion stubs is refused', () => {
      const t = buildTrace([{ ts: 1, deleted_objs: [deletionStub('web')] }]);
      const err = expectTraceError(() => templateOccurrences(t, web), 'workload');
      expect(err.message).to.match(/deletion stubs/);
    });
  });

  describe('containers', () => {
    const spec = () => podSpecOf(appliedAt(history(), 0))!;

    it('lists all containers and init containers', () => {
      expect(listContainers(spec())).to.deep.equal([
        { list: 'containers', index: 0, name: 'app' },
        { list: 'containers', index: 1, name: 'sidecar' },
        { list: 'initContainers', index: 0, name: 'setup' },
      ]);
    });

    it('resolveContainer defaults to the first app container', () => {
      expect(resolveContainer(spec(), web)).to.deep.equal({ list: 'containers', index: 0, name: 'app' });
    });

    it('resolveContainer finds a second container and an init container by name', () => {
      expect(resolveContainer(spec(), web, 'sidecar')).to.deep.equal({ list: 'containers', index: 1, name: 'sidecar' });
      const init = resolveContainer(spec(), web, 'setup');
      expect(init).to.deep.equal({ list: 'initContainers', index: 0, name: 'setup' });
      expect(requestOf(containerAt(spec(), init), 'cpu')).to.equal('200m');
      expect(requestOf(containerAt(spec(), init), 'memory')).to.equal(undefined);
    });

    it('an unknown container name lists the containers, marking init containers', () => {
      const err = expectTraceError(() => resolveContainer(spec(), web, 'nope'), 'workload.container');
      expect(err.hint).to.equal('containers: app, sidecar, setup (init)');
    });

    it('a pod with only init containers has no default container', () => {
      const t = buildTrace([
        { ts: 1, applied_objs: [workloadObject({ containers: [], initContainers: [{ name: 'setup' }] })] },
      ]);
      expectTraceError(() => resolveContainer(podSpecOf(appliedAt(t, 0))!, web), 'workload.container');
    });

    it('setRequest creates resources.requests when they are missing, appending keys', () => {
      const t = buildTrace([
        { ts: 1, applied_objs: [workloadObject({ containers: [{ name: 'web', noResources: true }] })] },
      ]);
      const c = containerAt(podSpecOf(appliedAt(t, 0))!, { list: 'containers', index: 0, name: 'web' });
      setRequest(c, 'cpu', '500m');
      expect([...c.keys()]).to.deep.equal(['name', 'image', 'resources']);
      expect(requestOf(c, 'cpu')).to.equal('500m');
    });
  });

  describe('replicas', () => {
    it('a missing spec.replicas counts as 1 (the Kubernetes default)', () => {
      const t = buildTrace([{ ts: 1, applied_objs: [workloadObject({})] }]);
      expect(replicasOf(appliedAt(t, 0))).to.equal(1);
      setReplicas(appliedAt(t, 0), 4);
      expect(getIn(appliedAt(t, 0), ['spec', 'replicas'])).to.equal(4);
    });
  });

  describe('listWorkloads', () => {
    it('lists distinct applied workloads in first-seen order', () => {
      expect(listWorkloads(history())).to.deep.equal([web, api]);
    });

    it('trace-v2.msgpack holds the 14 infrastructure workloads, exactly the ones its index lists', () => {
      const t = loadLegacy('trace-v2');
      const found = listWorkloads(t);
      expect(found).to.have.length(14);
      const fromIndex: string[] = [];
      for (const [gvk, entries] of t.get('index') as MsgMap) {
        const kind = (gvk as string).split('.').pop()!;
        for (const key of (entries as MsgMap).keys()) fromIndex.push(`${kind} ${key as string}`);
      }
      expect(found.map(formatWorkload).sort()).to.deep.equal(fromIndex.sort());
      expect(found.filter((w) => w.kind === 'StatefulSet')).to.have.length(2);
      expect(found.map(formatWorkload)).to.include('Deployment kube-system/coredns');
      for (const w of found)
        expect(listContainers(podSpecOf(currentObject(t, w))!).length, formatWorkload(w)).to.be.greaterThan(0);
    });

    it('bare-pods.sktrace: 4 bare Pods in testing', () => {
      const pods = listWorkloads(loadSimkube('bare-pods.sktrace'));
      expect(pods).to.have.length(4);
      for (const p of pods) {
        expect(p.kind).to.equal('Pod');
        expect(p.namespace).to.equal('testing');
      }
    });

    it('the legacy named traces each hold Deployment default/web', () => {
      expect(listWorkloads(loadLegacy('trace-cpu-heavy'))).to.deep.equal([web]);
    });
  });

  describe('index', () => {
    it('ensureIndexed adds "ns/name" → 0 under the GVK when missing', () => {
      const t = history();
      ensureIndexed(t, appliedAt(t, 0));
      expect(getIn(t, ['index', 'apps/v1.Deployment', 'default/web'])).to.equal(0);
      ensureIndexed(t, appliedAt(t, 0, 1));
      expect([...(getIn(t, ['index', 'apps/v1.Deployment']) as MsgMap).keys()]).to.deep.equal([
        'default/web',
        'prod/api',
      ]);
    });

    it('ensureIndexed keeps an existing hash', () => {
      const t = loadLegacy('trace-v2');
      const before = getIn(t, ['index', 'apps/v1.Deployment', 'kube-system/coredns']);
      expect(typeof before).to.equal('bigint');
      const coredns = currentObject(t, { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' });
      const bytes = encodeTrace(t);
      ensureIndexed(t, coredns);
      expect(getIn(t, ['index', 'apps/v1.Deployment', 'kube-system/coredns'])).to.equal(before);
      expect(Buffer.compare(Buffer.from(encodeTrace(t)), Buffer.from(bytes))).to.equal(0);
    });

    it('after a mutation the legacy trace (index: {}) has an index entry for the workload', () => {
      const t = loadLegacy('trace-normalized');
      expect((t.get('index') as MsgMap).size).to.equal(0);
      applyAction(t, web, 'bump-cpu');
      expect(getIn(t, ['index', 'apps/v1.Deployment', 'default/web'])).to.equal(0);
    });
  });

  describe('parseWorkloadArg', () => {
    it('NAME and NS/NAME', () => {
      expect(parseWorkloadArg('web')).to.deep.equal(web);
      expect(parseWorkloadArg('prod/api')).to.deep.equal(api);
      expect(parseWorkloadArg('prod/db', 'StatefulSet')).to.deep.equal({
        kind: 'StatefulSet',
        namespace: 'prod',
        name: 'db',
      });
    });

    it('anything else is a TraceError on the workload field', () => {
      for (const bad of ['', 'a/b/c', '/web', 'prod/']) expect(() => parseWorkloadArg(bad), bad).to.throw(TraceError);
    });
  });

  it('fromPlain builds traces the workload helpers can read (sanity of the test builder)', () => {
    const t = buildTrace([{ ts: 1, applied_objs: [fromPlain(workloadObject({ replicas: 2 })) as MsgValue] }]);
    expect(replicasOf(currentObject(t, web))).to.equal(2);
  });
});
