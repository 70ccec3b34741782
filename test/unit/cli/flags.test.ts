// Issue 12: nonsense flags are usage errors (exit 2) with one line that names the flag; internal JS errors are
// never shown raw; the shared spec rules (src/arena/spec-rules.ts).
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '../../../src/cli/args.js';
import { EPISODE_OPTIONS, episodeFromFlags } from '../../../src/cli/episode-flags.js';
import { UsageError } from '../../../src/cli/errors.js';
import { episodeSpec } from '../../../src/arena/episode.js';
import { checkEpisodeSpec, specProblems } from '../../../src/arena/spec-rules.js';
import { cli } from './helpers.js';

const spec = (argv: string[]) => episodeFromFlags(parse(argv, EPISODE_OPTIONS, 'usage').flags);

describe('episode flags follow the shared rules', () => {
  const bad: Array<[string[], RegExp]> = [
    [['--cpu-step=-500m'], /--cpu-step must be above 0/],
    [['--cpu-step', '0'], /--cpu-step must be above 0/],
    [['--mem-step', '0'], /--mem-step must be above 0/],
    [['--node-cpu', '0'], /--node-cpu must be above 0/],
    [['--node-mem', '0'], /--node-mem must be above 0/],
    [['--node-mem=-1Gi'], /--node-mem must be above 0/],
    [['--min-cpu', '2', '--max-cpu', '1'], /--min-cpu \(2\) must not be above --max-cpu \(1\)/],
    [['--min-mem', '2Gi', '--max-mem', '1Gi'], /--min-mem \(2Gi\) must not be above --max-mem \(1Gi\)/],
    [['--min-replicas', '5', '--max-replicas', '2'], /--min-replicas \(5\) must not be above --max-replicas \(2\)/],
    [['--seed', '99999999999999999999'], /--seed must be a whole number from -9007199254740991 to 9007199254740991/],
    [['--step-penalty=-1'], /--step-penalty must be a number from 0 to 1000/],
    [['--cpu-step', 'lots'], /--cpu-step: .*quantity/],
    [['--nodes', '0'], /--nodes must be a whole number from 1/],
  ];
  for (const [argv, msg] of bad) {
    it(`${argv.join(' ')} is a usage error`, () => {
      let err: unknown;
      try {
        spec(argv);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(UsageError);
      expect((err as Error).message).to.match(msg);
      expect((err as Error).message).to.not.include('\n');
    });
  }

  it('accepts the defaults and sensible values', () => {
    const s = spec(['--cpu-step', '250m', '--node-cpu', '4', '--min-cpu', '100m', '--max-cpu', '8', '--seed=-3']);
    expect(s.actions.steps.cpu).to.equal('250m');
    expect(s.seed).to.equal(-3);
  });

  it('the rules name API fields when no surface renames them', () => {
    const s = episodeSpec({
      workload: { kind: 'Deployment', namespace: 'default', name: 'web' },
      target: 3,
      nodePool: { count: 3, cpu: '-1', memory: '1Gi', pods: 10 },
    });
    expect(specProblems(s).map((p) => p.field)).to.deep.equal(['nodePool.cpu']);
    expect(() => checkEpisodeSpec(s)).to.throw(RangeError, 'nodePool.cpu must be above 0');
    expect(() => checkEpisodeSpec(s, (f) => `spec.${f}`)).to.throw('spec.nodePool.cpu must be above 0');
  });
});

describe('CLI messages and exit codes', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sa-flags-'));
  });

  it('--target -1 is one line, exit 2 (not the parseArgs text and the whole usage)', () => {
    const r = cli(['run', '--scenario', 'cpu-slight', '--target', '-1']);
    expect(r.code).to.equal(2);
    expect(r.err.trim().split('\n')).to.have.length(1);
    expect(r.err).to.match(
      /--target needs a value; a value starting with "-" must be attached with "=", e\.g\. --target=-1/,
    );
  });

  it('--cpu-step=-500m and an unknown flag exit 2 with one line', () => {
    for (const argv of [['--cpu-step=-500m'], ['--node-cpu', '0'], ['--bogus']]) {
      const r = cli(['run', '--scenario', 'cpu-slight', ...argv]);
      expect(r.code, argv.join(' ')).to.equal(2);
      expect(r.err.trim().split('\n'), argv.join(' ')).to.have.length(1);
      expect(r.out).to.equal('');
    }
  });

  it('an empty --trace path says so instead of printing an empty path', () => {
    const r = cli(['run', '--trace', '']);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/trace file path is required, got an empty string/);
  });

  it('internal JS errors are never shown raw (index.json of the wrong shape, a deeply nested JSON trace)', () => {
    const b = join(dir, 'batch');
    mkdirSync(b);
    writeFileSync(join(b, 'index.json'), '{}');
    const r1 = cli(['batch', '--traces', b]);
    expect(r1.code).to.equal(1);
    expect(r1.err).to.match(/index\.json: not a list/);
    expect(r1.err).to.not.match(/is not a function|Cannot read properties/);
    const deep = join(dir, 'deep.json');
    writeFileSync(deep, `${'['.repeat(20000)}${']'.repeat(20000)}`);
    const r2 = cli(['trace', 'convert', deep, '--out', join(dir, 'deep.msgpack')]);
    expect(r2.code).to.equal(1);
    expect(r2.err).to.not.match(/Maximum call stack|at .*\.ts:\d+/);
    expect(r2.err.trim().split('\n')).to.have.length(1);
  });

  it('serve refuses an empty --token and fails fast on a kubeconfig that does not exist', () => {
    const t = cli(['serve', '--port', '0', '--token', '']);
    expect(t.code).to.equal(2);
    expect(t.err).to.match(/--token must not be empty/);
    const started = Date.now();
    const k = cli(['serve', '--port', '0', '--backend', 'kwok', '--kubeconfig', '/nonexist']);
    expect(k.code).to.equal(2);
    expect(k.out).to.not.match(/listening/);
    expect(k.err).to.match(/--kubeconfig \/nonexist does not exist/);
    expect(Date.now() - started).to.be.below(20_000);
  });
});
