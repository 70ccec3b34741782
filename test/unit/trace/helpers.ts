// Shared helpers for the trace and arena unit tests: fixture paths, trace builders, error assertions.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { MsgMap, MsgValue } from '../../../src/trace/msgpack.js';
import { fromPlain } from '../../../src/trace/model.js';
import { decodeTrace, TraceError, type Trace } from '../../../src/trace/trace.js';

function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'src', 'trace'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('could not find the repository root above the test file');
    dir = up;
  }
}

export const repoRoot = findRepoRoot();
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures');
export const simkubeTracesDir = path.join(fixturesDir, 'simkube', 'traces');
export const legacyDir = path.join(fixturesDir, 'legacy-sim-arena');

export function readFixture(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(path.join(fixturesDir, ...parts)));
}

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/** Every trace-like fixture (real SimKube traces and the predecessor's msgpack files, the v1 trace included). */
export function allTraceFixtures(): NamedBytes[] {
  const out: NamedBytes[] = [];
  for (const f of readdirSync(simkubeTracesDir).sort())
    if (f.endsWith('.sktrace')) out.push({ name: `simkube/traces/${f}`, bytes: readFixture('simkube', 'traces', f) });
  for (const f of readdirSync(legacyDir).sort())
    if (f.endsWith('.msgpack')) out.push({ name: `legacy-sim-arena/${f}`, bytes: readFixture('legacy-sim-arena', f) });
  return out;
}

/** The predecessor's named v2 scenario traces (§6.3), without trace-v2 and the v1 trace. */
export const LEGACY_NAMED = [
  'trace-0001',
  'trace-cpu-heavy',
  'trace-cpu-low-mem-high-replicas-over',
  'trace-cpu-mem',
  'trace-cpu-slight',
  'trace-mem-heavy',
  'trace-mem-slight',
  'trace-normalized',
  'trace-replicas-over',
  'trace-scaling',
  'trace-scaling-v2',
] as const;

export function loadLegacy(name: string): Trace {
  return decodeTrace(readFixture('legacy-sim-arena', `${name}.msgpack`)).trace;
}

export function loadSimkube(name: string): Trace {
  return decodeTrace(readFixture('simkube', 'traces', name)).trace;
}

export interface ContainerSpec {
  name: string;
  image?: string;
  cpu?: string;
  memory?: string;
  /** Leave `resources` out entirely. */
  noResources?: boolean;
}

export interface DeploymentSpec {
  name?: string;
  namespace?: string;
  kind?: string;
  apiVersion?: string;
  replicas?: number;
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
}

function container(c: ContainerSpec): Record<string, unknown> {
  const requests: Record<string, string> = {};
  if (c.cpu !== undefined) requests.cpu = c.cpu;
  if (c.memory !== undefined) requests.memory = c.memory;
  return { name: c.name, image: c.image ?? 'nginx:1.27', ...(c.noResources ? {} : { resources: { requests } }) };
}

/** A plain Deployment (or StatefulSet etc.) object like the one in simkube.md §4.6. */
export function workloadObject(d: DeploymentSpec = {}): Record<string, unknown> {
  const name = d.name ?? 'web';
  const podSpec: Record<string, unknown> = {
    containers: (d.containers ?? [{ name, cpu: '500m', memory: '512Mi' }]).map(container),
  };
  if (d.initContainers) podSpec.initContainers = d.initContainers.map(container);
  const spec: Record<string, unknown> = {};
  if (d.replicas !== undefined) spec.replicas = d.replicas;
  spec.selector = { matchLabels: { app: name } };
  spec.template = { metadata: { labels: { app: name } }, spec: podSpec };
  return {
    apiVersion: d.apiVersion ?? 'apps/v1',
    kind: d.kind ?? 'Deployment',
    metadata: { name, namespace: d.namespace ?? 'default', labels: { app: name } },
    spec,
  };
}

export function deletionStub(
  name = 'web',
  namespace = 'default',
  kind = 'Deployment',
  apiVersion = 'apps/v1',
): Record<string, unknown> {
  return { apiVersion, kind, metadata: { namespace, name } };
}

export interface PlainEvent {
  ts: number;
  applied_objs?: unknown[];
  deleted_objs?: unknown[];
}

/** A valid v2 trace (simkube.md §4.2 shape) from plain events; key order version, config, events, index, pod_lifecycles. */
export function buildTrace(
  events: PlainEvent[],
  opts: { tracked?: Record<string, unknown>; index?: Record<string, unknown> } = {},
): Trace {
  return fromPlain({
    version: 2,
    config: { trackedObjects: opts.tracked ?? { 'apps/v1.Deployment': {} } },
    events: events.map((e) => ({ ts: e.ts, applied_objs: e.applied_objs ?? [], deleted_objs: e.deleted_objs ?? [] })),
    index: opts.index ?? {},
    pod_lifecycles: {},
  }) as Trace;
}

/** One event applying one workload. */
export function singleWorkloadTrace(d: DeploymentSpec = {}): Trace {
  return buildTrace([{ ts: 1730390400, applied_objs: [workloadObject(d)] }]);
}

/** Runs fn, expects a TraceError (and only a TraceError), and checks its field. */
export function expectTraceError(fn: () => unknown, field?: string | RegExp): TraceError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a TraceError to be thrown').to.be.instanceOf(TraceError);
  const err = caught as TraceError;
  if (typeof field === 'string') expect(err.field).to.equal(field);
  else if (field) expect(err.field).to.match(field);
  return err;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

/** The first Deployment-ish object in applied_objs of event `i`. */
export function appliedAt(trace: Trace, event: number, position = 0): MsgMap {
  const ev = (trace.get('events') as MsgValue[])[event] as MsgMap;
  return (ev.get('applied_objs') as MsgValue[])[position] as MsgMap;
}
