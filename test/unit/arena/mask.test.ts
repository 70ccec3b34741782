// actionMask computes feasibility from the bounds directly (one read of the occurrences); it must equal its
// definition, six dry runs of applyAction, in every state a random walk of actions reaches — on every split's
// scenarios and on hand-built traces for the cases the splits lack (no replica count, several containers, an
// unknown container), under tight and loose safeguards, both action sets and both resource modes.
import { expect } from 'chai';
import { ACTIONS, actionMask, applyAction, DEFAULT_STEPS, type ActionSettings } from '../../../src/arena/actions.js';
import { DEFAULT_SAFEGUARDS, type Safeguards } from '../../../src/arena/safeguards.js';
import { splitScenarios, SPLITS } from '../../../src/trace/splits.js';
import type { Trace } from '../../../src/trace/trace.js';
import type { WorkloadRef } from '../../../src/trace/workload.js';
import { mulberry32, randomInt } from '../../../src/util/rng.js';
import { buildTrace, workloadObject, type ContainerSpec } from '../trace/helpers.js';

/** The mask's definition: six dry runs of applyAction (noop always allowed). */
const actionMaskByDryRun = (trace: Trace, ref: WorkloadRef, settings: ActionSettings): boolean[] =>
  ACTIONS.map((a) => a === 'noop' || !applyAction(trace, ref, a, settings, true).blocked);

const tight: Safeguards = {
  maxCpu: '2',
  maxMemory: '2Gi',
  maxReplicas: 5,
  minCpu: '300m',
  minMemory: '256Mi',
  minReplicas: 2,
};

const SETTINGS: Array<[string, ActionSettings]> = [
  ['defaults', { steps: DEFAULT_STEPS, safeguards: DEFAULT_SAFEGUARDS }],
  ['tight bounds', { steps: DEFAULT_STEPS, safeguards: tight }],
  ['proportional, tight', { set: 'proportional', steps: DEFAULT_STEPS, safeguards: tight }],
  ['big steps', { steps: { cpu: '3', memory: '3Gi', replicas: 4 }, safeguards: tight }],
  ['container mode', { steps: DEFAULT_STEPS, safeguards: tight, resourceMode: 'container' }],
  ['zero steps', { steps: { cpu: '0', memory: '0', replicas: 0 }, safeguards: DEFAULT_SAFEGUARDS }],
];

/** The mask both ways, or the error each throws. */
function both(trace: Trace, ref: WorkloadRef, s: ActionSettings): [unknown, unknown] {
  const run = (f: () => boolean[]) => {
    try {
      return f();
    } catch (e) {
      return `throws ${(e as Error).message}`;
    }
  };
  return [run(() => actionMask(trace, ref, s)), run(() => actionMaskByDryRun(trace, ref, s))];
}

/** A random walk of `steps` actions from `trace`; the masks compared in every state. Returns the blocked count. */
function walk(trace: Trace, ref: WorkloadRef, s: ActionSettings, seed: number, steps: number, what: string): number {
  const rng = mulberry32(seed);
  let blocked = 0;
  for (let i = 0; i <= steps; i++) {
    const [fast, dry] = both(trace, ref, s);
    expect(fast, `${what}, state ${i}`).to.deep.equal(dry);
    if (Array.isArray(fast)) blocked += fast.filter((ok) => !ok).length;
    if (i < steps && Array.isArray(fast)) applyAction(trace, ref, ACTIONS[randomInt(rng, ACTIONS.length)]!, s);
  }
  return blocked;
}

describe('actionMask (feasibility from the bounds) = six dry runs of applyAction', () => {
  for (const split of SPLITS)
    it(`every ${split} scenario, random walks under ${SETTINGS.length} settings`, () => {
      let blocked = 0;
      let n = 0;
      for (const sc of splitScenarios(split))
        SETTINGS.forEach(([name, s], k) => {
          // Every scenario under the defaults; the other settings on every third scenario (keeps the run short).
          if (k > 0 && n % 3 !== 0) return;
          blocked += walk(sc.trace(), sc.workload, s, n * 31 + k, 40, `${sc.id} (${name})`);
        }, n++);
      expect(blocked, 'some actions were blocked').to.be.greaterThan(0);
    });

  const containers: ContainerSpec[] = [
    { name: 'app', cpu: '500m', memory: '512Mi' },
    { name: 'sidecar', cpu: '100m' },
  ];
  const hand: Array<[string, WorkloadRef, () => Trace, Array<[string, ActionSettings]>]> = [
    [
      'a DaemonSet (no replica count to scale)',
      { kind: 'DaemonSet', namespace: 'default', name: 'agent' },
      () =>
        buildTrace([{ ts: 1, applied_objs: [workloadObject({ kind: 'DaemonSet', name: 'agent' })] }], {
          tracked: { 'apps/v1.DaemonSet': {} },
        }),
      SETTINGS,
    ],
    [
      'several containers and an init container, a history of three occurrences',
      { kind: 'Deployment', namespace: 'default', name: 'web' },
      () =>
        buildTrace(
          [1, 6, 3].map((replicas, ts) => ({
            ts: ts + 1,
            applied_objs: [workloadObject({ replicas, containers, initContainers: [{ name: 'setup', cpu: '2' }] })],
          })),
        ),
      [
        ...SETTINGS,
        ['the sidecar', { steps: DEFAULT_STEPS, safeguards: tight, container: 'sidecar' }],
        ['the init container', { steps: DEFAULT_STEPS, safeguards: tight, container: 'setup' }],
        ['a container no occurrence has', { steps: DEFAULT_STEPS, safeguards: tight, container: 'nope' }],
      ],
    ],
  ];
  for (const [what, ref, make, settings] of hand)
    it(`${what}: random walks, and the same error when both throw`, () => {
      settings.forEach(([name, s], k) => walk(make(), ref, s, 100 + k, 60, `${what} (${name})`));
      const [fast] = both(make(), ref, settings[settings.length - 1]![1]);
      if (settings.length > SETTINGS.length) expect(String(fast)).to.match(/^throws .*container "nope"/);
    });

  it('a workload not in the trace throws the same for both', () => {
    const [fast, dry] = both(
      buildTrace([{ ts: 1, applied_objs: [workloadObject()] }]),
      {
        kind: 'Deployment',
        namespace: 'default',
        name: 'gone',
      },
      SETTINGS[0]![1],
    );
    expect(fast).to.match(/^throws .*not in the trace/);
    expect(fast).to.equal(dry);
  });
});
