// sim-arena demo: the heuristic fixes the composite scenario on the embedded simulator, step by step.
import { runCommand } from './run.js';
import { parse, str } from './args.js';

const USAGE = `usage: sim-arena demo [--scenario NAME] [--policy P]
  Runs a canonical scenario (default: composite — memory above every node and surplus replicas)
  on the embedded simulator and prints each step. No cluster needed.`;

export async function demoCommand(argv: string[]): Promise<number> {
  const { flags } = parse(argv, { scenario: { type: 'string' }, policy: { type: 'string' } }, USAGE);
  return runCommand([
    '--scenario',
    str(flags, 'scenario', 'composite'),
    '--policy',
    str(flags, 'policy', 'heuristic'),
    '--reward',
    'shaped',
    '--steps',
    '20',
    '--seed',
    '42',
  ]);
}
