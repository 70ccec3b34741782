// sim-arena usage ...: synth (seeded usage for a trace's workloads) and inspect (what a usage file holds).
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';
import { traceEvents, type Trace } from '../trace/trace.js';
import { serializeUsage, usageSpan, type UsageFile } from '../trace/usage/format.js';
import { loadUsage } from '../trace/usage/load.js';
import { usageToPrometheus } from '../trace/usage/prometheus.js';
import { DEFAULT_SYNTH, parsePatterns, synthesizeUsage, type SynthWorkload } from '../trace/usage/synth.js';
import { formatWorkload, listWorkloads } from '../trace/workload.js';
import { canonicalQuantity } from '../trace/quantity.js';
import { bool, int, num, optStr, parse, str } from './args.js';
import { UsageError } from './errors.js';
import { runSubcommand } from './subcommands.js';
import { table } from './format.js';
import { loadTraceOrScenario } from './load.js';
import { workloadFromFlags } from './episode-flags.js';

const USAGE = `usage: sim-arena usage <command>
  synth (--trace FILE | --scenario NAME) --out FILE [options]
                         seeded usage for the trace's workloads (all, or --workload NS/NAME [--kind K])
      --pattern P        constant, diurnal, bursty, trend, noise; combine with + (default constant)
      --cpu Q            per-pod CPU level (default ${DEFAULT_SYNTH.cpu})
      --memory Q         per-pod memory working set level (default ${DEFAULT_SYNTH.memory})
      --duration S       seconds covered (default ${DEFAULT_SYNTH.duration})
      --interval S       seconds between samples (default ${DEFAULT_SYNTH.interval})
      --period S         diurnal cycle in seconds (default ${DEFAULT_SYNTH.period})
      --amplitude A      overrides every pattern's amplitude
      --replicas N       pods the usage is measured over: per-pod CPU then scales by N / running pods
      --container NAME   the container the usage is for (default: the first app container)
      --seed S           (default 0)
      --format F         sim-arena (default) or prometheus (a query_range export, timestamps from the trace's clock)
  inspect FILE (--trace FILE | --scenario NAME) [--json]
                         what a usage file (either format) holds, per workload: samples, p50/p95/max`;

export function usageCommand(argv: string[]): Promise<number> {
  return runSubcommand('usage', { synth, inspect }, USAGE, argv);
}

function firstEventTs(trace: Trace): number {
  const ev = traceEvents(trace)[0];
  return ev ? Number(ev.ts) : 0;
}

function synth(argv: string[]): number {
  const { flags } = parse(
    argv,
    {
      trace: { type: 'string' },
      scenario: { type: 'string' },
      out: { type: 'string' },
      workload: { type: 'string' },
      kind: { type: 'string' },
      container: { type: 'string' },
      pattern: { type: 'string' },
      cpu: { type: 'string' },
      memory: { type: 'string' },
      duration: { type: 'string' },
      interval: { type: 'string' },
      period: { type: 'string' },
      amplitude: { type: 'string' },
      replicas: { type: 'string' },
      seed: { type: 'string' },
      format: { type: 'string' },
    },
    USAGE,
  );
  const { trace } = loadTraceOrScenario(optStr(flags, 'trace'), optStr(flags, 'scenario'));
  const out = str(flags, 'out');
  const format = str(flags, 'format', 'sim-arena');
  if (format !== 'sim-arena' && format !== 'prometheus')
    throw new UsageError(`--format must be sim-arena or prometheus, got "${format}"`);
  const container = optStr(flags, 'container');
  const replicas = optStr(flags, 'replicas') !== undefined ? int(flags, 'replicas', 1, 1, 100_000) : undefined;
  const refs = optStr(flags, 'workload') ? [workloadFromFlags(flags)] : listWorkloads(trace);
  if (refs.length === 0) throw new UsageError('the trace has no workloads to synthesize usage for');
  const workloads: SynthWorkload[] = refs.map((workload) => ({
    workload,
    ...(container ? { container } : {}),
    ...(replicas !== undefined ? { replicas } : {}),
  }));
  const amplitude = optStr(flags, 'amplitude');
  const usage = synthesizeUsage({
    workloads,
    patterns: parsePatterns(str(flags, 'pattern', 'constant')),
    cpu: canonicalQuantity(str(flags, 'cpu', DEFAULT_SYNTH.cpu)),
    memory: canonicalQuantity(str(flags, 'memory', DEFAULT_SYNTH.memory)),
    duration: num(flags, 'duration', DEFAULT_SYNTH.duration),
    interval: num(flags, 'interval', DEFAULT_SYNTH.interval),
    period: num(flags, 'period', DEFAULT_SYNTH.period),
    seed: int(flags, 'seed', 0),
    ...(amplitude !== undefined ? { amplitude: num(flags, 'amplitude', 0) } : {}),
  });
  const text =
    format === 'sim-arena'
      ? serializeUsage(usage)
      : `${JSON.stringify(usageToPrometheus(usage, { baseTs: firstEventTs(trace) }))}\n`;
  writeFileAtomic(out, text);
  process.stdout.write(
    `wrote ${out}: ${usage.series.length} series × ${usage.series[0]!.cpu.length} samples every ${usage.interval} s (${usage.source}, ${format})\n`,
  );
  return 0;
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { p50: at(0.5), p95: at(0.95), max: s[s.length - 1]! };
}

const cores = (x: number) => `${Math.round(x * 1000)}m`;
const mib = (x: number) => `${(x / 1024 ** 2).toFixed(1)}Mi`;

export function describeUsage(u: UsageFile) {
  return {
    format: u.format,
    version: u.version,
    source: u.source ?? null,
    interval: u.interval,
    start: u.start,
    span: usageSpan(u),
    series: u.series.map((s) => ({
      workload: formatWorkload(s.workload),
      container: s.container ?? null,
      replicas: s.replicas ?? null,
      samples: s.cpu.length,
      cpu: stats(s.cpu),
      memory: stats(s.memory),
    })),
  };
}

function inspect(argv: string[]): number {
  const { flags, positionals } = parse(
    argv,
    { trace: { type: 'string' }, scenario: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  if (positionals.length !== 1) throw new UsageError(`expected one FILE, got ${positionals.length}\n${USAGE}`);
  const { trace } = loadTraceOrScenario(optStr(flags, 'trace'), optStr(flags, 'scenario'));
  const loaded = loadUsage(readFileSync(positionals[0]!, 'utf8'), trace);
  const d = { read: loaded.kind, warnings: loaded.warnings, ...describeUsage(loaded.usage) };
  if (bool(flags, 'json')) {
    process.stdout.write(`${JSON.stringify(d)}\n`);
    return 0;
  }
  process.stdout.write(
    `${positionals[0]}: ${d.read} usage${d.source ? ` (${d.source})` : ''}, every ${d.interval} s from ${d.start} s on the trace's clock, ${d.span} s\n`,
  );
  for (const w of d.warnings) process.stdout.write(`warning: ${w}\n`);
  process.stdout.write(
    `${table(
      [
        'workload',
        'container',
        'replicas',
        'samples',
        'cpu p50',
        'cpu p95',
        'cpu max',
        'mem p50',
        'mem p95',
        'mem max',
      ],
      d.series.map((s) => [
        s.workload,
        s.container ?? '-',
        s.replicas === null ? '-' : String(s.replicas),
        String(s.samples),
        cores(s.cpu.p50),
        cores(s.cpu.p95),
        cores(s.cpu.max),
        mib(s.memory.p50),
        mib(s.memory.p95),
        mib(s.memory.max),
      ]),
    )}\n`,
  );
  return 0;
}
