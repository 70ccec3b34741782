// Usage on every command that runs many episodes: batch --usage FILE / --usage-synth, bench (report.json records
// the reward mode and the usage), train, and the MCP server's tool arguments.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchCommand } from '../../../src/cli/batch.js';
import { benchCommand } from '../../../src/cli/bench.js';
import { trainCommand } from '../../../src/cli/train.js';
import type { BenchReport } from '../../../src/bench/report.js';
import { episodeSpec } from '../../../src/arena/episode.js';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { cloneValue } from '../../../src/trace/model.js';
import { serializeUsage } from '../../../src/trace/usage/format.js';
import { synthesizeUsage } from '../../../src/trace/usage/synth.js';
import { createBackend } from '../../../src/sim/index.js';
import { ClusterTools } from '../../../src/mcp/cluster.js';
import { EpisodeSession } from '../../../src/mcp/episode.js';
import { LATEST_PROTOCOL_VERSION, type McpServer } from '../../../src/mcp/protocol.js';
import { createArenaServer } from '../../../src/mcp/server.js';
import { registerAgents } from '../../../src/agents/index.js';

async function capture(f: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const w = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  let out = '';
  let err = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await f().catch((e: Error) => ((err += e.message), 2)), out, err };
  } finally {
    process.stdout.write = w.out;
    process.stderr.write = w.err;
  }
}

const web = { kind: 'Deployment', namespace: 'default', name: 'web' };
const TRACES = new URL('../../../traces', import.meta.url).pathname;

interface BatchReport {
  aggregate: { reward: string; usage: Record<string, unknown> | null; errors: number; meanReturn: number };
  episodes: Array<{ name: string; totalReward: number; steps: number; error: string | null }>;
}

describe('usage on batch, bench, train and MCP', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'usage-surfaces-'));
  const usageFile = join(dir, 'web.usage.json');
  writeFileSync(
    usageFile,
    serializeUsage(
      synthesizeUsage({
        workloads: [{ workload: web }],
        patterns: ['constant'],
        cpu: '1',
        memory: '40Gi', // above any request the canonical traces can reach: OOM kills whatever the policy does
        duration: 3600,
        interval: 30,
        seed: 0,
        period: 3600,
      }),
    ),
  );
  before(() => registerAgents());

  const batch = async (args: string[]) => {
    const r = await capture(() => batchCommand(['--traces', TRACES, '--steps', '4', '--json', ...args]));
    return { ...r, report: r.out ? (JSON.parse(r.out) as BatchReport) : undefined };
  };

  it('batch --usage FILE: every trace reads the file, the reward is rightsizing and the episodes run to the horizon', async () => {
    const plain = await batch([]);
    const r = await batch(['--usage', usageFile]);
    expect(r.code, r.err).to.equal(0);
    expect(r.report!.aggregate).to.deep.include({ reward: 'rightsizing', errors: 0 });
    expect(r.report!.aggregate.usage).to.deep.equal({ kind: 'file', file: usageFile });
    expect(plain.report!.aggregate).to.deep.include({ reward: 'shaped', usage: null });
    // A continuing task: even traces solved at once (healthy) run every step; OOM kills cost every step.
    for (const e of r.report!.episodes) expect(e.steps, e.name).to.equal(4);
    expect(r.report!.aggregate.meanReturn).to.be.lessThan(plain.report!.aggregate.meanReturn);
  });

  it('batch --usage FILE without a series for a trace: that row says so, the rest run', async () => {
    const other = join(dir, 'other.usage.json');
    const u = JSON.parse(readFileSync(usageFile, 'utf8')) as { series: Array<{ workload: { name: string } }> };
    u.series[0]!.workload.name = 'api';
    writeFileSync(other, JSON.stringify(u));
    const r = await batch(['--usage', other]);
    expect(r.code).to.equal(1);
    expect(r.report!.episodes.every((e) => /no usage for Deployment default\/web/.test(e.error ?? ''))).to.equal(true);
  });

  it('batch --usage-synth: seeded load per episode; another seed gives another episode, the same seed the same', async () => {
    const args = ['--usage-synth', 'bursty+noise', '--usage-cpu', '200m', '--usage-mem', '200Mi', '--policy', 'noop'];
    const a = await batch([...args, '--seed', '1']);
    expect(a.code, a.err).to.equal(0);
    expect(a.report!.aggregate.usage).to.deep.include({ kind: 'synth', patterns: 'bursty+noise', cpu: '200m' });
    const again = await batch([...args, '--seed', '1']);
    const b = await batch([...args, '--seed', '2']);
    const returns = (x: typeof a) => x.report!.episodes.map((e) => e.totalReward);
    expect(returns(again)).to.deep.equal(returns(a));
    expect(returns(b)).to.not.deep.equal(returns(a));
  });

  it('usage flags that do not fit are one-line errors', async () => {
    expect((await batch(['--usage', usageFile, '--usage-synth', 'diurnal'])).err).to.match(/not both/);
    expect((await batch(['--usage-mem', '1Gi'])).err).to.match(/--usage-mem goes with --usage-synth/);
    expect((await batch(['--usage-synth', 'wavy'])).err).to.match(/unknown pattern "wavy"/);
    expect((await batch(['--usage-synth', 'diurnal', '--usage-cpu', 'lots'])).err).to.match(/--usage-cpu/);
    expect((await batch(['--usage-noise', '0.1'])).err).to.match(/--usage-noise needs --usage FILE or --usage-synth/);
  });

  it('bench --usage-synth: report.json carries the reward mode and the usage; rewards are rightsizing ones', async () => {
    const out = join(dir, 'bench');
    const argv = [
      '--out',
      out,
      '--policies',
      'heuristic,noop',
      '--scenarios',
      'canonical:healthy,canonical:mem-slight',
    ];
    const r = await capture(() =>
      benchCommand([...argv, '--usage-synth', 'diurnal', '--usage-mem', '2Gi', '--steps', '5', '--seeds', '2']),
    );
    expect(r.code, r.err).to.equal(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BenchReport;
    expect(report.meta.reward).to.equal('rightsizing');
    expect(report.meta.usage).to.deep.include({ kind: 'synth', patterns: 'diurnal', memory: '2Gi' });
    expect(report.episodes).to.have.length(2 * 2 * 2);
    // healthy starts at the goal but still runs 5 steps, each observed with usage.
    const healthy = report.episodes.find((e) => e.name === 'healthy' && e.policy === 'noop')!;
    expect(healthy.steps).to.equal(5);
    expect(healthy.final.observation).to.have.property('oomKills');
    expect(readFileSync(join(out, 'report.md'), 'utf8')).to.match(/usage synthesized per episode \(`diurnal`/);
  });

  it('bench --usage FILE that misses a scenario fails before any episode, naming it', async () => {
    const u = JSON.parse(readFileSync(usageFile, 'utf8')) as { series: Array<{ workload: { name: string } }> };
    u.series[0]!.workload.name = 'api';
    const other = join(dir, 'api.usage.json');
    writeFileSync(other, JSON.stringify(u));
    const r = await capture(() =>
      benchCommand([
        '--out',
        join(dir, 'b2'),
        '--policies',
        'noop',
        '--scenarios',
        'canonical:healthy',
        '--usage',
        other,
      ]),
    );
    expect(r.code).to.equal(2);
    expect(r.err).to.match(
      /does not fit scenario canonical:healthy: .*no usage for Deployment default\/web.*--usage-synth/,
    );
  });

  it('train --usage FILE and --usage-synth train on usage episodes', async () => {
    for (const u of [
      ['--usage', usageFile],
      ['--usage-synth', 'trend', '--usage-cpu', '500m'],
    ]) {
      const r = await capture(() =>
        trainCommand(['--episodes', '6', '--scenarios', 'canonical:healthy', '--steps', '3', '--quiet', ...u]),
      );
      expect(r.code, r.err).to.equal(0);
      // 6 episodes × 3 steps each (a continuing task: healthy is solved at once yet runs to the horizon)
      expect(r.out).to.match(/18 updates/);
    }
  });

  describe('MCP tool arguments', () => {
    let server: McpServer;
    let id = 0;
    const call = async (name: string, args: Record<string, unknown> = {}) =>
      (
        (await server.handle({
          jsonrpc: '2.0',
          id: ++id,
          method: 'tools/call',
          params: { name, arguments: args },
        })) as {
          result: { structuredContent: Record<string, unknown>; isError: boolean };
        }
      ).result;

    beforeEach(async () => {
      const s = canonicalScenario('healthy');
      server = createArenaServer({
        session: new EpisodeSession(
          { label: 'healthy', trace: () => cloneValue(s.trace) },
          episodeSpec({ workload: s.meta.workload, target: s.meta.target, maxSteps: 3, seed: 1 }),
          await createBackend('embedded'),
        ),
        cluster: new ClusterTools({ kubeconfig: '/nonexistent/kubeconfig' }),
      });
      await server.handle({
        jsonrpc: '2.0',
        id: ++id,
        method: 'initialize',
        params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {} },
      });
    });

    it('observe with usage_synth restarts with usage: rightsizing, usage fields, runs to the horizon', async () => {
      const before = (await call('observe')).structuredContent;
      expect(before).to.deep.include({ solved: true, done: true, reward: 'shaped', usage: null });
      const o = await call('observe', { usage_synth: 'constant', usage_mem: '40Gi' });
      expect(o.isError).to.equal(false);
      const v = o.structuredContent;
      expect(v).to.deep.include({ reward: 'rightsizing', step: 0, done: false });
      expect((v.observation as { oomKills: number }).oomKills).to.be.greaterThan(0);
      for (let i = 0; i < 3; i++) expect((await call('act', { action: 'noop' })).isError).to.equal(false);
      expect((await call('observe')).structuredContent).to.deep.include({ step: 3, done: true });
      // "none" drops usage again
      expect((await call('observe', { usage_synth: 'none' })).structuredContent).to.deep.include({
        reward: 'shaped',
        usage: null,
        done: true,
      });
    });

    it('observe with a usage document (sim-arena format)', async () => {
      const doc = JSON.parse(readFileSync(usageFile, 'utf8')) as unknown;
      const v = (await call('observe', { usage: doc, reward: 'shaped' })).structuredContent;
      expect(v).to.deep.include({ reward: 'shaped', done: false });
      expect(v.usage).to.deep.include({ source: 'synth constant seed=0' });
    });

    it('bad usage arguments are tool errors the model can read', async () => {
      const err = async (args: Record<string, unknown>) => (await call('observe', args)).structuredContent.error;
      expect(await err({ usage_synth: 'wavy' })).to.match(/unknown pattern "wavy"/);
      expect(await err({ usage: { format: 'nope' } })).to.match(/invalid usage: .*format/);
      expect(await err({ usage_cpu: '1' })).to.match(/usage_cpu and usage_mem go with usage_synth/);
      expect(await err({ usage_synth: 'constant', usage_mem: 'big' })).to.match(/argument "usage_mem"/);
    });
  });
});
