// Which external agents the operator may call. Anyone who may create an ArenaEpisode chooses its agentURL, and the
// operator POSTs to it from inside the cluster, so the URL must match an entry the operator's admin allowed
// (`operator --allow-agent-url`, chart value externalAgents.allowedURLs). No entries: the external policy is off.
//
// An entry is a URL prefix: the agent URL must have the same scheme, host and port, and its path must start with
// the entry's path at a segment boundary. User info, and hosts that are not plain names or addresses, are refused.

export interface AllowEntry {
  protocol: string;
  host: string;
  port: string;
  path: string;
}

export class AgentURLError extends Error {
  override name = 'AgentURLError';
}

const defaultPort = (protocol: string) => (protocol === 'https:' ? '443' : '80');

function parse(url: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AgentURLError(`${what} "${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new AgentURLError(`${what} must be http or https, got ${u.protocol}`);
  if (u.username || u.password)
    throw new AgentURLError(
      `${what} must not carry a user name or password (give the token in a Secret: spec.policy.agentTokenSecretRef)`,
    );
  return u;
}

/** Parse the allowlist entries (flag values); a bad entry is an error at start, not at the first episode. */
export function parseAllowlist(entries: readonly string[]): AllowEntry[] {
  return entries
    .flatMap((e) => e.split(','))
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((e) => {
      const u = parse(e, 'allowed agent URL');
      if (u.search || u.hash) throw new AgentURLError(`allowed agent URL "${e}" must not have a query or fragment`);
      return {
        protocol: u.protocol,
        host: u.hostname.toLowerCase(),
        port: u.port || defaultPort(u.protocol),
        path: u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`,
      };
    });
}

/** Throw an AgentURLError unless `url` is allowed. The message says what to change, never what the agent answers. */
export function checkAgentURL(url: string, allow: readonly AllowEntry[]): void {
  if (allow.length === 0) {
    throw new AgentURLError(
      'the external policy is disabled on this operator: no agent URL is allowed (set the chart value externalAgents.allowedURLs, or operator --allow-agent-url)',
    );
  }
  const u = parse(url, 'spec.policy.agentURL');
  const port = u.port || defaultPort(u.protocol);
  const path = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  const ok = allow.some(
    (a) =>
      a.protocol === u.protocol && a.host === u.hostname.toLowerCase() && a.port === port && path.startsWith(a.path),
  );
  if (!ok)
    throw new AgentURLError(
      `spec.policy.agentURL ${u.origin}${u.pathname} is not allowed on this operator (allowed: ${allow.map((a) => `${a.protocol}//${a.host}:${a.port}${a.path}`).join(', ')})`,
    );
}
