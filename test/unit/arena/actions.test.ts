// The seven actions (sim-arena-reference.md §2.1) and how they change a trace: every occurrence, the target
// container, canonical quantities (field-anchors §4), and nothing else touched.
import { expect } from 'chai';
import type { MsgMap } from '../../../src/trace/msgpack.js';
import { getIn } from '../../../src/trace/model.js';
import { decodeTrace, encodeTrace, type Trace } from '../../../src/trace/trace.js';
import { findOccurrences, type WorkloadRef } from '../../../src/trace/workload.js';
import {
  ACTIONS,
  actionIndex,
  applyAction,
  DEFAULT_ACTION_SETTINGS,
  DEFAULT_STEPS,
  parseAction,
  readResources,
  type ActionSettings,
  type ActionType,
} from '../../../src/arena/actions.js';
import { DEFAULT_SAFEGUARDS } from '../../../src/arena/safeguards.js';
import {
  buildTrace,
  expectTraceError,
  LEGACY_NAMED,
  readFixture,
  singleWorkloadTrace,
  workloadObject,
  type ContainerSpec,
} from '../trace/helpers.js';
import { expectOnlyEdits, replicaPaths, requestPaths, sameBytes } from './helpers.js';

const web: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: 'web' };

function settings(partial: { steps?: Partial<ActionSettings['steps']>; container?: string } = {}): ActionSettings {
  return {
    steps: { ...DEFAULT_STEPS, ...partial.steps },
    safeguards: DEFAULT_SAFEGUARDS,
    ...(partial.container ? { container: partial.container } : {}),
  };
}

/** Apply, then check the stored values at every occurrence and that nothing else changed. */
function applyAndCheck(
  trace: Trace,
  ref: WorkloadRef,
  action: ActionType,
  resource: 'cpu' | 'memory' | 'replicas',
  expected: unknown[],
  s: ActionSettings = DEFAULT_ACTION_SETTINGS,
) {
  const original = encodeTrace(trace);
  const paths = resource === 'replicas' ? replicaPaths(trace, ref) : requestPaths(trace, ref, resource, s.container);
  const before = paths.map((p) => getIn(trace, p));
  const outcome = applyAction(trace, ref, action, s);
  expect(outcome.blocked, outcome.reason).to.equal(false);
  expect(outcome.changed).to.equal(true);
  expect(paths.map((p) => getIn(trace, p))).to.deep.equal(expected);
  expectOnlyEdits(
    original,
    trace,
    paths.map((p, i) => [p, before[i]]),
  );
  return outcome;
}

describe('actions', () => {
  describe('parseAction', () => {
    it('accepts our names in index order 0-6 (the predecessor action space)', () => {
      expect([...ACTIONS]).to.deep.equal([
        'noop',
        'bump-cpu',
        'bump-mem',
        'scale-up',
        'reduce-cpu',
        'reduce-mem',
        'scale-down',
      ]);
      ACTIONS.forEach((a, i) => {
        expect(parseAction(a)).to.equal(a);
        expect(parseAction(i)).to.equal(a);
        expect(parseAction(String(i))).to.equal(a);
        expect(actionIndex(a)).to.equal(i);
      });
    });

    it("accepts the predecessor's type names and labels, case-insensitively", () => {
      const table: Array<[string, ActionType]> = [
        ['bump_cpu_small', 'bump-cpu'],
        ['bump_mem_small', 'bump-mem'],
        ['scale_up_replicas', 'scale-up'],
        ['reduce_cpu_small', 'reduce-cpu'],
        ['reduce_mem_small', 'reduce-mem'],
        ['scale_down_replicas', 'scale-down'],
        ['+CPU', 'bump-cpu'],
        ['+Mem', 'bump-mem'],
        ['+Rep', 'scale-up'],
        ['-CPU', 'reduce-cpu'],
        ['-Mem', 'reduce-mem'],
        ['-Rep', 'scale-down'],
        [' Noop ', 'noop'],
        ['SCALE-DOWN', 'scale-down'],
      ];
      for (const [input, a] of table) expect(parseAction(input), input).to.equal(a);
    });

    it('unknown names and indexes are a TraceError on the action field that lists the actions', () => {
      for (const bad of ['explode', '', 'bump', 7, -1, 1.5, '7', '-1']) {
        const err = expectTraceError(() => parseAction(bad as string | number), 'action');
        expect(err.hint).to.contain('noop, bump-cpu, bump-mem, scale-up, reduce-cpu, reduce-mem, scale-down');
      }
    });

    it('applyAction refuses an unknown action and leaves the trace alone', () => {
      const t = singleWorkloadTrace({ replicas: 2 });
      const bytes = encodeTrace(t);
      expectTraceError(() => applyAction(t, web, 'explode' as ActionType), 'action');
      expect(sameBytes(encodeTrace(t), bytes)).to.equal(true);
    });
  });

  describe('readResources', () => {
    it('reads canonical requests and replicas of the last applied occurrence', () => {
      const t = buildTrace([
        {
          ts: 1,
          applied_objs: [workloadObject({ replicas: 2, containers: [{ name: 'web', cpu: '500m', memory: '512Mi' }] })],
        },
        {
          ts: 2,
          applied_objs: [
            workloadObject({ replicas: 4, containers: [{ name: 'web', cpu: '1500m', memory: '1024Mi' }] }),
          ],
        },
      ]);
      expect(readResources(t, web)).to.deep.equal({
        cpu: '1500m',
        memory: '1Gi',
        replicas: 4,
        effectiveCpu: '1500m',
        effectiveMemory: '1Gi',
      });
    });

    it('reads a journaled trace again only after an edit (each read its own object), per container', () => {
      const t = buildTrace([
        {
          ts: 1,
          applied_objs: [
            workloadObject({
              replicas: 2,
              containers: [
                { name: 'web', cpu: '500m', memory: '512Mi' },
                { name: 'log', cpu: '100m', memory: '64Mi' },
              ],
            }),
          ],
        },
      ]);
      applyAction(t, web, 'scale-up'); // the trace is journaled from here on
      const first = readResources(t, web);
      first.replicas = 99;
      expect(readResources(t, web).replicas).to.equal(3);
      expect(readResources(t, web, 'log').cpu).to.equal('100m');
      applyAction(t, web, 'bump-cpu', settings({ container: 'log' }));
      expect(readResources(t, web, 'log').cpu).to.equal('600m');
      expect(readResources(t, web).cpu).to.equal('500m');
      applyAction(t, web, 'scale-down');
      expect(readResources(t, web).replicas).to.equal(2);
    });

    it('missing requests read as "0"', () => {
      const t = singleWorkloadTrace({ containers: [{ name: 'web', noResources: true }] });
      expect(readResources(t, web)).to.deep.equal({
        cpu: '0',
        memory: '0',
        replicas: 1,
        effectiveCpu: '0',
        effectiveMemory: '0',
      });
    });
  });

  describe('the predecessor named traces, every action with the default steps', () => {
    // §6.3 table: replicas, cpu, memory. Expected results computed by hand from §2.1 (steps 500m / 256Mi / 1) and
    // §2.5 (caps 16 CPU, 32Gi, 100 replicas; floors 50m, 64Mi, 1). "blocked" = already at or past the bound; a step
    // that would cross a floor stops at it (500m − 500m → 50m).
    const scenarios: Record<
      string,
      { replicas: number; cpu: number; memory: string; expect: Partial<Record<ActionType, string | number>> }
    > = {
      'trace-cpu-slight': {
        replicas: 3,
        cpu: 17000,
        memory: '2Gi',
        expect: {
          'bump-cpu': 'blocked',
          'reduce-cpu': '16500m',
          'bump-mem': '2304Mi',
          'reduce-mem': '1792Mi',
          'scale-up': 4,
          'scale-down': 2,
        },
      },
      'trace-cpu-heavy': {
        replicas: 3,
        cpu: 20000,
        memory: '2Gi',
        expect: {
          'bump-cpu': 'blocked',
          'reduce-cpu': '19500m',
          'bump-mem': '2304Mi',
          'reduce-mem': '1792Mi',
          'scale-up': 4,
          'scale-down': 2,
        },
      },
      'trace-mem-slight': {
        replicas: 3,
        cpu: 500,
        memory: '33Gi',
        expect: {
          'bump-cpu': '1',
          'reduce-cpu': '50m',
          'bump-mem': 'blocked',
          'reduce-mem': '33536Mi',
          'scale-up': 4,
          'scale-down': 2,
        },
      },
      'trace-mem-heavy': {
        replicas: 3,
        cpu: 500,
        memory: '40Gi',
        expect: {
          'bump-cpu': '1',
          'reduce-cpu': '50m',
          'bump-mem': 'blocked',
          'reduce-mem': '40704Mi',
          'scale-up': 4,
          'scale-down': 2,
        },
      },
      'trace-cpu-mem': {
        replicas: 3,
        cpu: 17000,
        memory: '33Gi',
        expect: {
          'bump-cpu': 'blocked',
          'reduce-cpu': '16500m',
          'bump-mem': 'blocked',
          'reduce-mem': '33536Mi',
          'scale-up': 4,
          'scale-down': 2,
        },
      },
      'trace-replicas-over': {
        replicas: 5,
        cpu: 500,
        memory: '512Mi',
        expect: {
          'bump-cpu': '1',
          'reduce-cpu': '50m',
          'bump-mem': '768Mi',
          'reduce-mem': '256Mi',
          'scale-up': 6,
          'scale-down': 4,
        },
      },
      'trace-cpu-low-mem-high-replicas-over': {
        replicas: 5,
        cpu: 250,
        memory: '33Gi',
        expect: {
          'bump-cpu': '750m',
          'reduce-cpu': '50m',
          'bump-mem': 'blocked',
          'reduce-mem': '33536Mi',
          'scale-up': 6,
          'scale-down': 4,
        },
      },
      'trace-scaling': {
        replicas: 1,
        cpu: 250,
        memory: '256Mi',
        expect: {
          'bump-cpu': '750m',
          'reduce-cpu': '50m',
          'bump-mem': '512Mi',
          'reduce-mem': '64Mi',
          'scale-up': 2,
          'scale-down': 'blocked',
        },
      },
      'trace-scaling-v2': {
        replicas: 2,
        cpu: 250,
        memory: '256Mi',
        expect: {
          'bump-cpu': '750m',
          'reduce-cpu': '50m',
          'bump-mem': '512Mi',
          'reduce-mem': '64Mi',
          'scale-up': 3,
          'scale-down': 1,
        },
      },
      'trace-normalized': {
        replicas: 2,
        cpu: 500,
        memory: '512Mi',
        expect: {
          'bump-cpu': '1',
          'reduce-cpu': '50m',
          'bump-mem': '768Mi',
          'reduce-mem': '256Mi',
          'scale-up': 3,
          'scale-down': 1,
        },
      },
      'trace-0001': {
        replicas: 2,
        cpu: 500,
        memory: '512Mi',
        expect: {
          'bump-cpu': '1',
          'reduce-cpu': '50m',
          'bump-mem': '768Mi',
          'reduce-mem': '256Mi',
          'scale-up': 3,
          'scale-down': 1,
        },
      },
    };

    it('covers all 11 named traces', () => {
      expect(Object.keys(scenarios).sort()).to.deep.equal([...LEGACY_NAMED].sort());
    });

    for (const [name, sc] of Object.entries(scenarios)) {
      describe(name, () => {
        const load = () => {
          const bytes = readFixture('legacy-sim-arena', `${name}.msgpack`);
          return { bytes, trace: decodeTrace(bytes).trace };
        };

        it(`starts at ${sc.replicas} replicas, ${sc.cpu}m, ${sc.memory}`, () => {
          const r = readResources(load().trace, web);
          expect(r.replicas).to.equal(sc.replicas);
          expect(r.memory).to.equal(sc.memory);
          const { trace } = load();
          expect(
            getIn(trace, [
              'events',
              0,
              'applied_objs',
              0,
              'spec',
              'template',
              'spec',
              'containers',
              0,
              'resources',
              'requests',
              'cpu',
            ]),
          ).to.equal(`${sc.cpu}m`);
        });

        it('noop changes nothing', () => {
          const { bytes, trace } = load();
          const out = applyAction(trace, web, 'noop');
          expect(out).to.include({ action: 'noop', changed: false, blocked: false });
          expect(out.after).to.deep.equal(out.before);
          expect(sameBytes(encodeTrace(trace), bytes)).to.equal(true);
        });

        for (const [action, want] of Object.entries(sc.expect) as Array<[ActionType, string | number]>) {
          it(`${action} → ${want}`, () => {
            const { bytes, trace } = load();
            if (want === 'blocked') {
              const out = applyAction(trace, web, action);
              expect(out.blocked).to.equal(true);
              expect(out.changed).to.equal(false);
              expect(out.reason).to.match(/cap|floor/);
              expect(out.after).to.deep.equal(out.before);
              expect(
                sameBytes(encodeTrace(trace), bytes),
                'a blocked action leaves the encoding byte-identical',
              ).to.equal(true);
              return;
            }
            const resource = action.endsWith('cpu') ? 'cpu' : action.endsWith('mem') ? 'memory' : 'replicas';
            const out = applyAndCheck(trace, web, action, resource, [want]);
            if (resource === 'replicas') expect(out.after.replicas).to.equal(want);
            // The only other change: the index now lists the workload (it was {} in these traces).
            expect([...(trace.get('index') as MsgMap)].map(([k, v]) => [k, [...(v as MsgMap)]])).to.deep.equal([
              ['apps/v1.Deployment', [['default/web', 0]]],
            ]);
          });
        }
      });
    }
  });

  describe('every occurrence changes', () => {
    /** Three events re-applying web with replicas 2, 3, 5 and CPU 500m, 1, 1500m. */
    function threeEvents(replicas = [2, 3, 5], cpus = ['500m', '1', '1500m']) {
      return buildTrace(
        replicas.map((r, i) => ({
          ts: 100 * (i + 1),
          applied_objs: [
            workloadObject({ replicas: r, containers: [{ name: 'web', cpu: cpus[i]!, memory: '512Mi' }] }),
          ],
        })),
        { index: { 'apps/v1.Deployment': { 'default/web': 7 } } },
      );
    }

    it('scale-up shifts every occurrence by the delta, keeping the scaling history', () => {
      const out = applyAndCheck(threeEvents(), web, 'scale-up', 'replicas', [3, 4, 6]);
      expect(out.before.replicas).to.equal(5);
      expect(out.after.replicas).to.equal(6);
    });

    it('scale-down shifts every occurrence by the delta', () => {
      applyAndCheck(threeEvents(), web, 'scale-down', 'replicas', [1, 2, 4]);
    });

    it('a custom replica step of 2', () => {
      applyAndCheck(threeEvents(), web, 'scale-up', 'replicas', [4, 5, 7], settings({ steps: { replicas: 2 } }));
      applyAndCheck(
        threeEvents([3, 4, 6]),
        web,
        'scale-down',
        'replicas',
        [1, 2, 4],
        settings({ steps: { replicas: 2 } }),
      );
    });

    it('an occurrence at the floor stays there while the steady state moves (history 1, 3, 5 → 1, 2, 4)', () => {
      const out = applyAndCheck(threeEvents([1, 3, 5]), web, 'scale-down', 'replicas', [1, 2, 4]);
      expect(out).to.include({ blocked: false, changed: true });
      expect(out.clamped).to.equal(undefined);
    });

    it('the steady state reaches every target down to the floor (2, 8, 5 → target 1)', () => {
      const t = threeEvents([2, 8, 5]);
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) seen.push(applyAction(t, web, 'scale-down').after.replicas);
      expect(seen).to.deep.equal([4, 3, 2, 1]);
      expect(replicaPaths(t, web).map((p) => getIn(t, p))).to.deep.equal([1, 4, 1]);
      const bytes = encodeTrace(t);
      const out = applyAction(t, web, 'scale-down');
      expect(out.reason).to.equal('scale-down blocked: replicas is 1, already at the floor of 1');
      expect(sameBytes(encodeTrace(t), bytes)).to.equal(true);
    });

    it('bump-cpu and reduce-cpu change every occurrence, canonically', () => {
      applyAndCheck(threeEvents(), web, 'bump-cpu', 'cpu', ['1', '1500m', '2']);
      applyAndCheck(threeEvents([2, 3, 5], ['1', '1500m', '2']), web, 'reduce-cpu', 'cpu', ['500m', '1', '1500m']);
    });

    it('an occurrence that would cross the floor stops at it (500m − 500m → 50m); the others move a whole step', () => {
      const out = applyAndCheck(threeEvents([2, 3, 5], ['500m', '2', '2']), web, 'reduce-cpu', 'cpu', [
        '50m',
        '1500m',
        '1500m',
      ]);
      expect(out.clamped).to.equal(undefined);
      const t = threeEvents([2, 3, 5], ['2', '2', '500m']);
      const clamped = applyAndCheck(t, web, 'reduce-cpu', 'cpu', ['1500m', '1500m', '50m']);
      expect(clamped.clamped).to.equal(true);
      expect(clamped.note).to.equal(
        "reduce-cpu: the pod's effective CPU request stopped at the floor of 50m (500m − a step would be 0)",
      );
    });

    it('bump-mem with a custom step changes every occurrence', () => {
      applyAndCheck(
        threeEvents(),
        web,
        'bump-mem',
        'memory',
        ['1536Mi', '1536Mi', '1536Mi'],
        settings({ steps: { memory: '1Gi' } }),
      );
    });

    it('an existing index hash is kept', () => {
      const t = threeEvents();
      applyAction(t, web, 'bump-cpu');
      expect(getIn(t, ['index', 'apps/v1.Deployment', 'default/web'])).to.equal(7);
    });

    it('full deleted objects change with the applied ones; deletion stubs are left alone', () => {
      const t = buildTrace([
        { ts: 1, applied_objs: [workloadObject({ replicas: 2 })] },
        { ts: 2, deleted_objs: [workloadObject({ replicas: 2 })] },
        { ts: 3, applied_objs: [workloadObject({ replicas: 3 })] },
        {
          ts: 4,
          deleted_objs: [
            { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'default', name: 'web' } },
          ],
        },
      ]);
      applyAndCheck(t, web, 'scale-up', 'replicas', [3, 3, 4]);
      expect(getIn(t, ['events', 3, 'deleted_objs', 0, 'spec'])).to.equal(undefined);
    });
  });

  describe('custom steps and canonical output', () => {
    const one = (cpu: string | undefined, memory: string | undefined) =>
      singleWorkloadTrace({
        replicas: 3,
        containers: [
          { name: 'web', ...(cpu !== undefined ? { cpu } : {}), ...(memory !== undefined ? { memory } : {}) },
        ],
      });
    const table: Array<[string, 'cpu' | 'memory', string, ActionType, string, string]> = [
      // [value, resource, step, action, expected, note]
      ['2', 'cpu', '500m', 'bump-cpu', '2500m', '"2" + 500m'],
      ['17000m', 'cpu', '500m', 'reduce-cpu', '16500m', '17000m - 500m'],
      ['1500m', 'cpu', '500m', 'bump-cpu', '2', '1500m + 500m'],
      ['0.5', 'cpu', '500m', 'bump-cpu', '1', '0.5 + 500m'],
      ['1', 'cpu', '250m', 'reduce-cpu', '750m', 'custom step 250m'],
      ['1', 'cpu', '2', 'bump-cpu', '3', 'custom step 2 cores'],
      ['500m', 'cpu', '100u', 'bump-cpu', '501m', 'sub-milli results round up to milli, as the API server stores them'],
      ['5.556655340828402', 'cpu', '500m', 'bump-cpu', '6057m', 'a v1-style fractional core value'],
      ['33Gi', 'memory', '256Mi', 'reduce-mem', '33536Mi', '33Gi - 256Mi'],
      ['1Gi', 'memory', '256Mi', 'bump-mem', '1280Mi', '1Gi + 256Mi'],
      ['1Gi', 'memory', '1Gi', 'bump-mem', '2Gi', 'custom step 1Gi'],
      ['768Mi', 'memory', '256Mi', 'bump-mem', '1Gi', '768Mi + 256Mi'],
      ['1G', 'memory', '256Mi', 'bump-mem', '1268435456', 'a decimal value keeps DecimalSI'],
      ['512Mi', 'memory', '100M', 'bump-mem', '636870912', 'a decimal step on a binary value keeps BinarySI'],
    ];
    for (const [value, resource, step, action, expected, note] of table) {
      it(`${note}: ${value} ${action} ${step} → ${expected}`, () => {
        const t = resource === 'cpu' ? one(value, '512Mi') : one('500m', value);
        applyAndCheck(
          t,
          web,
          action,
          resource,
          [expected],
          settings({ steps: resource === 'cpu' ? { cpu: step } : { memory: step } }),
        );
      });
    }

    it('a JSON-number request (cpu: 2) is rewritten as a canonical string', () => {
      const t = singleWorkloadTrace({ containers: [{ name: 'web', memory: '512Mi' }] });
      const path = requestPaths(t, web, 'cpu')[0]!;
      const reqs = getIn(t, path.slice(0, -1)) as MsgMap;
      reqs.set('cpu', 2);
      applyAndCheck(t, web, 'bump-cpu', 'cpu', ['2500m']);
    });
  });

  describe('target container', () => {
    const containers: ContainerSpec[] = [
      { name: 'app', cpu: '500m', memory: '512Mi' },
      { name: 'sidecar', cpu: '100m', memory: '64Mi' },
    ];
    const multi = () =>
      buildTrace([
        {
          ts: 1,
          applied_objs: [workloadObject({ replicas: 2, containers, initContainers: [{ name: 'setup', cpu: '200m' }] })],
        },
        {
          ts: 2,
          applied_objs: [workloadObject({ replicas: 3, containers, initContainers: [{ name: 'setup', cpu: '200m' }] })],
        },
      ]);

    it('defaults to the first app container', () => {
      applyAndCheck(multi(), web, 'bump-cpu', 'cpu', ['1', '1']);
    });

    it('a second container by name; the others are untouched', () => {
      const out = applyAndCheck(multi(), web, 'bump-cpu', 'cpu', ['600m', '600m'], settings({ container: 'sidecar' }));
      expect(out.before.cpu).to.equal('100m');
      expect(out.after.cpu).to.equal('600m');
    });

    it('an init container by name; a missing memory request is created', () => {
      const t = multi();
      const original = encodeTrace(t);
      const out = applyAction(t, web, 'bump-mem', settings({ container: 'setup' }));
      expect(out.changed).to.equal(true);
      const paths = requestPaths(t, web, 'memory', 'setup');
      expect(paths).to.have.length(2);
      expect(paths.map((p) => getIn(t, p))).to.deep.equal(['256Mi', '256Mi']);
      expectOnlyEdits(
        original,
        t,
        paths.map((p) => [p, undefined]),
      );
    });

    it('an unknown container is a TraceError listing the containers', () => {
      const err = expectTraceError(
        () => applyAction(multi(), web, 'bump-cpu', settings({ container: 'nope' })),
        'workload.container',
      );
      expect(err.hint).to.equal('containers: app, sidecar, setup (init)');
    });

    it('an occurrence without the container is skipped, the others change', () => {
      const t = buildTrace([
        { ts: 1, applied_objs: [workloadObject({ containers: [{ name: 'app', cpu: '500m' }] })] },
        { ts: 2, applied_objs: [workloadObject({ containers })] },
      ]);
      applyAndCheck(t, web, 'bump-cpu', 'cpu', ['600m'], settings({ container: 'sidecar' }));
      expect(
        getIn(t, [
          'events',
          0,
          'applied_objs',
          0,
          'spec',
          'template',
          'spec',
          'containers',
          0,
          'resources',
          'requests',
          'cpu',
        ]),
      ).to.equal('500m');
    });
  });

  describe('a container with no requests', () => {
    it('bump-cpu creates resources.requests.cpu (resources absent)', () => {
      const t = singleWorkloadTrace({ containers: [{ name: 'web', noResources: true }] });
      const original = encodeTrace(t);
      const out = applyAction(t, web, 'bump-cpu');
      expect(out.after.cpu).to.equal('500m');
      const cPath = ['events', 0, 'applied_objs', 0, 'spec', 'template', 'spec', 'containers', 0];
      expect(getIn(t, [...cPath, 'resources', 'requests', 'cpu'])).to.equal('500m');
      expectOnlyEdits(original, t, [[[...cPath, 'resources'], undefined]]);
    });

    it('bump-mem creates requests.memory in an empty requests map', () => {
      const t = singleWorkloadTrace({ containers: [{ name: 'web' }] });
      const original = encodeTrace(t);
      applyAction(t, web, 'bump-mem');
      const p = requestPaths(t, web, 'memory')[0]!;
      expect(getIn(t, p)).to.equal('256Mi');
      expectOnlyEdits(original, t, [[p, undefined]]);
    });

    it('reduce-cpu and reduce-mem are blocked by the floors', () => {
      const t = singleWorkloadTrace({ containers: [{ name: 'web', noResources: true }] });
      const bytes = encodeTrace(t);
      const cpu = applyAction(t, web, 'reduce-cpu');
      expect(cpu.blocked).to.equal(true);
      expect(cpu.reason).to.contain('below the floor of 50m');
      const mem = applyAction(t, web, 'reduce-mem');
      expect(mem.blocked).to.equal(true);
      expect(mem.reason).to.contain('below the floor of 64Mi');
      expect(sameBytes(encodeTrace(t), bytes)).to.equal(true);
    });

    it('a CronJob with resources: {} (cronjob.sktrace) gets a request in the applied and the deleted full object', () => {
      const bytes = readFixture('simkube', 'traces', 'cronjob.sktrace');
      const { trace } = decodeTrace(bytes);
      const ref: WorkloadRef = { kind: 'CronJob', namespace: 'default', name: 'hello-simkube' };
      const out = applyAction(trace, ref, 'bump-cpu');
      expect(out.before.cpu).to.equal('0');
      expect(out.after.cpu).to.equal('500m');
      const occ = findOccurrences(trace, ref);
      expect(occ).to.have.length(2);
      const paths = occ.map((o) => [
        'events',
        o.event,
        o.list,
        o.position,
        'spec',
        'jobTemplate',
        'spec',
        'template',
        'spec',
        'containers',
        0,
        'resources',
        'requests',
      ]);
      for (const p of paths) expect(getIn(trace, [...p, 'cpu'])).to.equal('500m');
      expectOnlyEdits(
        bytes,
        trace,
        paths.map((p) => [p, undefined]),
      );
      // Its index already had the CronJob: the hash stays.
      expect(
        sameBytes(
          encodeTrace(new Map([['i', trace.get('index')!]])),
          encodeTrace(new Map([['i', decodeTrace(bytes).trace.get('index')!]])),
        ),
      ).to.equal(true);
    });

    it('scaling a CronJob is blocked: it has no replica count', () => {
      const bytes = readFixture('simkube', 'traces', 'cronjob.sktrace');
      const { trace } = decodeTrace(bytes);
      const out = applyAction(trace, { kind: 'CronJob', namespace: 'default', name: 'hello-simkube' }, 'scale-up');
      expect(out.blocked).to.equal(true);
      expect(out.reason).to.match(/no replica count/);
      expect(sameBytes(encodeTrace(trace), bytes)).to.equal(true);
    });
  });

  describe('a real export (trace-v2.msgpack)', () => {
    const coredns: WorkloadRef = { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' };
    const db: WorkloadRef = { kind: 'StatefulSet', namespace: 'monitoring', name: 'prometheus-k8s' };

    it('bump-cpu on coredns changes only its CPU request; status, other workloads and the index hash are untouched', () => {
      const bytes = readFixture('legacy-sim-arena', 'trace-v2.msgpack');
      const { trace } = decodeTrace(bytes);
      const out = applyAndCheck(trace, coredns, 'bump-cpu', 'cpu', ['600m']);
      expect(out.before).to.deep.equal({
        cpu: '100m',
        memory: '70Mi',
        replicas: 2,
        effectiveCpu: '100m',
        effectiveMemory: '70Mi',
      });
      // applyAndCheck restored the index from the original; check it was never changed at all.
      const { trace: fresh } = decodeTrace(bytes);
      expect(
        sameBytes(
          encodeTrace(new Map([['i', trace.get('index')!]])),
          encodeTrace(new Map([['i', fresh.get('index')!]])),
        ),
      ).to.equal(true);
    });

    it('scale-up on a StatefulSet', () => {
      const { trace } = decodeTrace(readFixture('legacy-sim-arena', 'trace-v2.msgpack'));
      applyAndCheck(trace, db, 'scale-up', 'replicas', [3]);
    });
  });
});
