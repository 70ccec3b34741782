// spec.hooks: one set of rules for the ArenaEpisode (TypeScript and CRD), the CLI's --hooks file and the Simulation.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHooks } from '../../../src/arena/hooks.js';
import { episodeHooks, toEpisodeSpec, type ArenaEpisodeSpec } from '../../../src/api/episode.js';
import { buildSimulation, KWOK_STAGES_HOOK, simulationHooks } from '../../../src/sim/simkube/simulation.js';
import { readHooksFile } from '../../../src/cli/run.js';

const base: ArenaEpisodeSpec = {
  trace: { configMapRef: { name: 't' } },
  workload: { name: 'web' },
  targetReplicas: 3,
  backend: 'simkube',
};

describe('simulation hooks', () => {
  it('keeps valid hooks in SimKube form, each field as given', () => {
    const h = parseHooks(
      {
        preStart: [{ cmd: 'kubectl', args: ['get', 'ns'] }],
        postRun: [{ cmd: '/bin/true', sendSim: true, ignoreFailure: false }],
        preRun: null,
      },
      'spec.hooks',
    );
    expect(h).to.deep.equal({
      preStart: [{ cmd: 'kubectl', args: ['get', 'ns'] }],
      postRun: [{ cmd: '/bin/true', sendSim: true, ignoreFailure: false }],
    });
  });

  for (const [what, value, message] of [
    ['not an object', [], /must be an object with lists preStart/],
    ['an unknown stage', { onStart: [] }, /spec\.hooks\.onStart: not a hook stage/],
    ['a stage that is not a list', { preRun: { cmd: 'x' } }, /spec\.hooks\.preRun must be a list/],
    ['a hook without cmd', { preRun: [{ args: ['x'] }] }, /spec\.hooks\.preRun\[0\]\.cmd must be a command/],
    ['an empty cmd', { preRun: [{ cmd: ' ' }] }, /\.cmd must be a command/],
    ['a shell line in args', { preRun: [{ cmd: 'sh', args: 'echo hi' }] }, /args must be a list of strings/],
    ['a non-boolean flag', { postRun: [{ cmd: 'x', ignoreFailure: 'no' }] }, /ignoreFailure must be true or false/],
    ['an unknown field', { postStop: [{ cmd: 'x', shell: true }] }, /postStop\[0\]\.shell: unknown field/],
    ['too many hooks', { preStart: Array.from({ length: 17 }, () => ({ cmd: 'x' })) }, /at most 16 hooks/],
  ] as const) {
    it(`refuses ${what}, naming the field`, () => {
      expect(() => parseHooks(value, 'spec.hooks')).to.throw(RangeError, message);
    });
  }

  it('an ArenaEpisode with hooks must use a cluster backend (kwok or simkube); bad hooks fail toEpisodeSpec with the field', () => {
    const hooks = { preRun: [{ cmd: 'kubectl', args: ['version'] }] };
    expect(episodeHooks({ ...base, hooks })).to.deep.equal(hooks);
    expect(() => toEpisodeSpec({ ...base, hooks })).to.not.throw();
    expect(episodeHooks({ ...base, backend: 'kwok', hooks })).to.deep.equal(hooks);
    expect(() => toEpisodeSpec({ ...base, backend: 'kwok', hooks })).to.not.throw();
    // The same words as the CRD's rule (crds/arenaepisodes.simarena.io.yaml), so kubectl and the operator agree.
    const refused =
      /spec\.hooks: hooks run only on backends kwok \(each command as a Job\) and simkube \(SimKube runs them\); the embedded backend has no cluster to run them in: set spec\.backend to kwok or simkube, or remove spec\.hooks/;
    expect(() => toEpisodeSpec({ ...base, backend: 'embedded', hooks })).to.throw(refused);
    expect(() => toEpisodeSpec({ ...base, backend: undefined, hooks })).to.throw(refused);
    const crd = readFileSync(new URL('../../../crds/arenaepisodes.simarena.io.yaml', import.meta.url), 'utf8');
    expect(crd).to.match(refused);
    expect(() => toEpisodeSpec({ ...base, hooks: { preRun: [{}] } } as never)).to.throw(
      /spec\.hooks\.preRun\[0\]\.cmd/,
    );
    expect(episodeHooks({ ...base, hooks: {} }), 'no hook at all').to.equal(undefined);
  });

  it("the Simulation runs sim-arena's KWOK stages hook first, then the user's hooks of each stage in order", () => {
    expect(simulationHooks()).to.deep.equal({ preStartHooks: [KWOK_STAGES_HOOK] });
    const sim = buildSimulation({
      name: 's',
      runName: 'r',
      configMap: 'cm',
      workload: 'Deployment default/web',
      driverImage: 'img',
      driverNamespace: 'simkube',
      tracePath: 'file:///t',
      virtualNsPrefix: 'virtual',
      durationSeconds: 30,
      speed: 1,
      hooks: {
        preStart: [{ cmd: 'a' }, { cmd: 'b' }],
        preRun: [{ cmd: 'c', sendSim: true }],
        postStop: [{ cmd: 'd', ignoreFailure: false }],
      },
    });
    expect(sim.spec.hooks).to.deep.equal({
      preStartHooks: [KWOK_STAGES_HOOK, { cmd: 'a' }, { cmd: 'b' }],
      preRunHooks: [{ cmd: 'c', sendSim: true }],
      postStopHooks: [{ cmd: 'd', ignoreFailure: false }],
    });
  });

  it('--hooks reads our stage names or SimKube hook files (preStartHooks, ...), and says what is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hooks-'));
    const ours = join(dir, 'ours.yaml');
    writeFileSync(ours, 'preRun:\n  - cmd: kubectl\n    args: [get, pods]\n');
    expect(readHooksFile(ours)).to.deep.equal({ preRun: [{ cmd: 'kubectl', args: ['get', 'pods'] }] });
    const simkube = join(dir, 'simkube.yml');
    writeFileSync(simkube, '---\npreStartHooks:\n  - cmd: echo\n    args: [hi]\n    ignoreFailure: false\n');
    expect(readHooksFile(simkube)).to.deep.equal({ preStart: [{ cmd: 'echo', args: ['hi'], ignoreFailure: false }] });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'preRun:\n  - args: [x]\n');
    expect(() => readHooksFile(bad)).to.throw(/--hooks .*bad\.yaml\.preRun\[0\]\.cmd must be a command/);
    expect(() => readHooksFile(join(dir, 'missing.yaml'))).to.throw(/--hooks .*missing\.yaml: ENOENT/);
  });
});
