import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTIONS } from '../../../src/arena/actions.js';
import { getPolicy } from '../../../src/arena/policies.js';
import { registerAgents } from '../../../src/agents/index.js';
import {
  loadQTable,
  parseQTable,
  QTablePolicy,
  qTableConfigMap,
  qTableFromConfigMap,
  qTableFromParams,
  saveQTable,
  serializeQTable,
} from '../../../src/agents/q-table.js';
import { allStateKeys, discretize, excessSteps, fitLevel, STATE_COUNT, stateKey } from '../../../src/agents/state.js';
import { cpuMillis } from '../../../src/trace/quantity.js';
import { train } from '../../../src/agents/train.js';
import { runBenchEpisode } from '../../../src/bench/harness.js';
import { canonicalScenarios, legacyScenarios, defaultLegacyDir } from '../../../src/bench/scenarios.js';
import { episodeSpec } from '../../../src/arena/episode.js';
import { createBackend } from '../../../src/sim/index.js';
import { ctx, obs } from './helpers.js';

const S_CPU_OVER = 'ready=lt pending=yes total=eq cpu=over2 mem=fits';
const S_FITS_PENDING_GONE = 'ready=eq pending=no total=eq cpu=fits mem=fits';

describe('agents: q-table', () => {
  describe('state', () => {
    it('reads relations to the target and whether requests fit the largest node', () => {
      expect(stateKey(discretize(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17' } })))).to.equal(S_CPU_OVER);
      // 33Gi on a 32Gi node with 256Mi steps: 4 steps too large.
      expect(stateKey(discretize(ctx({ obs: obs(5, 0, 5), resources: { memory: '33Gi' } })))).to.equal(
        'ready=gt pending=no total=gt cpu=fits mem=over4',
      );
      // Fitting is judged against the node, so the same request fits a bigger pool.
      expect(
        discretize(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17' }, node: { cpu: '32', memory: '64Gi' } })).cpu,
      ).to.equal('fits');
      // A request exactly the node's size fits; the excess is counted in whole action steps, bucketed in powers of 2.
      expect(discretize(ctx({ obs: obs(0, 3, 3), resources: { cpu: '16' } })).cpu).to.equal('fits');
      expect(
        ['16001m', '17', '17001m', '18', '19', '20', '23', '24', '100'].map((cpu) =>
          fitLevel(cpuMillis(cpu), 16_000n, 500n),
        ),
      ).to.deep.equal(['over1', 'over2', 'over2', 'over4', 'over4', 'over8', 'over8', 'over16', 'over16']);
      expect(excessSteps(ctx({ obs: obs(0, 3, 3), resources: { cpu: '20', memory: '40Gi' } }))).to.deep.equal({
        cpu: 8,
        mem: 32,
      });
      expect(allStateKeys()).to.have.length(STATE_COUNT).and.include(S_CPU_OVER);
    });
  });

  describe('learning', () => {
    it("completes a step's update at the next decide, with the exact next state: Q += α(r + γ max Q(s′) − Q)", () => {
      const p = new QTablePolicy({ alpha: 0.5, gamma: 0.9, epsilon: 0, shaping: 0 });
      p.values(S_FITS_PENDING_GONE).splice(0, 7, 0, 0, 0, 0, 0, 0.4, 0);
      const a = p.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17' }, step: 1 }));
      p.learn({ obs: obs(0, 3, 3), action: a, reward: -0.2, next: obs(3, 0, 3), done: false, target: 3 });
      expect(p.updates, 'nothing yet: the next state is not known until the next decide').to.equal(0);
      p.decide(ctx({ obs: obs(3, 0, 3), step: 2 }));
      const i = ACTIONS.indexOf(a);
      expect(p.table.get(S_CPU_OVER)![i]).to.be.closeTo(0.5 * (-0.2 + 0.9 * 0.4), 1e-12);
      expect(p.visits.get(S_CPU_OVER)![i]).to.equal(1);
    });

    it('does not bootstrap from a solved state, and bootstraps a truncated episode from the next observation', () => {
      const p = new QTablePolicy({ alpha: 1, gamma: 0.5, epsilon: 0, shaping: 0 });
      p.values(S_CPU_OVER).splice(0, 7, 0, 0, 0, 0, 2, 0, 0);
      const a = p.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17' }, step: 10, maxSteps: 10 }));
      expect(a).to.equal('reduce-cpu');
      // Truncated at maxSteps, still Pending: the next state (same fit flags) is worth max 2.
      p.learn({ obs: obs(0, 3, 3), action: a, reward: -1, next: obs(0, 3, 3), done: true, target: 3 });
      expect(p.table.get(S_CPU_OVER)![4]).to.equal(-1 + 0.5 * 2);
      // Solved: terminal, the reward alone.
      p.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17' }, step: 1 }));
      p.learn({ obs: obs(0, 3, 3), action: 'reduce-cpu', reward: 1, next: obs(3, 0, 3), done: true, target: 3 });
      expect(p.table.get(S_CPU_OVER)![4]).to.equal(1);
    });

    it('adds potential-based shaping γΦ(s′) − Φ(s), Φ = −w × steps above the largest node', () => {
      const p = new QTablePolicy({ alpha: 1, gamma: 0.9, epsilon: 0, shaping: 0.1 });
      p.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17' }, step: 1 })); // 2 steps over: Φ = −0.2
      p.learn({ obs: obs(0, 3, 3), action: 'reduce-cpu', reward: -0.45, next: obs(0, 3, 3), done: false, target: 3 });
      p.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '16500m' }, step: 2 })); // 1 step over: Φ = −0.1
      expect(p.table.get(S_CPU_OVER)![4]).to.be.closeTo(-0.45 + 0.9 * -0.1 + 0.2 + 0.9 * 0, 1e-12);
      p.learn({ obs: obs(0, 3, 3), action: 'noop', reward: -0.45, next: obs(0, 3, 3), done: false, target: 3 });
      p.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '16500m' }, step: 3 }));
      // Doing nothing earns less than the step that made progress.
      expect(p.table.get('ready=lt pending=yes total=eq cpu=over1 mem=fits')![0]).to.be.closeTo(
        -0.45 + 0.9 * -0.1 + 0.1,
        1e-12,
      );
    });

    it('drops a pending update that a new episode would wrongly complete', () => {
      const p = new QTablePolicy({ epsilon: 0 });
      const a = p.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17' }, step: 4 }));
      p.learn({ obs: obs(0, 3, 3), action: a, reward: -0.5, next: obs(0, 3, 3), done: false, target: 3 });
      p.decide(ctx({ obs: obs(1, 0, 1), step: 1 })); // step 1 of another episode, not step 5
      expect(p.updates).to.equal(0);
    });

    it('decays ε once per finished episode down to εmin, and never raises a smaller ε', () => {
      const p = new QTablePolicy({ epsilon: 1, epsilonMin: 0.2, epsilonDecay: 0.5 });
      for (let i = 0; i < 4; i++) {
        p.decide(ctx({ obs: obs(0, 3, 3), step: 1 }));
        p.learn({ obs: obs(0, 3, 3), action: 'noop', reward: -1, next: obs(0, 3, 3), done: true, target: 3 });
      }
      expect(p.hp.epsilon).to.equal(0.2);
      expect(p.episodes).to.equal(4);
      const greedy = new QTablePolicy({ epsilon: 0 });
      greedy.endEpisode();
      expect(greedy.hp.epsilon).to.equal(0);
    });

    it('acts greedily with ε = 0, and a frozen table never changes', () => {
      const p = new QTablePolicy({ epsilon: 0 }, { frozen: true });
      p.values(S_CPU_OVER).splice(0, 7, -1, -1, -1, -1, 3, -1, -1);
      for (let seed = 0; seed < 20; seed++)
        expect(p.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17' }, seed, step: 1 }))).to.equal('reduce-cpu');
      p.learn({ obs: obs(0, 3, 3), action: 'reduce-cpu', reward: -1, next: obs(0, 3, 3), done: true, target: 3 });
      expect(p.table.get(S_CPU_OVER)![4]).to.equal(3);
    });
  });

  describe('save and load', () => {
    it('round-trips through JSON, a file and a ConfigMap, and acts the same after loading', () => {
      const p = new QTablePolicy({ alpha: 0.3, gamma: 0.8, epsilon: 0.4 });
      p.values(S_CPU_OVER).splice(0, 7, 0.1, 0.2, 0.3, 0.4, 0.9, 0.5, 0.6);
      p.update(S_CPU_OVER, 4, 1, null);
      const text = serializeQTable(p);
      const back = parseQTable(text);
      expect(back.toJSON()).to.deep.equal(p.toJSON());
      expect(back.hp.alpha).to.equal(0.3);

      const dir = mkdtempSync(join(tmpdir(), 'qt-'));
      saveQTable(join(dir, 'nested', 'm.json'), p);
      const fromFile = loadQTable(join(dir, 'nested', 'm.json'), { epsilon: 0 });
      expect(fromFile.hp.epsilon).to.equal(0);
      expect(fromFile.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17' } }))).to.equal('reduce-cpu');

      const cm = qTableConfigMap(p, 'web-q', 'arena');
      expect(cm).to.deep.include({ apiVersion: 'v1', kind: 'ConfigMap' });
      expect(cm.metadata).to.deep.include({ name: 'web-q', namespace: 'arena' });
      expect(qTableFromConfigMap(cm).toJSON()).to.deep.equal(p.toJSON());
      expect(() => qTableFromConfigMap({ metadata: { name: 'x' }, data: {} })).to.throw(
        /ConfigMap x has no data key "q-table.json"/,
      );
    });

    it('refuses tables it cannot use, saying why', () => {
      const good = new QTablePolicy().toJSON();
      expect(() => parseQTable('{nope')).to.throw(/invalid JSON/);
      expect(() => QTablePolicy.fromJSON({ ...good, kind: 'other' })).to.throw(/kind is "other"/);
      expect(() => QTablePolicy.fromJSON({ ...good, actions: ['noop'] })).to.throw(/actions .* differ/);
      expect(() => QTablePolicy.fromJSON({ ...good, table: { 'ready=lt': [0, 0, 0, 0, 0, 0, 0] } })).to.throw(
        /unknown state "ready=lt"/,
      );
      expect(() => QTablePolicy.fromJSON({ ...good, table: { [S_CPU_OVER]: [0, 0] } })).to.throw(
        /needs 7 finite numbers/,
      );
      const dir = mkdtempSync(join(tmpdir(), 'qt-'));
      writeFileSync(join(dir, 'bad.json'), '[]');
      expect(() => loadQTable(join(dir, 'bad.json'))).to.throw(/bad\.json: not a sim-arena q-table/);
    });

    it('is registered: parameters from strings, a loaded model acts greedily, typos are errors', () => {
      registerAgents();
      const dir = mkdtempSync(join(tmpdir(), 'qt-'));
      const p = new QTablePolicy({ epsilon: 0.7 });
      p.values(S_CPU_OVER).splice(0, 7, 0, 0, 0, 0, 1, 0, 0);
      saveQTable(join(dir, 'm.json'), p);
      const loaded = getPolicy('q-table', { model: join(dir, 'm.json') }) as QTablePolicy;
      expect(loaded.hp.epsilon, 'a loaded table is greedy unless epsilon is given').to.equal(0);
      expect(loaded.decide(ctx({ obs: obs(0, 3, 3), resources: { cpu: '17' } }))).to.equal('reduce-cpu');
      const inline = qTableFromParams({ table: readFileSync(join(dir, 'm.json'), 'utf8'), epsilon: '0.25' });
      expect(inline.hp.epsilon).to.equal(0.25);
      expect(qTableFromParams({ alpha: '0.2', gamma: '0.95' }).hp).to.deep.include({
        alpha: 0.2,
        gamma: 0.95,
        epsilon: 1,
      });
      expect(() => qTableFromParams({ epsilom: '0' })).to.throw(/unknown parameter epsilom/);
      expect(() => qTableFromParams({ alpha: 'fast' })).to.throw(/alpha must be a number/);
      expect(() => qTableFromParams({ alpha: '2' })).to.throw(/alpha must be in \(0, 1\]/);
    });
  });

  describe('training on the embedded simulator', () => {
    it("learns to solve every canonical scenario and carries over to the predecessor's scenarios it never saw", async function () {
      this.timeout(60_000);
      const backend = await createBackend('embedded');
      const scenarios = canonicalScenarios();
      const policy = new QTablePolicy({ epsilonDecay: 0.997 });
      const spec = (s: (typeof scenarios)[number], seed: number) =>
        episodeSpec({ workload: s.workload, target: s.target, maxSteps: 50, seed });
      const curve = await train({ policy, scenarios, episodes: 1500, seed: 5, backend, spec });
      expect(curve).to.have.length(1500);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(curve.slice(-30).map((c) => c.return)), 'returns improve').to.be.greaterThan(
        mean(curve.slice(0, 30).map((c) => c.return)) + 5,
      );
      // Each pass covers every scenario once.
      expect(new Set(curve.slice(0, 9).map((c) => c.scenario)).size).to.equal(9);

      const greedy = QTablePolicy.fromJSON(policy.toJSON(), { epsilon: 0 }, { frozen: true });
      const held = defaultLegacyDir() ? legacyScenarios(defaultLegacyDir()!) : [];
      for (const s of [...scenarios, ...held]) {
        const r = await runBenchEpisode({ name: 'q', make: () => greedy }, s, 1, 11, backend, spec(s, 11));
        expect(r.solved, `${s.id}: ${r.history.map((h) => h.action).join(',')}`).to.equal(true);
      }
    });
  });
});
