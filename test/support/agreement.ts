// Three-backend agreement: the same trace, edited by the same actions step by step, replayed on the embedded
// simulator, the kwok backend (the real kube-scheduler over KWOK nodes) and SimKube 2.7 itself (real sk-ctrl and
// sk-driver, test/cluster/simkube/up.sh); the observation at every step must be the same on all three.
// Used by test/integration/simkube/agreement.test.ts (a subset) and bench/simkube-agreement.ts (all, with times).
//
// Comparable replays: these traces fit the node pool the SimKube replay has (the cluster's 3 shared KWOK nodes,
// 16 CPU / 32Gi / 110 pods each, which is also the pool embedded and kwok default to) and hold one workload, so
// which pod wins a node never depends on the order in which controllers create pods. Traces with several competing
// workloads are racy on every real scheduler (see the README); they are compared over seeds in the bench, not here.
import path from 'node:path';
import { applyAction, type ActionType } from '../../src/arena/actions.js';
import type { Observation } from '../../src/arena/observation.js';
import { EmbeddedBackend } from '../../src/sim/embedded/index.js';
import { createKwokBackend, type KwokBackend } from '../../src/sim/kwok/index.js';
import { SimkubeBackend } from '../../src/sim/simkube/index.js';
import { cloneValue } from '../../src/trace/model.js';
import type { Trace } from '../../src/trace/trace.js';
import type { WorkloadRef } from '../../src/trace/workload.js';
import {
  fakeTraceSyncPod,
  freshNamespace,
  deleteNamespace,
  kwokNode,
  LocalTraceSync,
  NODE_TRACE_DIR,
  type Cluster,
} from '../integration/simkube/helpers.js';
import { ensureSimkube } from './simkube.js';

/** Each canonical scenario's fix, one action per step (the agreement bench and the kwok replay bench walk it). */
export const CANONICAL_FIXES: Record<string, ActionType[]> = {
  'cpu-slight': ['reduce-cpu', 'reduce-cpu'],
  'cpu-heavy': ['reduce-cpu', 'reduce-cpu'],
  'mem-slight': ['reduce-mem', 'reduce-mem'],
  'mem-heavy': ['reduce-mem'],
  'cpu-mem': ['reduce-cpu', 'reduce-cpu', 'reduce-mem'],
  'replicas-over': ['scale-down', 'scale-down'],
  'replicas-under': ['scale-up', 'scale-up'],
  composite: ['reduce-mem', 'scale-down'],
  healthy: ['noop'],
};

export type AgreementBackend = 'embedded' | 'kwok' | 'simkube';

export interface StepResult {
  step: number;
  action: ActionType | 'start';
  observations: Record<AgreementBackend, Observation>;
  /** Wall time of each backend's replay (ms). */
  ms: Record<AgreementBackend, number>;
  agree: boolean;
}

export interface AgreementCase {
  name: string;
  trace: Trace;
  workload: WorkloadRef;
  /** Applied one per step after the starting replay. */
  actions: ActionType[];
}

/** The three backends wired to the test cluster; close() removes what they set up. */
export class AgreementRig {
  private constructor(
    readonly c: Cluster,
    readonly embedded: EmbeddedBackend,
    readonly kwok: KwokBackend,
    readonly simkube: SimkubeBackend,
    private readonly ns: string,
    private readonly sync: LocalTraceSync,
  ) {}

  /** `durationSeconds`: each SimKube replay's length (the observation waits for SimKube to finish it). */
  static async start(c: Cluster, durationSeconds = 12): Promise<AgreementRig> {
    const sk = await ensureSimkube();
    const ns = await freshNamespace(c, 'sk-agree');
    const tag = ns.split('-').slice(2).join('-');
    const traceDir = `${NODE_TRACE_DIR}/${tag}`;
    const node = await kwokNode(c);
    await fakeTraceSyncPod(c, ns, node);
    const sync = await LocalTraceSync.start(c, ns, node, path.join(sk.nodeRoot, traceDir));
    const simkube = new SimkubeBackend(c.kc, {
      operatorNamespace: ns,
      traceDir,
      stepSeconds: durationSeconds,
      pollMs: { sync: 200, blocked: 500, starting: 300, settling: 300 },
    });
    return new AgreementRig(c, new EmbeddedBackend(), createKwokBackend({ kubeconfig: c.path }), simkube, ns, sync);
  }

  async close(): Promise<void> {
    await this.kwok.close();
    await this.sync.stop();
    await deleteNamespace(this.c, this.ns);
  }

  /** The case, step by step: every backend replays the same trace, then the next action edits it. */
  async run(k: AgreementCase, onStep?: (r: StepResult) => void): Promise<StepResult[]> {
    const trace = cloneValue(k.trace);
    const results: StepResult[] = [];
    const steps: Array<ActionType | 'start'> = ['start', ...k.actions];
    for (const [step, action] of steps.entries()) {
      if (action !== 'start') {
        const outcome = applyAction(trace, k.workload, action);
        if (outcome.blocked) throw new Error(`${k.name}: step ${step} (${action}) is blocked: ${outcome.reason}`);
      }
      const observations = {} as Record<AgreementBackend, Observation>;
      const ms = {} as Record<AgreementBackend, number>;
      for (const [name, backend] of [
        ['embedded', this.embedded],
        ['kwok', this.kwok],
        ['simkube', this.simkube],
      ] as const) {
        const t0 = Date.now();
        observations[name] = await backend.run(cloneValue(trace), k.workload, {
          seed: step,
          runName: `agree-${k.name}-s${step}-${name}`.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
        });
        ms[name] = Date.now() - t0;
      }
      const same = (a: Observation, b: Observation): boolean =>
        a.ready === b.ready && a.pending === b.pending && a.total === b.total;
      const r: StepResult = {
        step,
        action,
        observations,
        ms,
        agree: same(observations.embedded, observations.kwok) && same(observations.embedded, observations.simkube),
      };
      results.push(r);
      onStep?.(r);
    }
    return results;
  }
}

export function formatStep(caseName: string, r: StepResult): string {
  const o = (x: Observation): string => `${x.ready}/${x.pending}/${x.total}`;
  return `${caseName} step ${r.step} (${r.action}): embedded ${o(r.observations.embedded)} ${r.ms.embedded}ms, kwok ${o(r.observations.kwok)} ${(r.ms.kwok / 1000).toFixed(1)}s, simkube ${o(r.observations.simkube)} ${(r.ms.simkube / 1000).toFixed(1)}s${r.agree ? '' : '  DISAGREE'}`;
}
