// The "external" policy: an agent behind an HTTP endpoint. Each decision POSTs
//   {observation, target, resources, step, maxSteps, actions}
// as JSON to params.url and expects {"action": <name or index>} back (the predecessor's {"action_index": n} is
// accepted too). `actions` lists the action names in index order.
//
// Transient failures (connection errors, timeouts, HTTP 429 and 5xx) are retried `retries` times with exponential
// backoff (backoffMs, 2×backoffMs, ...). An answer that arrives but is unusable (another 4xx, a body that is not
// JSON, an unknown action) is not retried: the agent would say the same again. When every attempt fails,
// onError=fail (the default) throws an ExternalPolicyError naming the URL and the reason; onError=noop logs a
// warning and plays noop, so an episode survives a flaky agent (the failure is kept in lastCall for reports).
import { ACTIONS, parseAction, type ActionType } from '../arena/actions.js';
import type { Policy, PolicyContext } from '../arena/policies.js';
import { createLogger, type Logger } from '../util/log.js';
import { ParamReader, type Params } from './params.js';

export interface ExternalOptions {
  url: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  onError: 'fail' | 'noop';
  /** sent as `Authorization: Bearer <token>` when set */
  token?: string;
}

export const EXTERNAL_DEFAULTS = { timeoutMs: 5000, retries: 2, backoffMs: 200, onError: 'fail' as const };

export class ExternalPolicyError extends Error {
  override name = 'ExternalPolicyError';
  constructor(
    message: string,
    /** The same without anything the agent sent back (for places others can read, like an episode's status). */
    readonly sanitized: string = message,
  ) {
    super(message);
  }
}

/** What one decision cost: for reports (attributed to the step that made it). */
export interface ExternalCall {
  url: string;
  attempts: number;
  latencyMs: number;
  action?: ActionType;
  error?: string;
}

/** The request body an external agent receives. */
export interface ExternalRequest {
  observation: PolicyContext['obs'];
  target: number;
  resources: PolicyContext['resources'];
  step: number;
  maxSteps: number;
  actions: string[];
}

class Fatal extends Error {
  constructor(
    message: string,
    readonly safe: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

function describeFetchError(e: unknown, timeoutMs: number): { why: string; safe: string } {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError')
    return { why: `no answer within ${timeoutMs} ms (timeoutMs)`, safe: `no answer within ${timeoutMs} ms` };
  const cause = err?.cause;
  if (cause?.code)
    return {
      why: `${cause.code}${cause.message ? ` (${cause.message})` : ''}`,
      safe: /^[A-Z_]+$/.test(cause.code) ? cause.code : 'connection failed',
    };
  if (/redirect/i.test(`${err?.message} ${cause?.message ?? ''}`))
    return {
      why: 'the agent answered with a redirect (redirects are not followed)',
      safe: 'the agent answered with a redirect (redirects are not followed)',
    };
  return { why: err?.message ?? String(e), safe: 'the request failed' };
}

const BAD_ANSWER = 'the answer has no valid action';

/** The action in an agent's answer, or a Fatal error saying what is wrong with the answer. */
export function actionFromResponse(body: unknown): ActionType {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Fatal(
      `expected a JSON object like {"action": "reduce-cpu"}, got ${JSON.stringify(body)?.slice(0, 120)}`,
      BAD_ANSWER,
    );
  const o = body as Record<string, unknown>;
  const raw = o.action !== undefined ? o.action : o.action_index;
  if (raw === undefined)
    throw new Fatal(`the answer has no "action" field: ${JSON.stringify(body).slice(0, 120)}`, BAD_ANSWER);
  if (typeof raw === 'number' && !(Number.isInteger(raw) && raw >= 0 && raw < ACTIONS.length))
    throw new Fatal(
      `invalid action index ${raw} (use 0-${ACTIONS.length - 1} or one of ${ACTIONS.join(', ')})`,
      BAD_ANSWER,
    );
  if (typeof raw !== 'number' && typeof raw !== 'string')
    throw new Fatal(
      `invalid action ${JSON.stringify(raw)} (use 0-${ACTIONS.length - 1} or one of ${ACTIONS.join(', ')})`,
      BAD_ANSWER,
    );
  try {
    return parseAction(raw);
  } catch {
    throw new Fatal(
      `invalid action ${JSON.stringify(raw)} (use 0-${ACTIONS.length - 1} or one of ${ACTIONS.join(', ')})`,
      BAD_ANSWER,
    );
  }
}

export class ExternalPolicy implements Policy {
  readonly name = 'external';
  readonly opts: ExternalOptions;
  readonly remote = true;
  /** the most recent decision's call record */
  lastCall: ExternalCall | undefined;
  private readonly log: Logger;

  constructor(opts: Partial<ExternalOptions> & { url: string }, log?: Logger) {
    this.log = log ?? createLogger('external-policy');
    this.opts = { ...EXTERNAL_DEFAULTS, ...opts };
    let u: URL;
    try {
      u = new URL(this.opts.url);
    } catch {
      throw new RangeError(`external: url "${this.opts.url}" is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new RangeError(`external: url must be http or https, got ${u.protocol}`);
  }

  async decide(ctx: PolicyContext): Promise<ActionType> {
    const { url, timeoutMs, retries, backoffMs } = this.opts;
    const body: ExternalRequest = {
      observation: ctx.obs,
      target: ctx.target,
      resources: ctx.resources,
      step: ctx.step,
      maxSteps: ctx.maxSteps,
      actions: [...ACTIONS],
    };
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const started = performance.now();
    let why = '';
    let safe = '';
    let attempts = 0;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1));
      attempts++;
      try {
        let res: Response;
        let text: string;
        try {
          // Redirects are not followed: an allowed agent URL must not lead anywhere else.
          res = await fetch(url, {
            method: 'POST',
            headers,
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(timeoutMs),
            redirect: 'error',
          });
          text = await res.text();
        } catch (e) {
          ({ why, safe } = describeFetchError(e, timeoutMs));
          continue;
        }
        if (!res.ok) {
          safe = `HTTP ${res.status}`;
          why = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${text ? `: ${text.slice(0, 200)}` : ''}`;
          if (res.status === 429 || res.status >= 500) continue;
          throw new Fatal(why, safe);
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new Fatal(`the answer is not JSON: ${JSON.stringify(text.slice(0, 120))}`, 'the answer is not JSON');
        }
        const action = actionFromResponse(parsed);
        this.lastCall = { url, attempts, latencyMs: performance.now() - started, action };
        return action;
      } catch (e) {
        if (!(e instanceof Fatal)) throw e;
        why = e.message;
        safe = e.safe;
        break;
      }
    }
    const prefix = `external policy: POST ${url} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: `;
    const message = `${prefix}${why}`;
    this.lastCall = { url, attempts, latencyMs: performance.now() - started, error: why };
    if (this.opts.onError === 'noop') {
      this.log.warn(`${message}; playing noop (onError=noop)`);
      this.lastCall.action = 'noop';
      return 'noop';
    }
    throw new ExternalPolicyError(message, `${prefix}${safe}`);
  }

  /** Hands the last call to whoever reports on steps, once. */
  takeStepInfo(): ExternalCall | undefined {
    const c = this.lastCall;
    this.lastCall = undefined;
    return c;
  }
}

/** Parameters: url (required), timeoutMs (5000), retries (2), backoffMs (200), onError (fail|noop), token. */
export function externalFromParams(params: Params): ExternalPolicy {
  const r = new ParamReader('external', params);
  r.only(['url', 'timeoutMs', 'retries', 'backoffMs', 'onError', 'token', 'agentURL']);
  const url = r.str('url') ?? r.str('agentURL');
  if (!url)
    throw new RangeError(
      'external: parameter url is required (the agent endpoint, e.g. --param url=http://127.0.0.1:8080/act)',
    );
  const token = r.str('token');
  return new ExternalPolicy({
    url,
    timeoutMs: r.int('timeoutMs', EXTERNAL_DEFAULTS.timeoutMs, 1, 3_600_000),
    retries: r.int('retries', EXTERNAL_DEFAULTS.retries, 0, 100),
    backoffMs: r.int('backoffMs', EXTERNAL_DEFAULTS.backoffMs, 0, 600_000),
    onError: r.oneOf('onError', ['fail', 'noop'] as const, EXTERNAL_DEFAULTS.onError),
    ...(token ? { token } : {}),
  });
}
