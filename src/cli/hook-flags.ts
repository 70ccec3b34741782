// Flags for where the kwok backend runs hook Jobs (`run` and `operator` share them; the Helm chart sets them).
import type { V1Toleration } from '@kubernetes/client-node';
import type { HookJobOptions } from '../sim/kwok/hooks.js';
import { DEFAULT_HOOK_IMAGE, DEFAULT_HOOK_NAMESPACE, DEFAULT_HOOK_TIMEOUT_SECONDS } from '../sim/kwok/hooks.js';
import { int, optStr, type Flags } from './args.js';
import { UsageError } from './errors.js';

export const HOOK_JOB_OPTIONS = {
  'hook-image': { type: 'string' },
  'hook-namespace': { type: 'string' },
  'hook-service-account': { type: 'string' },
  'hook-timeout': { type: 'string' },
  'hook-node-selector': { type: 'string' },
  'hook-tolerations': { type: 'string' },
} as const;

export const HOOK_JOB_USAGE = `  kwok backend, hooks run as Jobs (one per command, in order):
  --hook-image IMAGE     their container image, with the commands (and /bin/sh for sendSim)
                         (default ${DEFAULT_HOOK_IMAGE})
  --hook-namespace NS    where the Jobs run (default ${DEFAULT_HOOK_NAMESPACE}; operator: POD_NAMESPACE or ${DEFAULT_HOOK_NAMESPACE})
  --hook-service-account SA   the hook pods' ServiceAccount (its RBAC is what hooks may do; default: default)
  --hook-timeout S       a hook still running after S seconds fails (default ${DEFAULT_HOOK_TIMEOUT_SECONDS})
  --hook-node-selector K=V[,K=V]   nodeSelector of the hook pods
  --hook-tolerations JSON          tolerations of the hook pods, a JSON list as in a pod spec`;

/** The hook Job settings given by flags (defaults left to the backend unless `namespace` is given). */
export function hookJobOptionsFromFlags(flags: Flags, defaultNamespace?: string): HookJobOptions {
  const out: HookJobOptions = {};
  const image = optStr(flags, 'hook-image');
  if (image !== undefined) {
    if (!image.trim())
      throw new UsageError('--hook-image needs an image reference, e.g. registry.k8s.io/kubectl:v1.33.4');
    out.image = image;
  }
  const ns = optStr(flags, 'hook-namespace') ?? defaultNamespace;
  if (ns !== undefined) {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns))
      throw new UsageError(`--hook-namespace "${ns}" is not a namespace name (lowercase letters, digits, '-')`);
    out.namespace = ns;
  }
  const sa = optStr(flags, 'hook-service-account');
  if (sa !== undefined) out.serviceAccount = sa;
  if (optStr(flags, 'hook-timeout') !== undefined)
    out.timeoutSeconds = int(flags, 'hook-timeout', undefined, 1, 86_400);
  const sel = optStr(flags, 'hook-node-selector');
  if (sel !== undefined) {
    const pairs = sel.split(',').filter((p) => p.trim());
    const bad = pairs.find((p) => !/^[^=\s]+=[^=\s]*$/.test(p.trim()));
    if (bad !== undefined || pairs.length === 0)
      throw new UsageError(`--hook-node-selector "${sel}": give KEY=VALUE pairs separated by commas, e.g. type=hooks`);
    out.nodeSelector = Object.fromEntries(pairs.map((p) => p.trim().split('=') as [string, string]));
  }
  const tol = optStr(flags, 'hook-tolerations');
  if (tol !== undefined) {
    let v: unknown;
    try {
      v = JSON.parse(tol);
    } catch {
      v = undefined;
    }
    if (!Array.isArray(v) || v.some((t) => typeof t !== 'object' || t === null || Array.isArray(t)))
      throw new UsageError(
        `--hook-tolerations must be a JSON list of tolerations, e.g. '[{"key":"hooks","operator":"Exists"}]'`,
      );
    out.tolerations = v as V1Toleration[];
  }
  return out;
}
