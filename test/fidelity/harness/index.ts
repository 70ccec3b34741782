// Differential fidelity: the embedded simulator against the real kube-scheduler on seeded random traces.
// Shared by test/fidelity (≥ 200 traces, asserts 100 % agreement) and bench/fidelity.ts (at scale).
import type { KubeConfig } from '@kubernetes/client-node';
import { FidelityCluster, InfrastructureError, type FidelityClusterOptions, type RealRun } from './cluster.js';
import { compareCase, type Verdict } from './compare.js';
import { fidelityCase, type FidelityCase } from './generate.js';

export * from './generate.js';
export * from './compare.js';
export {
  FidelityCluster,
  InfrastructureError,
  pool,
  SESSION_LABEL,
  type RealPod,
  type RealRun,
  type FidelityClusterOptions,
  type OwnScheduler,
} from './cluster.js';
export * from './scheduler.js';
export * from './placement.js';

export interface CaseResult {
  case: FidelityCase;
  /** Null when the case could not be replayed on the cluster (see `error`). */
  verdict: Verdict | null;
  error: string | null;
  real: RealRun | null;
  /** Wall time of the real replay (ms), retries included. */
  realMs: number;
  /** Wall time of one embedded simulate() of the case (ms). */
  embeddedMs: number;
}

export interface RunCasesOptions extends FidelityClusterOptions {
  /** Cases replayed at once, each in its own slot namespace and node pool (default 16). */
  concurrency?: number;
  /** Extra attempts after an infrastructure error (default 1). */
  retries?: number;
  /** Called as each case finishes (in completion order). */
  onResult?: (r: CaseResult) => void;
  /** An open runner to use (not closed afterwards); otherwise one is opened and closed here. */
  cluster?: FidelityCluster;
}

/** Replay every seed's case on the cluster, compare with the embedded simulator; results in seed order. */
export async function runCases(
  kc: KubeConfig,
  seeds: readonly number[],
  opts: RunCasesOptions = {},
): Promise<CaseResult[]> {
  const fc = opts.cluster ?? (await FidelityCluster.open(kc, opts));
  const results: CaseResult[] = new Array(seeds.length);
  const slots = Array.from({ length: Math.max(1, opts.concurrency ?? 16) }, (_, i) => i);
  let next = 0;
  try {
    await Promise.all(
      slots.map(async (slot) => {
        for (;;) {
          const i = next++;
          if (i >= seeds.length) return;
          results[i] = await runOne(fc, fidelityCase(seeds[i]!), slot, opts.retries ?? 1);
          opts.onResult?.(results[i]!);
        }
      }),
    );
  } finally {
    if (!opts.cluster) await fc.close();
  }
  return results;
}

export async function runOne(fc: FidelityCluster, c: FidelityCase, slot: number, retries = 1): Promise<CaseResult> {
  const t0 = Date.now();
  let real: RealRun | null = null;
  let error: string | null = null;
  for (let attempt = 0; attempt <= retries; attempt++) {
    try {
      real = await fc.run(c, slot);
      error = null;
      break;
    } catch (e) {
      error = e instanceof InfrastructureError ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
      if (!(e instanceof InfrastructureError)) break;
    }
  }
  const realMs = Date.now() - t0;
  const e0 = performance.now();
  let verdict: Verdict | null = null;
  if (real) {
    try {
      verdict = compareCase(c, real.pods);
    } catch (e) {
      error = `the embedded simulator failed: ${(e as Error).name}: ${(e as Error).message}`;
    }
  }
  const embeddedMs = performance.now() - e0;
  return { case: c, verdict, error, real, realMs, embeddedMs };
}

export interface Summary {
  cases: number;
  agreed: number;
  /** Agreed only through another embedded tie-break seed. */
  tieResolved: number;
  countsAgreed: number;
  errors: number;
  pods: number;
  pending: number;
  /** agreed / cases (errors count as disagreements). */
  rate: number;
}

export function summarize(results: readonly CaseResult[]): Summary {
  let agreed = 0;
  let tieResolved = 0;
  let countsAgreed = 0;
  let errors = 0;
  let pods = 0;
  let pending = 0;
  for (const r of results) {
    if (!r.verdict) {
      errors++;
      continue;
    }
    if (r.verdict.agree) agreed++;
    if (r.verdict.agree && r.verdict.tieSeed !== null) tieResolved++;
    if (r.verdict.countsAgree) countsAgreed++;
    pods += r.verdict.pods;
    pending += r.verdict.pending;
  }
  return {
    cases: results.length,
    agreed,
    tieResolved,
    countsAgreed,
    errors,
    pods,
    pending,
    rate: results.length === 0 ? 1 : agreed / results.length,
  };
}

/** Why a case failed, for a test message: the comparison report, or the infrastructure error with the case. */
export function failureText(r: CaseResult): string {
  if (r.verdict) return r.verdict.report;
  const c = r.case;
  return [
    `fidelity case seed ${c.seed}: could not be replayed on the cluster: ${r.error}`,
    `pool: ${c.nodes.map((n) => `${n.name} ${n.cpu}/${n.memory}/${n.pods}`).join(', ')}`,
    ...c.workloads.map((w) => `  ${w.summary}`),
  ].join('\n');
}
