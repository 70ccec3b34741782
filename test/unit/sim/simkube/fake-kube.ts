// An in-memory API server behind the simkube module's Requester: enough REST (get/list/create/merge-patch/delete,
// label and field selectors, the status subresource) for unit tests of the backend, trace-sync and preflight.
import { ApiException } from '@kubernetes/client-node';
import type { RawRequest } from '../../../../src/kube/request.js';
import { Kube, type Obj } from '../../../../src/kube/client.js';

function status(code: number, reason: string, message: string): ApiException<string> {
  return new ApiException(
    code,
    message,
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message }),
    {},
  );
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function matchesLabels(obj: Obj, selector: string | undefined): boolean {
  if (!selector) return true;
  const labels = obj.metadata?.labels ?? {};
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return v === undefined ? k! in labels : labels[k!] === v;
  });
}

function matchesFields(obj: Obj, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    let cur: unknown = obj;
    for (const part of k!.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[part];
    return cur === v;
  });
}

export interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/** Splits a REST path into (collection, name, subresource). */
function parse(path: string): { collection: string; name?: string; sub?: string } {
  const parts = path.split('/').filter(Boolean);
  // /api/v1/... or /apis/g/v/...
  const base = parts[0] === 'api' ? 2 : 3;
  const rest = parts.slice(base);
  const prefix = `/${parts.slice(0, base).join('/')}`;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    // namespaced: namespaces/ns/res[/name[/sub]]
    const collection = `${prefix}/namespaces/${rest[1]}/${rest[2]}`;
    return {
      collection,
      ...(rest[3] ? { name: decodeURIComponent(rest[3]) } : {}),
      ...(rest[4] ? { sub: rest[4] } : {}),
    };
  }
  const collection = `${prefix}/${rest[0]}`;
  return {
    collection,
    ...(rest[1] ? { name: decodeURIComponent(rest[1]) } : {}),
    ...(rest[2] ? { sub: rest[2] } : {}),
  };
}

export class FakeKube {
  readonly store = new Map<string, Map<string, Obj>>();
  readonly calls: Call[] = [];
  private uid = 0;
  /** Returned for GET /version; set to an Error to make the API unreachable. */
  version: { gitVersion: string } | Error = { gitVersion: 'v1.33.0' };
  /** DELETE with propagationPolicy Foreground only marks the object (deletionTimestamp) when true. */
  slowForeground = false;

  kube(): Kube {
    return new Kube(<T>(req: RawRequest) => this.handle(req) as Promise<T>);
  }

  private coll(c: string): Map<string, Obj> {
    let m = this.store.get(c);
    if (!m) this.store.set(c, (m = new Map()));
    return m;
  }

  /** Puts an object straight into the store (collection path like /api/v1/namespaces/ns/pods). */
  put(collection: string, obj: Obj): Obj {
    const name = obj.metadata!.name!;
    const stored: Obj = {
      ...obj,
      metadata: {
        uid: `uid-${++this.uid}`,
        creationTimestamp: new Date().toISOString(),
        generation: 1,
        ...obj.metadata,
      },
    };
    this.coll(collection).set(name, stored);
    return stored;
  }

  get(collection: string, name: string): Obj | undefined {
    return this.store.get(collection)?.get(name);
  }

  list(collection: string): Obj[] {
    return [...(this.store.get(collection)?.values() ?? [])];
  }

  async handle(req: RawRequest): Promise<unknown> {
    this.calls.push({ method: req.method, path: req.path, ...(req.body !== undefined ? { body: req.body } : {}) });
    if (req.path === '/version') {
      if (this.version instanceof Error) throw this.version;
      return this.version;
    }
    const { collection, name, sub } = parse(req.path);
    const q = req.query ?? {};
    switch (req.method) {
      case 'GET': {
        if (name) {
          const o = this.get(collection, name);
          if (!o) throw status(404, 'NotFound', `${name} not found`);
          return structuredClone(o);
        }
        // cluster-wide list of a namespaced resource (e.g. /api/v1/pods)
        const sources = this.store.has(collection)
          ? [collection]
          : [...this.store.keys()].filter(
              (c) =>
                c.endsWith(`/${collection.split('/').pop()}`) &&
                c.includes('/namespaces/') &&
                c.startsWith(collection.split('/').slice(0, -1).join('/')),
            );
        const items = sources
          .flatMap((c) => this.list(c))
          .filter(
            (o) =>
              matchesLabels(o, q.labelSelector as string | undefined) &&
              matchesFields(o, q.fieldSelector as string | undefined),
          );
        return { items: structuredClone(items) };
      }
      case 'POST': {
        const body = req.body as Obj;
        const n = body.metadata!.name!;
        if (this.get(collection, n)) throw status(409, 'AlreadyExists', `${n} already exists`);
        return structuredClone(this.put(collection, structuredClone(body)));
      }
      case 'PATCH': {
        const o = name ? this.get(collection, name) : undefined;
        if (!o || !name) throw status(404, 'NotFound', `${name} not found`);
        const patch = req.body as Record<string, unknown>;
        const next = (
          sub === 'status' ? mergePatch(o, { status: patch.status }) : mergePatch(o, { ...patch, status: undefined })
        ) as Obj;
        if (sub !== 'status' && o.status !== undefined) next.status = o.status;
        this.coll(collection).set(name, next);
        return structuredClone(next);
      }
      case 'DELETE': {
        const o = name ? this.get(collection, name) : undefined;
        if (!o || !name) throw status(404, 'NotFound', `${name} not found`);
        if (this.slowForeground && q.propagationPolicy === 'Foreground')
          o.metadata!.deletionTimestamp = new Date().toISOString();
        else this.coll(collection).delete(name);
        return {};
      }
      default:
        throw status(405, 'MethodNotAllowed', req.method);
    }
  }
}
