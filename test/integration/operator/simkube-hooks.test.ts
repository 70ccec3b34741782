// spec.hooks on the simkube backend, run by SimKube 2.7's REAL sk-ctrl (preStart, postStop) and sk-driver (preRun,
// postRun) on this host (test/cluster/simkube/up.sh): each hook is kubectl creating a ConfigMap, so the ConfigMaps
// prove the hook ran; a postRun hook with sendSim reads the Simulation from its stdin; a failing hook with
// ignoreFailure true is passed over, and one with ignoreFailure false fails the episode with a message naming it.
import path from 'node:path';
import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Controller } from '../../../src/controller/controller.js';
import type { ArenaEpisodeSpec } from '../../../src/api/episode.js';
import type { SimulationHook } from '../../../src/arena/hooks.js';
import { Kube } from '../../../src/kube/client.js';
import { EPISODE_LABEL } from '../../../src/api/names.js';
import { labelValue, SIMULATIONS_PATH, type Simulation } from '../../../src/sim/simkube/simulation.js';
import { buildTrace, deploymentObject } from '../../../src/trace/generate.js';
import { encodeTrace } from '../../../src/trace/trace.js';
import { ensureCluster, kubeConfig, waitFor } from '../../support/cluster.js';
import { ensureSimkube, simkubeLogTail } from '../../support/simkube.js';
import {
  deleteNamespace,
  fakeTraceSyncPod,
  freshNamespace,
  kwokNode,
  LocalTraceSync,
  NODE_TRACE_DIR,
  type Cluster,
} from '../simkube/helpers.js';
import { createEpisode, ensureCrd, startOperator, traceConfigMap, waitForPhase } from './helpers.js';

describe('operator: spec.hooks through SimKube 2.7 (real sk-ctrl and sk-driver)', function () {
  this.timeout(600_000);
  const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  const names = { ok: `skh-${tag}-ok`, fail: `skh-${tag}-fail` };
  const vnsPrefix = `virth-${tag}`;
  const traceDir = `${NODE_TRACE_DIR}/${tag}`;
  let kc: KubeConfig;
  let c: Cluster;
  let opNs: string;
  let epNs: string;
  let sync: LocalTraceSync;
  let operator: Controller | undefined;

  before(async function () {
    this.timeout(3_600_000); // a cold cluster or SimKube build happens here once per machine
    kc = await kubeConfig();
    c = { kc, path: await ensureCluster(), kube: Kube.of(kc) };
    await ensureCrd(kc);
    const sk = await ensureSimkube();
    opNs = await freshNamespace(c, 'skh-op');
    epNs = await freshNamespace(c, 'skh-ep');
    const node = await kwokNode(c);
    await fakeTraceSyncPod(c, opNs, node);
    sync = await LocalTraceSync.start(c, opNs, node, path.join(sk.nodeRoot, traceDir));
    // Two replicas at the target: the episode is solved at step 0, so each episode is one replay.
    const trace = buildTrace([deploymentObject({ replicas: 2, cpu: '100m', memory: '128Mi' })]);
    await traceConfigMap(kc, epNs, 'at-target', encodeTrace(trace));
    operator = await startOperator(kc, epNs, { operatorNamespace: opNs });
  });

  after(async function () {
    this.timeout(180_000);
    if (!c) return;
    await operator?.stop();
    for (const s of await c.kube.list<Simulation>(SIMULATIONS_PATH, {
      labelSelector: `${EPISODE_LABEL} in (${Object.values(names).map(labelValue).join(',')})`,
    }))
      await c.kube.delete(`${SIMULATIONS_PATH}/${s.metadata!.name!}`);
    await sync?.stop();
    await deleteNamespace(c, `${vnsPrefix}-default`);
    await deleteNamespace(c, epNs);
    await deleteNamespace(c, opNs);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(
        `--- sk-ctrl.log\n${simkubeLogTail('sk-ctrl.log')}\n--- driver-runner.log\n${simkubeLogTail('driver-runner.log')}\n`,
      );
  });

  const spec = (
    hooks: ArenaEpisodeSpec['hooks'],
  ): Partial<ArenaEpisodeSpec> & Pick<ArenaEpisodeSpec, 'trace' | 'targetReplicas'> => ({
    trace: { configMapRef: { name: 'at-target' } },
    targetReplicas: 2,
    maxSteps: 3,
    backend: 'simkube',
    stepDuration: '20s',
    simkube: { virtualNsPrefix: vnsPrefix, traceDir },
    hooks,
  });

  /** kubectl (found on PATH by sk-ctrl and sk-driver, with their KUBECONFIG) creating ConfigMap <stage>-<tag>. */
  const createConfigMap = (stage: string, extra: string[] = []): SimulationHook => ({
    cmd: 'kubectl',
    args: ['create', 'configmap', `${stage.toLowerCase()}-${tag}`, '-n', epNs, ...extra],
  });

  const configMap = (stage: string) =>
    c.kube.get<{ data?: Record<string, string> } & object>(
      `/api/v1/namespaces/${epNs}/configmaps/${stage.toLowerCase()}-${tag}`,
    );

  it('the API server refuses hooks on the embedded backend (the CRD rule), with the message the operator would give', async () => {
    let refused: unknown;
    await createEpisode(kc, epNs, `skh-${tag}-embedded`, {
      ...spec({ preRun: [{ cmd: 'true' }] }),
      backend: 'embedded',
    }).catch((e: unknown) => (refused = e));
    expect(refused, 'refused').to.not.equal(undefined);
    expect(String((refused as { body?: unknown }).body ?? refused)).to.match(
      /spec\.hooks: hooks run only on backends kwok .*set spec\.backend to kwok or simkube, or remove spec\.hooks/,
    );
  });

  it('runs the hooks of all four stages; sendSim gives the hook the Simulation; ignoreFailure true passes a failure over', async () => {
    await createEpisode(
      kc,
      epNs,
      names.ok,
      spec({
        // preStart runs on every sk-ctrl reconcile until set up: the later creates fail (AlreadyExists), ignored.
        preStart: [createConfigMap('preStart')],
        preRun: [{ cmd: 'false' }, createConfigMap('preRun')],
        postRun: [{ ...createConfigMap('postRun', ['--from-file=sim.json=/dev/stdin']), sendSim: true }],
        postStop: [createConfigMap('postStop')],
      }),
    );
    const ep = await waitForPhase(kc, epNs, names.ok, ['Succeeded', 'Failed'], 400_000);
    expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
    for (const stage of ['preStart', 'preRun', 'postRun'])
      expect(await configMap(stage), `the ${stage} hook's ConfigMap`).to.not.equal(undefined);
    // The Hooks condition says which stages ran with which commands (SimKube reports per stage).
    const hooks = ep.status?.conditions?.find((x) => x.type === 'Hooks');
    expect(hooks?.status, hooks?.message).to.equal('True');
    expect(hooks?.reason).to.equal('HooksRan');
    expect(hooks?.message).to.include(`replay 0: preStart ran (kubectl create configmap prestart-${tag} -n ${epNs})`);
    expect(hooks?.message).to.include(`preRun ran (false; kubectl create configmap prerun-${tag} -n ${epNs})`);
    expect(hooks?.message).to.include('postRun ran (kubectl create configmap postrun-');
    const sim = JSON.parse((await configMap('postRun'))!.data!['sim.json']!) as Simulation;
    expect(sim.kind).to.equal('Simulation');
    expect(sim.metadata?.labels?.[EPISODE_LABEL]).to.equal(labelValue(names.ok));
    expect(sim.spec.hooks?.postRunHooks?.[0]?.sendSim).to.equal(true);
    // postStop runs once sk-ctrl has cleaned the Simulation up (after the episode deleted it).
    await waitFor('the postStop hook to run', async () => (await configMap('postStop')) !== undefined, 120_000);
  });

  it('a failing preStart hook with ignoreFailure false fails the episode, saying which hook and why', async () => {
    await createEpisode(
      kc,
      epNs,
      names.fail,
      spec({ preStart: [{ cmd: 'false', args: ['--no-such'], ignoreFailure: false }] }),
    );
    const ep = await waitForPhase(kc, epNs, names.fail, ['Succeeded', 'Failed'], 300_000);
    expect(ep.status?.phase).to.equal('Failed');
    expect(ep.status?.message).to.match(
      /stopped by a failed hook\. SimKube: PreStartHookFailed: Simulation hook `false --no-such` failed with exit code: 1 \(spec\.hooks\)/,
    );
    // Said once, without the set-up traps a failed Simulation otherwise lists.
    expect(ep.status?.message?.split('`false --no-such`').length, ep.status?.message).to.equal(2);
    expect(ep.status?.message).to.not.match(/Usual causes|Found:/);
    expect(ep.status?.conditions?.find((x) => x.type === 'Ready')?.reason).to.equal('HookFailed');
    const hooks = ep.status?.conditions?.find((x) => x.type === 'Hooks');
    expect([hooks?.status, hooks?.reason]).to.deep.equal(['False', 'HookFailed']);
    // It does not strand SimKube's lock: the Simulation is gone.
    await waitFor(
      'the failed Simulation to be gone',
      async () =>
        (await c.kube.list(SIMULATIONS_PATH, { labelSelector: `${EPISODE_LABEL}=${labelValue(names.fail)}` }))
          .length === 0,
      90_000,
    );
  });
});
