// Map-tree helpers and GVK strings.
import { expect } from 'chai';
import { encodeMsgpack, MsgExt, MsgFloat, type MsgMap, type MsgValue } from '../../../src/trace/msgpack.js';
import {
  asInteger,
  cloneValue,
  describeType,
  fromPlain,
  getIn,
  getString,
  setIn,
  toPlain,
} from '../../../src/trace/model.js';
import {
  BUILTIN_POD_SPEC_TEMPLATE_PATHS,
  formatGvk,
  gvkOf,
  hasReplicas,
  parseGvk,
  podSpecPath,
} from '../../../src/trace/gvk.js';

describe('model helpers', () => {
  it('fromPlain keeps object key order and makes non-integers MsgFloat', () => {
    const m = fromPlain({ b: 1, a: 1.5, c: [true, null, 'x'] }) as MsgMap;
    expect([...m.keys()]).to.deep.equal(['b', 'a', 'c']);
    expect(m.get('a')).to.be.instanceOf(MsgFloat);
    expect(m.get('b')).to.equal(1);
    expect(() => fromPlain(() => 1)).to.throw(TypeError);
  });

  it('toPlain turns string-keyed maps into objects and other maps into pairs', () => {
    const m: MsgMap = new Map<MsgValue, MsgValue>([
      [['v1.Pod', 'ns/p'], new Map<MsgValue, MsgValue>([[2n ** 64n - 1n, ['Empty']]])],
    ]);
    expect(toPlain(m)).to.deep.equal([[['v1.Pod', 'ns/p'], [['18446744073709551615', ['Empty']]]]]);
    expect(toPlain(fromPlain({ a: { b: 2 } }))).to.deep.equal({ a: { b: 2 } });
    expect(toPlain(new MsgFloat(0.5))).to.equal(0.5);
    expect(toPlain(new Uint8Array([1, 2]))).to.equal('AQI=');
    expect(toPlain(new MsgExt(3, new Uint8Array([1])))).to.deep.equal({ ext: 3, data: 'AQ==' });
    expect(toPlain(5n)).to.equal(5);
  });

  it('getIn walks maps and arrays; setIn creates intermediate maps at the end', () => {
    const m = fromPlain({ spec: { containers: [{ name: 'a' }] }, z: 1 }) as MsgMap;
    expect(getString(m, ['spec', 'containers', 0, 'name'])).to.equal('a');
    expect(getIn(m, ['spec', 'containers', 5, 'name'])).to.equal(undefined);
    expect(getIn(m, ['z', 'deeper'])).to.equal(undefined);
    setIn(m, ['spec', 'containers', 0, 'resources', 'requests', 'cpu'], '1');
    expect(getIn(m, ['spec', 'containers', 0, 'resources', 'requests', 'cpu'])).to.equal('1');
    expect([...(getIn(m, ['spec', 'containers', 0]) as MsgMap).keys()]).to.deep.equal(['name', 'resources']);
    expect([...m.keys()]).to.deep.equal(['spec', 'z']);
    expect(() => setIn(m, ['z', 'x', 'y'], 1)).to.throw(TypeError);
  });

  it('cloneValue shares nothing mutable and encodes identically', () => {
    const m = fromPlain({ a: [{ b: 1 }] }) as MsgMap;
    m.set(['k'] as MsgValue, 'array key');
    const c = cloneValue(m);
    expect(Buffer.from(encodeMsgpack(c)).equals(Buffer.from(encodeMsgpack(m)))).to.equal(true);
    setIn(c, ['a', 0, 'b'], 2);
    expect(getIn(m, ['a', 0, 'b'])).to.equal(1);
  });

  it('asInteger and describeType', () => {
    expect(asInteger(3)).to.equal(3);
    expect(asInteger(3n)).to.equal(3n);
    expect(asInteger(new MsgFloat(3))).to.equal(undefined);
    expect(asInteger('3')).to.equal(undefined);
    expect(describeType(undefined)).to.equal('missing');
    expect(describeType(new MsgFloat(1))).to.equal('a float');
    expect(describeType(2n)).to.equal('an integer');
    expect(describeType([])).to.equal('an array');
    expect(describeType(new Map())).to.equal('a map');
  });
});

describe('GVK strings (simkube.md §4.2)', () => {
  it('parses group/version.Kind, version.Kind and /version.Kind', () => {
    expect(parseGvk('apps/v1.Deployment')).to.deep.equal({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect(parseGvk('batch/v1.CronJob')).to.deep.equal({ group: 'batch', version: 'v1', kind: 'CronJob' });
    expect(parseGvk('v1.Pod')).to.deep.equal({ group: '', version: 'v1', kind: 'Pod' });
    expect(parseGvk('/v1.Pod')).to.deep.equal({ group: '', version: 'v1', kind: 'Pod' });
    expect(parseGvk('example.com/v1beta1.Widget')).to.deep.equal({
      group: 'example.com',
      version: 'v1beta1',
      kind: 'Widget',
    });
  });

  it('rejects "Deployment" and other malformed strings', () => {
    for (const s of ['Deployment', 'apps/Deployment', 'apps/v1', 'apps/v1.', '', 'apps/v1.Deploy ment'])
      expect(parseGvk(s), s).to.equal(undefined);
  });

  it('formats and builds GVK strings', () => {
    expect(formatGvk({ group: '', version: 'v1', kind: 'Pod' })).to.equal('v1.Pod');
    expect(formatGvk({ group: 'apps', version: 'v1', kind: 'Deployment' })).to.equal('apps/v1.Deployment');
    expect(gvkOf('apps/v1', 'StatefulSet')).to.equal('apps/v1.StatefulSet');
  });

  it('built-in template paths are the ones TracerConfig::normalize implies', () => {
    expect(BUILTIN_POD_SPEC_TEMPLATE_PATHS).to.deep.equal({
      'batch/v1.CronJob': '/spec/jobTemplate/spec/template',
      'apps/v1.DaemonSet': '/spec/template',
      'apps/v1.Deployment': '/spec/template',
      'batch/v1.Job': '/spec/template',
      'apps/v1.StatefulSet': '/spec/template',
      'apps/v1.ReplicaSet': '/spec',
      'v1.Pod': '',
    });
  });

  it('pod spec paths and replica kinds', () => {
    expect(podSpecPath('Deployment')).to.deep.equal(['spec', 'template', 'spec']);
    expect(podSpecPath('CronJob')).to.deep.equal(['spec', 'jobTemplate', 'spec', 'template', 'spec']);
    expect(podSpecPath('Pod')).to.deep.equal(['spec']);
    expect(podSpecPath('Service')).to.equal(undefined);
    expect(['Deployment', 'StatefulSet', 'ReplicaSet'].every(hasReplicas)).to.equal(true);
    expect(['DaemonSet', 'Job', 'CronJob', 'Pod'].some(hasReplicas)).to.equal(false);
  });
});
