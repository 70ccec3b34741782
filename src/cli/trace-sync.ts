// `sim-arena trace-sync`: the DaemonSet container that copies trace ConfigMaps to this node's disk for SimKube's
// driver (file:// tracePath through a hostPath), and annotates each ConfigMap once its bytes are on this node.
import { loadKubeConfig } from '../kube/config.js';
import { onShutdownSignals } from '../controller/controller.js';
import { startHealthServer, type HealthServer } from '../controller/health.js';
import { createLogger } from '../util/log.js';
import { Kube } from '../kube/client.js';
import { TraceSyncer, TraceSyncLoop } from '../sim/simkube/sync.js';
import { TRACE_LABEL } from '../api/names.js';
import { bool, int, optStr, parse, str } from './args.js';
import { UsageError } from './errors.js';

const USAGE = `usage: sim-arena trace-sync --dir DIR [--namespace NS] [--node NAME] [--selector SEL] [--kubeconfig F] [--once] [--health-port N]
  Copies every ConfigMap labelled ${TRACE_LABEL}=true in NS to DIR/<name>.sktrace (mode 0644, atomically), then
  annotates the ConfigMap simarena.io/synced.<node>=<sha256>; an invalid trace is not written and gets
  simarena.io/sync-error.<node> instead. Files whose ConfigMap is gone are removed. Runs until SIGTERM.
  --dir DIR          the node directory SimKube's driver reads (a hostPath), e.g. /var/lib/sim-arena/traces
  --namespace NS     where the trace ConfigMaps live (default: env POD_NAMESPACE, else sim-arena)
  --node NAME        this node's name (default: env NODE_NAME, from the downward API spec.nodeName)
  --selector SEL     label selector for trace ConfigMaps (default ${TRACE_LABEL}=true)
  --kubeconfig F     default: in-cluster service account (or KUBECONFIG, ~/.kube/config)
  --once             sync everything once and exit (1 if any ConfigMap could not be synced)
  --health-port N    serve /healthz and /readyz (ready after the first full sync) on this port`;

export async function traceSyncCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parse(
    argv,
    {
      dir: { type: 'string' },
      namespace: { type: 'string' },
      node: { type: 'string' },
      selector: { type: 'string' },
      kubeconfig: { type: 'string' },
      once: { type: 'boolean' },
      'health-port': { type: 'string' },
    },
    USAGE,
  );
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n${USAGE}`);
  const dir = str(flags, 'dir');
  const node = optStr(flags, 'node') ?? process.env.NODE_NAME;
  if (!node)
    throw new UsageError('--node is required (or set NODE_NAME from the downward API: fieldRef spec.nodeName)');
  const namespace = optStr(flags, 'namespace') ?? process.env.POD_NAMESPACE ?? 'sim-arena';
  const selector = optStr(flags, 'selector') ?? `${TRACE_LABEL}=true`;
  const kc = loadKubeConfig(optStr(flags, 'kubeconfig'));
  const log = createLogger('trace-sync');
  const syncer = new TraceSyncer(Kube.of(kc), { dir, namespace, node, selector, logger: log });

  if (bool(flags, 'once')) {
    const out = await syncer.syncAll();
    const bad = [...out].filter(([, o]) => o === 'error' || o === 'invalid' || o === 'missing-key');
    for (const [name, outcome] of out) process.stdout.write(`${name}: ${outcome}\n`);
    return bad.length ? 1 : 0;
  }

  const loop = new TraceSyncLoop(kc, syncer, { logger: log });
  log.info('Starting', { dir: syncer.dir, namespace, node, selector });
  const healthPort = int(flags, 'health-port', 0, 0, 65535);
  let ready = false;
  const health: HealthServer | undefined = healthPort
    ? await startHealthServer({
        port: healthPort,
        readiness: () => (ready ? { ready } : { ready, reason: 'initial sync not done' }),
      })
    : undefined;
  let stop!: () => void;
  let stopping = false;
  const stopped = new Promise<void>((r) => (stop = r));
  const off = onShutdownSignals(
    async () => {
      stopping = true;
      await loop.stop();
      stop();
    },
    { exit: false, logger: log },
  );
  try {
    try {
      await loop.start();
    } catch (e) {
      if (!stopping) throw e; // stopped before the first sync finished
    }
    ready = true;
    log.info('Initial sync done');
    await stopped;
  } finally {
    off();
    await health?.close();
  }
  return 0;
}
