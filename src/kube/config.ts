// Loading a kubeconfig, and a copy of one that reuses HTTPS connections.
import { createHash } from 'node:crypto';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { BoundedMap } from '../util/bounded-map.js';
import { CountingAgent } from './metrics.js';

const KEEP_ALIVE = Symbol('sim-arena.keepAlive');

type AgentFactory = {
  createAgent(cluster: { server?: string; proxyUrl?: string } | null, options: Record<string, unknown>): unknown;
};

/**
 * A copy of `kc` whose HTTPS requests reuse keep-alive connections (`kc` itself when it already does). client-node
 * 1.4 builds a new https.Agent for every request, so each request pays a TCP and TLS handshake, several times the
 * cost of the request itself in CPU on both ends. Agents are shared per server and TLS settings (CA, client
 * certificate, ...), so a rotated client certificate gets a new agent. The agents count requests (rest_client_requests_total).
 */
export function withKeepAlive(kc: KubeConfig): KubeConfig {
  if ((kc as unknown as Record<symbol, unknown>)[KEEP_ALIVE]) return kc;
  const copy = new KubeConfig();
  copy.loadFromOptions({
    clusters: kc.clusters,
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  const factory = copy as unknown as AgentFactory;
  const original = factory.createAgent.bind(copy);
  const agents = new BoundedMap<string, https.Agent>({ maxEntries: 16 });
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
      agent = new CountingAgent({ ...(options as https.AgentOptions), keepAlive: true });
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
    throw new Error(
      `kubeconfig ${(e as NodeJS.ErrnoException).path ?? path} (from ${from}) does not exist; point ${from} at a kubeconfig, or run in a cluster`,
      { cause: e },
    );
  }
  if (!kc.getCurrentCluster())
    throw new Error('kubeconfig has no current cluster; run in a cluster, or set --kubeconfig / KUBECONFIG');
  return kc;
}
