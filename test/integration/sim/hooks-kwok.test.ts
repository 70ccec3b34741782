// spec.hooks on the kwok backend: each command runs as a Kubernetes Job at SimKube's four stage points of a replay.
// KWOK nodes never run a container, so test/cluster/hook-runner.ts plays the kubelet for hook pods: it runs the
// container's command on this host (kubectl reaching the test cluster) and writes the pod's terminated status, so
// the real Job controller completes or fails the Job. Each hook is kubectl creating a ConfigMap: the ConfigMaps prove
// the hook ran; sendSim gives a hook the Simulation-shaped document on stdin; ignoreFailure true passes a failure
// over, false fails the run with reason HookFailed quoting the command and its output. The same through the operator.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../../src/api/names.js';
import type { Controller } from '../../../src/controller/controller.js';
import { runCommand } from '../../../src/cli/run.js';
import { HOOK_LABEL } from '../../../src/sim/kwok/hooks.js';
import { buildTrace, deploymentObject } from '../../../src/trace/generate.js';
import { encodeTrace } from '../../../src/trace/trace.js';
import { HookRunner } from '../../cluster/hook-runner.js';
import { deleteNamespace, ensureCluster, freshNamespace, kubeConfig, waitFor } from '../../support/cluster.js';
import { createEpisode, ensureCrd, startOperator, traceConfigMap, waitForPhase } from '../operator/helpers.js';

const TOLERATIONS = [{ key: 'kwok-provider', operator: 'Exists', effect: 'NoSchedule' }];

describe('kwok backend: spec.hooks run as Jobs (hook pods run by a kubelet stand-in)', function () {
  this.timeout(300_000);
  let kc: KubeConfig;
  let kubeconfig: string;
  let ns: string;
  let runner: HookRunner;
  const dir = mkdtempSync(join(tmpdir(), 'kwok-hooks-'));
  let n = 0;

  before(async () => {
    kubeconfig = await ensureCluster();
    kc = await kubeConfig();
    ns = await freshNamespace(kc, 'kwok-hooks');
    runner = new HookRunner({ kubeconfig, stateDir: join(dir, 'runner'), pollMs: 150 });
    runner.start();
  });

  after(async () => {
    await runner?.stop();
    if (ns) await deleteNamespace(kc, ns);
  });

  const core = () => kc.makeApiClient(CoreV1Api);
  const configMap = (name: string) =>
    core()
      .readNamespacedConfigMap({ name, namespace: ns })
      .catch(() => undefined);
  /** kubectl creating ConfigMap <name> in the test namespace: a hook's visible trace. */
  const mark = (name: string, extra: string[] = []) => ({
    cmd: 'kubectl',
    args: ['create', 'configmap', name, '-n', ns, ...extra],
  });

  /** `sim-arena run` on kwok with these hooks: one replay (2 replicas, target 2: solved at once), as JSON. */
  async function run(hooks: object): Promise<{ out: string; error?: Error }> {
    const file = join(dir, `hooks-${n++}.json`);
    writeFileSync(file, JSON.stringify(hooks));
    const traceFile = join(dir, 'at-target.msgpack');
    writeFileSync(
      traceFile,
      encodeTrace(buildTrace([deploymentObject({ replicas: 2, cpu: '100m', memory: '128Mi' })])),
    );
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
    try {
      await runCommand([
        '--trace',
        traceFile,
        '--target',
        '2',
        '--backend',
        'kwok',
        '--kubeconfig',
        kubeconfig,
        '--json',
        '--hooks',
        file,
        '--hook-namespace',
        ns,
        '--hook-timeout',
        '60',
        // The test cluster's KWOK nodes are tainted kwok-provider; the pool nodes carry sim-arena.io/managed=true.
        '--hook-node-selector',
        'sim-arena.io/managed=true',
        '--hook-tolerations',
        JSON.stringify(TOLERATIONS),
      ]);
      return { out: chunks.join('') };
    } catch (e) {
      return { out: chunks.join(''), error: e as Error };
    } finally {
      process.stdout.write = write;
    }
  }

  it('runs the hooks of all four stages in order; sendSim gives the Simulation on stdin; ignoreFailure true passes over', async () => {
    const t0 = Date.now();
    const r = await run({
      preStart: [mark('prestart')],
      // A failing hook with ignoreFailure unset is passed over (SimKube's semantics), then the next one runs.
      preRun: [{ cmd: 'kubectl', args: ['get', 'configmap', 'no-such-configmap', '-n', ns] }, mark('prerun')],
      postRun: [{ ...mark('postrun', ['--from-file=sim.json=/dev/stdin']), sendSim: true }],
      postStop: [{ ...mark('poststop'), ignoreFailure: true }],
    });
    expect(r.error, r.error?.message).to.equal(undefined);
    const result = JSON.parse(r.out.trim().split('\n').pop()!) as { backend: string; initial: { observation: object } };
    expect(result.backend).to.equal('kwok');
    expect(result.initial.observation).to.deep.include({ ready: 2, total: 2 });
    const stamps: Record<string, number> = {};
    for (const name of ['prestart', 'prerun', 'postrun', 'poststop']) {
      const cm = await configMap(name);
      expect(cm, `the ${name} hook's ConfigMap`).to.not.equal(undefined);
      stamps[name] = Date.parse(String(cm!.metadata!.creationTimestamp));
    }
    expect(
      stamps.prestart! <= stamps.prerun! && stamps.prerun! <= stamps.postrun! && stamps.postrun! <= stamps.poststop!,
      JSON.stringify(stamps),
    ).to.equal(true);
    const sim = JSON.parse((await configMap('postrun'))!.data!['sim.json']!) as {
      kind: string;
      metadata: { name: string; annotations: Record<string, string> };
      spec: { driver: { namespace: string }; hooks: { postRunHooks: Array<{ sendSim?: boolean }> } };
    };
    expect(sim.kind).to.equal('Simulation');
    expect(sim.metadata.annotations['simarena.io/backend']).to.equal('kwok');
    expect(sim.spec.driver.namespace).to.equal(sim.metadata.name);
    expect(sim.spec.hooks.postRunHooks[0]?.sendSim).to.equal(true);
    // The stand-in ran exactly the Jobs' commands: the failing get, and the sendSim one through the /bin/sh wrapper.
    expect(runner.ran.map((x) => x.command.slice(-3).join(' '))).to.include(`no-such-configmap -n ${ns}`);
    expect(runner.ran.find((x) => x.command[0] === '/bin/sh')?.command[3]).to.equal('kubectl');
    // Nothing is left behind: the run's hooks ConfigMap, Jobs and pods are gone.
    await waitFor(
      'the hook Jobs and pods to be gone',
      async () =>
        (await kc.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: ns, labelSelector: `${HOOK_LABEL}=true` }))
          .items.length === 0 &&
        (await core().listNamespacedPod({ namespace: ns, labelSelector: `${HOOK_LABEL}=true` })).items.length === 0,
      60_000,
    );
    process.stderr.write(`    (one kwok replay with 5 hook Jobs: ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  });

  it('a failing hook with ignoreFailure false fails the run with HookFailed, quoting the command and its output', async () => {
    const r = await run({
      preRun: [{ cmd: 'kubectl', args: ['get', 'configmap', 'absent-one', '-n', ns], ignoreFailure: false }],
      postRun: [mark('never-postrun')],
      postStop: [mark('poststop-after-failure')],
    });
    expect(r.error?.name, r.error?.message).to.equal('HookFailed');
    expect(r.error?.message).to.match(
      new RegExp(
        `preRun hook \`kubectl get configmap absent-one -n ${ns}\` \\(Job ${ns}/.*-prerun-0\\) failed with exit code 1: .*absent-one.*not found`,
        's',
      ),
    );
    expect(await configMap('never-postrun'), 'later stages do not run').to.equal(undefined);
    // As sk-ctrl does for a Failed Simulation: clean-up, then the postStop hooks.
    expect(await configMap('poststop-after-failure'), 'postStop still runs').to.not.equal(undefined);
  });

  it('a command that cannot start fails its stage even with ignoreFailure unset', async () => {
    const r = await run({ preStart: [{ cmd: 'no-such-command-xyz' }], postStop: [mark('no-poststop-after-prestart')] });
    expect(r.error?.name, r.error?.message).to.equal('HookFailed');
    expect(r.error?.message).to.match(
      /preStart hook `no-such-command-xyz` .* could not start with exit code 128 \(StartError\): exec: "no-such-command-xyz": executable file not found/,
    );
    // A failed preStart leaves SimKube's Simulation Initializing: nothing was set up, so no postStop either.
    expect(await configMap('no-poststop-after-prestart')).to.equal(undefined);
  });

  describe('through the operator', () => {
    let operator: Controller | undefined;
    before(async () => {
      await ensureCrd(kc);
      const trace = buildTrace([deploymentObject({ replicas: 2, cpu: '100m', memory: '128Mi' })]);
      await traceConfigMap(kc, ns, 'at-target', encodeTrace(trace));
      operator = await startOperator(kc, ns, {
        operatorNamespace: ns,
        hookJobs: { nodeSelector: { 'sim-arena.io/managed': 'true' }, tolerations: TOLERATIONS, timeoutSeconds: 60 },
      });
    });
    after(async () => {
      // Episodes carry the operator's finalizer: delete them while it runs, so the namespace can go afterwards.
      const api = kc.makeApiClient(CustomObjectsApi);
      const list = (await api.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: PLURAL,
      })) as {
        items: Array<{ metadata: { name: string } }>;
      };
      for (const e of list.items)
        await api
          .deleteNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: ns,
            plural: PLURAL,
            name: e.metadata.name,
          })
          .catch(() => undefined);
      await waitFor(
        'the episodes to be gone',
        async () =>
          (
            (await api.listNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: ns,
              plural: PLURAL,
            })) as {
              items: unknown[];
            }
          ).items.length === 0,
        60_000,
      ).catch(() => undefined);
      await operator?.stop();
    });

    it('an ArenaEpisode on kwok with hooks reaches Succeeded with the Hooks condition', async () => {
      await createEpisode(kc, ns, 'kwok-hooks-ok', {
        trace: { configMapRef: { name: 'at-target' } },
        targetReplicas: 2,
        maxSteps: 2,
        backend: 'kwok',
        hooks: { preRun: [mark('op-prerun')], postStop: [{ cmd: 'kubectl', args: ['get', 'ns', ns] }] },
      });
      const ep = await waitForPhase(kc, ns, 'kwok-hooks-ok', ['Succeeded', 'Failed'], 180_000);
      expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
      expect(await configMap('op-prerun')).to.not.equal(undefined);
      const hooks = ep.status?.conditions?.find((x) => x.type === 'Hooks');
      expect([hooks?.status, hooks?.reason], hooks?.message).to.deep.equal(['True', 'HooksRan']);
      expect(hooks?.message).to.include(`preRun ran (kubectl create configmap op-prerun -n ${ns})`);
      expect(hooks?.message).to.include(`postStop ran (kubectl get ns ${ns})`);
    });

    it('a failing hook (ignoreFailure false) fails the episode with reason HookFailed', async () => {
      await createEpisode(kc, ns, 'kwok-hooks-fail', {
        trace: { configMapRef: { name: 'at-target' } },
        targetReplicas: 2,
        maxSteps: 2,
        backend: 'kwok',
        hooks: { preStart: [{ cmd: 'kubectl', args: ['get', 'ns', 'no-such-ns-xyz'], ignoreFailure: false }] },
      });
      const ep = await waitForPhase(kc, ns, 'kwok-hooks-fail', ['Succeeded', 'Failed'], 180_000);
      expect(ep.status?.phase).to.equal('Failed');
      expect(ep.status?.conditions?.find((x) => x.type === 'Ready')?.reason).to.equal('HookFailed');
      expect(ep.status?.message).to.match(
        /preStart hook `kubectl get ns no-such-ns-xyz` .*failed with exit code 1: .*no-such-ns-xyz.*not found/s,
      );
    });

    it('the CRD accepts hooks on kwok and still refuses them on embedded', async () => {
      let refused: unknown;
      await createEpisode(kc, ns, 'kwok-hooks-embedded', {
        trace: { configMapRef: { name: 'at-target' } },
        targetReplicas: 2,
        backend: 'embedded',
        hooks: { preRun: [{ cmd: 'true' }] },
      }).catch((e: unknown) => (refused = e));
      expect(String((refused as { body?: unknown })?.body ?? refused)).to.match(
        /spec\.hooks: hooks run only on backends kwok .*the embedded backend has no cluster to run them in/,
      );
    });
  });
});
