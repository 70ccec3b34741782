// One worker thread of `sim-arena serve --workers N`: an EnvServer that never listens. The router (workers.ts) owns
// the socket and sends this thread the requests for its envs; the thread shares nothing with the others.
import { parentPort, workerData } from 'node:worker_threads';
import { registry } from '../util/metrics.js';
import { BatchItemError, EnvServer, type BatchPlanItem } from './server.js';
import type { WorkerData, ToWorker } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('worker-main.ts runs only as a worker thread of sim-arena serve --workers');
const data = workerData as WorkerData;
const server = new EnvServer({
  ...data.options,
  onExpire: (ids) => port.postMessage({ t: 'expired', ids }),
  ...(data.log ? { log: (line: string) => port.postMessage({ t: 'log', line }) } : {}),
});
const held = new Map<number, BatchPlanItem[]>();

/** The result of each item as JSON text, so the router joins them without parsing. */
const asText = (results: object[]) => results.map((r) => JSON.stringify(r));

async function handle(m: ToWorker): Promise<unknown> {
  switch (m.t) {
    case 'req':
      return server.dispatch(m.req);
    case 'batch': {
      let plan: BatchPlanItem[];
      try {
        plan = server.planBatch(m.items, m.client, (i) => m.indices[i]!);
      } catch (e) {
        const err = e as BatchItemError;
        return { refused: { index: err.index, status: err.status, message: err.message, headers: err.headers } };
      }
      if (m.run) return { results: asText(await server.runBatch(plan)) };
      held.set(m.id, plan);
      return { held: true };
    }
    case 'run': {
      const plan = held.get(m.ref) ?? [];
      held.delete(m.ref);
      return { results: asText(await server.runBatch(plan)) };
    }
    case 'drop':
      held.delete(m.ref);
      return {};
    case 'expire':
      server.registry.expire();
      return {};
    case 'metrics':
      return {
        metrics: (await registry.getMetricsAsJSON()).filter((x) => x.name.startsWith('sim_arena_envserver_')),
      };
    case 'close':
      await server.close();
      return {};
  }
}

port.on('message', (m: ToWorker) => {
  handle(m).then(
    (reply) => port.postMessage({ t: 'reply', id: m.id, ...(reply as object) }),
    (e: unknown) => port.postMessage({ t: 'reply', id: m.id, failed: e instanceof Error ? e.message : String(e) }),
  );
});

(async () => {
  if (data.options.prepareBackend) await server.prepareBackend();
  port.postMessage({ t: 'ready' });
})().catch((e: unknown) => port.postMessage({ t: 'failed', message: e instanceof Error ? e.message : String(e) }));
