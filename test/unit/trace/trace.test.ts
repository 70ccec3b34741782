// decodeTrace: the v2 format rules of simkube.md §4 (4.2-4.5), each failing with a TraceError that names the field.
import { expect } from 'chai';
import { encodeMsgpack, MsgFloat, type MsgMap, type MsgValue } from '../../../src/trace/msgpack.js';
import { fromPlain, getIn, setIn } from '../../../src/trace/model.js';
import {
  decodeTrace,
  encodeTrace,
  objectKey,
  TOP_LEVEL_KEYS,
  traceEvents,
  TraceError,
  validateTrace,
  type Trace,
} from '../../../src/trace/trace.js';
import { buildTrace, deletionStub, expectTraceError, LEGACY_NAMED, readFixture, workloadObject } from './helpers.js';

/** simkube.md §4.6: the minimal valid trace (Deployment web, namespace default, 3 replicas). */
function minimal(): Trace {
  return buildTrace(
    [
      {
        ts: 1730390400,
        applied_objs: [workloadObject({ replicas: 3, containers: [{ name: 'web', cpu: '100m', memory: '128Mi' }] })],
      },
      { ts: 1730390700 },
    ],
    { index: { 'apps/v1.Deployment': { 'default/web': 0 } } },
  );
}

function decodeMutated(mutate: (t: Trace) => void): ReturnType<typeof decodeTrace> {
  const t = minimal();
  mutate(t);
  return decodeTrace(encodeTrace(t));
}

function expectRejected(mutate: (t: Trace) => void, field: string | RegExp): TraceError {
  return expectTraceError(() => decodeMutated(mutate), field);
}

function events(t: Trace): MsgMap[] {
  return t.get('events') as MsgMap[];
}

function firstObject(t: Trace): MsgMap {
  return (events(t)[0]!.get('applied_objs') as MsgMap[])[0]!;
}

describe('trace decoding and validation (format v2)', () => {
  describe('valid traces', () => {
    it('the minimal trace of §4.6 decodes without warnings and re-encodes byte-identically', () => {
      const bytes = encodeTrace(minimal());
      const { trace, warnings } = decodeTrace(bytes);
      expect(warnings).to.deep.equal([]);
      expect([...trace.keys()]).to.deep.equal([...TOP_LEVEL_KEYS]);
      expect(Buffer.compare(Buffer.from(encodeTrace(trace)), Buffer.from(bytes))).to.equal(0);
    });

    it('the real SimKube traces decode without warnings', () => {
      for (const f of ['bare-pods.sktrace', 'cronjob.sktrace']) {
        const { warnings } = decodeTrace(readFixture('simkube', 'traces', f));
        expect(warnings, f).to.deep.equal([]);
      }
    });

    it('cronjob.sktrace matches §4.7: 3 events over 205 s, one CronJob applied then deleted, 3 Finished lifecycles of 30 s', () => {
      const { trace } = decodeTrace(readFixture('simkube', 'traces', 'cronjob.sktrace'));
      const evs = traceEvents(trace);
      expect(evs).to.have.length(3);
      expect(Number(evs[2]!.ts) - Number(evs[0]!.ts)).to.equal(205);
      expect(evs[1]!.applied.map((o) => objectKey(o))).to.deep.equal([
        { apiVersion: 'batch/v1', kind: 'CronJob', namespace: 'default', name: 'hello-simkube' },
      ]);
      expect(evs[2]!.deleted.map((o) => objectKey(o).name)).to.deep.equal(['hello-simkube']);
      const lc = trace.get('pod_lifecycles') as MsgMap;
      expect(lc.size).to.equal(1);
      const [key, byHash] = [...lc][0]!;
      expect(key).to.deep.equal(['batch/v1.CronJob', 'default/hello-simkube']);
      const lists = [...(byHash as MsgMap).values()];
      expect(lists).to.have.length(1);
      const finished = (lists[0] as MsgMap[]).map((x) => x.get('Finished') as number[]);
      expect(finished).to.have.length(3);
      for (const [start, end] of finished) expect(end! - start!).to.equal(30);
    });

    it('bare-pods.sktrace matches §4.7: 4 events over 162 s, 16 index entries, 4 lifecycle keys (3 Finished, 1 Running)', () => {
      const { trace } = decodeTrace(readFixture('simkube', 'traces', 'bare-pods.sktrace'));
      const evs = traceEvents(trace);
      expect(evs).to.have.length(4);
      expect(Number(evs[3]!.ts) - Number(evs[0]!.ts)).to.equal(162);
      expect(((trace.get('index') as MsgMap).get('v1.Pod') as MsgMap).size).to.equal(16);
      const kinds = { Finished: 0, Running: 0 };
      for (const byHash of (trace.get('pod_lifecycles') as MsgMap).values()) {
        for (const list of (byHash as MsgMap).values())
          for (const item of list as MsgMap[]) for (const k of item.keys()) kinds[k as 'Finished' | 'Running']++;
      }
      expect(kinds).to.deep.equal({ Finished: 3, Running: 1 });
    });

    it('trace-v2.msgpack (a real sk-tracer export) decodes without warnings: 2 events, the first empty at ts 0', () => {
      const { trace, warnings } = decodeTrace(readFixture('legacy-sim-arena', 'trace-v2.msgpack'));
      expect(warnings).to.deep.equal([]);
      const evs = traceEvents(trace);
      expect(evs.map((e) => [e.ts, e.applied.length, e.deleted.length])).to.deep.equal([
        [0, 0, 0],
        [1769672195, 14, 0],
      ]);
      expect((trace.get('pod_lifecycles') as MsgMap).size).to.equal(0);
    });

    it('events may share a ts', () => {
      expect(() => decodeMutated((t) => events(t)[1]!.set('ts', 1730390400))).not.to.throw();
    });

    it('a v1 Node object without a namespace is accepted (the documented exception)', () => {
      const node = fromPlain({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'node-1' },
        status: { allocatable: { cpu: '16', memory: '32Gi' } },
      });
      const { warnings } = decodeMutated((t) => (events(t)[0]!.get('applied_objs') as MsgValue[]).push(node));
      expect(warnings).to.deep.equal([]);
    });

    it('a deleted_objs stub with only apiVersion, kind and metadata{namespace,name} is accepted', () => {
      expect(() => decodeMutated((t) => events(t)[1]!.set('deleted_objs', [fromPlain(deletionStub())]))).not.to.throw();
    });

    it('a custom GVK with podSpecTemplatePaths is accepted', () => {
      expect(() =>
        decodeMutated((t) =>
          (getIn(t, ['config', 'trackedObjects']) as MsgMap).set(
            'example.com/v1.Widget',
            fromPlain({ podSpecTemplatePaths: ['/spec/template'] }),
          ),
        ),
      ).not.to.throw();
    });

    it('the built-in podSpecTemplatePaths, trackLifecycle and skipOwned are accepted', () => {
      expect(() =>
        decodeMutated((t) =>
          setIn(
            t,
            ['config', 'trackedObjects', 'apps/v1.Deployment'],
            fromPlain({ podSpecTemplatePaths: ['/spec/template'], trackLifecycle: true, skipOwned: true }),
          ),
        ),
      ).not.to.throw();
      expect(() =>
        decodeMutated((t) =>
          setIn(
            t,
            ['config', 'trackedObjects', 'batch/v1.CronJob'],
            fromPlain({ podSpecTemplatePaths: ['/spec/jobTemplate/spec/template'] }),
          ),
        ),
      ).not.to.throw();
      expect(() =>
        decodeMutated((t) =>
          setIn(t, ['config', 'trackedObjects', '/v1.Pod'], fromPlain({ podSpecTemplatePaths: [''] })),
        ),
      ).not.to.throw();
    });

    it('index values may be any u64, including ones above 2^63', () => {
      expect(() =>
        decodeMutated((t) => setIn(t, ['index', 'apps/v1.Deployment', 'default/web'], 2n ** 64n - 1n)),
      ).not.to.throw();
    });

    it('pod_lifecycles accepts Empty, Running and Finished', () => {
      const lc: MsgMap = new Map<MsgValue, MsgValue>([
        [
          ['apps/v1.Deployment', 'default/web'],
          new Map<MsgValue, MsgValue>([
            [2n ** 63n, ['Empty', fromPlain({ Running: 5 }), fromPlain({ Finished: [5, 35] })]],
          ]),
        ],
      ]);
      expect(() => decodeMutated((t) => t.set('pod_lifecycles', lc))).not.to.throw();
    });
  });

  describe('version', () => {
    it('the v1 fixture is refused with a hint to run `sim-arena trace upgrade`', () => {
      const err = expectTraceError(
        () => decodeTrace(readFixture('legacy-sim-arena', 'v1-trace-0001.msgpack')),
        'version',
      );
      expect(err.hint).to.contain('sim-arena trace upgrade');
      expect(err.message).to.match(/version 1/);
    });

    it('version 1 in an otherwise v2 trace is refused the same way', () => {
      const err = expectRejected((t) => t.set('version', 1), 'version');
      expect(err.hint).to.contain('sim-arena trace upgrade');
    });

    it('version 3 is refused', () => {
      const err = expectRejected((t) => t.set('version', 3), 'version');
      expect(err.message).to.match(/unsupported trace version 3/);
    });

    it('a non-integer version is refused', () => {
      expectRejected((t) => t.set('version', '2'), 'version');
      expectRejected((t) => t.set('version', new MsgFloat(2)), 'version');
    });
  });

  describe('top-level keys', () => {
    for (const key of TOP_LEVEL_KEYS) {
      it(`missing ${key} names ${key}`, () => {
        expectRejected((t) => t.delete(key), key);
      });
    }

    it('an extra top-level key is kept with a warning, and survives re-encoding', () => {
      const t = minimal();
      t.set('metadata', fromPlain({ description: 'x' }));
      const bytes = encodeTrace(t);
      const { trace, warnings } = decodeTrace(bytes);
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.contain('"metadata"');
      expect(Buffer.compare(Buffer.from(encodeTrace(trace)), Buffer.from(bytes))).to.equal(0);
    });

    it('a non-map top level is refused', () => {
      expectTraceError(() => decodeTrace(encodeMsgpack([1, 2])), '');
    });
  });

  describe('config', () => {
    it('trackedObjects is required', () => {
      expectRejected((t) => t.set('config', new Map()), 'config.trackedObjects');
    });

    it('a GVK key without a version ("Deployment") is refused', () => {
      const err = expectRejected(
        (t) => (getIn(t, ['config', 'trackedObjects']) as MsgMap).set('Deployment', new Map()),
        'config.trackedObjects["Deployment"]',
      );
      expect(err.message).to.match(/GVK/);
    });

    it('other malformed GVKs are refused', () => {
      for (const bad of ['apps/Deployment', 'apps/v1/Deployment', 'apps/v1.', '.Deployment', 'apps/v1 Deployment']) {
        expectRejected(
          (t) => (getIn(t, ['config', 'trackedObjects']) as MsgMap).set(bad, new Map()),
          `config.trackedObjects[${JSON.stringify(bad)}]`,
        );
      }
    });

    it('an unknown key inside a trackedObjects entry is refused', () => {
      expectRejected(
        (t) =>
          setIn(
            t,
            ['config', 'trackedObjects', 'apps/v1.Deployment', 'podSpecTemplatePathz'],
            fromPlain(['/spec/template']),
          ),
        'config.trackedObjects["apps/v1.Deployment"].podSpecTemplatePathz',
      );
    });

    it('built-in podSpecTemplatePaths that differ from the built-in value are refused', () => {
      const err = expectRejected(
        (t) =>
          setIn(
            t,
            ['config', 'trackedObjects', 'apps/v1.Deployment', 'podSpecTemplatePaths'],
            fromPlain(['/spec/template/spec']),
          ),
        'config.trackedObjects["apps/v1.Deployment"].podSpecTemplatePaths',
      );
      expect(err.message).to.contain('/spec/template');
      expectRejected(
        (t) =>
          setIn(
            t,
            ['config', 'trackedObjects', 'apps/v1.ReplicaSet'],
            fromPlain({ podSpecTemplatePaths: ['/spec/template'] }),
          ),
        'config.trackedObjects["apps/v1.ReplicaSet"].podSpecTemplatePaths',
      );
      expectRejected(
        (t) =>
          setIn(t, ['config', 'trackedObjects', 'apps/v1.Deployment'], fromPlain({ podSpecTemplatePath: '/spec' })),
        'config.trackedObjects["apps/v1.Deployment"].podSpecTemplatePaths',
      );
    });

    it('a custom GVK without podSpecTemplatePaths is refused', () => {
      expectRejected(
        (t) => (getIn(t, ['config', 'trackedObjects']) as MsgMap).set('example.com/v1.Widget', new Map()),
        'config.trackedObjects["example.com/v1.Widget"]',
      );
    });

    it('trackLifecycle must be a boolean', () => {
      expectRejected(
        (t) => setIn(t, ['config', 'trackedObjects', 'apps/v1.Deployment', 'trackLifecycle'], 1),
        'config.trackedObjects["apps/v1.Deployment"].trackLifecycle',
      );
    });

    it('a u64 (bigint) key in trackedObjects is a TraceError, not a crash', () => {
      expectRejected(
        (t) => (getIn(t, ['config', 'trackedObjects']) as MsgMap).set(2n ** 60n, new Map()),
        `config.trackedObjects[${2n ** 60n}]`,
      );
    });

    it('the deprecated singular podSpecTemplatePath gives a warning', () => {
      const { warnings } = decodeMutated((t) =>
        setIn(
          t,
          ['config', 'trackedObjects', 'apps/v1.Deployment'],
          fromPlain({ podSpecTemplatePath: '/spec/template' }),
        ),
      );
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(/podSpecTemplatePath is deprecated/);
    });

    it('a GVK used in events but not tracked gives a warning', () => {
      const { warnings } = decodeMutated((t) => t.set('config', fromPlain({ trackedObjects: {} })));
      expect(warnings.some((w) => w.includes('apps/v1.Deployment'))).to.equal(true);
    });
  });

  describe('the predecessor named traces (§6.1, §6.3)', () => {
    for (const name of LEGACY_NAMED) {
      it(`${name}: decodes, warning about the deprecated podSpecTemplatePath${name === 'trace-0001' ? '' : ' and the extra metadata key'}`, () => {
        const { warnings } = decodeTrace(readFixture('legacy-sim-arena', `${name}.msgpack`));
        expect(warnings.some((w) => /podSpecTemplatePath is deprecated/.test(w))).to.equal(true);
        // trace-0001.msgpack is the one without the metadata key (§6.1).
        expect(warnings.some((w) => w.includes('"metadata"'))).to.equal(name !== 'trace-0001');
        expect(warnings).to.have.length(name === 'trace-0001' ? 1 : 2);
      });
    }
  });

  describe('events', () => {
    it('must be a non-empty array', () => {
      expectRejected((t) => t.set('events', []), 'events');
      expectRejected((t) => t.set('events', new Map()), 'events');
    });

    it('a float ts is refused, even an integral one', () => {
      const err = expectRejected((t) => events(t)[0]!.set('ts', new MsgFloat(1730390400)), 'events[0].ts');
      expect(err.message).to.match(/float/);
      expectRejected((t) => events(t)[1]!.set('ts', new MsgFloat(1730390700.5, 32)), 'events[1].ts');
    });

    it('a missing ts is refused', () => {
      expectRejected((t) => events(t)[1]!.delete('ts'), 'events[1].ts');
    });

    it('descending ts is refused on the later event', () => {
      const err = expectRejected((t) => events(t)[1]!.set('ts', 1730390399), 'events[1].ts');
      expect(err.hint).to.match(/ascending/);
    });

    it('applied_objs and deleted_objs are required (snake_case)', () => {
      expectRejected((t) => events(t)[0]!.delete('applied_objs'), 'events[0].applied_objs');
      expectRejected((t) => events(t)[1]!.delete('deleted_objs'), 'events[1].deleted_objs');
      expectRejected((t) => {
        const ev = events(t)[1]!;
        ev.delete('applied_objs');
        ev.set('appliedObjs', []);
      }, 'events[1].applied_objs');
    });

    it('an object without a namespace is refused', () => {
      const err = expectRejected(
        (t) => (firstObject(t).get('metadata') as MsgMap).delete('namespace'),
        'events[0].applied_objs[0].metadata.namespace',
      );
      expect(err.message).to.contain('web');
    });

    it('a deleted object without a namespace is refused', () => {
      const stub = fromPlain({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } });
      expectRejected((t) => events(t)[1]!.set('deleted_objs', [stub]), 'events[1].deleted_objs[0].metadata.namespace');
    });

    it('a Node under another apiVersion is not the exception', () => {
      const node = fromPlain({ apiVersion: 'example.com/v1', kind: 'Node', metadata: { name: 'n' } });
      expectRejected((t) => events(t)[1]!.set('applied_objs', [node]), 'events[1].applied_objs[0].metadata.namespace');
    });

    it('apiVersion, kind and metadata.name are required', () => {
      expectRejected((t) => firstObject(t).delete('apiVersion'), 'events[0].applied_objs[0].apiVersion');
      expectRejected((t) => firstObject(t).delete('kind'), 'events[0].applied_objs[0].kind');
      expectRejected((t) => firstObject(t).delete('metadata'), 'events[0].applied_objs[0].metadata');
      expectRejected(
        (t) => (firstObject(t).get('metadata') as MsgMap).delete('name'),
        'events[0].applied_objs[0].metadata.name',
      );
    });
  });

  describe('index', () => {
    it('a negative hash is refused', () => {
      expectRejected(
        (t) => setIn(t, ['index', 'apps/v1.Deployment', 'default/web'], -1),
        'index["apps/v1.Deployment"]["default/web"]',
      );
    });

    it('a float hash is refused', () => {
      expectRejected(
        (t) => setIn(t, ['index', 'apps/v1.Deployment', 'default/web'], new MsgFloat(1)),
        'index["apps/v1.Deployment"]["default/web"]',
      );
    });

    it('keys must be "namespace/name" and GVKs well formed', () => {
      expectRejected((t) => setIn(t, ['index', 'apps/v1.Deployment', 'web'], 0), 'index["apps/v1.Deployment"]["web"]');
      expectRejected((t) => setIn(t, ['index', 'Deployment'], new Map()), 'index["Deployment"]');
    });

    it('u64 keys are TraceErrors, not crashes', () => {
      expectRejected((t) => (t.get('index') as MsgMap).set(2n ** 60n, new Map()), `index[${2n ** 60n}]`);
      expectRejected(
        (t) => (getIn(t, ['index', 'apps/v1.Deployment']) as MsgMap).set(2n ** 60n, 0),
        `index["apps/v1.Deployment"][${2n ** 60n}]`,
      );
    });
  });

  describe('pod_lifecycles', () => {
    const withLc = (key: MsgValue, byHash: MsgValue) => (t: Trace) => t.set('pod_lifecycles', new Map([[key, byHash]]));
    const okKey = (): MsgValue => ['apps/v1.Deployment', 'default/web'];

    it('keys must be [GVK, "ns/name"] arrays', () => {
      expectRejected(withLc('apps/v1.Deployment', new Map()), 'pod_lifecycles[0]');
      expectRejected(withLc(['Deployment', 'default/web'], new Map()), 'pod_lifecycles[0]');
      expectRejected(withLc(['apps/v1.Deployment'], new Map()), 'pod_lifecycles[0]');
    });

    it('values must map u64 hashes to lists', () => {
      expectRejected(withLc(okKey(), ['Empty']), 'pod_lifecycles[0]');
      expectRejected(withLc(okKey(), new Map<MsgValue, MsgValue>([['abc', ['Empty']]])), 'pod_lifecycles[0]');
      expectRejected(withLc(okKey(), new Map<MsgValue, MsgValue>([[-1, ['Empty']]])), 'pod_lifecycles[0]');
      expectRejected(withLc(okKey(), new Map<MsgValue, MsgValue>([[7, 'Empty']])), 'pod_lifecycles[0][7]');
    });

    it('lifecycle entries must be Empty, {Running: ts} or {Finished: [start, end]}', () => {
      const bad = (item: MsgValue) => withLc(okKey(), new Map<MsgValue, MsgValue>([[7, ['Empty', item]]]));
      expectRejected(bad('Running'), 'pod_lifecycles[0][7][1]');
      expectRejected(bad(fromPlain({ Running: new MsgFloat(1.5) })), 'pod_lifecycles[0][7][1].Running');
      expectRejected(bad(fromPlain({ Finished: [1] })), 'pod_lifecycles[0][7][1].Finished');
      expectRejected(bad(fromPlain({ Finished: [1, 'x'] })), 'pod_lifecycles[0][7][1].Finished');
      expectRejected(bad(fromPlain({ Pending: 1 })), 'pod_lifecycles[0][7][1]');
      expectRejected(bad(fromPlain({ Running: 1, Finished: [1, 2] })), 'pod_lifecycles[0][7][1]');
    });
  });

  describe('non-trace input', () => {
    it('empty input', () => {
      const err = expectTraceError(() => decodeTrace(new Uint8Array(0)), '');
      expect(err.message).to.match(/empty/);
    });

    it('JSON input gets a JSON hint', () => {
      const json = new TextEncoder().encode(JSON.stringify({ version: 2, config: { trackedObjects: {} } }));
      const err = expectTraceError(() => decodeTrace(json), '');
      expect(err.hint).to.match(/JSON/);
      const indented = new TextEncoder().encode('\n  {"version": 2}\n');
      expect(expectTraceError(() => decodeTrace(indented)).hint).to.match(/JSON/);
    });

    it('random non-msgpack bytes are a TraceError without the JSON hint', () => {
      const err = expectTraceError(() => decodeTrace(new Uint8Array([0xc1, 0x00, 0x01])), '');
      expect(err.hint ?? '').not.to.match(/JSON/);
      expectTraceError(() => decodeTrace(new TextEncoder().encode('hello world')));
    });

    it('validateTrace on a decoded value that is not a map', () => {
      expect(() => validateTrace('x')).to.throw(TraceError);
    });
  });
});
