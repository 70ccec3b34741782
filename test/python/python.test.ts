// The Python package's tests (python/tests, pytest) against a real `sim-arena serve`, run from mocha so `npm test`
// covers them. python/setup-venv.sh makes (or reuses) a venv outside the repository; a cold one installs
// gymnasium, numpy and pytest from PyPI, hence the generous timeout.
// SIM_ARENA_SKIP_PYTHON=1 skips this (say so where you do it); a machine without python3 fails it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pythonDir = path.join(repo, 'python');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const tail = (s: string, n = 12000) => (s.length > n ? `...${s.slice(-n)}` : s);

describe('python package (sim_arena_gym) under pytest', function () {
  this.timeout(15 * 60 * 1000);
  let venv = '';

  before(async function () {
    if (process.env.SIM_ARENA_SKIP_PYTHON === '1') this.skip();
    expect(existsSync(path.join(pythonDir, 'setup-venv.sh')), 'python/setup-venv.sh').to.equal(true);
    const setup = await run('bash', [path.join(pythonDir, 'setup-venv.sh')], { cwd: pythonDir, timeoutMs: 12 * 60 * 1000 });
    if (setup.code !== 0) expect.fail(`python/setup-venv.sh failed (exit ${setup.code}):\n${tail(setup.stderr + setup.stdout)}`);
    venv = setup.stdout.trim().split('\n').pop() ?? '';
    expect(existsSync(path.join(venv, 'bin', 'python')), `venv python under "${venv}"`).to.equal(true);
    process.stdout.write(`      venv ${venv} ready in ${(setup.ms / 1000).toFixed(1)} s\n`);
  });

  it('passes pytest (check_env on the real server, spaces, seeds, vector env, errors, Q-learning)', async () => {
    const r = await run(path.join(venv, 'bin', 'python'), ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests'], {
      cwd: pythonDir,
      env: { PYTHONDONTWRITEBYTECODE: '1', SIM_ARENA_REPO: repo },
      timeoutMs: 10 * 60 * 1000,
    });
    const summary = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0) expect.fail(`pytest failed (exit ${r.code}):\n${tail(r.stdout)}\n${tail(r.stderr, 4000)}`);
    process.stdout.write(`      pytest: ${summary.replace(/=/g, '').trim()}\n`);
  });
});
