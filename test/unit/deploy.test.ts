import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../support/cluster.js';

describe('deploy artefacts', function () {
  this.timeout(300_000); // a cold run first makes the validation venv (scripts/validate-deploy-venv.sh)

  it('the chart lints, its CRD copy matches crds/, and deploy/sim-arena.yaml is the chart rendered with defaults', () => {
    const r = spawnSync('bash', ['scripts/render-deploy.sh', '--check'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(r.stdout).to.contain('deploy/sim-arena.yaml is up to date');
  });
});
