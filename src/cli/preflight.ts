// `sim-arena preflight`: check a cluster for what sim-arena and the chosen backend need, with a fix for each problem.
import { loadKubeConfig } from '../kube/config.js';
import { formatChecks, preflightPassed, runPreflight } from '../sim/preflight.js';
import { parseBackendName } from '../sim/index.js';
import { bool, optStr, parse, str } from './args.js';
import { UsageError } from './errors.js';

const USAGE = `usage: sim-arena preflight [--kubeconfig F] [--backend simkube|kwok|embedded] [--json]
                          [--namespace NS] [--driver-namespace NS] [--trace-sync-selector SEL]
  Checks the API, sim-arena's CRD and, for simkube: SimKube's CRD, sk-ctrl, the driver namespace and its
  ServiceAccount, the monitoring namespace, cert-manager's ClusterIssuer selfsigned, KWOK nodes and Stages, and
  the trace-sync DaemonSet. Exit status 1 when any check fails.
  --backend B            default simkube
  --namespace NS         sim-arena's namespace (trace ConfigMaps, trace-sync pods); default POD_NAMESPACE or sim-arena
  --driver-namespace NS  where sk-ctrl runs (default simkube)
  --json                 print the checks as JSON`;

export async function preflightCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parse(
    argv,
    {
      kubeconfig: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
      namespace: { type: 'string' },
      'driver-namespace': { type: 'string' },
      'trace-sync-selector': { type: 'string' },
    },
    USAGE,
  );
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n${USAGE}`);
  const backend = parseBackendName(str(flags, 'backend', 'simkube'));
  const kc = loadKubeConfig(optStr(flags, 'kubeconfig'));
  const namespace = optStr(flags, 'namespace');
  const driverNamespace = optStr(flags, 'driver-namespace');
  const selector = optStr(flags, 'trace-sync-selector');
  const checks = await runPreflight(kc, backend, {
    ...(namespace ? { operatorNamespace: namespace } : {}),
    ...(driverNamespace ? { driverNamespace } : {}),
    ...(selector ? { traceSyncSelector: selector } : {}),
  });
  if (bool(flags, 'json'))
    process.stdout.write(`${JSON.stringify({ backend, passed: preflightPassed(checks), checks }, null, 2)}\n`);
  else process.stdout.write(`${formatChecks(checks)}\n`);
  return preflightPassed(checks) ? 0 : 1;
}
