// Three-backend agreement on the real test cluster: embedded, kwok and SimKube 2.7 (real sk-ctrl and sk-driver) give
// the same observation at every step of the canonical fixes (the subset run in `npm test`; bench/simkube-agreement.ts
// runs every canonical scenario and corpus traces, with times per replay).
import { expect } from 'chai';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { AgreementRig, formatStep, type AgreementCase } from '../../support/agreement.js';
import { simkubeLogTail } from '../../support/simkube.js';
import { clusterOrSkip } from './helpers.js';

export const AGREEMENT_SUBSET: Array<Omit<AgreementCase, 'trace' | 'workload'>> = [
  { name: 'cpu-slight', actions: ['reduce-cpu', 'reduce-cpu'] },
  { name: 'replicas-over', actions: ['scale-down'] },
];

describe('simkube: embedded, kwok and SimKube 2.7 agree step by step', function () {
  this.timeout(600_000);
  let rig: AgreementRig;

  before(async function () {
    this.timeout(3_600_000); // a cold build of SimKube's binaries happens here once per machine
    const c = await clusterOrSkip(this);
    rig = await AgreementRig.start(c);
  });

  after(async function () {
    this.timeout(120_000);
    await rig?.close();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(`--- driver-runner.log\n${simkubeLogTail('driver-runner.log')}\n`);
  });

  for (const k of AGREEMENT_SUBSET) {
    it(`${k.name}: ${['start', ...k.actions].join(' → ')}`, async () => {
      const { trace, meta } = canonicalScenario(k.name);
      const results = await rig.run({ ...k, trace, workload: meta.workload }, (r) =>
        process.stderr.write(`    ${formatStep(k.name, r)}\n`),
      );
      expect(results).to.have.length(k.actions.length + 1);
      for (const r of results)
        expect(r.observations.simkube, formatStep(k.name, r))
          .to.deep.equal(r.observations.embedded)
          .and.deep.equal(r.observations.kwok);
    });
  }
});
