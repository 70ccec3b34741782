// A small REST client over kubeRequest (client-node's HTTP stack and auth), injectable for unit tests.
import type { KubeConfig } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { isAlreadyExists, isNotFound } from './errors.js';
import { kubeRequest, type RawRequest } from './request.js';

export type Requester = <T = unknown>(req: RawRequest) => Promise<T>;

export function requesterFor(kc: KubeConfig): Requester {
  return <T>(req: RawRequest) => kubeRequest<T>(kc, req);
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  ownerReferences?: Array<Record<string, unknown>>;
  generation?: number;
  uid?: string;
  resourceVersion?: string;
}

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [k: string]: unknown;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export class Kube {
  constructor(readonly request: Requester) {}

  static of(kc: KubeConfig): Kube {
    return new Kube(requesterFor(kc));
  }

  /** The object, or undefined on 404. */
  async get<T = Obj>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>({ method: 'GET', path });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list<T = Obj>(path: string, opts: ListOptions = {}): Promise<T[]> {
    const res = await this.request<{ items?: T[] }>({
      method: 'GET',
      path,
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector },
    });
    return res?.items ?? [];
  }

  /** Creates; an existing object is fine (returns undefined). */
  async create<T = Obj>(path: string, body: object): Promise<T | undefined> {
    try {
      return await this.request<T>({ method: 'POST', path, body });
    } catch (e) {
      if (isAlreadyExists(e)) return undefined;
      throw e;
    }
  }

  mergePatch<T = Obj>(path: string, body: object): Promise<T> {
    return this.request<T>({ method: 'PATCH', path, body, contentType: PatchStrategy.MergePatch });
  }

  /** Deletes; a missing object is fine (returns false). */
  async delete(
    path: string,
    opts: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; gracePeriodSeconds?: number } = {},
  ): Promise<boolean> {
    try {
      await this.request({
        method: 'DELETE',
        path,
        query: { propagationPolicy: opts.propagationPolicy, gracePeriodSeconds: opts.gracePeriodSeconds },
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}

const PLURALS: Record<string, string> = {
  Deployment: 'deployments',
  ReplicaSet: 'replicasets',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  Job: 'jobs',
  CronJob: 'cronjobs',
  Pod: 'pods',
  Service: 'services',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  ServiceAccount: 'serviceaccounts',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  PodDisruptionBudget: 'poddisruptionbudgets',
};

/** The REST path of a namespaced object of a built-in kind (a lowercase-plural guess for anything else). */
export function objectPath(apiVersion: string, kind: string, namespace: string, name?: string): string {
  const plural = PLURALS[kind] ?? `${kind.toLowerCase()}s`;
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}
