// What a backend is built from: the CLI's --kubeconfig / --step-seconds, or the operator's loaded kubeconfig.
import type { KubeConfig } from '@kubernetes/client-node';

export interface BackendOptions {
  /** kwok/simkube: path to a kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfig?: string;
  /** kwok/simkube: an already loaded kubeconfig (wins over `kubeconfig`). */
  kc?: KubeConfig;
  /** kwok/simkube: seconds each replay is observed for. */
  stepSeconds?: number;
}
