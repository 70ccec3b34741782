// Issue 12: failed writes never destroy inputs or earlier outputs; outputs appear only when a command succeeds;
// output paths are checked before long work. Failures are real: a file size limit (ulimit -f) in a child process.
import { expect } from 'chai';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkWritableFile, writeDirAtomic, writeFileAtomic } from '../../../src/util/atomic-write.js';
import { cli } from './helpers.js';

describe('atomic outputs (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let scen: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sa-outputs-'));
    scen = join(dir, 'scenarios');
    const r = cli(['trace', 'scenarios', '--out', scen]);
    expect(r.code, r.err).to.equal(0);
  });

  const noTemps = (d: string) =>
    expect(readdirSync(d).filter((f) => f.includes('.tmp') || f.endsWith('.new') || f.endsWith('.old'))).to.deep.equal(
      [],
    );

  it('trace apply (in place) under a file size limit leaves its input as it was and says why in one line', () => {
    const input = join(dir, 'apply-in.msgpack');
    copyFileSync(join(scen, 'cpu-slight.msgpack'), input);
    const before = readFileSync(input);
    const r = cli(['trace', 'apply', input, '--workload', 'default/web', '--action', 'bump-mem'], {
      fileSizeBlocks: 0,
    });
    expect(r.code).to.equal(1);
    expect(r.err.trim().split('\n')).to.have.length(1);
    expect(r.err).to.match(/file too large/);
    expect(readFileSync(input).equals(before)).to.equal(true);
    noTemps(dir);
    // Without the limit the same command changes the file.
    expect(cli(['trace', 'apply', input, '--workload', 'default/web', '--action', 'bump-mem']).code).to.equal(0);
    expect(readFileSync(input).equals(before)).to.equal(false);
  });

  it('trace apply: a blocked action exits 3, leaves the trace unchanged, and the help documents exit code 3', () => {
    const input = join(dir, 'blocked.msgpack');
    copyFileSync(join(scen, 'cpu-slight.msgpack'), input);
    const before = readFileSync(input);
    const r = cli(['trace', 'apply', input, '--workload', 'default/web', '--action', 'bump-cpu']);
    expect(r.code).to.equal(3);
    expect(r.err).to.match(/above the cap of 16; the trace is unchanged/);
    expect(readFileSync(input).equals(before)).to.equal(true);
    expect(cli(['trace', '--help']).out).to.match(/3 apply: the action was blocked by a safeguard/);
  });

  it('trace convert and upgrade under a file size limit leave an existing output as it was', () => {
    const out = join(dir, 'convert-out.msgpack');
    writeFileSync(out, 'earlier output');
    const json = join(dir, 'plain.json');
    writeFileSync(
      json,
      JSON.stringify({ version: 2, config: { trackedObjects: {} }, events: [], index: {}, pod_lifecycles: {} }),
    );
    const r = cli(['trace', 'convert', json, '--out', out], { fileSizeBlocks: 0 });
    expect(r.code).to.equal(1);
    expect(readFileSync(out, 'utf8')).to.equal('earlier output');
    noTemps(dir);
  });

  it('run --out-dir: a failed run leaves the previous steps.jsonl and summary.json as they were', () => {
    const out = join(dir, 'run-out');
    expect(cli(['run', '--scenario', 'cpu-slight', '--out-dir', out]).code).to.equal(0);
    const steps = readFileSync(join(out, 'steps.jsonl'), 'utf8');
    const summary = readFileSync(join(out, 'summary.json'), 'utf8');
    expect(steps.trim().split('\n').length).to.be.greaterThan(0);
    const r = cli(['run', '--scenario', 'cpu-heavy', '--out-dir', out], { fileSizeBlocks: 0 });
    expect(r.code).to.equal(1);
    expect(readFileSync(join(out, 'steps.jsonl'), 'utf8')).to.equal(steps);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).to.equal(summary);
    noTemps(out);
  });

  it('run --out-dir that cannot be a folder fails before the episode, as a usage error', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = cli(['run', '--scenario', 'cpu-slight', '--out-dir', join(file, 'sub')]);
    expect(r.code).to.equal(2);
    expect(r.out).to.equal('');
    expect(r.err).to.match(/--out-dir .*cannot write there/);
  });

  it('train --out x.json --plot DIR fails on the plot path before training and writes nothing', () => {
    const model = join(dir, 'model.json');
    const plotDir = join(dir, 'plot-dir');
    mkdirSync(plotDir);
    const r = cli(['train', '--episodes', '5', '--quiet', '--out', model, '--plot', plotDir]);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/--plot .*cannot write there \(EISDIR\)/);
    expect(existsSync(model)).to.equal(false);
  });

  it('batch --out into a folder that is a file fails before any episode', () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = cli(['batch', '--traces', scen, '--out', join(file, 'report.json')]);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/--out .*cannot write there \(ENOTDIR\)/);
    expect(r.err).to.not.match(/batch \d+\/\d+/);
  });

  it('trace generate refuses a non-empty folder and, with --replace, swaps the whole folder (no stale files)', () => {
    const out = join(dir, 'corpus');
    mkdirSync(out);
    writeFileSync(join(out, 'stale.msgpack'), 'old');
    const refused = cli(['trace', 'generate', '--out', out, '--count', '2']);
    expect(refused.code).to.equal(2);
    expect(refused.err).to.match(/not empty.*--replace/);
    expect(readdirSync(out)).to.deep.equal(['stale.msgpack']);
    const ok = cli(['trace', 'generate', '--out', out, '--count', '2', '--replace']);
    expect(ok.code, ok.err).to.equal(0);
    const files = readdirSync(out).sort();
    expect(files).to.not.include('stale.msgpack');
    expect(files.filter((f) => f.endsWith('.msgpack'))).to.have.length(2);
    expect(files).to.include('index.json');
    expect(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'))).to.have.length(2);
    noTemps(dir);
  });

  it('trace generate under a file size limit leaves the old folder whole', () => {
    const out = join(dir, 'corpus2');
    expect(cli(['trace', 'generate', '--out', out, '--count', '2']).code).to.equal(0);
    const before = readdirSync(out).sort();
    const r = cli(['trace', 'generate', '--out', out, '--count', '3', '--replace'], { fileSizeBlocks: 0 });
    expect(r.code).to.equal(1);
    expect(readdirSync(out).sort()).to.deep.equal(before);
    noTemps(dir);
  });
});

describe('atomic-write util', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sa-atomic-'));
  });

  it('writes, replaces and refuses a folder as a file', () => {
    const p = join(dir, 'sub', 'a.txt');
    writeFileAtomic(p, 'one');
    writeFileAtomic(p, 'two');
    expect(readFileSync(p, 'utf8')).to.equal('two');
    expect(() => writeFileAtomic(join(dir, 'sub'), 'x')).to.throw(/directory/);
    expect(readdirSync(join(dir, 'sub'))).to.deep.equal(['a.txt']);
    expect(() => checkWritableFile(join(dir, 'sub'))).to.throw(/directory/);
  });

  it('writeDirAtomic leaves the target untouched when filling fails', async () => {
    const d = join(dir, 'out');
    mkdirSync(d);
    writeFileSync(join(d, 'keep'), 'k');
    let err: unknown;
    try {
      await writeDirAtomic(
        d,
        (staging) => {
          writeFileSync(join(staging, 'half'), 'h');
          throw new Error('boom');
        },
        { replace: true },
      );
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.equal('boom');
    expect(readdirSync(d)).to.deep.equal(['keep']);
    expect(readdirSync(dir).sort()).to.deep.equal(['out', 'sub']);
  });
});
