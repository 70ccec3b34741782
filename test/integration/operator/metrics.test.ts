// The operator's /metrics on the real control plane: counters and gauges move while episodes run, the text is valid
// exposition format, and the chart's Grafana dashboard names only metrics that exist.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEnvServer } from '../../../src/envserver/server.js';
import { REPO_ROOT, waitFor } from '../../support/cluster.js';
import { sampleSum, scrape, type Family } from '../../support/prometheus.js';
import { createEpisode, operatorSuite, scenarioConfigMap, startOperator, waitForPhase } from './helpers.js';

/** Metric names used by a PromQL expression: identifiers that are not functions, keywords or label names. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    if (m[2] || ['and', 'or', 'unless', 'bool', 'offset'].includes(m[1]!)) continue;
    names.add(m[1]!);
  }
  return [...names];
}

describe('operator metrics on the real API server', function () {
  this.timeout(240_000);
  const suite = operatorSuite('metrics', 'suite');

  it('moves reconcile, work-queue, API and episode metrics as episodes run; the dashboard names only real metrics', async () => {
    const lease = `metrics-${suite.ns}`.slice(0, 60);
    suite.operator = await startOperator(suite.kc, suite.ns, {
      health: { host: '127.0.0.1', port: 0 },
      leaderElection: { namespace: suite.ns, name: lease },
    });
    const url = `http://127.0.0.1:${suite.operator.healthAddress!.port}/metrics`;
    const before = await scrape(url);
    await waitFor(
      'this replica to lead',
      async () => sampleSum(await scrape(url), 'leader_election_master_status', { name: lease }) === 1,
      30_000,
    );

    const scenarios = ['composite', 'mem-slight', 'replicas-over'];
    for (const s of scenarios) {
      const cm = await scenarioConfigMap(suite.kc, suite.ns, s);
      await createEpisode(suite.kc, suite.ns, s, {
        trace: { configMapRef: { name: cm } },
        targetReplicas: 3,
        maxSteps: 20,
        backend: 'embedded',
      });
    }
    const kwokCm = await scenarioConfigMap(suite.kc, suite.ns, 'cpu-slight');
    await createEpisode(suite.kc, suite.ns, 'kwok', {
      trace: { configMapRef: { name: kwokCm } },
      targetReplicas: 3,
      maxSteps: 8,
      backend: 'kwok',
      stepDuration: '60s',
    });

    // While the kwok episode runs, the phase gauge shows it.
    await waitFor(
      'a running kwok episode in sim_arena_episodes',
      async () => {
        const f = await scrape(url);
        return ['Running', 'Waiting'].some(
          (phase) => sampleSum(f, 'sim_arena_episodes', { phase, backend: 'kwok' }) === 1,
        );
      },
      120_000,
      250,
    );

    const done = [];
    for (const name of [...scenarios, 'kwok'])
      done.push(await waitForPhase(suite.kc, suite.ns, name, ['Succeeded', 'Failed'], 180_000));
    for (const ep of done) expect(ep.status?.phase, ep.status?.message).to.equal('Succeeded');
    const after = await scrape(url);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels);

    const embeddedSteps = done.filter((e) => e.spec.backend !== 'kwok').reduce((a, e) => a + (e.status?.step ?? 0), 0);
    const kwokSteps = done.find((e) => e.spec.backend === 'kwok')!.status!.step ?? 0;
    expect(embeddedSteps).to.be.greaterThan(0);
    expect(kwokSteps).to.be.greaterThan(0);
    expect(delta('sim_arena_episode_steps_total', { backend: 'embedded' })).to.equal(embeddedSteps);
    expect(delta('sim_arena_episode_steps_total', { backend: 'kwok' })).to.equal(kwokSteps);
    expect(delta('sim_arena_episode_step_reward_count', { backend: 'embedded' })).to.equal(embeddedSteps);
    expect(delta('sim_arena_episode_replay_duration_seconds_count', { backend: 'kwok' })).to.equal(kwokSteps);
    expect(delta('sim_arena_episode_replay_duration_seconds_sum', { backend: 'kwok' })).to.be.greaterThan(0);
    const solved = done.filter((e) => e.status?.solved);
    expect(delta('sim_arena_episodes_finished_total', { result: 'solved' })).to.equal(solved.length);
    expect(delta('sim_arena_episode_steps_to_solve_count')).to.equal(solved.length);
    expect(sampleSum(after, 'sim_arena_episodes', { phase: 'Succeeded' })).to.equal(4);

    expect(delta('controller_runtime_reconcile_total', { controller: 'arenaepisode' })).to.be.at.least(
      embeddedSteps + kwokSteps,
    );
    expect(delta('controller_runtime_reconcile_time_seconds_count', { controller: 'arenaepisode' })).to.equal(
      delta('controller_runtime_reconcile_total', { controller: 'arenaepisode' }),
    );
    expect(delta('workqueue_adds_total', { name: 'arenaepisode' })).to.be.at.least(4);
    expect(delta('workqueue_queue_duration_seconds_count', { name: 'arenaepisode' })).to.be.greaterThan(0);
    expect(delta('rest_client_requests_total', { method: 'PATCH', code: '200' })).to.be.greaterThan(0);
    expect(delta('rest_client_requests_total', { method: 'GET', code: '200' })).to.be.greaterThan(0);
    expect(sampleSum(after, 'sim_arena_informer_lists_total')).to.be.greaterThan(0);

    // The dashboard's queries name only metrics the operator or the env server export.
    const env = await startEnvServer({ host: '127.0.0.1', port: 0 });
    let envFamilies: Map<string, Family>;
    try {
      envFamilies = await scrape(`${env.url}/metrics`);
    } finally {
      await env.server.close();
    }
    const known = new Set<string>();
    for (const f of [...after.values(), ...envFamilies.values()]) for (const s of f.samples) known.add(s.name);
    for (const f of [...after.values(), ...envFamilies.values()]) known.add(f.name);
    const dashboard = JSON.parse(
      readFileSync(join(REPO_ROOT, 'charts', 'sim-arena', 'dashboards', 'sim-arena.json'), 'utf8'),
    );
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) =>
      (p.targets ?? []).map((t) => t.expr),
    );
    expect(exprs.length).to.be.greaterThan(20);
    const used = new Set(exprs.flatMap(metricNamesIn));
    const unknown = [...used].filter((n) => !known.has(n));
    expect(unknown, `dashboard metrics that do not exist: ${unknown.join(', ')}`).to.deep.equal([]);
    for (const family of [
      'controller_runtime_reconcile_total',
      'workqueue_depth',
      'sim_arena_episodes',
      'sim_arena_envserver_steps_total',
    ])
      expect(
        [...used].some((n) => n.startsWith(family)),
        family,
      ).to.equal(true);
  });

  it('reads metric names out of PromQL', () => {
    expect(
      metricNamesIn('histogram_quantile(0.95, sum by (le, backend) (rate(a_seconds_bucket{x="y"}[5m])))'),
    ).to.deep.equal(['a_seconds_bucket']);
    expect(metricNamesIn('sum(rate(a_total[1m])) / sum(b) and on (pod) c')).to.deep.equal(['a_total', 'b', 'c']);
  });
});
