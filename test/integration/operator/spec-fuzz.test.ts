// Fuzz target: ArenaEpisode specs against the real API server (CRD schema and CEL rules) and the operator. A seeded
// generator mutates a valid spec (1–3 fields each, with valid, boundary and invalid values). Each spec must be either
// refused by the API server with a message naming the field, or accepted and then ended by the operator with a
// clear condition: never a crash, never a stuck episode. The rules are the ones the CLI and env server apply
// (toEpisodeSpec → arena/spec-rules.ts): a spec they would refuse must not run; one they accept must not be refused.
import { expect } from 'chai';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Controller } from '../../../src/controller/controller.js';
import { GROUP, PLURAL, VERSION } from '../../../src/api/names.js';
import { toEpisodeSpec, type ArenaEpisode } from '../../../src/api/episode.js';
import { registerAgents } from '../../../src/agents/index.js';
import { mulberry32 } from '../../../src/util/rng.js';
import { deleteNamespace, freshNamespace, kubeConfig, waitFor } from '../../support/cluster.js';
import { ensureCrd, scenarioConfigMap, startOperator } from './helpers.js';

const SEED = 20261204;
const COUNT = 80;

/** Field path → values to try: valid, at a bound, and invalid (wrong sign, zero, out of range, wrong type, junk). */
const MUTATIONS: Array<[string, unknown[]]> = [
  ['targetReplicas', [3, 0, 10_000, -1, 10_001, 2.5, '3']],
  ['maxSteps', [5, 1, 0, -3, 1_000_001, 1.5]],
  ['reward.stepPenalty', [0.1, 0, 1000, -0.5, 1001, 'x']],
  ['reward.mode', ['binary', 'shaped', 'nonsense', '']],
  ['actions.cpuStep', ['100m', '1', '0', '-500m', 'abc', 5, 0]],
  ['actions.memoryStep', ['64Mi', '0', '-1Gi', '12 Mi']],
  ['actions.replicaStep', [1, 1000, 0, 1001, -2]],
  ['actions.set', ['proportional', 'additive', 'nonsense']],
  ['safeguards.minCpu', ['10m', '4', '-1']],
  ['safeguards.maxCpu', ['8', '1', '0']],
  ['safeguards.minReplicas', [1, 5, -1]],
  ['safeguards.maxReplicas', [10, 2, 10_001]],
  ['safeguards.maxMemory', ['16Gi', '0', 'lots']],
  ['nodePool.count', [3, 0, 10_001]],
  ['nodePool.cpu', ['16', '0', '-1', 'x']],
  ['nodePool.memory', ['32Gi', '0']],
  ['nodePool.pods', [110, 0]],
  ['policy.name', ['heuristic', 'random', 'nope']],
  ['policy.seed', [7, -7, 2 ** 60]],
  ['stepDuration', ['60s', '500ms', '0s', '-1s', 'soon']],
  ['backend', ['embedded', 'nope']],
  ['workload.name', ['web', 'missing', '']],
  // Hooks run only on backends kwok and simkube, which the generator never picks: every spec with hooks is refused.
  ['hooks', [{ preRun: [{ cmd: 'kubectl', args: ['version'] }] }, { preRun: [{ args: ['x'] }] }, { onStart: [] }]],
];

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys.at(-1)!] = value;
}

function generate(rand: () => number, traceConfigMap: string) {
  const spec: Record<string, unknown> = {
    trace: { configMapRef: { name: traceConfigMap } },
    workload: { name: 'web' },
    targetReplicas: 3,
    backend: 'embedded',
    maxSteps: 8,
  };
  const changes: string[] = [];
  for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
    const [path, values] = MUTATIONS[Math.floor(rand() * MUTATIONS.length)]!;
    const value = values[Math.floor(rand() * values.length)];
    setPath(spec, path, value);
    changes.push(`${path}=${JSON.stringify(value)}`);
  }
  return { spec, changes: changes.join(' ') };
}

/** What the CLI / env server rules say: undefined when the spec is valid, else their message. */
function localVerdict(spec: Record<string, unknown>): string | undefined {
  try {
    toEpisodeSpec(spec as never);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const RAW_JS = /is not a function|Cannot read properties|undefined|NaN|\[object Object\]|Maximum call stack/;

describe('ArenaEpisode spec fuzz (real API server + operator, seeded)', function () {
  this.timeout(180_000);
  let kc: KubeConfig;
  let ns: string;
  let operator: Controller | undefined;

  before(async function () {
    this.timeout(3_600_000);
    registerAgents();
    kc = await kubeConfig();
    await ensureCrd(kc);
    ns = await freshNamespace(kc, 'spec-fuzz');
  });
  after(async () => {
    await operator?.stop();
    await deleteNamespace(kc, ns);
  });

  it(`${COUNT} generated specs (seed ${SEED}): refused by the API server with the field named, or ended by the operator with a clear condition`, async () => {
    const cm = await scenarioConfigMap(kc, ns, 'cpu-slight');
    operator = await startOperator(kc, ns);
    const api = kc.makeApiClient(CustomObjectsApi);
    const rand = mulberry32(SEED);
    const accepted: Array<{ name: string; changes: string; local: string | undefined }> = [];
    let refused = 0;
    for (let i = 0; i < COUNT; i++) {
      const { spec, changes } = generate(rand, cm);
      const local = localVerdict(spec);
      const name = `fz-${i}`;
      const body = { apiVersion: `${GROUP}/${VERSION}`, kind: 'ArenaEpisode', metadata: { name }, spec };
      try {
        await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, body });
        accepted.push({ name, changes, local });
      } catch (e) {
        const status = (e as { code?: number }).code;
        const message = String((JSON.parse((e as { body?: string }).body ?? '{}') as { message?: string }).message);
        expect(status, `${changes}: ${message}`).to.equal(422);
        expect(message, changes).to.match(/spec\./);
        // The API server may only refuse what the CLI and env server refuse too.
        expect(local, `${changes}: refused by the API server (${message}) but valid for the CLI`).to.be.a('string');
        refused++;
      }
    }
    const ended = await Promise.all(
      accepted.map(({ name, changes }) =>
        waitFor(
          `episode ${name} (${changes}) to end`,
          async () => {
            const ep = (await api.getNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: ns,
              plural: PLURAL,
              name,
            })) as ArenaEpisode;
            return ep.status?.stepPhase === 'Done' ? ep : undefined;
          },
          120_000,
        ),
      ),
    );
    const reasons = new Map<string, number>();
    ended.forEach((ep, i) => {
      const { changes, local } = accepted[i]!;
      const s = ep.status!;
      const ready = s.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.reason, changes).to.be.a('string').and.not.equal('');
      expect(s.message, changes).to.be.a('string').and.not.match(RAW_JS);
      reasons.set(ready!.reason!, (reasons.get(ready!.reason!) ?? 0) + 1);
      if (local !== undefined) {
        // Refused by the CLI's rules: the operator must refuse it the same way, not run it.
        expect(s.phase, `${changes}: ${local}`).to.equal('Failed');
        expect(ready!.reason, changes).to.equal('InvalidSpec');
        expect(s.history ?? [], changes).to.have.length(0);
      } else {
        expect(s.phase, `${changes}: ${s.message}`).to.be.oneOf(['Succeeded', 'Failed']);
        if (s.phase === 'Failed') expect(ready!.reason, `${changes}: ${s.message}`).to.not.equal('InvalidSpec');
      }
    });
    // The generator reaches both sides.
    expect(refused, 'specs refused by the API server').to.be.greaterThan(3);
    expect(accepted.length, 'specs accepted').to.be.greaterThan(3);
    console.log(
      `      ${COUNT} specs: ${refused} refused by the API server, ${accepted.length} accepted (${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')})`,
    );
  });
});
