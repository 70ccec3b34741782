import { expect } from 'chai';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Controller } from '../../../src/controller/controller.js';
import type { ArenaEpisodeSpec } from '../../../src/api/episode.js';
import { deleteNamespace, freshNamespace, kubeConfig, waitFor } from '../../support/cluster.js';
import { createEpisode, ensureCrd, outcome, scenarioConfigMap, startOperator, waitForPhase } from './helpers.js';

class Killed extends Error {}

/**
 * Kill the operator the n-th time it reaches `transition` (it stays dead: every later reconcile fails too),
 * then start a new one. The final status must equal an uninterrupted run's.
 */
async function runWithKill(
  kc: KubeConfig,
  ns: string,
  scenario: string,
  spec: Partial<ArenaEpisodeSpec>,
  transition: string | undefined,
  nth: number,
) {
  const cm = await scenarioConfigMap(kc, ns, scenario);
  let seen = 0;
  let dead = false;
  const first: Controller = await startOperator(kc, ns, {
    beforeTransition: (_ep, t) => {
      if (dead) throw new Killed('dead');
      if (t === transition && ++seen === nth) {
        dead = true;
        throw new Killed(`killed at ${t} #${nth}`);
      }
    },
  });
  await createEpisode(kc, ns, 'ep', {
    trace: { configMapRef: { name: cm } },
    targetReplicas: 3,
    maxSteps: 12,
    ...spec,
  });
  let second: Controller | undefined;
  try {
    if (transition) {
      await waitFor(`the operator to die at ${transition}`, async () => dead, 60_000, 50);
      await first.stop();
      second = await startOperator(kc, ns);
    }
    return outcome(await waitForPhase(kc, ns, 'ep', ['Succeeded', 'Failed'], 120_000));
  } finally {
    await first.stop();
    await second?.stop();
  }
}

describe('operator: killed at any phase of a step, a restarted operator ends with the same status', function () {
  this.timeout(300_000);
  let kc: KubeConfig;
  const namespaces: string[] = [];
  const reference = new Map<string, unknown>();

  before(async function () {
    this.timeout(3_600_000);
    kc = await kubeConfig();
    await ensureCrd(kc);
  });
  after(async () => {
    for (const ns of namespaces) await deleteNamespace(kc, ns);
  });

  async function fresh(prefix: string) {
    const ns = await freshNamespace(kc, prefix);
    namespaces.push(ns);
    return ns;
  }

  const cases: Array<{ backend: 'embedded' | 'kwok'; scenario: string; transitions: Array<[string, number]> }> = [
    {
      backend: 'embedded',
      scenario: 'composite',
      // Each transition of a step, early (first step) and in the middle of the episode.
      transitions: [
        ['begin', 1],
        ['start-run', 1],
        ['poll', 1],
        ['record', 1],
        ['cleanup', 1],
        ['act', 1],
        ['start-run', 3],
        ['poll', 3],
        ['record', 3],
        ['act', 3],
        ['cleanup', 4],
      ],
    },
    {
      backend: 'kwok',
      scenario: 'replicas-over',
      transitions: [
        ['poll', 2],
        ['record', 2],
        ['cleanup', 2],
      ],
    },
  ];

  for (const c of cases) {
    describe(`${c.backend} backend, ${c.scenario}`, () => {
      const spec: Partial<ArenaEpisodeSpec> = { backend: c.backend, stepDuration: '60s' };
      before(async function () {
        this.timeout(180_000);
        const ns = await fresh(`ref-${c.backend}`);
        const ref = await runWithKill(kc, ns, c.scenario, spec, undefined, 0);
        expect(ref.phase).to.equal('Succeeded');
        expect(ref.solved).to.equal(true);
        expect(ref.history.length).to.be.greaterThan(1);
        reference.set(c.backend, ref);
      });
      for (const [transition, nth] of c.transitions) {
        it(`killed at ${transition} #${nth}`, async () => {
          const ns = await fresh(`kill-${c.backend}`);
          const got = await runWithKill(kc, ns, c.scenario, spec, transition, nth);
          expect(got).to.deep.equal(reference.get(c.backend));
        });
      }
    });
  }
});
