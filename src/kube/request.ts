// The one way sim-arena sends a request to the API server: raw REST through client-node's HTTP stack and kubeconfig
// auth (for JSON/merge patches and resources with no typed client). `Kube` (client.ts) wraps it for object paths.
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  PatchStrategy,
  RequestContext,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

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
    throw new ApiException(
      resp.httpStatusCode,
      `HTTP ${resp.httpStatusCode} ${req.method} ${req.path}`,
      text,
      resp.headers,
    );
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
