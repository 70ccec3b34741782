// sim-arena serve: the Gymnasium-style HTTP env server (see src/envserver/README.md). The first line on stdout is
// "listening on http://HOST:PORT", so a client that started it with --port 0 can read the port it got.
import { parseBackendName } from '../sim/index.js';
import { DEFAULTS, startEnvServer } from '../envserver/server.js';
import { int, optStr, parse, str, bool } from './args.js';
import { UsageError } from './errors.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { startWorkerEnvServer } from '../envserver/workers.js';

const USAGE = `usage: sim-arena serve [options]
  --host HOST            address to listen on (default ${DEFAULTS.host})
  --port N               port (default ${DEFAULTS.port}; 0 picks a free one, printed on the first line)
  --backend B            backend every env runs on: embedded (default), kwok or simkube
  --kubeconfig FILE      kwok/simkube backends
  --step-seconds N       kwok/simkube: seconds each replay is observed for
  --max-envs N           most envs at once; one more is answered 429 (default ${DEFAULTS.maxEnvs})
  --idle-timeout S       delete envs untouched for S seconds (default ${DEFAULTS.idleTimeoutSeconds}; 0 never)
  --max-body BYTES       largest request body (default ${DEFAULTS.maxBodyBytes}); larger is answered 413
  --max-batch N          most items in one step-batch (default ${DEFAULTS.maxBatch})
  --max-envs-per-client N  most envs one client token holds; one more is answered 429 (default ${DEFAULTS.maxEnvsPerClient})
  --max-trace-bytes N    largest uploaded trace per env (default ${DEFAULTS.maxTraceBytes}); larger is answered 413
  --trace-budget BYTES   uploaded trace bytes all envs hold together (default ${DEFAULTS.traceBudgetBytes}); beyond is 503
  --allow-origin ORIGIN  a web page origin (scheme://host:port) allowed to call the API (repeatable; loopback pages always are)
  --token TOKEN          require "Authorization: Bearer TOKEN" on /v1 (default: $SIM_ARENA_TOKEN, else none; not empty)
  --workers N|auto       run the envs on N worker threads that share nothing (auto: one per CPU); the limits
                         above still hold across them (default 1: everything in this process)
  --quiet                do not log failed requests to stderr

API (JSON): POST /v1/envs, POST /v1/envs/{id}/reset, POST /v1/envs/{id}/step, POST /v1/step-batch,
GET /v1/envs/{id}, GET /v1/envs/{id}/spaces, DELETE /v1/envs/{id}, GET /v1/scenarios, GET /healthz`;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function serveCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parse(
    argv,
    {
      host: { type: 'string' },
      port: { type: 'string' },
      backend: { type: 'string' },
      kubeconfig: { type: 'string' },
      'step-seconds': { type: 'string' },
      'max-envs': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'max-body': { type: 'string' },
      'max-batch': { type: 'string' },
      token: { type: 'string' },
      'max-envs-per-client': { type: 'string' },
      'max-trace-bytes': { type: 'string' },
      'trace-budget': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      quiet: { type: 'boolean' },
      workers: { type: 'string' },
    },
    USAGE,
  );
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n${USAGE}`);
  const host = str(flags, 'host', DEFAULTS.host);
  const tokenFlag = optStr(flags, 'token');
  if (tokenFlag !== undefined && tokenFlag.trim() === '')
    throw new UsageError(
      '--token must not be empty (an empty token would turn authentication off); leave --token out to run without one',
    );
  const token = tokenFlag ?? (process.env.SIM_ARENA_TOKEN || undefined);
  const kubeconfig = optStr(flags, 'kubeconfig');
  const backend = parseBackendName(str(flags, 'backend', 'embedded'));
  if (kubeconfig !== undefined && !existsSync(kubeconfig))
    throw new UsageError(`--kubeconfig ${kubeconfig || '""'} does not exist; give the path of a kubeconfig file`);
  const origins = (flags as Record<string, unknown>)['allow-origin'];
  const allowedOrigins = Array.isArray(origins) ? (origins as string[]) : [];
  for (const o of allowedOrigins)
    if (!/^https?:\/\/[^/\s]+$/.test(o))
      throw new UsageError(`--allow-origin must be scheme://host[:port] with no path, got "${o}"`);
  const stepSeconds = flags['step-seconds'] !== undefined ? int(flags, 'step-seconds', undefined, 1) : undefined;
  const quiet = bool(flags, 'quiet');
  const workersFlag = optStr(flags, 'workers');
  const workers = workersFlag === 'auto' ? Math.max(1, availableParallelism()) : int(flags, 'workers', 1, 1, 256);
  const options = {
    host,
    port: int(flags, 'port', DEFAULTS.port, 0, 65535),
    backend,
    maxEnvsPerClient: int(flags, 'max-envs-per-client', DEFAULTS.maxEnvsPerClient, 1, 1_000_000),
    maxTraceBytes: int(flags, 'max-trace-bytes', DEFAULTS.maxTraceBytes, 1024, 1024 ** 3),
    traceBudgetBytes: int(flags, 'trace-budget', DEFAULTS.traceBudgetBytes, 1024, 64 * 1024 ** 3),
    allowedOrigins,
    prepareBackend: backend !== 'embedded',
    backendOptions: { ...(kubeconfig ? { kubeconfig } : {}), ...(stepSeconds ? { stepSeconds } : {}) },
    maxEnvs: int(flags, 'max-envs', DEFAULTS.maxEnvs, 1, 1_000_000),
    idleTimeoutSeconds: int(flags, 'idle-timeout', DEFAULTS.idleTimeoutSeconds, 0),
    maxBodyBytes: int(flags, 'max-body', DEFAULTS.maxBodyBytes, 1024),
    maxBatch: int(flags, 'max-batch', DEFAULTS.maxBatch, 1, 1_000_000),
    ...(token ? { token } : {}),
    log: quiet ? undefined : (line: string) => process.stderr.write(`sim-arena serve: ${line}\n`),
  };
  const { server, url } =
    workers > 1 ? await startWorkerEnvServer({ ...options, workers }) : await startEnvServer(options);
  process.stdout.write(`listening on ${url}\n`);
  if (workers > 1 && !quiet) process.stderr.write(`sim-arena serve: ${workers} worker threads\n`);
  if (!LOOPBACK.has(host) && !token)
    process.stderr.write(
      `sim-arena serve: warning: listening on ${host} without --token; anyone who can reach it can create envs\n`,
    );

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (!quiet) process.stderr.write(`sim-arena serve: ${signal}, shutting down\n`);
      server.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
