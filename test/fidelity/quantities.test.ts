// Canonical quantities against the real API server: every cpu/memory string the project's action code writes (and
// every node size kwokNode writes) is stored byte for byte, and our canonicalQuantity gives exactly the server's
// canonical form for inputs that are not canonical ("1.5" is stored as "1500m").
import { expect } from 'chai';
import {
  CoreV1Api,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
  type V1Node,
} from '@kubernetes/client-node';
import {
  ACTIONS,
  applyAction,
  DEFAULT_ACTION_SETTINGS,
  type ActionSettings,
  type ActionType,
} from '../../src/arena/actions.js';
import { mulberry32, randomInt } from '../../src/util/rng.js';
import { DEFAULT_NODE_POOL } from '../../src/arena/backend.js';
import { kwokNode, projectObject } from '../../src/sim/kwok/project.js';
import { POOL_LABEL } from '../../src/api/names.js';
import { buildTrace, deploymentObject, randomScenario } from '../../src/trace/generate.js';
import { fromPlain, getIn, toPlain } from '../../src/trace/model.js';
import type { MsgMap } from '../../src/trace/msgpack.js';
import { apiServerStoredForm, keptByParse } from './harness/quantity.js';
import { canonicalQuantity, formatQuantity, parseQuantity } from '../../src/trace/quantity.js';
import type { Trace } from '../../src/trace/trace.js';
import { currentObject, podSpecOf, requestOf, type WorkloadRef } from '../../src/trace/workload.js';
import { deleteNamespace, freshNamespace, kubeConfig } from '../support/cluster.js';

type Plain = Record<string, unknown>;
type Resource = 'cpu' | 'memory';

/** Start values, odd spellings included; each is a trace's request before the agent acts. */
const CPU_STARTS = [
  '1.5',
  '0.1',
  '1000m',
  '5557m',
  '18699756103',
  '100m',
  '250m',
  '0.5',
  '2',
  '3500m',
  '1',
  '999m',
  '0.001',
  '64',
  '2.25',
];
const MEM_STARTS = [
  '1024Mi',
  '33Gi',
  '18699756103',
  '0.5Gi',
  '1.5Gi',
  '300Mi',
  '128974848',
  '1e9',
  '129M',
  '1G',
  '1000Mi',
  '64Mi',
  '4Gi',
  '2048Ki',
  '0.1',
];
const STEPS: [string, string][] = [
  ['500m', '256Mi'],
  ['100m', '1Gi'],
  ['1', '100M'],
  ['0.25', '1000'],
  ['333m', '0.5Gi'],
];
const SEQUENCES: ActionType[][] = [
  ['bump-cpu', 'bump-mem'],
  ['reduce-cpu', 'reduce-mem'],
  ['bump-cpu', 'bump-cpu', 'reduce-mem', 'bump-mem'],
  ['reduce-cpu', 'bump-cpu', 'reduce-cpu', 'reduce-mem', 'reduce-mem'],
];
/** Wide bounds, so the actions are not blocked and every start value gets edited. */
const WIDE: ActionSettings['safeguards'] = {
  maxCpu: '100000000000',
  maxMemory: '1Ei',
  maxReplicas: 1000,
  minCpu: '1m',
  minMemory: '1',
  minReplicas: 0,
};

const WEB: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: 'web' };

/** The first container's cpu/memory requests as raw strings in the trace. */
function rawRequests(trace: Trace, ref: WorkloadRef): Record<Resource, string | undefined> {
  const spec = podSpecOf(currentObject(trace, ref))!;
  const c = getIn(spec, ['containers', 0]) as MsgMap;
  const s = (r: Resource) => {
    const v = requestOf(c, r);
    return typeof v === 'string' ? v : undefined;
  };
  return { cpu: s('cpu'), memory: s('memory') };
}

interface Written {
  /** Container name in the combined object. */
  container: string;
  resource: Resource;
  value: string;
  how: string;
}

/** Run `actions` on `trace`; return its first container (renamed) and the request strings the actions wrote. */
function act(
  trace: Trace,
  ref: WorkloadRef,
  actions: readonly ActionType[],
  settings: ActionSettings,
  name: string,
  how: string,
): { container: Plain; written: Written[] } {
  const touched = new Set<Resource>();
  for (const a of actions) {
    const out = applyAction(trace, ref, a, settings);
    if (out.changed && (a.endsWith('-cpu') || a.endsWith('-mem'))) touched.add(a.endsWith('-cpu') ? 'cpu' : 'memory');
  }
  const raw = rawRequests(trace, ref);
  const spec = toPlain(podSpecOf(currentObject(trace, ref))) as { containers: Plain[] };
  const container = { ...spec.containers[0]!, name };
  const written: Written[] = [];
  for (const r of touched)
    written.push({ container: name, resource: r, value: raw[r]!, how: `${how}: ${actions.join(' → ')}` });
  return { container, written };
}

/** A paused, zero-replica Deployment and a scheduling-gated Pod with these containers: stored, never run. */
function objectsFor(ns: string, name: string, containers: Plain[]): KubernetesObject[] {
  const podSpec = { containers, schedulingGates: [{ name: 'simarena.io/never' }], automountServiceAccountToken: false };
  // The kwok backend's projection of a generated Deployment, paused, with these containers.
  const dep = projectObject(fromPlain(deploymentObject({ name, replicas: 0, cpu: '1', memory: '1Gi' })) as MsgMap, {
    namespace: ns,
    run: ns,
  }) as KubernetesObject & { spec: Plain };
  const spec = dep.spec as { paused?: boolean; template: { spec: Plain } };
  spec.paused = true;
  spec.template.spec = { ...spec.template.spec, containers };
  delete spec.template.spec.nodeSelector;
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${name}-pod`, namespace: ns },
    spec: podSpec,
  } as KubernetesObject;
  return [dep, pod];
}

function containersOf(o: KubernetesObject): Plain[] {
  const x = o as { kind?: string; spec?: { containers?: Plain[]; template?: { spec?: { containers?: Plain[] } } } };
  return (x.kind === 'Pod' ? x.spec?.containers : x.spec?.template?.spec?.containers) ?? [];
}

function storedRequest(o: KubernetesObject, container: string, r: Resource): string | undefined {
  const c = containersOf(o).find((x) => x.name === container) as
    { resources?: { requests?: Record<string, string> } } | undefined;
  return c?.resources?.requests?.[r];
}

async function createAndRead(kc: KubeConfig, objs: KubernetesObject[]): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  return Promise.all(
    objs.map(async (o) => {
      await api.create(o);
      return api.read({
        apiVersion: o.apiVersion!,
        kind: o.kind!,
        metadata: { name: o.metadata!.name!, namespace: o.metadata!.namespace! },
      });
    }),
  );
}

/** What the API server does to a request before storing it: round up to milli-units (SetDefaults_ResourceList). */
function roundedUpToMilli(input: string): string {
  const q = parseQuantity(input);
  const r = q.nanos % 1_000_000n;
  return formatQuantity(r === 0n ? q : { nanos: q.nanos - r + 1_000_000n, format: q.format });
}

describe('fidelity: quantities on the real API server', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let ns: string;

  before(async function () {
    this.timeout(300_000);
    kc = await kubeConfig();
    ns = await freshNamespace(kc, 'fid-qty');
  });

  after(async function () {
    if (kc && ns) await deleteNamespace(kc, ns);
  });

  it('stores every request applyAction writes unchanged (Deployment templates and Pods)', async function () {
    const written: Written[] = [];
    const objects: KubernetesObject[] = [];
    // Odd start values × step sizes × action sequences, one trace each.
    CPU_STARTS.forEach((cpu, i) => {
      const memory = MEM_STARTS[i]!;
      const containers: Plain[] = [];
      let k = 0;
      for (const [cpuStep, memStep] of STEPS) {
        for (const seq of SEQUENCES) {
          const trace = buildTrace([deploymentObject({ replicas: 2, cpu, memory })]);
          const settings: ActionSettings = { steps: { cpu: cpuStep, memory: memStep, replicas: 1 }, safeguards: WIDE };
          const r = act(trace, WEB, seq, settings, `c${k++}`, `start ${cpu}/${memory}, steps ${cpuStep}/${memStep}`);
          containers.push(r.container);
          written.push(...r.written.map((w) => ({ ...w, container: `q${i}/${w.container}` })));
        }
      }
      objects.push(...objectsFor(ns, `q${i}`, containers));
    });
    // Generated scenarios (trace/generate's randomScenario) with random action sequences and the default settings.
    for (let g = 0; g < 8; g++) {
      const containers: Plain[] = [];
      for (let k = 0; k < 10; k++) {
        const seed = g * 10 + k + 1;
        const s = randomScenario(seed, 0);
        const rng = mulberry32(seed);
        const seq = Array.from({ length: 8 }, () => ACTIONS[randomInt(rng, ACTIONS.length)]!);
        const r = act(s.trace, s.meta.workload, seq, DEFAULT_ACTION_SETTINGS, `c${k}`, `randomScenario(${seed}, 0)`);
        containers.push(r.container);
        written.push(...r.written.map((w) => ({ ...w, container: `g${g}/${w.container}` })));
      }
      objects.push(...objectsFor(ns, `g${g}`, containers));
    }
    expect(written.length).to.be.greaterThan(300);

    const stored = await createAndRead(kc, objects);
    const byName = new Map(stored.map((o) => [o.metadata!.name!, o]));
    const mismatches: string[] = [];
    let checked = 0;
    for (const w of written) {
      const [obj, container] = w.container.split('/') as [string, string];
      for (const name of [obj, `${obj}-pod`]) {
        const got = storedRequest(byName.get(name)!, container, w.resource);
        checked++;
        if (got !== w.value)
          mismatches.push(
            `${name} ${container} ${w.resource}: wrote "${w.value}", the API server stored "${got}" (${w.how})`,
          );
        else if (apiServerStoredForm(w.value) !== got)
          mismatches.push(
            `${name} ${container} ${w.resource}: the model of the server predicts "${apiServerStoredForm(w.value)}" for "${w.value}"`,
          );
      }
    }
    // Known cause of the failures seen so far: formatQuantity prints a BinarySI value that no binary suffix divides as
    // plain bytes ("1048577000"); the server reads that back as DecimalSI and stores its own canonical "1048577k".
    expect(
      mismatches,
      `${mismatches.length} of ${checked} written quantities were changed by the API server:\n${mismatches.join('\n')}`,
    ).to.deep.equal([]);
    expect(checked).to.equal(written.length * 2);
  });

  it("matches the API server's canonical form for non-canonical inputs (canonicalQuantity)", async function () {
    const inputs = [
      ...new Set([
        ...CPU_STARTS,
        ...MEM_STARTS,
        '1.5',
        '0.5',
        '1000m',
        '1080m',
        '1000M',
        '50k',
        '1024Mi',
        '1.5Gi',
        '300Mi',
        '.001Ki',
        '1e3',
        '80e-3',
        '300e6',
        '0',
        '1.',
        '100.035k',
        '0.5Mi',
        '2048Ki',
        '1536Mi',
        '0.25',
        '5e-3',
        '1E3',
        '1.3E+6',
        '.5',
        '000100m',
        '+2',
        '1000000u',
        '1000000000n',
        '2000m',
        '1024',
        '1025',
        '1023Ki',
        '1048576Ki',
        '1099511627776',
        '8Gi',
        '1000Ki',
        '1.25Ti',
        '1e0',
        '12e-1',
        '0.0001',
        '1500u',
        '0.1m',
        '1Mi',
        '1048575',
        '3000000000',
        '3G',
        '3e9',
        '100Mi',
        '102400Ki',
        '1000k',
        '1000000',
        '1e6',
        '1000e3',
      ]),
    ];
    const containers = inputs.map((q, i) => ({
      name: `c${i}`,
      image: 'registry.example/q:1',
      resources: { requests: { cpu: q, memory: q } },
    }));
    const [dep, pod] = await createAndRead(kc, objectsFor(ns, 'canon', containers));
    const mismatches: string[] = [];
    let canonicalized = 0;
    inputs.forEach((q, i) => {
      for (const o of [dep!, pod!]) {
        for (const r of ['cpu', 'memory'] as const) {
          const server = storedRequest(o, `c${i}`, r);
          // Our model of what the server keeps verbatim and what it re-emits (test/fidelity/harness/quantity.ts).
          if (server !== apiServerStoredForm(q))
            mismatches.push(
              `"${q}" as ${o.kind} ${r}: server stored "${server}", the model says "${apiServerStoredForm(q)}"`,
            );
          // Where the server canonicalizes, it must agree with our formatter: canonicalQuantity, after the rounding
          // up to milli-units that SetDefaults_ResourceList applies to every request.
          if (keptByParse(q) === null || keptByParse(q)! < -3) {
            canonicalized++;
            if (server !== roundedUpToMilli(q))
              mismatches.push(
                `"${q}" as ${o.kind} ${r}: server stored "${server}", formatQuantity gives "${roundedUpToMilli(q)}"`,
              );
            if (parseQuantity(q).nanos % 1_000_000n === 0n && canonicalQuantity(q) !== server)
              mismatches.push(`"${q}": canonicalQuantity gives "${canonicalQuantity(q)}", the server "${server}"`);
          }
        }
      }
    });
    expect(mismatches, mismatches.join('\n')).to.deep.equal([]);
    expect(canonicalized).to.be.greaterThan(100);
    // The examples from the brief, spelled out.
    const stored = (q: string) => storedRequest(dep!, `c${inputs.indexOf(q)}`, 'cpu');
    expect(stored('1.5')).to.equal('1500m').and.to.equal(canonicalQuantity('1.5'));
    expect(stored('1024Mi')).to.equal('1Gi').and.to.equal(canonicalQuantity('1024Mi'));
    expect(stored('1000m')).to.equal('1').and.to.equal(canonicalQuantity('1000m'));
    expect(stored('0.1')).to.equal('100m').and.to.equal(canonicalQuantity('0.1'));
    expect(stored('33Gi')).to.equal('33Gi').and.to.equal(canonicalQuantity('33Gi'));
    // Not every non-canonical spelling is rewritten: the server keeps strings its quick test takes for canonical.
    expect(stored('100.035k')).to.equal('100.035k');
    expect(canonicalQuantity('100.035k')).to.equal('100035');
  });

  it('stores the node sizes kwokNode writes unchanged (default pool and generated pools)', async function () {
    const core = kc.makeApiClient(CoreV1Api);
    const pool = `${ns}-nodes`;
    const shapes = [
      {
        name: `${pool}-default`,
        cpu: DEFAULT_NODE_POOL.cpu,
        memory: DEFAULT_NODE_POOL.memory,
        pods: String(DEFAULT_NODE_POOL.pods),
      },
    ];
    for (let seed = 1; shapes.length < 12 && seed < 200; seed++) {
      const n = randomScenario(seed, 0).meta.nodePool;
      if (n) shapes.push({ name: `${pool}-${seed}`, cpu: n.cpu, memory: n.memory, pods: String(n.pods) });
    }
    try {
      const stored: V1Node[] = [];
      for (const s of shapes) {
        await core.createNode({ body: kwokNode(s, pool) as V1Node });
        stored.push(await core.readNode({ name: s.name }));
      }
      shapes.forEach((s, i) => {
        for (const field of ['capacity', 'allocatable'] as const) {
          expect(stored[i]!.status?.[field], `${s.name} ${field}`).to.deep.include({
            cpu: s.cpu,
            memory: s.memory,
            pods: s.pods,
          });
        }
      });
    } finally {
      await core.deleteCollectionNode({ labelSelector: `${POOL_LABEL}=${pool}` }).catch(() => undefined);
    }
  });
});
