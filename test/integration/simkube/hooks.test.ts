// spec.hooks through SimKube 2.7's REAL sk-ctrl and sk-driver: the simkube backend hands the hooks to the
// Simulation, SimKube runs them in its four stages (preStart and postStop in sk-ctrl, preRun and postRun in the
// driver; both run on this host here, so a hook's kubectl reaches the test cluster), sendSim pipes the Simulation
// to the hook, and a hook that fails with ignoreFailure: false fails the run with SimKube's own words.
import { expect } from 'chai';
import { runToCompletion, type StepRun } from '../../../src/arena/backend.js';
import type { EpisodeHooks } from '../../../src/arena/hooks.js';
import { SimkubeBackend } from '../../../src/sim/simkube/index.js';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { deleteSimulation, simkubeSuite, waitFor } from './helpers.js';

describe('simkube: spec.hooks run by SimKube 2.7 (real sk-ctrl and sk-driver)', function () {
  this.timeout(300_000);
  const suite = simkubeSuite('sk-hooks');

  /** One replay of cpu-slight with these hooks, driven as the CLI drives it. */
  function replay(name: string, hooks: EpisodeHooks) {
    const backend = new SimkubeBackend(suite.c.kc, {
      operatorNamespace: suite.ns,
      traceDir: suite.traceDir,
      stepSeconds: 20,
      hooks,
      pollMs: { sync: 200, blocked: 300, starting: 200, settling: 300 },
    });
    const { trace, meta } = canonicalScenario('cpu-slight');
    const run: StepRun = { name, trace, workload: meta.workload, opts: { seed: 0 }, startedAt: Date.now() };
    suite.onCleanup(() => deleteSimulation(suite.c, backend.simulationName(run)));
    return { backend, run, done: runToCompletion(backend, run) };
  }

  /** kubectl creating a ConfigMap in this suite's namespace: a hook's visible trace. */
  const mark = (stage: string, extra: string[] = []) => ({
    cmd: 'kubectl',
    args: ['create', 'configmap', `hook-${stage}`, '-n', suite.ns, `--from-literal=stage=${stage}`, ...extra],
  });
  const configMap = (name: string) =>
    suite.c.kube.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${suite.ns}/configmaps/${name}`);

  it('runs the hooks of all four stages; sendSim writes the Simulation to the hook', async () => {
    const { backend, run, done } = replay(`skh-${suite.tag}-ok-s1`, {
      // preStart runs again on every reconcile while Initializing: the second `create` fails and is ignored.
      preStart: [mark('prestart')],
      preRun: [{ ...mark('prerun', ['--from-file=sim.json=/dev/stdin']), sendSim: true }],
      postRun: [mark('postrun')],
      postStop: [mark('poststop')],
    });
    expect(await done).to.deep.equal({ ready: 0, pending: 3, total: 3 });
    for (const stage of ['prestart', 'prerun', 'postrun', 'poststop'])
      await waitFor(
        `the ${stage} hook's ConfigMap`,
        async () => (await configMap(`hook-${stage}`)) !== undefined,
        60_000,
      );
    const sim = JSON.parse((await configMap('hook-prerun'))!.data!['sim.json']!) as {
      metadata: { name: string };
      spec: { hooks: { preRunHooks: unknown[] } };
    };
    expect(sim.metadata.name).to.equal(backend.simulationName(run));
    expect(sim.spec.hooks.preRunHooks).to.have.length(1);
  });

  it('a hook that fails with ignoreFailure: false fails the run, quoting SimKube', async () => {
    const { done } = replay(`skh-${suite.tag}-bad-s1`, {
      preRun: [{ cmd: 'sh', args: ['-c', 'echo no such thing >&2; exit 3'], ignoreFailure: false }],
    });
    const err = await done.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(
      /PreRunHookFailed: Simulation hook `sh -c echo no such thing >&2; exit 3` failed with exit code: 3/,
    );
    expect(err?.message).to.match(/spec\.hooks/);
    // Said once, without the set-up traps (namespaces, cert-manager) a failed Simulation otherwise lists.
    expect(err?.message.split('exit 3`').length, err?.message).to.equal(2);
    expect(err?.message).to.not.match(/Usual causes|Found:/);
    expect(err?.name).to.equal('HookFailed');
  });
});
