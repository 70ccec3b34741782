// SimKube's own trace checker on what sim-arena ships and writes: `skctl validate check` (SimKube 2.7, built by
// test/cluster/simkube/build.sh) must import every trace in traces/ and every trace `sim-arena trace apply` writes,
// and find no error (E codes: a ServiceAccount, Secret or ConfigMap the pods need and the trace lacks; W codes are
// warnings). No cluster involved.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { traceCommand } from '../../../src/cli/trace.js';
import { REPO_ROOT } from '../../support/cluster.js';
import { ensureSimkubeBinaries } from '../../support/simkube.js';

export interface SkctlVerdict {
  /** skctl exited 0: SimKube's importer read the trace (version, config, events, index, lifecycles). */
  imported: boolean;
  /** Rule code → number of objects flagged, e.g. {E0001: 2}. */
  findings: Record<string, number>;
  output: string;
}

export function skctlValidate(skctl: string, file: string): SkctlVerdict {
  const r = spawnSync(skctl, ['validate', 'check', file], { encoding: 'utf8', timeout: 60_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const findings: Record<string, number> = {};
  for (const m of output.matchAll(/\(([EW]\d{4})\)\s*\.*\s*(\d+)\s*$/gm)) findings[m[1]!] = Number(m[2]);
  return { imported: r.status === 0, findings, output };
}

const errorsOf = (v: SkctlVerdict): Record<string, number> =>
  Object.fromEntries(Object.entries(v.findings).filter(([k, n]) => k.startsWith('E') && n > 0));

describe('simkube: skctl validate (SimKube 2.7) on the traces sim-arena ships and writes', function () {
  this.timeout(120_000);
  let skctl: string;
  const traceDirs = [path.join(REPO_ROOT, 'traces'), path.join(REPO_ROOT, 'traces', 'corpus')];
  const shipped = traceDirs.flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith('.msgpack'))
      .map((f) => path.join(d, f)),
  );

  before(async function () {
    this.timeout(3_600_000); // a cold build of SimKube's binaries happens here once per machine
    skctl = path.join(await ensureSimkubeBinaries(), 'skctl');
  });

  it('reads a trace it can import and flags one it cannot (the check can fail)', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'skctl-'));
    try {
      const bad = path.join(tmp, 'bad.msgpack');
      writeFileSync(bad, Buffer.from([0x81, 0xa7, ...Buffer.from('version'), 0x03]));
      expect(skctlValidate(skctl, bad).imported).to.equal(false);
      expect(skctlValidate(skctl, shipped[0]!).imported).to.equal(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it(`imports every trace in traces/ with no error (${shipped.length} traces)`, () => {
    expect(shipped.length).to.be.greaterThan(60);
    const problems = shipped.flatMap((f) => {
      const v = skctlValidate(skctl, f);
      const errs = errorsOf(v);
      return !v.imported || Object.keys(errs).length
        ? [
            `${path.relative(REPO_ROOT, f)}: ${v.imported ? JSON.stringify(errs) : v.output.trim().split('\n').slice(-3).join(' / ')}`,
          ]
        : [];
    });
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('imports what `sim-arena trace apply` writes, for every action on every canonical scenario', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'skctl-apply-'));
    const write = process.stdout.write.bind(process.stdout);
    const ewrite = process.stderr.write.bind(process.stderr);
    try {
      const outs: string[] = [];
      process.stdout.write = (() => true) as typeof process.stdout.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      for (const f of readdirSync(traceDirs[0]!).filter((x) => x.endsWith('.msgpack'))) {
        for (const action of ['bump-cpu', 'reduce-cpu', 'bump-mem', 'reduce-mem', 'scale-up', 'scale-down']) {
          const out = path.join(tmp, `${path.basename(f, '.msgpack')}-${action}.msgpack`);
          const rc = await traceCommand([
            'apply',
            path.join(traceDirs[0]!, f),
            '--workload',
            'default/web',
            '--action',
            action,
            '--out',
            out,
          ]);
          if (rc === 0) outs.push(out);
        }
      }
      process.stdout.write = write;
      process.stderr.write = ewrite;
      expect(outs.length).to.be.greaterThan(30);
      const problems = outs.flatMap((f) => {
        const v = skctlValidate(skctl, f);
        const errs = errorsOf(v);
        return !v.imported || Object.keys(errs).length
          ? [`${path.basename(f)}: ${v.imported ? JSON.stringify(errs) : v.output.trim()}`]
          : [];
      });
      expect(problems, problems.join('\n')).to.deep.equal([]);
    } finally {
      process.stdout.write = write;
      process.stderr.write = ewrite;
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
