// sim-arena trace ...: inspect, validate, apply, generate, upgrade, scenarios, convert.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyAction, parseAction, readResources } from '../arena/actions.js';
import { DEFAULT_SAFEGUARDS } from '../arena/safeguards.js';
import { traceNodes } from '../arena/capacity.js';
import { CANONICAL, canonicalScenario, randomScenario } from '../trace/generate.js';
import { fromPlain, getIn, getString } from '../trace/model.js';
import { decodeMsgpack, type MsgMap, type MsgValue } from '../trace/msgpack.js';
import { formatQuantity, parseQuantity } from '../trace/quantity.js';
import { decodeTrace, traceEvents, validateTrace, type Trace } from '../trace/trace.js';
import { upgradeTrace } from '../trace/upgrade.js';
import {
  findOccurrences,
  formatWorkload,
  listContainers,
  listWorkloads,
  podSpecOf,
  replicasOf,
  currentObject,
  hasReplicas,
  type WorkloadRef,
} from '../trace/workload.js';
import { bool, int, optStr, parse, str, type Flags } from './args.js';
import { isNonEmptyDir, writeDirAtomic } from '../util/atomic-write.js';
import { SEED_MAX, SEED_MIN } from '../arena/spec-rules.js';
import { UsageError } from './errors.js';
import { runSubcommand } from './subcommands.js';
import { table } from './format.js';
import { readTraceFile, writeFileAtomic, writeJson, writeTraceFile } from './load.js';
import { convertNodeObjects, describePool, nodePoolDocument, nodePoolPathFor } from '../trace/nodepool.js';
import { actionStepsFromFlags, workloadFromFlags } from './episode-flags.js';

const USAGE = `usage: sim-arena trace <command>
  inspect FILE [--json]                         what the trace holds: events, workloads, requests, nodes
  validate FILE                                 check it against SimKube's v2 format (exit 1 if invalid)
  apply FILE --workload NS/NAME --action A [--kind K] [--container C] [--out G] [--cpu-step Q --mem-step Q --replica-step N]
                                                apply one action (noop, bump-cpu, reduce-cpu, bump-mem, reduce-mem, scale-up, scale-down)
  generate --out DIR [--count N] [--seed S] [--replace]
                                                a seeded random corpus of valid v2 traces plus DIR/index.json
  scenarios --out DIR [--replace]               write the canonical scenarios plus DIR/index.json
                                                (DIR must be empty or new unless --replace; it is swapped in whole)
  Every file is written atomically (temporary file + rename): a failed command leaves its inputs and earlier outputs.
  Exit codes: 0 done, 1 failed (bad trace, I/O), 2 usage error, 3 apply: the action was blocked by a safeguard
  (the trace is left unchanged).
  upgrade FILE --out G                          convert a version 1 trace to version 2
  convert FILE.json --out G                     encode a JSON trace as msgpack`;

export function traceCommand(argv: string[]): Promise<number> {
  return runSubcommand('trace', { inspect, validate, apply, generate, scenarios, upgrade, convert }, USAGE, argv);
}

function onePath(positionals: string[], what = 'FILE'): string {
  if (positionals.length !== 1) throw new UsageError(`expected one ${what}, got ${positionals.length}\n${USAGE}`);
  return positionals[0]!;
}

interface WorkloadSummary {
  workload: string;
  occurrences: number;
  replicas: number | null;
  containers: Array<{ name: string; init: boolean; cpu: string | null; memory: string | null }>;
}

function quantityText(v: MsgValue | undefined): string | null {
  if (v === undefined || v === null) return null;
  try {
    return formatQuantity(parseQuantity(v.valueOf() as string | number));
  } catch {
    return `invalid(${String(v.valueOf())})`;
  }
}

function summarizeWorkload(trace: Trace, ref: WorkloadRef): WorkloadSummary {
  const obj = currentObject(trace, ref);
  const spec = podSpecOf(obj)!;
  return {
    workload: formatWorkload(ref),
    occurrences: findOccurrences(trace, ref).length,
    replicas: hasReplicas(ref.kind) ? replicasOf(obj) : null,
    containers: listContainers(spec).map((c) => {
      const cm = getIn(spec, [c.list, c.index]);
      return {
        name: c.name,
        init: c.list === 'initContainers',
        cpu: quantityText(getIn(cm, ['resources', 'requests', 'cpu'])),
        memory: quantityText(getIn(cm, ['resources', 'requests', 'memory'])),
      };
    }),
  };
}

function describe(trace: Trace, file: string, bytes: number, warnings: string[]) {
  const events = traceEvents(trace);
  const tss = events.map((e) => Number(e.ts));
  const tracked = [...((trace.get('config') as MsgMap).get('trackedObjects') as MsgMap).keys()].map(String);
  const index = trace.get('index') as MsgMap;
  return {
    file,
    bytes,
    version: trace.get('version'),
    trackedObjects: tracked,
    events: events.length,
    firstTs: Math.min(...tss),
    lastTs: Math.max(...tss),
    spanSeconds: Math.max(...tss) - Math.min(...tss),
    appliedObjects: events.reduce((n, e) => n + e.applied.length, 0),
    deletedObjects: events.reduce((n, e) => n + e.deleted.length, 0),
    indexEntries: [...index.values()].reduce((n: number, m) => n + (m instanceof Map ? m.size : 0), 0),
    podLifecycleOwners: (trace.get('pod_lifecycles') as MsgMap).size,
    workloads: listWorkloads(trace).map((w) => summarizeWorkload(trace, w)),
    nodes: traceNodes(trace).map((n) => ({
      name: getString(n, ['metadata', 'name']),
      cpu: quantityText(getIn(n, ['status', 'allocatable', 'cpu'])),
      memory: quantityText(getIn(n, ['status', 'allocatable', 'memory'])),
    })),
    warnings,
  };
}

function inspect(argv: string[]): number {
  const { flags, positionals } = parse(argv, { json: { type: 'boolean' } }, USAGE);
  const file = onePath(positionals);
  const { trace, warnings, bytes, nodePool, nodePoolSource } = readTraceFile(file);
  const d = { ...describe(trace, file, bytes, warnings), ...(nodePool ? { nodePool, nodePoolSource } : {}) };
  if (bool(flags, 'json')) {
    process.stdout.write(`${JSON.stringify(d)}\n`);
    return 0;
  }
  const out = [
    `${file}: SimKube trace v${String(d.version)}, ${d.bytes} bytes`,
    `events: ${d.events} over ${d.spanSeconds}s (ts ${d.firstTs}..${d.lastTs}); ${d.appliedObjects} applied, ${d.deletedObjects} deleted`,
    `tracked: ${d.trackedObjects.join(', ') || '(none)'}; index entries: ${d.indexEntries}; pod lifecycle owners: ${d.podLifecycleOwners}`,
    '',
    table(
      ['workload', 'seen', 'replicas', 'container', 'cpu', 'memory'],
      d.workloads.flatMap((w) =>
        w.containers.length
          ? w.containers.map((c, i) => [
              i === 0 ? w.workload : '',
              i === 0 ? w.occurrences : '',
              i === 0 ? (w.replicas ?? '-') : '',
              c.init ? `${c.name} (init)` : c.name,
              c.cpu ?? '-',
              c.memory ?? '-',
            ])
          : [[w.workload, w.occurrences, w.replicas ?? '-', '-', '-', '-']],
      ),
    ),
  ];
  if (d.nodes.length)
    out.push(
      '',
      table(
        ['node', 'cpu', 'memory'],
        d.nodes.map((n) => [n.name ?? '?', n.cpu ?? '-', n.memory ?? '-']),
      ),
    );
  if (nodePool) out.push('', `node pool (${nodePoolSource}): ${describePool(nodePool)}`);
  for (const w of warnings) out.push(w.startsWith('converted ') ? `note: ${w}` : `warning: ${w}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

function validate(argv: string[]): number {
  const { positionals } = parse(argv, {}, USAGE);
  const file = onePath(positionals);
  const { trace, warnings } = readTraceFile(file);
  for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
  process.stdout.write(
    `${file}: valid SimKube v2 trace (${traceEvents(trace).length} events, ${listWorkloads(trace).length} workloads)\n`,
  );
  return 0;
}

function apply(argv: string[]): number {
  const { flags, positionals } = parse(
    argv,
    {
      workload: { type: 'string' },
      kind: { type: 'string' },
      container: { type: 'string' },
      action: { type: 'string' },
      out: { type: 'string' },
      'cpu-step': { type: 'string' },
      'mem-step': { type: 'string' },
      'replica-step': { type: 'string' },
    },
    USAGE,
  );
  const file = onePath(positionals);
  const { trace } = readTraceFile(file);
  const ref = workloadFromFlags(flags);
  const action = parseAction(str(flags, 'action'));
  const container = optStr(flags, 'container');
  const outcome = applyAction(trace, ref, action, {
    steps: actionStepsFromFlags(flags),
    safeguards: DEFAULT_SAFEGUARDS,
    ...(container ? { container } : {}),
  });
  const fmt = (r: ReturnType<typeof readResources>) => `${r.cpu} cpu, ${r.memory} memory, ${r.replicas} replicas`;
  if (outcome.blocked) {
    process.stderr.write(`${outcome.reason}; the trace is unchanged\n`);
    return 3;
  }
  const out = optStr(flags, 'out') ?? file;
  const n = writeTraceFile(out, trace);
  process.stdout.write(
    `${action} on ${formatWorkload(ref)}: ${fmt(outcome.before)} → ${fmt(outcome.after)}; wrote ${out} (${n} bytes)\n`,
  );
  return 0;
}

/** `--out DIR` of generate/scenarios: refused when not empty unless --replace; the folder is swapped in whole at the end. */
function outDir(flags: Flags): string {
  const dir = str(flags, 'out');
  if (dir === '') throw new UsageError('--out needs a folder path, got an empty string');
  if (isNonEmptyDir(dir) && !bool(flags, 'replace'))
    throw new UsageError(
      `--out ${dir} is not empty; give an empty or new folder, or add --replace to replace its content`,
    );
  return dir;
}

async function generate(argv: string[]): Promise<number> {
  const { flags } = parse(
    argv,
    { out: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' }, replace: { type: 'boolean' } },
    USAGE,
  );
  const dir = outDir(flags);
  const count = int(flags, 'count', 50, 1, 100_000);
  const seed = int(flags, 'seed', 0, SEED_MIN, SEED_MAX);
  await writeDirAtomic(
    dir,
    (staging) => {
      const index = [];
      for (let i = 0; i < count; i++) {
        const s = randomScenario(seed, i);
        const file = `${s.meta.name}.msgpack`;
        writeTraceFile(join(staging, file), s.trace);
        // The pool goes next to the trace, never into its events.
        if (s.meta.nodePool)
          writeFileAtomic(
            nodePoolPathFor(join(staging, file)),
            `${JSON.stringify(nodePoolDocument(s.meta.nodePool), null, 2)}\n`,
          );
        index.push({ ...s.meta, trace: file });
      }
      writeJson(join(staging, 'index.json'), index);
    },
    { replace: bool(flags, 'replace') },
  );
  process.stdout.write(`wrote ${count} traces and index.json to ${dir} (seed ${seed})\n`);
  return 0;
}

async function scenarios(argv: string[]): Promise<number> {
  const { flags } = parse(argv, { out: { type: 'string' }, replace: { type: 'boolean' } }, USAGE);
  const dir = outDir(flags);
  const index = CANONICAL.map(({ meta }) => ({ ...meta, trace: `${meta.name}.msgpack` }));
  await writeDirAtomic(
    dir,
    (staging) => {
      for (const m of index) writeTraceFile(join(staging, m.trace), canonicalScenario(m.name).trace);
      writeJson(join(staging, 'index.json'), index);
    },
    { replace: bool(flags, 'replace') },
  );
  process.stdout.write(`wrote ${index.length} canonical scenarios and index.json to ${dir}\n`);
  return 0;
}

function upgrade(argv: string[]): number {
  const { flags, positionals } = parse(argv, { out: { type: 'string' } }, USAGE);
  const file = onePath(positionals);
  const out = str(flags, 'out');
  const raw = decodeMsgpack(readFileSync(file));
  // A v2 trace is upgraded only by taking its Node objects out (SimKube 2.7 cannot replay cluster-scoped objects).
  const isV2 = raw instanceof Map && raw.get('version') === 2;
  const { trace, changes } = isV2
    ? { trace: decodeTrace(readFileSync(file)).trace, changes: [] as string[] }
    : upgradeTrace(raw);
  const converted = convertNodeObjects(trace);
  if (isV2 && !converted)
    throw new UsageError(`${file} is already a version 2 trace without Node objects: nothing to upgrade`);
  const n = writeTraceFile(out, trace);
  for (const c of changes) process.stdout.write(`- ${c}\n`);
  if (converted) {
    const doc = nodePoolPathFor(out);
    writeFileAtomic(doc, `${JSON.stringify(nodePoolDocument(converted.nodePool), null, 2)}\n`);
    process.stdout.write(`- ${converted.note}\nwrote ${doc}\n`);
  }
  process.stdout.write(`wrote ${out} (${n} bytes, version 2)\n`);
  return 0;
}

function convert(argv: string[]): number {
  const { flags, positionals } = parse(argv, { out: { type: 'string' } }, USAGE);
  const file = onePath(positionals);
  let plain: unknown;
  try {
    plain = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw e;
    throw new UsageError(`${file} is not JSON: ${(e as Error).message}`);
  }
  const trace = fromPlain(plain) as Trace;
  const warnings = validateTrace(trace);
  for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
  const out = str(flags, 'out');
  writeTraceFile(out, trace);
  process.stdout.write(`wrote ${out}\n`);
  return 0;
}
