// The sim-arena command line. Each command lives in its own module; this file only dispatches.
import { UsageError, describeError, isUserError } from './errors.js';
import { registerAgents } from '../agents/index.js';

const USAGE = `usage: sim-arena <command> [options]   (sim-arena <command> --help for more)
  demo                   run a demo episode on the embedded simulator (what \`npm start\` does)
  run                    run one episode (embedded, kwok or simkube backend)
  batch                  run every trace in a directory and aggregate
  trace                  inspect, validate, apply, generate, upgrade traces
  usage                  synthesize and inspect usage (CPU, memory over time) for a trace
  operator               run the ArenaEpisode controller against a cluster
  preflight              check a cluster for what sim-arena and SimKube need
  trace-sync             (in-cluster) copy trace ConfigMaps to this node's disk
  serve                  the Gymnasium HTTP env server (sim-arena serve --port 0)
  train                  train a learned policy (q-table) on the embedded backend
  bench                  scenarios × policies benchmark with JSON, Markdown and SVG reports
  mcp                    an MCP server over stdio (cluster tools + observe/act on an embedded episode)`;

type Command = (argv: string[]) => Promise<number> | number;

const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('./demo.js')).demoCommand,
  run: async () => (await import('./run.js')).runCommand,
  batch: async () => (await import('./batch.js')).batchCommand,
  trace: async () => (await import('./trace.js')).traceCommand,
  usage: async () => (await import('./usage.js')).usageCommand,
  operator: async () => (await import('./operator.js')).operatorCommand,
  preflight: async () => (await import('./preflight.js')).preflightCommand,
  'trace-sync': async () => (await import('./trace-sync.js')).traceSyncCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  train: async () => (await import('./train.js')).trainCommand,
  bench: async () => (await import('./bench.js')).benchCommand,
  mcp: async () => (await import('./mcp.js')).mcpCommand,
};

export async function main(argv: string[]): Promise<number> {
  registerAgents();
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  try {
    if (!load) throw new UsageError(`unknown command "${name}"\n${USAGE}`);
    return await (
      await load()
    )(rest);
  } catch (e) {
    process.stderr.write(`sim-arena ${name}: ${describeError(e)}\n`);
    if (!isUserError(e) && process.env.SIM_ARENA_DEBUG)
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
