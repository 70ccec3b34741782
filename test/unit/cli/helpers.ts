// Run the sim-arena CLI in a child process (optionally under a file size limit) and capture what it printed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/sim-arena.js', import.meta.url));

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** `fileSizeBlocks` sets `ulimit -f` (1 KiB blocks) in the child's shell: writes beyond it fail with EFBIG. */
export function cli(
  args: string[],
  opts: { cwd?: string; fileSizeBlocks?: number; env?: Record<string, string> } = {},
): CliResult {
  const quoted = [BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const limit = opts.fileSizeBlocks !== undefined ? `ulimit -f ${opts.fileSizeBlocks}; ` : '';
  const r = spawnSync('bash', ['-c', `${limit}exec node ${quoted}`], {
    cwd: opts.cwd,
    encoding: 'utf8',
    env: { ...process.env, SIM_ARENA_DEBUG: '', ...opts.env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
