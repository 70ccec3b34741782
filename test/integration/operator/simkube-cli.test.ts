// The whole path as a user runs it against SimKube 2.7 on the test cluster: `npm run simkube:up` (real sk-ctrl, the
// driver runner, trace-sync for sim-arena's namespace), the operator started as a process with
// `sim-arena operator --kubeconfig .cluster/kubeconfig`, and an ArenaEpisode with `backend: simkube` applied with
// kubectl. It reaches Succeeded and solved, and every Simulation it made was Finished by the real sk-ctrl.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { EPISODE_LABEL } from '../../../src/api/names.js';
import { Kube } from '../../../src/kube/client.js';
import { labelValue, simulationName } from '../../../src/sim/simkube/simulation.js';
import { deleteNamespace, freshNamespace, kubeConfig, kubectl, REPO_ROOT, waitFor } from '../../support/cluster.js';
import { ensureSimkube, simkubeLogTail } from '../../support/simkube.js';
import { SimulationStates } from '../simkube/helpers.js';
import { ensureCrd, expectCpuSlightSolved, scenarioConfigMap, waitForPhase } from './helpers.js';

describe('operator process + kubectl: a simkube ArenaEpisode on SimKube 2.7 (real sk-ctrl and sk-driver)', function () {
  this.timeout(600_000);
  const name = `skcli-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  let kubeconfig: string;
  let ns: string;
  let operator: ChildProcess | undefined;
  let operatorLog = '';
  let states: SimulationStates;
  let kube: Kube;

  before(async function () {
    this.timeout(3_600_000); // a cold build of SimKube's binaries happens here once per machine
    const kc = await kubeConfig();
    kube = Kube.of(kc);
    kubeconfig = (await ensureSimkube()).kubeconfig;
    await ensureCrd(kc);
    ns = await freshNamespace(kc, 'sk-cli');
    states = new SimulationStates({ kc, path: kubeconfig, kube }).start();
    // Scoped to this test's namespace: other suites run their own operators on the shared cluster.
    operator = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'src/cli/main.ts'),
        'operator',
        '--kubeconfig',
        kubeconfig,
        '--namespace',
        ns,
        '--health-port',
        '0',
      ],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (b: Buffer): void => void (operatorLog = (operatorLog + b.toString()).slice(-40_000));
    operator.stdout!.on('data', keep);
    operator.stderr!.on('data', keep);
  });

  after(async function () {
    this.timeout(180_000);
    if (operator && operator.exitCode === null) {
      const exited = new Promise((r) => operator!.once('exit', r));
      operator.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (operator.exitCode === null) operator.kill('SIGKILL');
    }
    await states?.stop();
    if (ns) await deleteNamespace(await kubeConfig(), ns);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      process.stderr.write(
        `--- operator\n${operatorLog.split('\n').slice(-40).join('\n')}\n--- driver-runner.log\n${simkubeLogTail('driver-runner.log')}\n--- sk-ctrl.log\n${simkubeLogTail('sk-ctrl.log')}\n`,
      );
    }
  });

  it('reaches Succeeded and solved; every Simulation was Finished by sk-ctrl', async () => {
    const kc = await kubeConfig();
    const cm = await scenarioConfigMap(kc, ns, 'cpu-slight');
    kubectl(
      kubeconfig,
      ['apply', '-f', '-'],
      `apiVersion: simarena.io/v1alpha1
kind: ArenaEpisode
metadata: {name: ${name}, namespace: ${ns}}
spec:
  backend: simkube
  trace: {configMapRef: {name: ${cm}}}
  workload: {name: web}
  targetReplicas: 3
  maxSteps: 5
  stepDuration: 12s
`,
    );
    const ep = await waitForPhase(kc, ns, name, ['Succeeded', 'Failed'], 540_000);
    const history = expectCpuSlightSolved(ep);
    expect(ep.status?.stepsToSolve).to.equal(2);
    // One Simulation per replay (the starting trace, then each step), each Finished by sk-ctrl before it was deleted.
    await waitFor(
      "the episode's Simulations to be gone",
      async () =>
        (await kube.list('/apis/simkube.io/v1/simulations', { labelSelector: `${EPISODE_LABEL}=${labelValue(name)}` }))
          .length === 0,
      120_000,
    );
    // Run names are <episode>-<uid>-s<step>: the starting replay's is the first step's with -s0.
    const steps = history.map((h) => simulationName(h.simulation!));
    const sims = [steps[0]!.replace(/-s1$/, '-s0'), ...steps];
    expect(sims).to.have.length(3);
    expect(
      states.names().filter((s) => s.startsWith(`${name}-`)),
      'the Simulations sk-ctrl gave a state',
    ).to.have.members(sims);
    for (const s of sims)
      expect(states.statesOf(s), `${s}: ${states.statesOf(s).join(' → ') || 'never seen'}`).to.include.members([
        'Running',
        'Finished',
      ]);
  });
});
