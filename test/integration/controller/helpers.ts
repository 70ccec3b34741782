// Access to the real test control plane (test/cluster/up.sh). Tests skip, saying why, when none is reachable.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiErrorMessage, isNotFound } from '../../../src/kube/errors.js';
import { loadKubeConfig } from '../../../src/kube/config.js';
import { ensureCluster } from '../../support/cluster.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** KUBECONFIG if set, else SIM_ARENA_KUBECONFIG, else <repo>/.cluster/kubeconfig (when it exists). */
export function clusterKubeconfigPath(): string | undefined {
  if (process.env.KUBECONFIG) return process.env.KUBECONFIG;
  const p = process.env.SIM_ARENA_KUBECONFIG ?? resolve(repoRoot, '.cluster/kubeconfig');
  return existsSync(p) ? p : undefined;
}

let probe: Promise<KubeConfig | string> | undefined;

async function probeCluster(): Promise<KubeConfig | string> {
  // Bring the shared test cluster up first (built on a fresh machine), so these suites never skip in `npm test`.
  if (!process.env.KUBECONFIG)
    await ensureCluster().catch((e: Error) => console.warn(`      test cluster: ${e.message.split('\n')[0]}`));
  const path = clusterKubeconfigPath();
  if (!path) return 'no cluster: KUBECONFIG is unset and .cluster/kubeconfig does not exist (run test/cluster/up.sh)';
  let kc: KubeConfig;
  try {
    kc = process.env.KUBECONFIG ? loadKubeConfig() : loadKubeConfig(path);
  } catch (err) {
    return `no cluster: cannot load kubeconfig ${path}: ${apiErrorMessage(err)}`;
  }
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await Promise.race([
      core.listNamespace({ limit: 1 }),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 5s')), 5000).unref()),
    ]);
  } catch (err) {
    return `no cluster reachable at ${kc.getCurrentCluster()?.server} (${path}): ${apiErrorMessage(err)}`;
  }
  return kc;
}

/** The cluster's KubeConfig, or skips the calling suite with the reason. */
export async function clusterOrSkip(ctx: Mocha.Context): Promise<KubeConfig> {
  probe ??= probeCluster();
  const r = await probe;
  if (typeof r === 'string') {
    console.warn(`      skipping: ${r}`);
    ctx.skip();
  }
  return r as KubeConfig;
}

/** Creates a uniquely named namespace; returns its name. */
export async function freshNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  await kc
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { 'simarena.io/test': 'operator-runtime' } } } });
  return name;
}

export async function deleteNamespace(kc: KubeConfig | undefined, name: string | undefined): Promise<void> {
  if (!kc || !name) return;
  try {
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name });
  } catch (err) {
    if (!isNotFound(err)) console.warn(`could not delete namespace ${name}: ${apiErrorMessage(err)}`);
  }
}

export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
