// sim-arena operator: run the ArenaEpisode controller (in the cluster, or outside it with a kubeconfig).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { createOperator } from '../operator/index.js';
import { loadKubeConfig } from '../kube/config.js';
import { isAlreadyExists } from '../kube/errors.js';
import { kubeRequest } from '../kube/request.js';
import { onShutdownSignals } from '../controller/controller.js';
import { bool, int, optStr, parse } from './args.js';
import { createLogger } from '../util/log.js';
import { parseAllowlist } from '../operator/agent-allowlist.js';
import { UsageError } from './errors.js';
import { HOOK_JOB_OPTIONS, HOOK_JOB_USAGE, hookJobOptionsFromFlags } from './hook-flags.js';

const USAGE = `usage: sim-arena operator [options]
  --kubeconfig FILE      default: KUBECONFIG, ~/.kube/config, then in-cluster
  --namespace NS         watch one namespace (default: all)
  --workers N            episodes reconciled at once (default 4)
  --leader-elect         take a Lease before reconciling (for more than one replica)
  --leader-namespace NS  where the Lease lives (default: POD_NAMESPACE or default)
  --leader-lease NAME    the Lease's name (default: SIM_ARENA_LEASE_NAME or sim-arena-operator)
  --shards N             share episodes between replicas instead of electing one leader: N shards by a stable
                         hash of namespace/name, each held through a Lease NAME-shard-<i> (same N on every
                         replica; 1-1024); a replica holds about N / live replicas and takes over a dead one's
  --lease-duration S     seconds a Lease (leader or shard) stays valid without renewal (default 15; 2-300): how
                         long a dead replica's work waits before another takes it over
  --health-port N        /healthz and /readyz port (default 8081; 0 picks one)
  --install-crd          create the ArenaEpisode CRD if it is missing (out-of-cluster development)
  --allow-agent-url URL  an agent URL prefix the external policy may POST to (repeatable or comma-separated;
                         default $SIM_ARENA_ALLOWED_AGENT_URLS; none: the external policy is disabled)
${HOOK_JOB_USAGE}`;

export async function operatorCommand(argv: string[]): Promise<number> {
  const { flags } = parse(
    argv,
    {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      workers: { type: 'string' },
      'leader-elect': { type: 'boolean' },
      'leader-namespace': { type: 'string' },
      'leader-lease': { type: 'string' },
      shards: { type: 'string' },
      'lease-duration': { type: 'string' },
      'health-port': { type: 'string' },
      'install-crd': { type: 'boolean' },
      'allow-agent-url': { type: 'string', multiple: true },
      ...HOOK_JOB_OPTIONS,
    },
    USAGE,
  );
  const log = createLogger('operator');
  const kubeconfig = optStr(flags, 'kubeconfig');
  const allowFlag = (flags as Record<string, unknown>)['allow-agent-url'];
  const allowedAgentURLs = Array.isArray(allowFlag)
    ? (allowFlag as string[])
    : (process.env.SIM_ARENA_ALLOWED_AGENT_URLS ?? '').split(',');
  try {
    parseAllowlist(allowedAgentURLs);
  } catch (e) {
    throw new UsageError(`--allow-agent-url: ${(e as Error).message}`);
  }
  const hookJobs = hookJobOptionsFromFlags(flags);
  const kc = loadKubeConfig(kubeconfig);
  if (bool(flags, 'install-crd')) await installCrd(kc);
  const namespace = optStr(flags, 'namespace');
  const shards = optStr(flags, 'shards') !== undefined ? int(flags, 'shards', 1, 1, 1024) : undefined;
  if (shards !== undefined && bool(flags, 'leader-elect'))
    throw new UsageError('--shards and --leader-elect exclude each other: shards already decide who runs what');
  const leaseNamespace = optStr(flags, 'leader-namespace') ?? process.env.POD_NAMESPACE ?? 'default';
  const leaseName = optStr(flags, 'leader-lease') ?? process.env.SIM_ARENA_LEASE_NAME ?? 'sim-arena-operator';
  const leaseDurationMs = int(flags, 'lease-duration', 15, 2, 300) * 1000;
  const controller = createOperator({
    kc,
    workers: int(flags, 'workers', 4, 1, 1000),
    ...(namespace ? { namespace } : {}),
    leaderElection: bool(flags, 'leader-elect')
      ? { namespace: leaseNamespace, name: leaseName, leaseDurationMs }
      : false,
    ...(shards !== undefined
      ? { sharding: { namespace: leaseNamespace, name: leaseName, shards, leaseDurationMs } }
      : {}),
    health: { port: int(flags, 'health-port', 8081, 0, 65535) },
    allowedAgentURLs,
    hookJobs,
  });
  const done = new Promise<void>((resolve) =>
    onShutdownSignals(
      async () => {
        await controller.stop();
        resolve();
      },
      { exit: false, logger: log },
    ),
  );
  await controller.start();
  log.info('Operator running', {
    cluster: kc.getCurrentCluster()?.server,
    namespace: namespace ?? 'all',
    health: controller.healthAddress,
  });
  await done;
  return 0;
}

/** Create or update the ArenaEpisode CRD from crds/. Raw JSON on purpose: the typed client drops x-kubernetes-* keys. */
export async function installCrd(kc: ReturnType<typeof loadKubeConfig>): Promise<void> {
  const file = new URL('../../crds/arenaepisodes.simarena.io.yaml', import.meta.url);
  const body = parseYaml(readFileSync(file, 'utf8')) as { metadata: { name: string; resourceVersion?: string } };
  const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  try {
    await kubeRequest(kc, { method: 'POST', path, body });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const current = await kubeRequest<{ metadata: { resourceVersion: string } }>(kc, {
      method: 'GET',
      path: `${path}/${body.metadata.name}`,
    });
    await kubeRequest(kc, {
      method: 'PUT',
      path: `${path}/${body.metadata.name}`,
      body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } },
    });
  }
}
