// Messages between the multi-worker router (workers.ts) and its worker threads (worker-main.ts).
import type { BackendName } from '../arena/backend.js';
import type { BackendOptions } from '../sim/options.js';
import type { ForwardedRequest } from './server.js';

/** What a worker is started with (plain data: it crosses a thread boundary). */
export interface WorkerData {
  options: {
    host?: string;
    backend?: BackendName;
    backendOptions?: BackendOptions;
    maxEnvs?: number;
    maxEnvsPerClient?: number;
    idleTimeoutSeconds?: number;
    maxBodyBytes?: number;
    maxBatch?: number;
    token?: string;
    maxTraceBytes?: number;
    traceBudgetBytes?: number;
    prepareBackend?: boolean;
    allowedOrigins?: string[];
  };
  log: boolean;
}

export type ToWorker = { id: number } & (
  | { t: 'req'; req: ForwardedRequest }
  /** Check these batch items (indices: their places in the client's steps); with run, run them at once. */
  | { t: 'batch'; client: string | undefined; items: unknown[]; indices: number[]; run: boolean }
  | { t: 'run'; ref: number }
  | { t: 'drop'; ref: number }
  | { t: 'expire' }
  | { t: 'metrics' }
  | { t: 'close' }
);

export interface Refusal {
  index: number;
  status: number;
  message: string;
  headers: Record<string, string>;
}
