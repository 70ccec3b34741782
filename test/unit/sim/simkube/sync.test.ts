import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { silentLogger } from '../../../../src/util/log.js';
import { canonicalScenario } from '../../../../src/trace/generate.js';
import { encodeTrace } from '../../../../src/trace/trace.js';
import {
  sha256Hex,
  syncedAnnotation,
  syncErrorAnnotation,
  traceConfigMap,
  TRACE_KEY,
} from '../../../../src/sim/simkube/contract.js';
import { TraceSyncer } from '../../../../src/sim/simkube/sync.js';
import { FakeKube } from './fake-kube.js';

const NS = 'sim-arena';
const CMS = `/api/v1/namespaces/${NS}/configmaps`;

describe('trace-sync (fake API, temp dir)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trace-sync-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const bytes = encodeTrace(canonicalScenario('cpu-slight').trace);

  function setup(): { fake: FakeKube; syncer: TraceSyncer } {
    const fake = new FakeKube();
    const syncer = new TraceSyncer(fake.kube(), {
      dir: path.join(dir, 'traces'),
      namespace: NS,
      node: 'node-a',
      logger: silentLogger(),
    });
    return { fake, syncer };
  }

  it('writes each trace ConfigMap atomically with mode 0644 and annotates synced.<node> with the sha256', async () => {
    const { fake, syncer } = setup();
    fake.put(CMS, traceConfigMap('sa-trace-aaaa', NS, bytes) as never);
    const out = await syncer.syncAll();
    expect(out.get('sa-trace-aaaa')).to.equal('written');
    const file = path.join(dir, 'traces', 'sa-trace-aaaa.sktrace');
    expect(Buffer.from(await readFile(file)).equals(Buffer.from(bytes))).to.equal(true);
    expect((await stat(file)).mode & 0o777).to.equal(0o644);
    expect((await readdir(path.join(dir, 'traces'))).filter((f) => f.startsWith('.'))).to.deep.equal([]);
    const cm = fake.get(CMS, 'sa-trace-aaaa')!;
    expect(cm.metadata?.annotations?.[syncedAnnotation('node-a')]).to.equal(sha256Hex(bytes));
    // a second pass changes nothing and patches nothing
    const patches = fake.calls.filter((c) => c.method === 'PATCH').length;
    expect((await syncer.syncAll()).get('sa-trace-aaaa')).to.equal('unchanged');
    expect(fake.calls.filter((c) => c.method === 'PATCH').length).to.equal(patches);
  });

  it('accepts data[trace.msgpack] as base64 too', async () => {
    const { fake, syncer } = setup();
    fake.put(CMS, {
      metadata: { name: 'legacy', namespace: NS, labels: { 'simarena.io/trace': 'true' } },
      data: { [TRACE_KEY]: Buffer.from(bytes).toString('base64') },
    });
    expect((await syncer.syncAll()).get('legacy')).to.equal('written');
  });

  it('does not write an invalid trace; annotates sync-error.<node> instead, and clears it once fixed', async () => {
    const { fake, syncer } = setup();
    const bad = traceConfigMap('sa-trace-bad', NS, new TextEncoder().encode('{"version": 2}')) as never;
    fake.put(CMS, bad);
    expect((await syncer.syncAll()).get('sa-trace-bad')).to.equal('invalid');
    await stat(path.join(dir, 'traces', 'sa-trace-bad.sktrace')).then(
      () => expect.fail('file written'),
      () => undefined,
    );
    let ann = fake.get(CMS, 'sa-trace-bad')!.metadata!.annotations!;
    expect(ann[syncErrorAnnotation('node-a')]).to.match(/^invalid trace: .*JSON/);
    expect(ann[syncedAnnotation('node-a')]).to.equal(undefined);
    const good = traceConfigMap('sa-trace-bad', NS, bytes) as { binaryData: Record<string, string> };
    (fake.get(CMS, 'sa-trace-bad') as { binaryData: Record<string, string> }).binaryData = good.binaryData;
    expect((await syncer.syncAll()).get('sa-trace-bad')).to.equal('written');
    ann = fake.get(CMS, 'sa-trace-bad')!.metadata!.annotations!;
    expect(ann[syncErrorAnnotation('node-a')]).to.equal(undefined);
    expect(ann[syncedAnnotation('node-a')]).to.equal(sha256Hex(bytes));
  });

  it('reports a ConfigMap without the key', async () => {
    const { fake, syncer } = setup();
    fake.put(CMS, { metadata: { name: 'empty', namespace: NS, labels: { 'simarena.io/trace': 'true' } }, data: {} });
    expect((await syncer.syncAll()).get('empty')).to.equal('missing-key');
    expect(fake.get(CMS, 'empty')!.metadata!.annotations![syncErrorAnnotation('node-a')]).to.match(
      /no binaryData key "trace.msgpack"/,
    );
  });

  it('removes files whose ConfigMap is gone, and stale temp files, but nothing else', async () => {
    const { fake, syncer } = setup();
    fake.put(CMS, traceConfigMap('keep', NS, bytes) as never);
    await syncer.syncAll();
    const d = path.join(dir, 'traces');
    await writeFile(path.join(d, 'gone.sktrace'), 'x');
    await writeFile(path.join(d, '.gone.sktrace.tmp-1'), 'x');
    await writeFile(path.join(d, 'notes.txt'), 'x');
    await syncer.syncAll();
    expect((await readdir(d)).sort()).to.deep.equal(['keep.sktrace', 'notes.txt']);
  });

  it('rewrites a file changed on disk', async () => {
    const { fake, syncer } = setup();
    fake.put(CMS, traceConfigMap('x', NS, bytes) as never);
    await syncer.syncAll();
    await writeFile(path.join(dir, 'traces', 'x.sktrace'), 'tampered');
    expect((await syncer.syncAll()).get('x')).to.equal('written');
  });
});
