// The env server and the evaluation protocol: info.action_mask, scenario sampling on reset (options.scenario,
// options.split), create from a split (random: {split, seed, index}) and GET /v1/splits.
import { expect } from 'chai';
import { splitScenarios } from '../../../src/trace/splits.js';
import { ACTION, createEnv, testServer, type TestServer } from './helpers.js';

describe('env server: evaluation protocol', () => {
  let s: TestServer;
  before(async () => {
    s = await testServer();
  });
  after(async () => {
    await s.close();
  });

  it('info.action_mask marks the actions a bound blocks, and a blocked action really is blocked', async () => {
    // mem-slight: memory 33Gi is above the 32Gi cap, so bump-mem is blocked; scale-down is fine (3 > 1)
    const id = await createEnv(s, { scenario: 'mem-slight', safeguards: { minReplicas: 3 } });
    const r = await s.call('POST', `/v1/envs/${id}/reset`, { seed: 1 });
    const mask = r.body.info.action_mask as number[];
    expect(mask).to.have.length(7);
    expect(mask[ACTION.noop]).to.equal(1);
    expect(mask[ACTION['bump-mem']]).to.equal(0);
    expect(mask[ACTION['scale-down']]).to.equal(0); // at minReplicas 3
    expect(mask[ACTION['reduce-mem']]).to.equal(1);
    for (const [a, ok] of mask.entries()) {
      if (a === ACTION.noop) continue;
      const probe = await createEnv(s, { scenario: 'mem-slight', safeguards: { minReplicas: 3 } });
      await s.call('POST', `/v1/envs/${probe}/reset`, { seed: 1 });
      const st = await s.call('POST', `/v1/envs/${probe}/step`, { action: a });
      expect(st.body.info.blocked, `action ${a}`).to.equal(ok === 0);
      await s.call('DELETE', `/v1/envs/${probe}`);
    }
    // after a step the mask follows the new trace: 1 replica is the floor, 2 is not
    const up = await createEnv(s, { scenario: 'replicas-under' });
    expect((await s.call('POST', `/v1/envs/${up}/reset`, {})).body.info.action_mask[ACTION['scale-down']]).to.equal(0);
    const st = await s.call('POST', `/v1/envs/${up}/step`, { action: ACTION['scale-up'] });
    expect(st.body.info.action_mask[ACTION['scale-down']]).to.equal(1);
  });

  it('reset(options={"split": S}) draws a scenario of that split from the seed; the same seed draws the same one', async () => {
    const id = await createEnv(s, {});
    const ids = new Set(splitScenarios('test').map((x) => x.id));
    const seen = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const r = await s.call('POST', `/v1/envs/${id}/reset`, { seed, options: { split: 'test' } });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(ids.has(r.body.info.scenario)).to.equal(true);
      const again = await s.call('POST', `/v1/envs/${id}/reset`, { seed, options: { split: 'test' } });
      expect(again.body.info.scenario).to.equal(r.body.info.scenario);
      expect(again.body.observation).to.deep.equal(r.body.observation);
      seen.add(r.body.info.scenario);
    }
    expect(seen.size).to.be.greaterThan(3);
    // the target and node pool follow the scenario
    const r = await s.call('POST', `/v1/envs/${id}/reset`, { seed: 5, options: { split: 'test' } });
    const sc = splitScenarios('test').find((x) => x.id === r.body.info.scenario)!;
    expect(r.body.info.target).to.equal(sc.target);
    expect(r.body.info.largest_node.cpu).to.equal(sc.nodePool!.cpu);
  });

  it('reset(options={"scenario": NAME}) starts from that scenario (canonical name or split id), and later resets keep it', async () => {
    const id = await createEnv(s, { scenario: 'healthy' });
    const r = await s.call('POST', `/v1/envs/${id}/reset`, { options: { scenario: 'replicas-over' } });
    expect(r.body.info.scenario).to.equal('canonical:replicas-over');
    expect(r.body.info.resources.replicas).to.equal(5);
    expect((await s.call('POST', `/v1/envs/${id}/reset`, {})).body.info.scenario).to.equal('canonical:replicas-over');
    const gid = splitScenarios('val')[2]!.id;
    expect((await s.call('POST', `/v1/envs/${id}/reset`, { options: { scenario: gid } })).body.info.scenario).to.equal(
      gid,
    );
  });

  it('creates from a split: random {split, index} and {split, seed}; bad ones are 400 with the reason', async () => {
    const want = splitScenarios('test')[7]!;
    const r = await s.call('POST', '/v1/envs', { random: { split: 'test', index: 7 } });
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    const reset = await s.call('POST', `/v1/envs/${r.body.id}/reset`, {});
    expect(reset.body.info.scenario).to.equal(want.id);
    expect(reset.body.info.target).to.equal(want.target);
    expect(reset.body.info.largest_node.cpu).to.equal(want.nodePool!.cpu);
    const a = await s.call('POST', '/v1/envs', { random: { split: 'train', seed: 9 } });
    const b = await s.call('POST', '/v1/envs', { random: { split: 'train', seed: 9 } });
    expect(a.body.env.source).to.equal(b.body.env.source);
    for (const [body, msg] of [
      [{ random: { split: 'dev' } }, /random.split must be one of train, val, test, real/],
      [{ random: { split: 'test', index: 40 } }, /random.index/],
    ] as const) {
      const bad = await s.call('POST', '/v1/envs', body);
      expect(bad.status).to.equal(400);
      expect(bad.body.error).to.match(msg);
    }
  });

  it('GET /v1/splits lists each split with its families and scenarios', async () => {
    const r = await s.call('GET', '/v1/splits');
    expect(r.status).to.equal(200);
    expect(Object.keys(r.body.splits)).to.deep.equal(['train', 'val', 'test', 'real']);
    expect(r.body.splits.test.scenarios).to.have.length(40);
    expect(r.body.splits.test.scenarios[3]).to.include({ index: 3, id: splitScenarios('test')[3]!.id });
    expect(r.body.splits.train.families.join(' ')).to.match(/canonical/);
  });
});
