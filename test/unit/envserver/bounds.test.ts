// The observation never leaves its declared Box (property test over seeded random episodes through the HTTP API),
// and the same seed gives the same episode.
import { expect } from 'chai';
import { mixSeed, mulberry32, randomInt } from '../../../src/util/rng.js';
import { CANONICAL } from '../../../src/trace/generate.js';
import { clip32, inBounds, observationVector, OBSERVATION_COMPONENTS, spaces } from '../../../src/envserver/spaces.js';
import { ACTION, createEnv, testServer, type TestServer } from './helpers.js';

const box = spaces().observation_space;

function expectInBox(obs: number[], where: string): void {
  expect(obs, where).to.have.length(box.shape[0]);
  obs.forEach((x, i) => {
    expect(Number.isFinite(x), `${where}: component ${i} is ${x}`).to.equal(true);
    expect(x, `${where}: ${box.names[i]} = ${x}`).to.be.at.least(box.low[i]!).and.at.most(box.high[i]!);
    expect(Math.fround(x), `${where}: ${box.names[i]} is not a float32`).to.equal(x);
  });
}

describe('env server observation bounds', () => {
  let s: TestServer;
  before(async () => {
    s = await testServer({ maxEnvs: 1000 });
  });
  after(async () => {
    await s.close();
  });

  // Settings that push every component towards and past its bounds: huge steps, tiny and huge targets, small nodes.
  const configs: Array<Record<string, unknown>> = [
    ...CANONICAL.map((c) => ({ scenario: c.meta.name })),
    ...Array.from({ length: 12 }, (_, i) => ({ random: { seed: 17, index: i } })),
    { scenario: 'replicas-under', target: 0 },
    { scenario: 'replicas-over', target: 1, actions: { replicaStep: 40 }, safeguards: { maxReplicas: 1000 } },
    {
      scenario: 'cpu-heavy',
      actions: { cpuStep: '30', memoryStep: '64Gi' },
      safeguards: { maxCpu: '1000', maxMemory: '1Ti' },
    },
    { scenario: 'mem-slight', nodePool: { count: 1, cpu: '1', memory: '1Gi', pods: 2 } },
    { scenario: 'healthy', reward: { mode: 'cost-aware', stepPenalty: 0.5 }, maxSteps: 3 },
  ];

  it('holds over many seeded random steps (every component finite, float32, inside [low, high])', async function () {
    this.timeout(120_000);
    const rng = mulberry32(20240601);
    let steps = 0;
    for (const [ci, cfg] of configs.entries()) {
      const id = await createEnv(s, { ...cfg, maxSteps: (cfg.maxSteps as number | undefined) ?? 25 });
      let r = await s.call('POST', `/v1/envs/${id}/reset`, { seed: mixSeed(ci, 1) });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expectInBox(r.body.observation, `config ${ci} reset`);
      for (let t = 0; t < 80; t++) {
        r = await s.call('POST', `/v1/envs/${id}/step`, { action: randomInt(rng, 7) });
        expect(r.status, JSON.stringify(r.body)).to.equal(200);
        expectInBox(r.body.observation, `config ${ci} step ${t}`);
        expect(r.body.reward).to.be.a('number').and.satisfy(Number.isFinite);
        steps++;
        if (r.body.terminated || r.body.truncated) {
          r = await s.call('POST', `/v1/envs/${id}/reset`, {});
          expectInBox(r.body.observation, `config ${ci} re-reset`);
        }
      }
      await s.call('DELETE', `/v1/envs/${id}`);
    }
    expect(steps).to.equal(configs.length * 80);
  });

  it('clips instead of leaving the box when a count or request is far out of range', async () => {
    const id = await createEnv(s, {
      scenario: 'replicas-over',
      target: 1,
      actions: { replicaStep: 50 },
      safeguards: { maxReplicas: 1000 },
      maxSteps: 5,
    });
    await s.call('POST', `/v1/envs/${id}/reset`, {});
    const r = await s.call('POST', `/v1/envs/${id}/step`, { action: ACTION['scale-up'] });
    expect(r.body.info.resources.replicas).to.equal(55);
    expect(r.body.observation[3]).to.equal(4); // replicas_ratio 55 clipped to 4
    expect(r.body.observation[2]).to.equal(4);
  });
});

describe('env server determinism', () => {
  let s: TestServer;
  before(async () => {
    s = await testServer();
  });
  after(async () => {
    await s.close();
  });

  async function play(id: string, seed: number | undefined, actions: number[]) {
    const out = [(await s.call('POST', `/v1/envs/${id}/reset`, seed === undefined ? {} : { seed })).body];
    for (const action of actions) {
      const r = await s.call('POST', `/v1/envs/${id}/step`, { action });
      if (r.status !== 200) break;
      out.push(r.body);
      if (r.body.terminated || r.body.truncated) break;
    }
    return out;
  }

  it('gives the same episode for the same seed and actions, in one env and across envs', async () => {
    const rng = mulberry32(5);
    const actions = Array.from({ length: 20 }, () => randomInt(rng, 7));
    for (const c of CANONICAL) {
      const a = await createEnv(s, { scenario: c.meta.name, maxSteps: 30 });
      const b = await createEnv(s, { scenario: c.meta.name, maxSteps: 30 });
      const first = await play(a, 123, actions);
      expect(await play(b, 123, actions), c.meta.name).to.deep.equal(first);
      await play(a, 7, actions.slice(0, 3));
      expect(await play(a, 123, actions), `${c.meta.name} after other episodes`).to.deep.equal(first);
    }
  });

  it('continues a seeded chain on unseeded resets: reset(s), reset() repeats exactly', async () => {
    const a = await createEnv(s, { scenario: 'composite', seed: 77 });
    const b = await createEnv(s, { scenario: 'composite', seed: 77 });
    // The first unseeded reset uses the creation seed.
    expect((await s.call('POST', `/v1/envs/${a}/reset`, {})).body.info.seed).to.equal(77);
    const seedsA: number[] = [];
    const seedsB: number[] = [];
    await s.call('POST', `/v1/envs/${a}/reset`, { seed: 123 });
    await s.call('POST', `/v1/envs/${b}/reset`, { seed: 123 });
    for (let i = 0; i < 3; i++) {
      seedsA.push((await s.call('POST', `/v1/envs/${a}/reset`, {})).body.info.seed);
      seedsB.push((await s.call('POST', `/v1/envs/${b}/reset`, {})).body.info.seed);
    }
    expect(seedsA).to.deep.equal(seedsB);
    expect(new Set([123, ...seedsA]).size).to.equal(4);
  });

  it('accepts seeds beyond 32 bits and negative seeds, folding them deterministically', async () => {
    const a = await createEnv(s, { scenario: 'healthy' });
    const big = (await s.call('POST', `/v1/envs/${a}/reset`, { seed: 2 ** 40 + 3 })).body.info.seed;
    expect(big).to.be.within(0, 0xffffffff).and.not.equal(3);
    expect((await s.call('POST', `/v1/envs/${a}/reset`, { seed: 2 ** 40 + 3 })).body.info.seed).to.equal(big);
    const neg = (await s.call('POST', `/v1/envs/${a}/reset`, { seed: -1 })).body.info.seed;
    expect(neg).to.be.within(0, 0xffffffff);
  });
});

describe('observation vector', () => {
  const node = { cpuMillis: 16000n, memoryBytes: 32n * 1024n ** 3n };
  const base = {
    obs: { ready: 3, pending: 0, total: 3 },
    resources: { cpu: '500m', memory: '1Gi', replicas: 3 },
    target: 3,
    largestNode: node,
    step: 2,
    maxSteps: 10,
    lastBlocked: false,
  };

  it('normalises as documented', () => {
    expect(observationVector(base)).to.deep.equal([
      1,
      0,
      1,
      1,
      Math.fround(1 / 32),
      Math.fround(1 / 32),
      1,
      Math.fround(0.2),
      0,
    ]);
  });

  it('stays in bounds for extreme and degenerate inputs', () => {
    const cases = [
      {
        ...base,
        obs: { ready: 1e9, pending: 1e9, total: 1e9 },
        resources: { cpu: '100000', memory: '100Ei', replicas: 1e6 },
      },
      {
        ...base,
        target: 0,
        obs: { ready: 0, pending: 0, total: 0 },
        resources: { cpu: '0', memory: '0', replicas: 0 },
      },
      { ...base, largestNode: { cpuMillis: 0n, memoryBytes: 0n } },
      { ...base, step: 50, maxSteps: 10, lastBlocked: true },
      { ...base, maxSteps: 0 },
    ];
    for (const c of cases) {
      const v = observationVector(c);
      expect(inBounds(v), JSON.stringify(v)).to.equal(true);
    }
  });

  it('clip32 never returns a value outside the bounds, NaN included', () => {
    for (const x of [Number.NaN, -Infinity, Infinity, -1e-45, 4.0000001, 3.9999999, 0.1, 1e308]) {
      const v = clip32(x, 0, 4);
      expect(v).to.be.within(0, 4);
      expect(Math.fround(v)).to.equal(v);
    }
    expect(
      OBSERVATION_COMPONENTS.every((c) => Math.fround(c.low) === c.low && Math.fround(c.high) === c.high),
    ).to.equal(true);
  });
});
