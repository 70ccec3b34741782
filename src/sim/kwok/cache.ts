// What the kwok backend watches instead of asking on every poll: the nodes of its pools and the pods of its runs,
// cluster-wide, by label. Every change names the run it belongs to, so the operator can look at that episode again
// at once instead of polling it on a timer.
import type { KubeConfig, V1Node, V1Pod } from '@kubernetes/client-node';
import { Informer } from '../../controller/informer.js';
import { createLogger } from '../../util/log.js';
import { POOL_LABEL, RUN_LABEL } from '../../api/names.js';

export class KwokCache {
  private readonly nodes: Informer<V1Node>;
  private readonly pods: Informer<V1Pod>;
  private readonly listeners = new Set<(run: string) => void>();
  private started?: Promise<void>;

  constructor(kc: KubeConfig) {
    const logger = createLogger('kwok-cache');
    this.nodes = new Informer<V1Node>({
      kc,
      path: '/api/v1/nodes',
      labelSelector: POOL_LABEL,
      name: 'kwok-nodes',
      logger,
    });
    this.pods = new Informer<V1Pod>({ kc, path: '/api/v1/pods', labelSelector: RUN_LABEL, name: 'kwok-pods', logger });
    this.nodes.on((n) => this.changed(n.metadata?.labels?.[POOL_LABEL]));
    this.pods.on((p) => this.changed(p.metadata?.labels?.[RUN_LABEL]));
  }

  /** Starts both watches once; resolves when both have listed. */
  ready(): Promise<void> {
    if (!this.started) {
      this.nodes.start();
      this.pods.start();
      this.started = Promise.all([this.nodes.hasSynced(), this.pods.hasSynced()]).then(() => undefined);
    }
    return this.started;
  }

  poolNodes(pool: string): V1Node[] {
    return this.nodes.list().filter((n) => n.metadata?.labels?.[POOL_LABEL] === pool);
  }

  runPods(namespace: string): V1Pod[] {
    return this.pods.list(namespace);
  }

  /** Calls `listener` with the run name whenever one of its nodes or pods changes. */
  onChange(listener: (run: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    await Promise.all([this.nodes.stop(), this.pods.stop()]);
  }

  private changed(run: string | undefined): void {
    if (run) for (const l of this.listeners) l(run);
  }
}
