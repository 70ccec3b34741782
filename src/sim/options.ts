// What every cluster backend is built from (the CLI's --kubeconfig / --step-seconds).
export interface BackendOptions {
  /** kwok/simkube: path to a kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfig?: string;
  /** kwok/simkube: seconds each replay is observed for. */
  stepSeconds?: number;
}
