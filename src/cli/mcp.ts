// sim-arena mcp: a Model Context Protocol server on stdio for LLM agents.
import { createBackend, parseBackendName } from '../sim/index.js';
import { loadRegistry } from '../bench/scenarios.js';
import { ClusterTools } from '../mcp/cluster.js';
import { EpisodeSession, type EpisodeSource } from '../mcp/episode.js';
import { createArenaServer } from '../mcp/server.js';
import { serveStdio } from '../mcp/stdio.js';
import { cloneValue } from '../trace/model.js';
import { optStr, parse, str } from './args.js';
import { EPISODE_OPTIONS, EPISODE_USAGE, episodeFromFlags } from './episode-flags.js';
import { readTraceFile } from './load.js';
import { UsageError } from './errors.js';
import type { Backend } from '../arena/backend.js';

const USAGE = `usage: sim-arena mcp [--scenario NAME | --trace FILE] [options]
  Serves MCP (JSON-RPC 2.0, one message per line) on stdin/stdout for an LLM agent. Tools:
    observe, act            play an arena episode in this process (needs --scenario or --trace; no cluster)
    get_pods, describe_deployment, get_events, get_pod_logs
                            read a real cluster (kubeconfig: --kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster)
  --scenario NAME        a canonical scenario (cpu-slight, composite, ...) or a benchmark id (legacy:scale-up)
  --trace FILE           a trace file (workload --workload, target --target)
  --kubeconfig FILE      for the cluster tools
  Register it with a client, e.g. {"command": "sim-arena", "args": ["mcp", "--scenario", "cpu-slight"]}.
${EPISODE_USAGE}`;

export async function mcpCommand(argv: string[]): Promise<number> {
  const { flags } = parse(
    argv,
    {
      ...EPISODE_OPTIONS,
      scenario: { type: 'string' },
      trace: { type: 'string' },
      kubeconfig: { type: 'string' },
      legacy: { type: 'string' },
    },
    USAGE,
  );
  const scenario = optStr(flags, 'scenario');
  const tracePath = optStr(flags, 'trace');
  if (scenario && tracePath) throw new UsageError(`give --scenario or --trace, not both\n${USAGE}`);
  const kubeconfig = optStr(flags, 'kubeconfig');
  let session: EpisodeSession | undefined;
  let backend: Backend | undefined;
  if (scenario || tracePath) {
    let source: EpisodeSource;
    let defaults: Parameters<typeof episodeFromFlags>[1] = {};
    if (scenario) {
      const legacy = optStr(flags, 'legacy');
      const all = loadRegistry(legacy ? { legacyDir: legacy } : {}).scenarios;
      const s =
        all.find((x) => x.id === scenario) ??
        all.find((x) => x.source === 'canonical' && x.name === scenario) ??
        all.find((x) => x.name === scenario);
      if (!s)
        throw new UsageError(
          `unknown scenario "${scenario}" (known: ${all.map((x) => (x.source === 'canonical' ? x.name : x.id)).join(', ')})`,
        );
      source = { label: s.id, trace: () => s.trace() };
      defaults = { workload: s.workload, target: s.target, ...(s.nodePool ? { nodePool: s.nodePool } : {}) };
    } else {
      const loaded = readTraceFile(tracePath!);
      const master = loaded.trace;
      source = { label: tracePath!, trace: () => cloneValue(master) };
      if (loaded.nodePool) defaults = { nodePool: loaded.nodePool };
    }
    const spec = episodeFromFlags(flags, defaults, source.trace());
    backend = await createBackend(parseBackendName(str(flags, 'backend', 'embedded')), {
      ...(kubeconfig ? { kubeconfig } : {}),
      ...(spec.durationSeconds ? { stepSeconds: spec.durationSeconds } : {}),
    });
    session = new EpisodeSession(source, spec, backend);
  }
  const server = createArenaServer({
    cluster: new ClusterTools(kubeconfig ? { kubeconfig } : {}),
    ...(session ? { session } : {}),
  });
  process.stderr.write(
    `sim-arena mcp: serving ${server.toolNames().join(', ')} on stdio${session ? ` (episode ${session.source.label}, target ${session.spec.target}, backend ${session.backend.name})` : ' (no episode: observe/act need --scenario or --trace)'}\n`,
  );
  try {
    await serveStdio(server);
  } finally {
    await backend?.close?.();
  }
  return 0;
}
