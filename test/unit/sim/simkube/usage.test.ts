// An observation with usage survives its stay on the Simulation (awaitFinish keeps it as JSON in an annotation).
import { expect } from 'chai';
import { storedUsageFields } from '../../../../src/sim/simkube/usage.js';

describe('simkube: usage fields kept on the Simulation', () => {
  const usage = {
    cpu: { p50: 0.2, p95: 0.2, max: 0.2, request: 0.5, limit: 0.5 },
    memory: { p50: 1, p95: 1, max: 1, request: 2, limit: null },
  };

  it('keeps well-formed fields through JSON', () => {
    const o = { oomKills: 2, restarts: 3, throttling: 0.25, usage, slack: { cpu: 0.6, memory: 2 } };
    expect(storedUsageFields(JSON.parse(JSON.stringify(o)) as never)).to.deep.equal(o);
  });

  it('drops malformed ones and adds nothing without usage', () => {
    expect(storedUsageFields({ oomKills: -1, restarts: 1.5, throttling: 2 } as never)).to.deep.equal({});
    expect(storedUsageFields({})).to.deep.equal({});
  });
});
