// The sim-arena MCP server: the predecessor's four cluster tools plus `observe` and `act` over an in-process episode.
import { readFileSync } from 'node:fs';
import { ClusterTools, clusterTools } from './cluster.js';
import { EpisodeSession, episodeTools } from './episode.js';
import { McpServer, ToolError, type Tool } from './protocol.js';

export const SERVER_NAME = 'sim-arena';

function packageVersion(): string {
  try {
    return (
      (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string })
        .version ?? '0.0.0'
    );
  } catch {
    return '0.0.0';
  }
}

export interface ArenaServerOptions {
  /** the episode observe/act play; without one they answer with an error saying how to start one */
  session?: EpisodeSession;
  cluster: ClusterTools;
}

const INSTRUCTIONS = `Tools for fixing a Kubernetes workload whose resource requests or replica count are wrong.
observe and act play an arena episode in a simulator (no cluster): observe shows pods (ready/pending/total), the target,
the requests and the largest node; act applies one of 7 actions (noop, bump-cpu, bump-mem, scale-up, reduce-cpu,
reduce-mem, scale-down) and replays. The episode is solved when ready = total = target and nothing is pending.
Pods stay Pending when a request is larger than every node or the pods do not all fit.
get_pods, describe_deployment, get_events and get_pod_logs read a real cluster (pods on KWOK nodes have no logs).`;

export function createArenaServer(o: ArenaServerOptions): McpServer {
  const server = new McpServer({
    name: SERVER_NAME,
    version: packageVersion(),
    title: 'sim-arena',
    instructions: INSTRUCTIONS,
  });
  for (const t of clusterTools(o.cluster)) server.addTool(t);
  const tools: Tool[] = o.session
    ? episodeTools(o.session)
    : episodeTools(undefined as unknown as EpisodeSession).map((t) => ({
        ...t,
        call: async () => {
          throw new ToolError(
            'no episode in this server: start it with `sim-arena mcp --scenario NAME` or `--trace FILE`',
          );
        },
      }));
  for (const t of tools) server.addTool(t);
  return server;
}
