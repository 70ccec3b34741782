import { expect } from 'chai';
import { syncedAnnotation, syncErrorAnnotation } from '../../../../src/sim/simkube/contract.js';
import {
  dnsLabel,
  fileTracePath,
  labelValue,
  parseDurationSeconds,
  simulationName,
} from '../../../../src/sim/simkube/simulation.js';

const ANNOTATION_KEY = /^simarena\.io\/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

describe('simkube naming', () => {
  it('keeps valid run names as Simulation names', () => {
    expect(simulationName('ep1-3')).to.equal('ep1-3');
    expect(simulationName('a'.repeat(40))).to.equal('a'.repeat(40));
    expect(simulationName('1st-episode-0a1b2c3d-s4')).to.equal('1st-episode-0a1b2c3d-s4');
  });

  it('turns anything else into a DNS label of at most 49 characters, stable and distinct', () => {
    for (const s of ['Ep_One-12', '1abc', 'x'.repeat(80), 'a.b.c', '--weird--', '___']) {
      const n = simulationName(s);
      expect(n, s).to.match(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
      expect(n.length, s).to.be.at.most(49);
      expect(simulationName(s)).to.equal(n);
    }
    expect(simulationName('Ep1')).to.not.equal(simulationName('ep1'));
    expect(dnsLabel('x'.repeat(80), 49)).to.not.equal(dnsLabel(`${'x'.repeat(79)}y`, 49));
  });

  it('makes valid label values', () => {
    expect(labelValue('ep1-3')).to.equal('ep1-3');
    const v = labelValue(`-${'a/'.repeat(50)}`);
    expect(v).to.match(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(v.length).to.be.at.most(63);
  });

  it('builds annotation keys within the 63-character name limit for any node name', () => {
    expect(syncedAnnotation('kwok-node-0')).to.equal('simarena.io/synced.kwok-node-0');
    expect(syncErrorAnnotation('kwok-node-0')).to.equal('simarena.io/sync-error.kwok-node-0');
    const long = `ip-10-0-0-1.${'x'.repeat(80)}.compute.internal`;
    for (const k of [syncedAnnotation(long), syncErrorAnnotation(long)]) expect(k).to.match(ANNOTATION_KEY);
    expect(syncedAnnotation(long)).to.not.equal(syncedAnnotation(`${long}2`));
  });

  it('writes file:/// trace paths', () => {
    expect(fileTracePath('/var/lib/sim-arena/traces/', 'a.sktrace')).to.equal(
      'file:///var/lib/sim-arena/traces/a.sktrace',
    );
  });

  it('parses SimKube durations', () => {
    expect(parseDurationSeconds('90s')).to.equal(90);
    expect(parseDurationSeconds('+5m')).to.equal(300);
    expect(parseDurationSeconds('1h')).to.equal(3600);
    expect(parseDurationSeconds('2m30s')).to.equal(150);
    expect(parseDurationSeconds('10 minutes')).to.equal(600);
    expect(parseDurationSeconds('42')).to.equal(42);
    expect(parseDurationSeconds('soon')).to.equal(undefined);
  });
});
