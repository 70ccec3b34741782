// The predecessor's four read-only cluster tools (get_pods, describe_deployment, get_events, get_pod_logs), with
// the same argument names and result shapes (reference §1.6), through @kubernetes/client-node. The client is loaded
// and the kubeconfig read on the first call, so an episode-only session never needs a cluster.
import type { AppsV1Api, CoreV1Api, CoreV1Event, KubeConfig, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { ToolError, type Tool } from './protocol.js';

export interface ClusterApis {
  core: Pick<
    CoreV1Api,
    'listNamespacedPod' | 'listNamespacedEvent' | 'readNamespacedPodLog' | 'readNamespacedPod' | 'readNode'
  >;
  apps: Pick<AppsV1Api, 'readNamespacedDeployment'>;
}

type Time = Date | string | undefined | null;

function iso(t: Time): string | null {
  if (t === undefined || t === null) return null;
  if (t instanceof Date) return Number.isNaN(t.getTime()) ? null : t.toISOString();
  return String(t);
}

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

export function podView(p: V1Pod) {
  return {
    name: p.metadata?.name ?? '',
    phase: orNull(p.status?.phase),
    node_name: orNull(p.spec?.nodeName),
    conditions: (p.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: orNull(c.reason),
      message: orNull(c.message),
    })),
    containers: (p.status?.containerStatuses ?? []).map((c) => {
      const s = c.state;
      const state = s?.running
        ? { running: { started_at: iso(s.running.startedAt) } }
        : s?.waiting
          ? { waiting: { reason: orNull(s.waiting.reason), message: orNull(s.waiting.message) } }
          : s?.terminated
            ? { terminated: { reason: orNull(s.terminated.reason), exit_code: s.terminated.exitCode } }
            : {};
      return { name: c.name, ready: c.ready, restart_count: c.restartCount, state };
    }),
  };
}

export function deploymentView(d: V1Deployment) {
  return {
    name: d.metadata?.name ?? '',
    namespace: d.metadata?.namespace ?? '',
    replicas: {
      desired: d.spec?.replicas ?? 1,
      ready: d.status?.readyReplicas ?? 0,
      available: d.status?.availableReplicas ?? 0,
      unavailable: d.status?.unavailableReplicas ?? 0,
    },
    containers: (d.spec?.template?.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: orNull(c.image),
      resources: { requests: c.resources?.requests ?? {}, limits: c.resources?.limits ?? {} },
    })),
    conditions: (d.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: orNull(c.reason),
      message: orNull(c.message),
    })),
  };
}

/**
 * Events about the deployment and what it owns (involvedObject name equal to `deploy` or starting with `deploy-`),
 * Warnings first, then by last timestamp ascending; at most `lastN`.
 */
export function eventsView(namespace: string, events: CoreV1Event[], deploy: string | undefined, lastN: number) {
  const rows = events
    .filter(
      (e) => !deploy || e.involvedObject?.name === deploy || (e.involvedObject?.name ?? '').startsWith(`${deploy}-`),
    )
    .map((e) => ({
      type: orNull(e.type),
      reason: orNull(e.reason),
      message: orNull(e.message),
      object_kind: orNull(e.involvedObject?.kind),
      object_name: orNull(e.involvedObject?.name),
      count: e.count ?? e.series?.count ?? 1,
      last_timestamp: iso(
        e.lastTimestamp ??
          e.eventTime ??
          e.series?.lastObservedTime ??
          e.firstTimestamp ??
          e.metadata?.creationTimestamp,
      ),
    }))
    .sort((a, b) => {
      const w = Number(b.type === 'Warning') - Number(a.type === 'Warning');
      if (w) return w;
      const x = a.last_timestamp ?? '';
      const y = b.last_timestamp ?? '';
      return x < y ? -1 : x > y ? 1 : 0;
    })
    .slice(0, lastN);
  return { namespace, deploy_filter: deploy ?? null, total_returned: rows.length, events: rows };
}

/** A pod on a KWOK node: KWOK fakes the kubelet, so no container runs and there are no logs. */
export function isKwokPod(pod: V1Pod, nodeAnnotations: Record<string, string> | undefined): boolean {
  if (nodeAnnotations?.['kwok.x-k8s.io/node'] === 'fake') return true;
  return (pod.spec?.tolerations ?? []).some((t) => (t.key ?? '').startsWith('kwok'));
}

function describeApiError(e: unknown): string {
  const err = e as { code?: number; body?: unknown; message?: string };
  if (typeof err?.code === 'number' && err.body !== undefined) {
    let msg: string;
    try {
      const b =
        typeof err.body === 'string'
          ? (JSON.parse(err.body) as { message?: string })
          : (err.body as { message?: string });
      msg = b?.message ?? '';
    } catch {
      msg = String(err.body).slice(0, 200);
    }
    return `HTTP ${err.code}${msg ? `: ${msg}` : ''}`;
  }
  return err?.message ?? String(e);
}

export interface ClusterOptions {
  kubeconfig?: string;
  /** injected APIs (tests); otherwise built from the kubeconfig on first use */
  apis?: ClusterApis;
}

export class ClusterTools {
  private apis: ClusterApis | undefined;
  private loading: Promise<ClusterApis> | undefined;

  constructor(private readonly opts: ClusterOptions = {}) {
    this.apis = opts.apis;
  }

  private async connect(): Promise<ClusterApis> {
    if (this.apis) return this.apis;
    this.loading ??= (async () => {
      const k8s = await import('@kubernetes/client-node');
      const { loadKubeConfig } = await import('../kube/config.js');
      let kc: KubeConfig;
      try {
        kc = loadKubeConfig(this.opts.kubeconfig);
      } catch (e) {
        throw new ToolError(
          `no cluster to talk to: ${(e as Error).message} (start the server with --kubeconfig FILE or set KUBECONFIG)`,
        );
      }
      this.apis = { core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api) };
      return this.apis;
    })();
    try {
      return await this.loading;
    } catch (e) {
      this.loading = undefined;
      throw e;
    }
  }

  private async api<T>(what: string, f: (a: ClusterApis) => Promise<T>): Promise<T> {
    const a = await this.connect();
    try {
      return await f(a);
    } catch (e) {
      throw new ToolError(`${what}: ${describeApiError(e)}`);
    }
  }

  async getPods(namespace: string) {
    const list = await this.api(`listing pods in ${namespace}`, (a) => a.core.listNamespacedPod({ namespace }));
    const pods = list.items.map(podView);
    return { namespace, count: pods.length, pods };
  }

  async describeDeployment(namespace: string, deploy: string) {
    return deploymentView(
      await this.api(`reading deployment ${namespace}/${deploy}`, (a) =>
        a.apps.readNamespacedDeployment({ name: deploy, namespace }),
      ),
    );
  }

  async getEvents(namespace: string, deploy: string | undefined, lastN: number) {
    const list = await this.api(`listing events in ${namespace}`, (a) => a.core.listNamespacedEvent({ namespace }));
    return eventsView(namespace, list.items, deploy, lastN);
  }

  async getPodLogs(namespace: string, podName: string, tailLines: number, container: string | undefined) {
    const pod = await this.api(`reading pod ${namespace}/${podName}`, (a) =>
      a.core.readNamespacedPod({ name: podName, namespace }),
    );
    const name = container ?? pod.spec?.containers?.[0]?.name ?? null;
    let nodeAnnotations: Record<string, string> | undefined;
    if (pod.spec?.nodeName) {
      try {
        nodeAnnotations = (await this.apis!.core.readNode({ name: pod.spec.nodeName })).metadata?.annotations;
      } catch {
        // Not allowed to read nodes, or the node is gone: decide from the pod alone.
      }
    }
    const kwok = isKwokPod(pod, nodeAnnotations);
    let logs = '';
    let error: string | null = null;
    try {
      logs = await this.apis!.core.readNamespacedPodLog({
        name: podName,
        namespace,
        ...(name ? { container: name } : {}),
        tailLines,
        timestamps: true,
      });
    } catch (e) {
      error = describeApiError(e);
    }
    const note = kwok
      ? `${podName} runs on a KWOK node${pod.spec?.nodeName ? ` (${pod.spec.nodeName})` : ''}: KWOK simulates pods without running their containers, so there are no logs to read. Use get_pods, describe_deployment and get_events instead.`
      : !pod.spec?.nodeName
        ? `${podName} is not scheduled to a node yet, so it has no logs.`
        : logs === '' && !error
          ? 'the container has written no logs (in the requested tail).'
          : undefined;
    return {
      namespace,
      pod_name: podName,
      container: name,
      tail_lines: tailLines,
      logs,
      error,
      ...(note ? { note } : {}),
    };
  }
}

export function clusterTools(c: ClusterTools): Tool[] {
  const ro = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
  return [
    {
      name: 'get_pods',
      title: 'List pods',
      description:
        'List the pods in a namespace of the cluster with phase, node, conditions (e.g. PodScheduled=False Unschedulable) and container states.',
      inputSchema: {
        type: 'object',
        properties: { namespace: { type: 'string', description: 'namespace, e.g. virtual-default' } },
        required: ['namespace'],
        additionalProperties: false,
      },
      annotations: ro,
      call: async (a) => ({ data: await c.getPods(a.namespace as string) }),
    },
    {
      name: 'describe_deployment',
      title: 'Describe a deployment',
      description:
        "A deployment in the cluster: desired/ready/available/unavailable replicas, each container's image and resource requests/limits, and conditions.",
      inputSchema: {
        type: 'object',
        properties: {
          namespace: { type: 'string', description: 'namespace' },
          deploy: { type: 'string', description: 'deployment name, e.g. web' },
        },
        required: ['namespace', 'deploy'],
        additionalProperties: false,
      },
      annotations: ro,
      call: async (a) => ({ data: await c.describeDeployment(a.namespace as string, a.deploy as string) }),
    },
    {
      name: 'get_events',
      title: 'Recent events',
      description:
        'Kubernetes events in a namespace (scheduling failures such as FailedScheduling "Insufficient cpu"), Warnings first; optionally only those about a deployment and its ReplicaSets/pods.',
      inputSchema: {
        type: 'object',
        properties: {
          namespace: { type: 'string', description: 'namespace' },
          deploy: {
            type: 'string',
            description: 'only events whose object is this deployment or named "<deploy>-..."',
          },
          last_n: { type: 'integer', description: 'at most this many events', minimum: 1, maximum: 1000, default: 20 },
        },
        required: ['namespace'],
        additionalProperties: false,
      },
      annotations: ro,
      call: async (a) => ({
        data: await c.getEvents(
          a.namespace as string,
          a.deploy as string | undefined,
          (a.last_n as number | undefined) ?? 20,
        ),
      }),
    },
    {
      name: 'get_pod_logs',
      title: 'Pod logs',
      description:
        "The last lines of a pod container's log (first container unless one is named). Pods on KWOK nodes run no containers: their logs are always empty, and the result says so.",
      inputSchema: {
        type: 'object',
        properties: {
          namespace: { type: 'string', description: 'namespace' },
          pod_name: { type: 'string', description: 'pod name' },
          tail_lines: { type: 'integer', description: 'lines from the end', minimum: 1, maximum: 10000, default: 50 },
          container: { type: 'string', description: 'container name (default: the first)' },
        },
        required: ['namespace', 'pod_name'],
        additionalProperties: false,
      },
      annotations: ro,
      call: async (a) => ({
        data: await c.getPodLogs(
          a.namespace as string,
          a.pod_name as string,
          (a.tail_lines as number | undefined) ?? 50,
          a.container as string | undefined,
        ),
      }),
    },
  ];
}
