// The usage formats: sim-arena's own (validation), controller naming, the Prometheus export reader and its clock
// alignment, seeded synth.
import { expect } from 'chai';
import { buildTrace, deploymentObject, START_TS } from '../../../src/trace/generate.js';
import { TraceError } from '../../../src/trace/trace.js';
import {
  findSeries,
  sampleAt,
  serializeUsage,
  UsageDataError,
  validateUsage,
  type UsageFile,
} from '../../../src/trace/usage/format.js';
import { loadUsage } from '../../../src/trace/usage/load.js';
import { workloadOfPod } from '../../../src/trace/usage/naming.js';
import { usageFromPrometheus, usageToPrometheus } from '../../../src/trace/usage/prometheus.js';
import { parsePatterns, synthesizeUsage, type SynthOptions } from '../../../src/trace/usage/synth.js';

const web = { kind: 'Deployment', namespace: 'default', name: 'web' };
const trace = () => buildTrace([deploymentObject({ replicas: 2, cpu: '500m', memory: '512Mi' })]);

const synth = (o: Partial<SynthOptions> = {}): UsageFile =>
  synthesizeUsage({
    workloads: [{ workload: web }],
    patterns: ['constant'],
    cpu: '300m',
    memory: '256Mi',
    duration: 600,
    interval: 30,
    seed: 1,
    period: 3600,
    ...o,
  });

describe('usage: sim-arena format', () => {
  it('round-trips through JSON and validates', () => {
    const u = synth({ patterns: ['diurnal', 'noise'] });
    expect(validateUsage(JSON.parse(serializeUsage(u)))).to.deep.equal(u);
  });

  it('names the bad field', () => {
    const u = JSON.parse(serializeUsage(synth())) as Record<string, unknown>;
    expect(() => validateUsage({ ...u, version: 9 })).to.throw(UsageDataError, /usage\.version: unsupported version 9/);
    expect(() => validateUsage({ ...u, interval: 0 })).to.throw(UsageDataError, /usage\.interval/);
    const s = (u.series as Array<Record<string, unknown>>)[0]!;
    expect(() => validateUsage({ ...u, series: [{ ...s, cpu: [1, -1] }] })).to.throw(
      UsageDataError,
      /series\[0\]\.cpu\[1\]: must be a finite number ≥ 0/,
    );
    expect(() => validateUsage({ ...u, series: [{ ...s, memory: [1] }] })).to.throw(
      UsageDataError,
      /cpu has 20 samples but memory has 1/,
    );
    expect(() => validateUsage({ format: 'x' })).to.throw(UsageDataError, /usage\.format/);
    expect(() => loadUsage('{nope', trace())).to.throw(UsageDataError, /not JSON/);
    expect(new UsageDataError('a', 'b')).to.be.instanceOf(TraceError);
  });

  it('samples hold the first value before the start and the last after the end', () => {
    const u: UsageFile = {
      format: 'sim-arena.usage',
      version: 1,
      interval: 10,
      start: 5,
      series: [{ workload: web, cpu: [1, 2, 3], memory: [10, 20, 30] }],
    };
    const s = u.series[0]!;
    expect([0, 5, 14.9, 15, 34.9, 35, 1000].map((t) => sampleAt(u, s, t).cpu)).to.deep.equal([1, 1, 1, 2, 3, 3, 3]);
  });
});

describe('usage: pods to workloads by controller naming', () => {
  const workloads = [
    { kind: 'Deployment', namespace: 'default', name: 'web' },
    { kind: 'Deployment', namespace: 'default', name: 'web-api' },
    { kind: 'StatefulSet', namespace: 'default', name: 'db' },
    { kind: 'Job', namespace: 'batch', name: 'backup' },
    { kind: 'CronJob', namespace: 'batch', name: 'report' },
    { kind: 'DaemonSet', namespace: 'kube-system', name: 'agent' },
    { kind: 'Pod', namespace: 'default', name: 'solo' },
  ];
  const of = (ns: string, pod: string) => {
    const w = workloadOfPod(ns, pod, workloads);
    return w ? `${w.kind}/${w.name}` : null;
  };

  it('maps each controller kind', () => {
    expect(of('default', 'web-7d4b9c8f6d-x2x5k')).to.equal('Deployment/web');
    expect(of('default', 'web-api-5c6d7f8b9-qwxzt')).to.equal('Deployment/web-api');
    expect(of('default', 'db-0')).to.equal('StatefulSet/db');
    expect(of('default', 'db-12')).to.equal('StatefulSet/db');
    expect(of('batch', 'backup-7zk2p')).to.equal('Job/backup');
    expect(of('batch', 'report-29001234-b7k2x')).to.equal('CronJob/report');
    expect(of('kube-system', 'agent-9wx2l')).to.equal('DaemonSet/agent');
    expect(of('default', 'solo')).to.equal('Pod/solo');
  });

  it('refuses other namespaces and names that are no controller pattern', () => {
    expect(of('other', 'web-7d4b9c8f6d-x2x5k')).to.equal(null);
    expect(of('default', 'db-01')).to.equal(null);
    expect(of('default', 'web-x2x5k')).to.equal(null);
    expect(of('default', 'webber-7d4b9c8f6d-x2x5k')).to.equal(null);
  });
});

describe('usage: Prometheus export', () => {
  it('reads back what synth describes, value for value (pods averaged, replicas counted)', () => {
    const u = synth({ patterns: ['diurnal', 'bursty', 'noise'] });
    u.series[0]!.replicas = 3;
    const exp = JSON.parse(JSON.stringify(usageToPrometheus(u, { baseTs: 1_600_000_000 })));
    const { usage, unmatched } = usageFromPrometheus(exp, trace());
    expect(unmatched).to.deep.equal([]);
    expect(usage.interval).to.equal(30);
    expect(usage.start).to.equal(0);
    const s = findSeries(usage, web)!;
    expect(s.replicas).to.equal(3);
    expect(s.cpu).to.deep.equal(u.series[0]!.cpu);
    expect(s.memory).to.deep.equal(u.series[0]!.memory);
  });

  it('aligns to the trace clock: overlapping timestamps keep their offset, others start at the first event', () => {
    const u = synth();
    const inside = usageFromPrometheus(
      JSON.parse(JSON.stringify(usageToPrometheus(u, { baseTs: START_TS + 60 }))),
      trace(),
    );
    expect(inside.usage.start).to.equal(60);
    const before = usageFromPrometheus(
      JSON.parse(JSON.stringify(usageToPrometheus(u, { baseTs: START_TS - 300 }))),
      trace(),
    );
    expect(before.usage.start).to.equal(-300);
    const elsewhere = usageFromPrometheus(
      JSON.parse(JSON.stringify(usageToPrometheus(u, { baseTs: 1_000_000 }))),
      trace(),
    );
    expect(elsewhere.usage.start).to.equal(0);
  });

  it('averages pods per timestamp, fills gaps, skips pod-level and pause series, reports unmatched pods', () => {
    const series = (pod: string, container: string, values: Array<[number, string]>) => ({
      metric: { namespace: 'default', pod, container },
      values,
    });
    const resp = (result: unknown[]) => ({ status: 'success', data: { resultType: 'matrix', result } });
    const exp = [
      {
        resource: 'cpu',
        response: resp([
          series('web-5f7b9c4d8-b7k2x', 'web', [
            [100, '0.2'],
            [160, '0.4'],
          ]),
          series('web-5f7b9c4d8-fghjk', 'web', [
            [100, '0.4'],
            [130, '0.1'],
          ]),
          series('web-5f7b9c4d8-fghjk', 'POD', [[100, '9']]),
          series('web-5f7b9c4d8-fghjk', '', [[100, '9']]),
          series('other-0', 'x', [[100, '1']]),
        ]),
      },
      {
        resource: 'memory',
        response: resp([
          series('web-5f7b9c4d8-b7k2x', 'web', [
            [100, '1000'],
            [130, '2000'],
            [160, '3000'],
          ]),
        ]),
      },
    ];
    const { usage, warnings } = loadUsage(exp, trace());
    const s = usage.series[0]!;
    expect(usage.interval).to.equal(30);
    expect(s.container).to.equal('web');
    expect(s.cpu).to.deep.equal([0.3, 0.1, 0.4]);
    expect(s.memory).to.deep.equal([1000, 2000, 3000]);
    expect(s.replicas).to.equal(1.333);
    expect(warnings.join()).to.match(/1 pod\(s\).*default\/other-0/);
  });

  it('says what is wrong with a bad export', () => {
    expect(() => loadUsage([{ resource: 'disk', response: {} }], trace())).to.throw(
      UsageDataError,
      /prometheus\[0\]\.resource: must be "cpu" or "memory"/,
    );
    expect(() => loadUsage([{ resource: 'cpu', response: { status: 'error', error: 'bad query' } }], trace())).to.throw(
      UsageDataError,
      /status: is "error" \(bad query\)/,
    );
    expect(() =>
      loadUsage(
        [{ resource: 'cpu', response: { status: 'success', data: { resultType: 'vector', result: [] } } }],
        trace(),
      ),
    ).to.throw(UsageDataError, /query_range/);
    const onlyCpu = usageToPrometheus(synth(), { baseTs: 0 }).slice(0, 1);
    expect(() => loadUsage(JSON.parse(JSON.stringify(onlyCpu)), trace())).to.throw(UsageDataError, /no memory samples/);
    const stranger = JSON.parse(
      JSON.stringify(
        usageToPrometheus(
          { ...synth(), series: [{ ...synth().series[0]!, workload: { ...web, name: 'db' } }] },
          { baseTs: 0 },
        ),
      ),
    );
    expect(() => loadUsage(stranger, trace())).to.throw(
      UsageDataError,
      /no pod in the export belongs to a workload of the trace/,
    );
  });
});

describe('usage: synth', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const o = { patterns: parsePatterns('bursty+noise') };
    expect(synth({ ...o, seed: 4 })).to.deep.equal(synth({ ...o, seed: 4 }));
    expect(synth({ ...o, seed: 4 }).series[0]!.cpu).to.not.deep.equal(synth({ ...o, seed: 5 }).series[0]!.cpu);
  });

  it('shapes: constant, diurnal peaks a quarter period in, trend doubles, bursts only go up', () => {
    expect(new Set(synth().series[0]!.cpu)).to.deep.equal(new Set([0.3]));
    const d = synth({ patterns: ['diurnal'], period: 600, duration: 600 }).series[0]!.cpu;
    expect(d.indexOf(Math.max(...d))).to.equal(5);
    expect(Math.max(...d)).to.be.closeTo(0.45, 1e-6);
    const t = synth({ patterns: ['trend'], duration: 600 }).series[0]!.memory;
    expect(t[0]).to.equal(256 * 1024 ** 2);
    expect(t[19]! / t[0]!).to.be.closeTo(1.95, 1e-6);
    const b = synth({ patterns: ['bursty'], duration: 30 * 400 }).series[0]!.cpu;
    expect(Math.min(...b)).to.equal(0.3);
    expect(Math.max(...b)).to.equal(0.6);
  });

  it('refuses unknown patterns and bad sizes', () => {
    expect(() => parsePatterns('diurnal+wavy')).to.throw(UsageDataError, /unknown pattern "wavy"/);
    expect(() => synth({ interval: 0 })).to.throw(UsageDataError, /interval/);
    expect(() => synth({ duration: 10 })).to.throw(UsageDataError, /duration/);
  });
});
