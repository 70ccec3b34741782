// ArenaEpisode with spec.usage on the real API server (embedded backend): usage from a ConfigMap, the continuing
// task, usage fields kept in status (not pruned by the schema), the same steps as the CLI's code path.
import { expect } from 'chai';
import { CoreV1Api } from '@kubernetes/client-node';
import { runEpisode, episodeSpec } from '../../../src/arena/episode.js';
import { getPolicy } from '../../../src/arena/policies.js';
import { episodeUsage } from '../../../src/arena/usage/run.js';
import { DEFAULT_ACTION_SETTINGS } from '../../../src/arena/actions.js';
import { EmbeddedBackend } from '../../../src/sim/embedded/index.js';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { serializeUsage } from '../../../src/trace/usage/format.js';
import { usageToPrometheus } from '../../../src/trace/usage/prometheus.js';
import { synthesizeUsage } from '../../../src/trace/usage/synth.js';

import { createEpisode, operatorSuite, outcome, scenarioConfigMap, startOperator, waitForPhase } from './helpers.js';

const web = { kind: 'Deployment', namespace: 'default', name: 'web' };
const usage = (memory: string) =>
  synthesizeUsage({
    workloads: [{ workload: web }],
    patterns: ['constant', 'noise'],
    cpu: '200m',
    memory,
    duration: 3600,
    interval: 30,
    seed: 4,
    period: 3600,
  });

describe('operator: ArenaEpisode with usage', function () {
  this.timeout(180_000);
  const suite = operatorSuite('use');

  const usageConfigMap = (name: string, text: string) =>
    suite.kc
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace: suite.ns, body: { metadata: { name }, data: { 'usage.json': text } } });

  it('a Ready, over-provisioned workload runs to maxSteps under rightsizing, as the CLI runs it', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'healthy');
    const u = usage('300Mi');
    await usageConfigMap('healthy-usage', serializeUsage(u));
    suite.operator = await startOperator(suite.kc, suite.ns);
    await createEpisode(suite.kc, suite.ns, 'healthy', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 2,
      maxSteps: 4,
      backend: 'embedded',
      policy: { name: 'noop' },
      usage: { configMapRef: { name: 'healthy-usage' } },
    });
    const ep = await waitForPhase(suite.kc, suite.ns, 'healthy', ['Succeeded', 'Failed']);
    expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
    expect(ep.status?.step).to.equal(4);
    expect(ep.status?.solved).to.equal(true);
    expect(ep.status?.stepsToSolve).to.equal(0);
    const s = canonicalScenario('healthy');
    const local = await runEpisode(
      episodeSpec({
        workload: s.meta.workload,
        target: 2,
        maxSteps: 4,
        durationSeconds: 30,
        usage: episodeUsage(u),
        reward: { mode: 'rightsizing' },
      }),
      s.trace,
      getPolicy('noop'),
      new EmbeddedBackend(),
    );
    const got = outcome(ep);
    expect(got.history.map((h) => h.observation)).to.deep.equal(
      local.history.map((h) => JSON.parse(JSON.stringify(h.observation))),
    );
    expect(got.history[0]!.observation.usage!.memory.p95).to.be.greaterThan(0);
    expect(got.totalReward).to.be.closeTo(local.totalReward, 1e-6);
    expect(got.totalReward).to.be.lessThan(0);
  });

  it('OOM kills from a Prometheus export in a ConfigMap; the heuristic with proportional actions bumps memory', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'healthy');
    const u = usage('700Mi');
    const s = canonicalScenario('healthy');
    await usageConfigMap('oom-usage', JSON.stringify(usageToPrometheus(u, { baseTs: 1_700_000_000 })));
    suite.operator = await startOperator(suite.kc, suite.ns);
    await createEpisode(suite.kc, suite.ns, 'oom', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 2,
      maxSteps: 6,
      backend: 'embedded',
      actions: { set: 'proportional' },
      usage: { configMapRef: { name: 'oom-usage' } },
    });
    const ep = await waitForPhase(suite.kc, suite.ns, 'oom', ['Succeeded', 'Failed']);
    expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
    expect(ep.status?.initialObservation?.ready).to.equal(0);
    expect(ep.status?.initialObservation?.oomKills).to.be.greaterThan(0);
    const local = await runEpisode(
      episodeSpec({
        workload: s.meta.workload,
        target: 2,
        maxSteps: 6,
        durationSeconds: 30,
        usage: episodeUsage(u),
        reward: { mode: 'rightsizing' },
        actions: { ...DEFAULT_ACTION_SETTINGS, set: 'proportional' },
      }),
      s.trace,
      getPolicy('heuristic'),
      new EmbeddedBackend(),
    );
    expect(outcome(ep).history.map((h) => h.action)).to.deep.equal(local.history.map((h) => h.action));
    expect(outcome(ep).history[0]!.action).to.equal('bump-mem');
    expect(ep.status?.lastObservation?.ready).to.equal(2);
  });

  it('bad usage fails the episode with a message that names spec.usage', async () => {
    const cm = await scenarioConfigMap(suite.kc, suite.ns, 'healthy');
    await usageConfigMap('bad-usage', '{"format": "nope"}');
    suite.operator = await startOperator(suite.kc, suite.ns);
    await createEpisode(suite.kc, suite.ns, 'bad', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 2,
      backend: 'embedded',
      usage: { configMapRef: { name: 'bad-usage' } },
    });
    const ep = await waitForPhase(suite.kc, suite.ns, 'bad', ['Failed']);
    expect(ep.status?.message).to.match(/spec\.usage: ConfigMap .*bad-usage: usage\.format/);
    await createEpisode(suite.kc, suite.ns, 'missing', {
      trace: { configMapRef: { name: cm } },
      targetReplicas: 2,
      backend: 'embedded',
      usage: { configMapRef: { name: 'nope' } },
    });
    const ep2 = await waitForPhase(suite.kc, suite.ns, 'missing', ['Failed']);
    expect(ep2.status?.message).to.match(/ConfigMap .*\/nope does not exist/);
  });
});
