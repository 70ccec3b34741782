// A command group (`sim-arena trace …`, `sim-arena usage …`): the subcommand picks the handler; no subcommand is a
// usage error (exit 2), -h/--help prints the group's usage (exit 0), an unknown one names itself and the usage.
import { UsageError } from './errors.js';

export type Subcommand = (argv: string[]) => number | Promise<number>;

export async function runSubcommand(
  group: string,
  commands: Record<string, Subcommand>,
  usage: string,
  argv: string[],
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${usage}\n`);
    return sub ? 0 : 2;
  }
  const run = Object.hasOwn(commands, sub) ? commands[sub] : undefined;
  if (!run) throw new UsageError(`unknown ${group} command "${sub}"\n${usage}`);
  return run(rest);
}
