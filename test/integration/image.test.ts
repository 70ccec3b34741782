// The container image cannot be built here (no container engine), so its Dockerfile is replayed stage by stage on
// this machine (test/support/dockerfile.ts): the build stage must compile the sources, and the runtime stage — only
// production dependencies, the compiled output, bin/, traces/ and crds/ — must run the CLI, the demo episode and
// the commands the chart starts (operator, trace-sync) from its ENTRYPOINT.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { replayDockerfile, type Stage } from '../support/dockerfile.js';
import { REPO_ROOT } from '../support/cluster.js';

describe('container image (Dockerfile replayed without a container engine)', function () {
  this.timeout(600_000);
  let scratch: string;
  let runtime: Stage;

  before(function () {
    this.timeout(900_000);
    scratch = mkdtempSync(path.join(tmpdir(), 'sim-arena-image-'));
    const stages = replayDockerfile(path.join(REPO_ROOT, 'Dockerfile'), REPO_ROOT, scratch);
    expect(stages.map((s) => s.name)).to.deep.equal(['build', 'runtime']);
    runtime = stages[1]!;
  });
  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  function entrypoint(...args: string[]) {
    const [cmd, ...base] = runtime.entrypoint!;
    return spawnSync(cmd!, [...base, ...args], {
      cwd: path.join(runtime.root, runtime.workdir),
      env: { ...process.env, ...runtime.env, HOME: process.env.HOME ?? '/tmp', KUBECONFIG: '/nonexistent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  it('the runtime stage holds the compiled CLI and production dependencies only', () => {
    const app = path.join(runtime.root, runtime.workdir);
    expect(existsSync(path.join(app, 'dist/cli/main.js'))).to.equal(true);
    expect(existsSync(path.join(app, 'node_modules/@kubernetes/client-node')), 'client-node').to.equal(true);
    for (const dev of ['typescript', 'tsx', 'mocha'])
      expect(existsSync(path.join(app, 'node_modules', dev)), dev).to.equal(false);
    expect(existsSync(path.join(app, 'src')), 'no sources').to.equal(false);
  });

  it('its ENTRYPOINT prints the usage and runs the demo episode on the embedded backend', () => {
    const help = entrypoint('--help');
    expect(help.status, help.stderr).to.equal(0);
    expect(help.stdout)
      .to.match(/usage: sim-arena/)
      .and.contain('operator')
      .and.contain('trace-sync');
    const demo = entrypoint('demo');
    expect(demo.status, demo.stderr).to.equal(0);
    expect(demo.stdout).to.match(/solved/i);
  });

  it('the commands the chart runs start, and fail with a clear message when there is no cluster', () => {
    for (const cmd of [
      ['operator', '--help'],
      ['trace-sync', '--help'],
    ]) {
      const r = entrypoint(...cmd);
      expect(r.status, `${cmd.join(' ')}: ${r.stderr}`).to.equal(0);
      expect(r.stdout + r.stderr).to.contain(cmd[0]);
    }
    const noCluster = entrypoint('operator');
    expect(noCluster.status).to.not.equal(0);
    expect(noCluster.stderr).to.match(/kubeconfig|cluster|KUBECONFIG/i);
    expect(noCluster.stderr).to.not.match(/at .*\.js:\d+/); // a message, not a stack trace
  });
});
