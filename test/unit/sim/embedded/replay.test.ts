import { expect } from 'chai';
import { observe, simulate, UnsupportedFeatureError } from '../../../../src/sim/embedded/index.js';
import {
  barePod,
  container,
  deployment,
  FIXTURES,
  loadTrace,
  makeTrace,
  nodeObj,
  podSpec,
  stub,
  T0,
  traceWith,
  WEB,
  workload,
  type Plain,
} from './helpers.js';

const BARE_PODS = `${FIXTURES}/simkube/traces/bare-pods.sktrace`;
const CRONJOB = `${FIXTURES}/simkube/traces/cronjob.sktrace`;
const ONE_SLOT = { count: 1, cpu: '16', memory: '32Gi', pods: 1 };
const ONE_NODE_16 = { count: 1, cpu: '16', memory: '32Gi', pods: 110 };

describe('embedded replay: Deployments across events', () => {
  it('scales up and down; scale-down removes Pending pods first, then the newest', () => {
    const t = makeTrace([
      { at: 0, applied: [deployment('web', 2, podSpec('6'))] },
      { at: 10, applied: [deployment('web', 8, podSpec('6'))] },
      { at: 20, applied: [deployment('web', 5, podSpec('6'))] },
      { at: 30, applied: [deployment('web', 1, podSpec('6'))] },
    ]);
    expect(observe(simulate(t, { durationSeconds: 5 }), WEB)).to.deep.equal({ ready: 2, pending: 0, total: 2 });
    // 3 nodes x 16 CPU hold 2 pods of 6 CPU each.
    expect(observe(simulate(t, { durationSeconds: 15 }), WEB)).to.deep.equal({ ready: 6, pending: 2, total: 8 });
    const five = simulate(t, { durationSeconds: 25 });
    expect(observe(five, WEB)).to.deep.equal({ ready: 5, pending: 0, total: 5 });
    expect(five.pods.map((p) => p.name)).to.deep.equal(['web-0', 'web-1', 'web-2', 'web-3', 'web-4']);
    const one = simulate(t);
    expect(one.pods.map((p) => p.name)).to.deep.equal(['web-0']);
    expect(one.eventsReplayed).to.equal(4);
  });

  it('drops events at or after first_ts + durationSeconds, like SimKube', () => {
    const t = makeTrace([
      { at: 0, applied: [deployment('web', 1, podSpec('1'))] },
      { at: 60, applied: [deployment('web', 3, podSpec('1'))] },
    ]);
    expect(observe(simulate(t, { durationSeconds: 60 }), WEB).total).to.equal(1);
    expect(observe(simulate(t, { durationSeconds: 61 }), WEB).total).to.equal(3);
    expect(simulate(t, { durationSeconds: 60 }).endTs).to.equal(T0 + 60);
  });

  it('replaces every pod when the template changes; new pods queue behind older pending ones', () => {
    const t = makeTrace([
      { at: 0, applied: [deployment('web', 2, podSpec('10')), deployment('other', 2, podSpec('10'))] },
      { at: 10, applied: [deployment('web', 2, podSpec('7'))] },
    ]);
    const before = simulate(t, { durationSeconds: 5 });
    expect(before.pods.map((p) => `${p.owner.name}:${p.phase}`)).to.deep.equal([
      'web:Running',
      'web:Running',
      'other:Running',
      'other:Pending',
    ]);
    const after = simulate(t);
    // The old web pods are gone; "other" (older) gets the freed node first, then the new web pods fill what is left.
    expect(observe(after, { ...WEB, name: 'other' })).to.deep.equal({ ready: 2, pending: 0, total: 2 });
    expect(observe(after, WEB)).to.deep.equal({ ready: 2, pending: 0, total: 2 });
    expect(after.pods.filter((p) => p.owner.name === 'web').map((p) => p.requests.cpu)).to.deep.equal([7000, 7000]);
  });

  it('does not roll out a template change while paused, but still scales', () => {
    const t = makeTrace([
      { at: 0, applied: [deployment('web', 1, podSpec('1'))] },
      { at: 10, applied: [deployment('web', 2, podSpec('2'), 'default', { paused: true })] },
    ]);
    expect(simulate(t).pods.map((p) => p.requests.cpu)).to.deep.equal([1000, 1000]);
  });

  it('removes a deleted workload and its pods, freeing their nodes', () => {
    const t = makeTrace([
      { at: 0, applied: [deployment('big', 3, podSpec('16')), deployment('web', 1, podSpec('1'))] },
      { at: 10, deleted: [stub('apps/v1', 'Deployment', 'big')] },
    ]);
    expect(observe(simulate(t, { durationSeconds: 5 }), WEB)).to.deep.equal({ ready: 0, pending: 1, total: 1 });
    const r = simulate(t);
    expect(observe(r, WEB)).to.deep.equal({ ready: 1, pending: 0, total: 1 });
    expect(observe(r, { ...WEB, name: 'big' })).to.deep.equal({ ready: 0, pending: 0, total: 0 });
  });

  it('defaults spec.replicas to 1 and applies a ReplicaSet template only to pods created later', () => {
    expect(simulate(traceWith(deployment('web', undefined, podSpec('1')))).pods).to.have.length(1);
    const rs = (replicas: number, cpu: string) =>
      workload('apps/v1', 'ReplicaSet', 'rs', { replicas, template: { spec: podSpec(cpu) } });
    const t = makeTrace([
      { at: 0, applied: [rs(1, '1')] },
      { at: 10, applied: [rs(2, '2')] },
    ]);
    expect(simulate(t).pods.map((p) => p.requests.cpu)).to.deep.equal([1000, 2000]);
  });

  it('throws when the observed workload is not in the trace, or only after the window', () => {
    const t = makeTrace([
      { at: 0, applied: [deployment('web', 1, podSpec('1'))] },
      { at: 100, applied: [deployment('late', 1, podSpec('1'))] },
    ]);
    const r = simulate(t, { durationSeconds: 10 });
    expect(() => observe(r, { ...WEB, name: 'nope' })).to.throw(/not applied in the trace/);
    expect(() => observe(r, { ...WEB, name: 'late' }, t)).to.throw(/only after the replay window/);
  });
});

describe('embedded replay: pod lifecycles', () => {
  it('replays bare-pods.sktrace: Finished pods become Succeeded and free the only pod slot', () => {
    const t = loadTrace(BARE_PODS);
    const r = simulate(t, { nodePool: ONE_SLOT });
    expect(r.pods.map((p) => `${p.name}:${p.phase}`)).to.deep.equal([
      'bare-pod-1781282449:Succeeded',
      'bare-pod-1781282509:Succeeded',
      'bare-pod-1781282570:Succeeded',
      'bare-pod-1781282630:Running',
    ]);
    const first = r.pods[0]!;
    expect(first.finishedAt! - first.startedAt!).to.equal(12); // Finished [1781282468, 1781282480]
    expect(first.owner).to.deep.equal({ kind: 'Pod', namespace: 'testing', name: 'bare-pod-1781282449' });
    expect(observe(r, { kind: 'Pod', namespace: 'testing', name: 'bare-pod-1781282449' })).to.deep.equal({
      ready: 0,
      pending: 0,
      total: 1,
    });
    expect(observe(r, { kind: 'Pod', namespace: 'testing', name: 'bare-pod-1781282630' })).to.deep.equal({
      ready: 1,
      pending: 0,
      total: 1,
    });
    expect(r.nodes[0]!.requested.pods).to.equal(1);
  });

  it('cuts bare-pods.sktrace at the window: later pods never exist', () => {
    const r = simulate(loadTrace(BARE_PODS), { nodePool: ONE_SLOT, durationSeconds: 50 });
    expect(r.pods.map((p) => p.phase)).to.deep.equal(['Succeeded', 'Running']);
  });

  it('keeps a pod Pending while a finishing pod holds the capacity, then schedules it when that pod succeeds', () => {
    const t = makeTrace([{ at: 0, applied: [barePod('a', podSpec('16')), barePod('b', podSpec('16'))] }, { at: 100 }], {
      index: { 'v1.Pod': { 'default/a': 0, 'default/b': 0 } },
      lifecycles: [['v1.Pod', 'default/a', [{ Finished: [5, 35] }]]],
    });
    const during = simulate(t, { nodePool: ONE_NODE_16, durationSeconds: 29 });
    expect(during.pods.map((p) => p.phase)).to.deep.equal(['Running', 'Pending']);
    const after = simulate(t, { nodePool: ONE_NODE_16 });
    expect(after.pods.map((p) => `${p.phase}@${p.startedAt! - T0}`)).to.deep.equal(['Succeeded@0', 'Running@30']);
  });

  it('replays cronjob.sktrace: a Job pod at each minute tick, each Succeeded after 30 s, all gone after the deletion', () => {
    const t = loadTrace(CRONJOB);
    const cron = { kind: 'CronJob', namespace: 'default', name: 'hello-simkube' };
    const mid = simulate(t, { nodePool: ONE_SLOT, durationSeconds: 120 });
    expect(mid.pods.map((p) => `${p.controller}:${p.phase}:${p.startedAt! % 60}`)).to.deep.equal([
      'hello-simkube-29054781:Succeeded:0',
      'hello-simkube-29054782:Running:0',
    ]);
    expect(observe(mid, cron)).to.deep.equal({ ready: 1, pending: 0, total: 2 });
    const late = simulate(t, { nodePool: ONE_SLOT, durationSeconds: 200 });
    expect(late.pods.map((p) => p.phase)).to.deep.equal(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(late.pods.map((p) => p.finishedAt! - p.startedAt!)).to.deep.equal([30, 30, 30]);
    expect(observe(simulate(t, { nodePool: ONE_SLOT }), cron)).to.deep.equal({ ready: 0, pending: 0, total: 0 });
  });

  it('gives the N-th pod of an owner list[N % len] and replaces Deployment pods that finish', () => {
    const t = makeTrace([{ at: 0, applied: [deployment('web', 1, podSpec('1'))] }, { at: 100 }], {
      index: { 'apps/v1.Deployment': { 'default/web': 0 } },
      lifecycles: [['apps/v1.Deployment', 'default/web', [{ Finished: [0, 40] }, { Running: 0 }]]],
    });
    const r = simulate(t);
    // Pod 0 finishes at +40 and is replaced by pod 1, which gets list[1] (Running) and never finishes.
    expect(r.pods.map((p) => `${p.name}:${p.phase}`)).to.deep.equal(['web-0:Succeeded', 'web-1:Running']);
    expect(observe(r, WEB)).to.deep.equal({ ready: 1, pending: 0, total: 2 });
    expect(r.pods[1]!.startedAt).to.equal(T0 + 40);
  });

  it('ignores lifecycles of owners missing from the index or from trackedObjects', () => {
    const lifecycles: [string, string, unknown[]][] = [['apps/v1.Deployment', 'default/web', [{ Finished: [0, 40] }]]];
    const noIndex = makeTrace([{ at: 0, applied: [deployment('web', 1, podSpec('1'))] }, { at: 100 }], { lifecycles });
    expect(simulate(noIndex).pods.map((p) => p.phase)).to.deep.equal(['Running']);
    const untracked = makeTrace([{ at: 0, applied: [deployment('web', 1, podSpec('1'))] }, { at: 100 }], {
      lifecycles,
      index: { 'apps/v1.Deployment': { 'default/web': 0 } },
      tracked: {},
    });
    expect(simulate(untracked).pods.map((p) => p.phase)).to.deep.equal(['Running']);
  });
});

describe('embedded replay: other workload kinds', () => {
  it('runs one DaemonSet pod per node that passes its node filters (cordoned nodes included)', () => {
    const ds = workload('apps/v1', 'DaemonSet', 'agent', {
      template: { spec: podSpec('100m', undefined, { nodeSelector: { role: 'worker' } }) },
    });
    const nodes = [
      nodeObj('w1', { labels: { type: 'virtual', role: 'worker' } }),
      nodeObj('w2', { labels: { type: 'virtual', role: 'worker' }, unschedulable: true }),
      nodeObj('w3', {
        labels: { type: 'virtual', role: 'worker' },
        taints: [{ key: 'x', value: 'y', effect: 'NoSchedule' }],
      }),
      nodeObj('m1', { labels: { type: 'virtual', role: 'master' } }),
    ];
    const r = simulate(makeTrace([{ at: 0, applied: [...nodes, ds] }]));
    expect(r.pods.map((p) => p.node)).to.deep.equal(['w1', 'w2']);
    const pool = simulate(
      traceWith(workload('apps/v1', 'DaemonSet', 'agent', { template: { spec: podSpec('100m') } })),
      { nodePool: { count: 5, cpu: '1', memory: '1Gi', pods: 10 } },
    );
    expect(pool.pods.map((p) => p.node)).to.deep.equal(['node-1', 'node-2', 'node-3', 'node-4', 'node-5']);
    expect(observe(pool, { kind: 'DaemonSet', namespace: 'default', name: 'agent' })).to.deep.equal({
      ready: 5,
      pending: 0,
      total: 5,
    });
  });

  it('keeps a DaemonSet pod Pending on its own node when that node is full', () => {
    const r = simulate(traceWith(workload('apps/v1', 'DaemonSet', 'agent', { template: { spec: podSpec('2') } })), {
      nodePool: { count: 2, cpu: '1', memory: '1Gi', pods: 10 },
    });
    expect(r.pods.map((p) => p.message)).to.deep.equal([
      "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.",
      "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.",
    ]);
  });

  it('creates StatefulSet pods in order and waits for each to run (OrderedReady); Parallel creates all', () => {
    const ss = (policy?: string) =>
      workload('apps/v1', 'StatefulSet', 'db', {
        replicas: 4,
        ...(policy ? { podManagementPolicy: policy } : {}),
        template: { spec: podSpec('10') },
      });
    const ordered = simulate(traceWith(ss()));
    expect(ordered.pods.map((p) => `${p.name}:${p.phase}`)).to.deep.equal([
      'db-0:Running',
      'db-1:Running',
      'db-2:Running',
      'db-3:Pending',
    ]);
    const blocked = simulate(traceWith(ss()), { nodePool: { count: 1, cpu: '16', memory: '32Gi', pods: 110 } });
    expect(blocked.pods.map((p) => `${p.name}:${p.phase}`)).to.deep.equal(['db-0:Running', 'db-1:Pending']);
    const parallel = simulate(traceWith(ss('Parallel')), {
      nodePool: { count: 1, cpu: '16', memory: '32Gi', pods: 110 },
    });
    expect(parallel.pods.map((p) => p.phase)).to.deep.equal(['Running', 'Pending', 'Pending', 'Pending']);
  });

  it('runs min(parallelism, completions) Job pods and starts the next ones as pods finish', () => {
    const job = workload('batch/v1', 'Job', 'batch', {
      parallelism: 2,
      completions: 5,
      template: { spec: podSpec('1', undefined, { restartPolicy: 'Never' }) },
    });
    const t = makeTrace([{ at: 0, applied: [job] }, { at: 1000 }], {
      index: { 'batch/v1.Job': { 'default/batch': 0 } },
      lifecycles: [['batch/v1.Job', 'default/batch', [{ Finished: [0, 100] }]]],
    });
    const ref = { kind: 'Job', namespace: 'default', name: 'batch' };
    expect(observe(simulate(t, { durationSeconds: 50 }), ref)).to.deep.equal({ ready: 2, pending: 0, total: 2 });
    expect(observe(simulate(t, { durationSeconds: 150 }), ref)).to.deep.equal({ ready: 2, pending: 0, total: 4 });
    expect(observe(simulate(t), ref)).to.deep.equal({ ready: 0, pending: 0, total: 5 });
    const plain = simulate(traceWith(workload('batch/v1', 'Job', 'one', { template: { spec: podSpec('1') } })));
    expect(plain.pods).to.have.length(1);
  });

  it('creates no Jobs and warns when a CronJob schedule cannot be parsed', () => {
    const cron = workload('batch/v1', 'CronJob', 'bad', {
      schedule: 'every minute',
      jobTemplate: { spec: { template: { spec: podSpec('1') } } },
    });
    const r = simulate(makeTrace([{ at: 0, applied: [cron] }, { at: 600 }]));
    expect(r.pods).to.have.length(0);
    expect(r.warnings.join('\n')).to.match(/schedule: "every minute" cannot be parsed/);
  });

  it('honours CronJob concurrencyPolicy Forbid and the successful Jobs history limit', () => {
    const cron = (policy: string, limit: number) =>
      workload('batch/v1', 'CronJob', 'c', {
        schedule: '*/2 * * * *',
        concurrencyPolicy: policy,
        successfulJobsHistoryLimit: limit,
        jobTemplate: { spec: { template: { spec: podSpec('1') } } },
      });
    const opts = (policy: string, limit: number) =>
      makeTrace([{ at: 0, applied: [cron(policy, limit)] }, { at: 1200 }], {
        index: { 'batch/v1.CronJob': { 'default/c': 0 } },
        lifecycles: [['batch/v1.CronJob', 'default/c', [{ Finished: [0, 150] }]]],
      });
    const ref = { kind: 'CronJob', namespace: 'default', name: 'c' };
    // Allow: a Job every 2 minutes (10 in 20 minutes), each running 150 s; only the newest 3 finished ones are kept.
    const allow = simulate(opts('Allow', 3));
    expect(allow.pods.filter((p) => p.phase === 'Succeeded')).to.have.length(3);
    expect(observe(allow, ref).ready).to.be.at.least(1);
    // Forbid: a tick is skipped while the previous Job still runs, so Jobs start every 4 minutes.
    const forbid = simulate(opts('Forbid', 100));
    const starts = forbid.pods.map((p) => p.startedAt! - forbid.pods[0]!.startedAt!);
    expect(starts).to.deep.equal([0, 240, 480, 720, 960]);
  });

  it('binds a pod with spec.nodeName without the scheduler, and keeps it Pending when the node does not exist', () => {
    const r = simulate(
      traceWith(
        barePod('pinned', podSpec('100', undefined, { nodeName: 'node-2' })),
        barePod('lost', podSpec('1', undefined, { nodeName: 'gone' })),
      ),
    );
    expect(r.pods.map((p) => `${p.name}:${p.node}:${p.phase}`)).to.deep.equal([
      'pinned:node-2:Running',
      'lost:null:Pending',
    ]);
    expect(r.pods[1]!.reasons[0]).to.match(/"gone", which is not a node/);
  });

  it('keeps a re-applied bare Pod as it was (pod specs are immutable) and warns', () => {
    const t = makeTrace([
      { at: 0, applied: [barePod('p', podSpec('1'))] },
      { at: 10, applied: [barePod('p', podSpec('2'))] },
    ]);
    const r = simulate(t);
    expect(r.pods.map((p) => p.requests.cpu)).to.deep.equal([1000]);
    expect(r.warnings.join('\n')).to.match(/immutable|rejects such pod updates/);
  });

  it('leaves pods of another scheduler or with scheduling gates Pending', () => {
    const r = simulate(
      traceWith(
        barePod('a', podSpec('1', undefined, { schedulerName: 'volcano' })),
        barePod('b', podSpec('1', undefined, { schedulingGates: [{ name: 'wait' }] })),
      ),
    );
    expect(r.pods.map((p) => p.reasons[0])).to.deep.equal([
      'no scheduler named "volcano" runs in the simulation',
      'SchedulingGated',
    ]);
  });
});

describe('embedded replay: unsupported features fail loudly', () => {
  const expectUnsupported = (spec: Plain, pattern: RegExp) => {
    let err: unknown;
    try {
      simulate(traceWith(deployment('web', 1, spec)));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(UnsupportedFeatureError);
    expect((err as Error).message).to.match(pattern);
  };

  it('rejects required pod (anti-)affinity, DoNotSchedule spread, PVC volumes and hostPorts on untracked kinds', () => {
    const term = [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }];
    expectUnsupported(
      podSpec('1', undefined, {
        affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: term } },
      }),
      /podAntiAffinity.*required inter-pod anti-affinity/,
    );
    expectUnsupported(
      podSpec('1', undefined, { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: term } } }),
      /required inter-pod affinity/,
    );
    expectUnsupported(
      podSpec('1', undefined, {
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }],
      }),
      /topology spread/,
    );
    expectUnsupported(
      podSpec('1', undefined, { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] }),
      /volumes\[0\]\.persistentVolumeClaim: a PersistentVolumeClaim volume is not simulated/,
    );
    const hostPort = {
      containers: [container('app', { requests: { cpu: '1' } }, { ports: [{ containerPort: 80, hostPort: 8080 }] })],
    };
    expect(() => simulate(makeTrace([{ at: 0, applied: [deployment('web', 1, hostPort)] }], { tracked: {} }))).to.throw(
      UnsupportedFeatureError,
      /hostPort/,
    );
    // SimKube strips container ports from templates of tracked kinds, so there the hostPort cannot matter.
    expect(observe(simulate(traceWith(deployment('web', 1, hostPort))), WEB).ready).to.equal(1);
  });

  it('warns (does not fail) for preferences that only score nodes', () => {
    const pref = [
      {
        weight: 10,
        podAffinityTerm: { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' },
      },
    ];
    const r = simulate(
      traceWith(
        deployment(
          'web',
          2,
          podSpec('1', undefined, {
            affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref } },
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }],
          }),
        ),
      ),
    );
    expect(observe(r, WEB).ready).to.equal(2);
    expect(r.warnings).to.have.length(2);
  });
});
