import { ApiException, type KubernetesObject, type V1Lease } from '@kubernetes/client-node';
import type { JsonPatchOp } from '../../../src/kube/request.js';
import type { ObjectAccessor } from '../../../src/kube/custom-objects.js';

const microTimeRe = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

export function apiError(code: number, reason: string, message: string): ApiException<string> {
  return new ApiException(
    code,
    'Unsuccessful HTTP Request',
    JSON.stringify({ kind: 'Status', code, reason, message }),
    {},
  );
}

/** Resolves a JSON Pointer like /metadata/finalizers/1. */
function pointer(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** Mimics the API server's check of MicroTime fields (Go layout with 6 fractional digits). */
export function checkMicroTime(field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !microTimeRe.test(value)) {
    throw apiError(
      400,
      'BadRequest',
      `${field}: parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse`,
    );
  }
}

/** One object with server-like resourceVersion handling and JSON Patch (test/add/remove on finalizers). */
export class FakeObjectStore implements ObjectAccessor {
  private rv = 1;
  obj: KubernetesObject;
  patches = 0;
  failedTests = 0;
  /** Runs after get() returns, before the caller can patch: the place to inject a concurrent writer. */
  afterGet: (() => void) | undefined;

  constructor(finalizers?: string[]) {
    this.obj = { metadata: { name: 'o', namespace: 'n', resourceVersion: '1', ...(finalizers ? { finalizers } : {}) } };
  }

  async get(): Promise<KubernetesObject> {
    const copy = clone(this.obj);
    const hook = this.afterGet;
    this.afterGet = undefined;
    hook?.();
    return copy;
  }

  /** A write by someone else: bumps the resourceVersion. */
  write(mutate: (o: KubernetesObject) => void): void {
    mutate(this.obj);
    this.obj.metadata!.resourceVersion = String(++this.rv);
  }

  async jsonPatch(ops: JsonPatchOp[]): Promise<KubernetesObject> {
    this.patches++;
    const next = clone(this.obj);
    for (const op of ops) {
      if (op.op === 'test') {
        if (JSON.stringify(pointer(next, op.path)) !== JSON.stringify(op.value)) {
          this.failedTests++;
          // What a real API server says: a bare 422 that does not mention the test op.
          throw apiError(422, 'Invalid', 'the server rejected our request due to an error in our request');
        }
      } else if (op.op === 'add' && typeof op.value === 'string' && !/^[a-z0-9.-]+\/[a-z0-9-]+$/.test(op.value)) {
        throw apiError(
          422,
          'Invalid',
          `ConfigMap "o" is invalid: metadata.finalizers: Invalid value: ${JSON.stringify(op.value)}`,
        );
      } else if (op.op === 'add' && op.path === '/metadata/finalizers') {
        next.metadata!.finalizers = op.value as string[];
      } else if (op.op === 'add' && op.path === '/metadata/finalizers/-') {
        if (!next.metadata!.finalizers)
          throw apiError(422, 'Invalid', 'add operation does not apply: doc is missing path');
        next.metadata!.finalizers.push(op.value as string);
      } else if (op.op === 'remove' && op.path.startsWith('/metadata/finalizers/')) {
        const i = Number(op.path.split('/').pop());
        if (!next.metadata!.finalizers || i >= next.metadata!.finalizers.length)
          throw apiError(422, 'Invalid', 'remove: no such index');
        next.metadata!.finalizers.splice(i, 1);
      } else {
        throw new Error(`fake: unsupported op ${JSON.stringify(op)}`);
      }
    }
    next.metadata!.resourceVersion = String(++this.rv);
    this.obj = next;
    return clone(next);
  }
}

/** The three Lease calls LeaderElector makes, with optimistic concurrency like the API server. */
export class FakeLeaseApi {
  private leases = new Map<string, V1Lease>();
  private readonly counter = { rv: 0 }; // shared by views from as()
  /** Callers whose requests fail (simulates a replica cut off from the API server). */
  cutOff = new Set<string>();
  writes: V1Lease[] = [];

  constructor(private readonly caller = '') {}

  /** A view of the same store that fails while `caller` is in `cutOff`. */
  as(caller: string): FakeLeaseApi {
    const view = Object.create(this) as FakeLeaseApi;
    (view as unknown as { caller: string }).caller = caller;
    return view;
  }

  get(name: string): V1Lease | undefined {
    const l = this.leases.get(name);
    return l ? clone(l) : undefined;
  }

  private check(): void {
    if (this.cutOff.has(this.caller)) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  }

  private validate(body: V1Lease): V1Lease {
    const wire = clone(body);
    checkMicroTime('spec.renewTime', wire.spec?.renewTime);
    checkMicroTime('spec.acquireTime', wire.spec?.acquireTime);
    return wire;
  }

  async readNamespacedLease(p: { name: string; namespace: string }): Promise<V1Lease> {
    this.check();
    const l = this.leases.get(p.name);
    if (!l) throw apiError(404, 'NotFound', `leases.coordination.k8s.io "${p.name}" not found`);
    return clone(l);
  }

  async createNamespacedLease(p: { namespace: string; body: V1Lease }): Promise<V1Lease> {
    this.check();
    const wire = this.validate(p.body);
    const name = wire.metadata!.name!;
    if (this.leases.has(name))
      throw apiError(409, 'AlreadyExists', `leases.coordination.k8s.io "${name}" already exists`);
    wire.metadata!.resourceVersion = String(++this.counter.rv);
    this.leases.set(name, wire);
    this.writes.push(clone(wire));
    return clone(wire);
  }

  async replaceNamespacedLease(p: { name: string; namespace: string; body: V1Lease }): Promise<V1Lease> {
    this.check();
    const wire = this.validate(p.body);
    const cur = this.leases.get(p.name);
    if (!cur) throw apiError(404, 'NotFound', 'not found');
    if (wire.metadata?.resourceVersion !== cur.metadata?.resourceVersion) {
      throw apiError(
        409,
        'Conflict',
        'Operation cannot be fulfilled on leases.coordination.k8s.io: the object has been modified',
      );
    }
    wire.metadata!.resourceVersion = String(++this.counter.rv);
    this.leases.set(p.name, wire);
    this.writes.push(clone(wire));
    return clone(wire);
  }
}
