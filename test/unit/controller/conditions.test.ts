import { expect } from 'chai';
import {
  conditionsEqual,
  findCondition,
  isConditionTrue,
  metaTime,
  removeCondition,
  setCondition,
  type Condition,
} from '../../../src/controller/conditions.js';

const t0 = new Date('2026-01-01T00:00:00.123Z');
const t1 = new Date('2026-01-01T00:05:00.999Z');

describe('controller/conditions', () => {
  it('formats metav1.Time without fractional seconds', () => {
    expect(metaTime(t0)).to.equal('2026-01-01T00:00:00Z');
  });

  it('appends a new condition with lastTransitionTime = now', () => {
    const list = setCondition(
      undefined,
      { type: 'Ready', status: 'False', reason: 'Starting', message: 'm', observedGeneration: 1 },
      t0,
    );
    expect(list).to.deep.equal([
      {
        type: 'Ready',
        status: 'False',
        reason: 'Starting',
        message: 'm',
        observedGeneration: 1,
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ]);
  });

  it('keeps lastTransitionTime when the status does not flip, but updates reason/message/generation', () => {
    const a = setCondition([], { type: 'Ready', status: 'False', reason: 'Starting', observedGeneration: 1 }, t0);
    const b = setCondition(
      a,
      { type: 'Ready', status: 'False', reason: 'StillStarting', message: 'x', observedGeneration: 2 },
      t1,
    );
    expect(b[0]).to.deep.include({
      reason: 'StillStarting',
      message: 'x',
      observedGeneration: 2,
      lastTransitionTime: '2026-01-01T00:00:00Z',
    });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const a = setCondition([], { type: 'Ready', status: 'False', reason: 'Starting' }, t0);
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'Done' }, t1);
    expect(b[0]!.lastTransitionTime).to.equal('2026-01-01T00:05:00Z');
  });

  it('replaces in place, keeps other conditions and order, and never mutates its input', () => {
    const a = setCondition(
      setCondition([], { type: 'Ready', status: 'False', reason: 'R' }, t0),
      { type: 'Progressing', status: 'True', reason: 'P' },
      t0,
    );
    const frozen = JSON.parse(JSON.stringify(a)) as Condition[];
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'Ok' }, t1);
    expect(a).to.deep.equal(frozen);
    expect(b.map((c) => c.type)).to.deep.equal(['Ready', 'Progressing']);
    expect(isConditionTrue(b, 'Ready')).to.equal(true);
    expect(findCondition(b, 'Progressing')?.reason).to.equal('P');
    expect(removeCondition(b, 'Ready').map((c) => c.type)).to.deep.equal(['Progressing']);
  });

  it('drops a message or generation that the update leaves out', () => {
    const a = setCondition(
      [],
      { type: 'Ready', status: 'True', reason: 'R', message: 'old', observedGeneration: 3 },
      t0,
    );
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'R' }, t1);
    expect(b[0]).to.not.have.property('message');
    expect(b[0]).to.not.have.property('observedGeneration');
  });

  it('compares condition lists regardless of order', () => {
    const a = setCondition(
      setCondition([], { type: 'A', status: 'True', reason: 'x' }, t0),
      { type: 'B', status: 'False', reason: 'y' },
      t0,
    );
    const b = [a[1]!, a[0]!];
    expect(conditionsEqual(a, b)).to.equal(true);
    expect(conditionsEqual(a, setCondition(a, { type: 'A', status: 'True', reason: 'z' }, t0))).to.equal(false);
    expect(conditionsEqual(undefined, [])).to.equal(true);
    expect(conditionsEqual(a, a.slice(1))).to.equal(false);
  });
});
