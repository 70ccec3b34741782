// The train and bench commands end to end (in-process, embedded backend, small numbers), and what they write.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCommand, perPolicyParams } from '../../../src/cli/bench.js';
import { trainCommand } from '../../../src/cli/train.js';
import { loadQTable } from '../../../src/agents/q-table.js';
import { defaultLegacyDir } from '../../../src/bench/scenarios.js';
import { barChart, lineChart, ticks } from '../../../src/bench/svg.js';
import type { BenchReport } from '../../../src/bench/report.js';
import type { Flags } from '../../../src/cli/args.js';

/** Run a command with stdout/stderr captured. */
async function capture(f: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const w = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  let out = '';
  let err = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await f(), out, err };
  } finally {
    process.stdout.write = w.out;
    process.stderr.write = w.err;
  }
}

/** Minimal well-formedness: one root svg element, tags balanced. */
function expectWellFormedSvg(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
  expect(svg.trimEnd().endsWith('</svg>')).to.equal(true);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (m[1]) expect(stack.pop()).to.equal(m[2]);
    else stack.push(m[2]!);
  }
  expect(stack).to.deep.equal([]);
}

describe('bench and train commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));

  it('train writes a model that loads and acts, and an SVG learning curve', async () => {
    const model = join(dir, 'model.json');
    const plot = join(dir, 'curve.svg');
    const r = await capture(() =>
      trainCommand([
        '--episodes',
        '90',
        '--scenarios',
        'canonical:cpu-slight,canonical:replicas-over,replicas-under',
        '--generated',
        '3',
        '--seed',
        '4',
        '--out',
        model,
        '--plot',
        plot,
        '--curve',
        join(dir, 'curve.json'),
      ]),
    );
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/trained q-table for 90 episodes on 6 scenario\(s\)/);
    expect(r.out).to.match(/greedy evaluation: \d\/6 solved/);
    const q = loadQTable(model, { epsilon: 0 });
    expect(q.episodes).to.equal(90);
    const svg = readFileSync(plot, 'utf8');
    expectWellFormedSvg(svg);
    expect(svg.match(/<polyline /g)).to.have.length(2); // returns and moving average
    const curve = JSON.parse(readFileSync(join(dir, 'curve.json'), 'utf8')) as { episodes: unknown[] };
    expect(curve.episodes).to.have.length(90);
  });

  it('train rejects what does not make sense', async () => {
    const r = await capture(() =>
      trainCommand(['--episodes', '5', '--policy', 'heuristic']).catch(
        (e: Error) => (process.stderr.write(e.message), 2),
      ),
    );
    expect(r.err).to.match(/--policy heuristic does not learn/);
    const t = await capture(() =>
      trainCommand(['--episodes', '5', '--target', '4']).catch((e: Error) => (process.stderr.write(e.message), 2)),
    );
    expect(t.err).to.match(/--target does not apply/);
  });

  it('bench trains a q-table first, runs every policy on every scenario and writes report.json, report.md, the plot and the command', async function () {
    this.timeout(15_000);
    const out = join(dir, 'run');
    const scenarios = defaultLegacyDir()
      ? 'legacy:scale-up,legacy:cpu-mem-both,canonical:composite,canonical:healthy'
      : 'canonical:composite,canonical:healthy,canonical:cpu-mem';
    const argv = [
      '--policies',
      'heuristic,noop,q-table,vpa-like',
      '--scenarios',
      scenarios,
      '--episodes-per-scenario',
      '2',
      '--seed',
      '9',
      '--train-episodes',
      '150',
      '--train-generated',
      '10',
      '--out',
      out,
    ];
    const r = await capture(() => benchCommand(argv));
    expect(r.code, r.err).to.equal(0);
    for (const f of ['report.json', 'report.md', 'solve-rate.svg', 'command.txt', 'q-table.json', 'q-table-curve.svg'])
      expect(existsSync(join(out, f)), f).to.equal(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BenchReport;
    expect(report.episodes).to.have.length(4 * 4 * 2);
    expect(report.meta.command).to.equal(`sim-arena bench ${argv.join(' ')}`);
    expect(readFileSync(join(out, 'command.txt'), 'utf8').trim()).to.equal(report.meta.command);
    expect(report.meta.qTable).to.deep.include({ source: 'trained', episodes: 150, trainingScenarios: 19 });
    expect(report.summary.byPolicy.heuristic!.solveRate).to.equal(1);
    expect(report.summary.byPolicy.noop!.solveRate).to.equal(0.25); // only the healthy scenario
    expect(report.summary.ranking[report.summary.ranking.length - 1]).to.equal('noop');
    // Paired episodes: the same seeds for every policy.
    const seeds = (p: string) => report.episodes.filter((e) => e.policy === p).map((e) => `${e.scenario}#${e.seed}`);
    expect(seeds('q-table')).to.deep.equal(seeds('heuristic'));
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).to.match(/\| [123] \| heuristic \| — \| 100\.0% \| 8\/8 \|/);
    expect(md)
      .to.contain('## Leaderboard')
      .and.contain('## By problem type')
      .and.contain(`sim-arena bench ${argv.join(' ')}`);
    const svg = readFileSync(join(out, 'solve-rate.svg'), 'utf8');
    expectWellFormedSvg(svg);
    expect(svg.match(/<rect x=/g)).to.have.length(4);
    expect(svg).to.contain('noop: 25.0%');

    // --model skips training and evaluates that table.
    const again = await capture(() =>
      benchCommand([
        '--policies',
        'q-table',
        '--scenarios',
        'canonical:healthy',
        '--episodes-per-scenario',
        '1',
        '--model',
        join(out, 'q-table.json'),
        '--out',
        join(dir, 'run2'),
      ]),
    );
    expect(again.code, again.err).to.equal(0);
    const r2 = JSON.parse(readFileSync(join(dir, 'run2', 'report.json'), 'utf8')) as BenchReport;
    expect(r2.meta.qTable).to.deep.include({ source: 'loaded', model: join(out, 'q-table.json') });
    expect(existsSync(join(dir, 'run2', 'q-table.json'))).to.equal(false);
  });

  it('bench takes per-policy parameters and refuses the others', () => {
    const flags = { param: ['external:url=http://127.0.0.1:9/act?x=1', 'vpa-like:mode=defaults'] } as unknown as Flags;
    expect(perPolicyParams(flags, ['external', 'vpa-like', 'noop'])).to.deep.equal({
      external: { url: 'http://127.0.0.1:9/act?x=1' },
      'vpa-like': { mode: 'defaults' },
      noop: {},
    });
    expect(() => perPolicyParams({ param: ['epsilon=0'] } as unknown as Flags, ['q-table'])).to.throw(
      /POLICY:KEY=VALUE/,
    );
    expect(() => perPolicyParams({ param: ['random:x=1'] } as unknown as Flags, ['q-table'])).to.throw(
      /policy random is not in --policies/,
    );
  });

  it('draws charts with sensible axes', () => {
    expect(ticks(0, 1)).to.deep.equal([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(-47, 3)).to.deep.equal([-40, -30, -20, -10, 0]);
    expectWellFormedSvg(
      lineChart({
        title: 'a < b & "c"',
        xLabel: 'x',
        yLabel: 'y',
        series: [{ label: 'one', values: [1], color: '#000' }],
      }),
    );
    const bars = barChart({
      title: 't',
      yLabel: 'y',
      bars: [
        { label: 'full', value: 1 },
        { label: 'half', value: 0.5 },
      ],
    });
    expectWellFormedSvg(bars);
    const heights = [...bars.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"/g)].map((m) =>
      Number(m[1]),
    );
    expect(heights[0]).to.be.closeTo(2 * heights[1]!, 0.02);
    expect(lineChart({ title: 'a < b & "c"', xLabel: 'x', yLabel: 'y', series: [] })).to.contain(
      'a &lt; b &amp; &quot;c&quot;',
    );
  });
});
