import { createHash } from 'node:crypto';
import https from 'node:https';
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  PatchStrategy,
  RequestContext,
  setHeaderOptions,
  type CustomObjectsApi,
  type KubernetesObject,
  type V1MicroTime,
} from '@kubernetes/client-node';

const KEEP_ALIVE = Symbol('sim-arena.keepAlive');

type AgentFactory = { createAgent(cluster: { server?: string; proxyUrl?: string } | null, options: Record<string, unknown>): unknown };

/**
 * A copy of `kc` whose HTTPS requests reuse keep-alive connections (`kc` itself when it already does). client-node
 * 1.4 builds a new https.Agent for every request, so each request pays a TCP and TLS handshake, several times the
 * cost of the request itself in CPU on both ends. Agents are shared per server and TLS settings (CA, client
 * certificate, ...), so a rotated client certificate gets a new agent.
 */
export function withKeepAlive(kc: KubeConfig): KubeConfig {
  if ((kc as unknown as Record<symbol, unknown>)[KEEP_ALIVE]) return kc;
  const copy = new KubeConfig();
  copy.loadFromOptions({ clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
  const factory = copy as unknown as AgentFactory;
  const original = factory.createAgent.bind(copy);
  const agents = new Map<string, https.Agent>();
  factory.createAgent = (cluster, options) => {
    if (!cluster?.server?.startsWith('https:') || cluster.proxyUrl) return original(cluster, options);
    const h = createHash('sha256').update(cluster.server);
    for (const k of Object.keys(options).sort()) {
      const v = options[k];
      if (v === undefined) continue;
      h.update(`\0${k}=`);
      h.update(typeof v === 'string' || Buffer.isBuffer(v) ? v : JSON.stringify(v));
    }
    const key = h.digest('hex');
    let agent = agents.get(key);
    if (!agent) {
      if (agents.size >= 16) agents.clear();
      agent = new https.Agent({ ...(options as https.AgentOptions), keepAlive: true });
      agents.set(key, agent);
    }
    return agent;
  };
  (copy as unknown as Record<symbol, unknown>)[KEEP_ALIVE] = true;
  return copy;
}

/**
 * Loads a KubeConfig: `path` if given, else the KUBECONFIG env (colon-separated list),
 * else ~/.kube/config, else the in-cluster service account.
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const from = path ? '--kubeconfig' : 'KUBECONFIG';
    throw new Error(`kubeconfig ${(e as NodeJS.ErrnoException).path ?? path} (from ${from}) does not exist; point ${from} at a kubeconfig, or run in a cluster`);
  }
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster; run in a cluster, or set --kubeconfig / KUBECONFIG');
  return kc;
}

// ---------------------------------------------------------------------------------------------
// Errors. client-node 1.4.0 throws ApiException { code, body: <JSON string of a metav1.Status> };
// its Watch throws a plain Error with `statusCode`.

interface StatusBody {
  message?: string;
  reason?: string;
  code?: number;
}

function statusBody(err: unknown): StatusBody | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const body: unknown = err.body;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? (parsed as StatusBody) : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusBody) : undefined;
}

/** The HTTP status code of a Kubernetes API failure, or undefined for non-HTTP errors. */
export function apiErrorCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (typeof err === 'object' && err !== null) {
    const e = err as { statusCode?: unknown; code?: unknown };
    if (typeof e.statusCode === 'number') return e.statusCode;
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

/** The `reason` of the metav1.Status in an ApiException body (NotFound, Conflict, AlreadyExists, Invalid...). */
export function apiErrorReason(err: unknown): string | undefined {
  return statusBody(err)?.reason;
}

/** A one-line human message: the Status message when the server sent one, else the error's own message. */
export function apiErrorMessage(err: unknown): string {
  const status = statusBody(err);
  const code = apiErrorCode(err);
  if (status?.message) return code !== undefined ? `${code}: ${status.message}` : status.message;
  if (err instanceof ApiException && typeof err.body === 'string' && err.body.trim() !== '') {
    return `${err.code}: ${err.body.trim().slice(0, 500)}`;
  }
  if (err instanceof Error) return code !== undefined ? `${code}: ${err.message}` : err.message;
  return String(err);
}

export function isNotFound(err: unknown): boolean {
  return apiErrorCode(err) === 404;
}

/** A 409 caused by a stale resourceVersion (not by creating something that already exists). */
export function isConflict(err: unknown): boolean {
  return apiErrorCode(err) === 409 && apiErrorReason(err) !== 'AlreadyExists';
}

export function isAlreadyExists(err: unknown): boolean {
  return apiErrorCode(err) === 409 && apiErrorReason(err) === 'AlreadyExists';
}

const transientNetworkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** Errors worth retrying: throttling, server-side timeouts and 5xx, dropped connections. */
export function isTransient(err: unknown): boolean {
  const code = apiErrorCode(err);
  if (code !== undefined) return code === 429 || code >= 500;
  const e = err as { code?: unknown; errno?: unknown; type?: unknown; cause?: { code?: unknown } } | null;
  const sysCode = e?.code ?? e?.errno ?? e?.cause?.code;
  return (typeof sysCode === 'string' && transientNetworkCodes.has(sysCode)) || e?.type === 'system';
}

// ---------------------------------------------------------------------------------------------
// Resource paths and raw requests (for JSON Patch and resources with no typed client).

export interface ResourceRef {
  /** '' (or undefined) for the core group. */
  group?: string;
  version: string;
  /** Plural resource name, e.g. 'configmaps' or 'arenaepisodes'. */
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** The REST path of a resource collection or object, e.g. /api/v1/namespaces/ns/configmaps/cm. */
export function resourcePath(ref: ResourceRef): string {
  let p = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  p += `/${ref.resource}`;
  if (ref.name) p += `/${encodeURIComponent(ref.name)}`;
  if (ref.subresource) p += `/${ref.subresource}`;
  return p;
}

export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
}

const httpLibrary = new IsomorphicFetchHttpLibrary();

/**
 * One request through client-node's own HTTP stack and kubeconfig auth. Returns the parsed JSON body;
 * throws ApiException on non-2xx, so the error helpers above apply unchanged.
 */
export async function kubeRequest<T = unknown>(kc: KubeConfig, req: RawRequest): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const ctx = new RequestContext(cluster.server + req.path, req.method as HttpMethod);
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) ctx.setQueryParam(k, String(v));
  ctx.setHeaderParam('Accept', 'application/json');
  if (req.body !== undefined) {
    ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
    ctx.setBody(JSON.stringify(req.body));
  }
  await kc.applySecurityAuthentication(ctx);
  const resp = await httpLibrary.send(ctx).toPromise();
  const text = await resp.body.text();
  if (resp.httpStatusCode < 200 || resp.httpStatusCode > 299) {
    throw new ApiException(resp.httpStatusCode, `HTTP ${resp.httpStatusCode} ${req.method} ${req.path}`, text, resp.headers);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
  from?: string;
}

export function mergePatch<T = KubernetesObject>(kc: KubeConfig, path: string, body: object): Promise<T> {
  return kubeRequest<T>(kc, { method: 'PATCH', path, body, contentType: PatchStrategy.MergePatch });
}

export function jsonPatch<T = KubernetesObject>(kc: KubeConfig, path: string, ops: JsonPatchOp[]): Promise<T> {
  return kubeRequest<T>(kc, { method: 'PATCH', path, body: ops, contentType: PatchStrategy.JsonPatch });
}

// ---------------------------------------------------------------------------------------------
// CustomObjectsApi patches. Its patch calls default to application/json-patch+json, which the server
// rejects for a merge-patch object, so the content type is always set explicitly.

export const mergePatchOptions = (): ReturnType<typeof setHeaderOptions> =>
  setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const jsonPatchOptions = (): ReturnType<typeof setHeaderOptions> =>
  setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

export interface CustomObjectRef {
  group: string;
  version: string;
  plural: string;
  /** Omit for cluster-scoped resources. */
  namespace?: string;
  name: string;
}

/**
 * Merge-patches `.status` through the /status subresource. Arrays (e.g. conditions) are replaced whole. With
 * `resourceVersion` the patch applies only to that version of the object (else 409 Conflict).
 */
export function patchCustomObjectStatus(api: CustomObjectsApi, ref: CustomObjectRef, status: object, resourceVersion?: string): Promise<KubernetesObject> {
  const body = resourceVersion ? { metadata: { resourceVersion }, status } : { status };
  return ref.namespace
    ? api.patchNamespacedCustomObjectStatus({ ...ref, namespace: ref.namespace, body }, mergePatchOptions())
    : api.patchClusterCustomObjectStatus({ ...ref, body }, mergePatchOptions());
}

/** Merge-patches `.metadata` (labels, annotations; null deletes a key). Not for finalizers: see finalizers.ts. */
export function patchCustomObjectMetadata(
  api: CustomObjectsApi,
  ref: CustomObjectRef,
  metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> },
): Promise<KubernetesObject> {
  const body = { metadata };
  return ref.namespace
    ? api.patchNamespacedCustomObject({ ...ref, namespace: ref.namespace, body }, mergePatchOptions())
    : api.patchClusterCustomObject({ ...ref, body }, mergePatchOptions());
}

/** Read and JSON-patch one object; what finalizers.ts needs. */
export interface ObjectAccessor {
  get(): Promise<KubernetesObject>;
  jsonPatch(ops: JsonPatchOp[]): Promise<KubernetesObject>;
}

/** An accessor for any object by REST path (core or custom resource). */
export function pathAccessor(kc: KubeConfig, ref: ResourceRef): ObjectAccessor {
  const path = resourcePath(ref);
  return {
    get: () => kubeRequest<KubernetesObject>(kc, { method: 'GET', path }),
    jsonPatch: (ops) => jsonPatch(kc, path, ops),
  };
}

/** An accessor for a custom object through CustomObjectsApi. */
export function customObjectAccessor(api: CustomObjectsApi, ref: CustomObjectRef): ObjectAccessor {
  return {
    get: () =>
      ref.namespace
        ? api.getNamespacedCustomObject({ ...ref, namespace: ref.namespace })
        : api.getClusterCustomObject(ref),
    jsonPatch: (ops) =>
      ref.namespace
        ? api.patchNamespacedCustomObject({ ...ref, namespace: ref.namespace, body: ops }, jsonPatchOptions())
        : api.patchClusterCustomObject({ ...ref, body: ops }, jsonPatchOptions()),
  };
}

/**
 * A MicroTime string with exactly 6 fractional digits (2026-01-01T00:00:00.123000Z).
 * The API server rejects the 3-digit form that Date#toISOString (and so client-node) produces.
 */
export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * A MicroTime for a typed client-node field (Lease renewTime/acquireTime, Event eventTime). client-node
 * types these as Date subclasses but passes strings through untouched, while a plain Date would be sent
 * with 3 fractional digits and rejected; so the value is the 6-digit string, typed as the field wants.
 */
export function microTimeField(date: Date = new Date()): V1MicroTime {
  return microTime(date) as unknown as V1MicroTime;
}
