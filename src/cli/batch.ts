// sim-arena batch: every trace in a directory, aggregated (solve rate, mean steps, mean return).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runEpisode } from '../arena/episode.js';
import { getPolicy } from '../arena/policies.js';
import { createBackend, parseBackendName } from '../sim/index.js';
import type { ScenarioMeta } from '../trace/generate.js';
import { bool, optStr, parse, str } from './args.js';
import {
  EPISODE_OPTIONS,
  EPISODE_USAGE,
  episodeFromFlags,
  policyParams,
  usageSourceFromFlags,
} from './episode-flags.js';
import { describeUsageSource } from '../arena/usage/source.js';
import { fixed, progress, table } from './format.js';
import { checkOutputPaths, readTraceFile, writeJson } from './load.js';
import { describeError } from './errors.js';

const USAGE = `usage: sim-arena batch --traces DIR [options]
  Runs one episode per trace. Targets and workloads come from DIR/index.json when present
  (written by \`trace generate\` / \`trace scenarios\`), else from the flags.
  --json                 print the aggregate and every episode as JSON
  --out FILE             also write that JSON to FILE
${EPISODE_USAGE}`;

interface Entry {
  file: string;
  meta?: Partial<ScenarioMeta>;
}

function entries(dir: string): Entry[] {
  const indexPath = join(dir, 'index.json');
  if (existsSync(indexPath)) {
    let index: unknown;
    try {
      index = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code) throw e;
      throw new RangeError(
        `${indexPath} is not JSON (${(e as Error).message}); regenerate it with sim-arena trace generate`,
        { cause: e },
      );
    }
    const bad = (why: string) =>
      new RangeError(
        `${indexPath}: ${why}; it should be a list of {"trace": FILE, ...} as written by sim-arena trace generate`,
      );
    if (!Array.isArray(index)) throw bad('not a list');
    return index.map((m: unknown, i) => {
      if (typeof m !== 'object' || m === null || Array.isArray(m)) throw bad(`entry ${i} is not an object`);
      const trace = (m as { trace?: unknown }).trace;
      if (typeof trace !== 'string' || trace === '') throw bad(`entry ${i} has no "trace" file name`);
      return { file: join(dir, trace), meta: m as Partial<ScenarioMeta> };
    });
  }
  const files = readdirSync(dir)
    .filter((f) => /\.(msgpack|sktrace)$/.test(f))
    .sort();
  if (files.length === 0) throw new RangeError(`${dir} has no .msgpack or .sktrace files`);
  return files.map((f) => ({ file: join(dir, f) }));
}

export async function batchCommand(argv: string[]): Promise<number> {
  const { flags } = parse(
    argv,
    { ...EPISODE_OPTIONS, traces: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' } },
    USAGE,
  );
  const dir = str(flags, 'traces');
  const out = optStr(flags, 'out');
  checkOutputPaths({ '--out': out });
  const list = entries(dir);
  const policyName = str(flags, 'policy', 'heuristic');
  const usageSource = usageSourceFromFlags(flags); // read once, before any episode
  const reward = episodeFromFlags(flags).reward.mode;
  const backend = await createBackend(parseBackendName(str(flags, 'backend', 'embedded')));
  const rows = [];
  const started = performance.now();
  try {
    for (const [i, e] of list.entries()) {
      progress('batch', i, list.length);
      const name = e.meta?.name ?? e.file;
      try {
        const { trace, nodePool } = readTraceFile(e.file);
        const spec = episodeFromFlags(
          flags,
          {
            ...(e.meta?.workload ? { workload: e.meta.workload } : {}),
            ...(e.meta?.target !== undefined ? { target: e.meta.target } : {}),
            ...(nodePool ? { nodePool } : {}),
          },
          trace,
        );
        const r = await runEpisode(spec, trace, getPolicy(policyName, policyParams(flags)), backend);
        rows.push({
          name,
          target: spec.target,
          solved: r.solved,
          steps: r.steps,
          stepsToSolve: r.stepsToSolve,
          totalReward: r.totalReward,
          blocked: r.history.filter((h) => h.blocked).length,
          error: null as string | null,
        });
      } catch (err) {
        rows.push({
          name,
          target: null,
          solved: false,
          steps: 0,
          stepsToSolve: null,
          totalReward: 0,
          blocked: 0,
          error: describeError(err),
        });
      }
    }
    progress('batch', list.length, list.length);
  } finally {
    await backend.close?.();
  }
  const ok = rows.filter((r) => !r.error);
  const solved = ok.filter((r) => r.solved);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const aggregate = {
    traces: rows.length,
    errors: rows.length - ok.length,
    solved: solved.length,
    solveRate: ok.length ? solved.length / ok.length : 0,
    meanSteps: mean(ok.map((r) => r.steps)),
    meanStepsToSolve: mean(solved.map((r) => r.stepsToSolve ?? 0)),
    meanReturn: mean(ok.map((r) => r.totalReward)),
    policy: policyName,
    reward,
    usage: describeUsageSource(usageSource),
    seconds: (performance.now() - started) / 1000,
  };
  const report = { aggregate, episodes: rows };
  if (out) writeJson(out, report);
  if (bool(flags, 'json')) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    process.stdout.write(
      `${table(
        ['trace', 'target', 'solved', 'steps', 'return', 'blocked', 'error'],
        rows.map((r) => [
          r.name,
          r.target ?? '-',
          r.solved ? 'yes' : 'no',
          r.steps,
          fixed(r.totalReward),
          r.blocked,
          r.error ?? '',
        ]),
      )}\n\n`,
    );
    process.stdout.write(
      `${aggregate.traces} traces, policy ${policyName}: solve rate ${fixed(aggregate.solveRate * 100, 1)}%, mean steps ${fixed(aggregate.meanSteps ?? 0, 2)}, mean return ${fixed(aggregate.meanReturn ?? 0)}${aggregate.errors ? `, ${aggregate.errors} error(s)` : ''} (${fixed(aggregate.seconds, 2)} s)\n`,
    );
  }
  return aggregate.errors ? 1 : 0;
}
