// The ArenaEpisode CRD and the TypeScript agree: every OpenAPI default equals the one toEpisodeSpec applies, and every
// enum lists exactly what the code accepts (all registered policies, reward modes, backends).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';
import { registerAgents } from '../../../src/agents/index.js';
import { EPISODE_DEFAULTS } from '../../../src/api/defaults.js';
import { toEpisodeSpec } from '../../../src/api/episode.js';
import { ARENA_EPISODE_CRD, GROUP, KIND, PLURAL, VERSION } from '../../../src/api/names.js';
import { policyNames } from '../../../src/arena/policies.js';
import { REWARD_MODES } from '../../../src/arena/reward.js';
import { BACKENDS } from '../../../src/sim/index.js';
import { DEFAULT_TRACE_DIR } from '../../../src/sim/simkube/contract.js';
import {
  DEFAULT_DRIVER_IMAGE,
  DEFAULT_DRIVER_NAMESPACE,
  DEFAULT_VIRTUAL_NS_PREFIX,
} from '../../../src/sim/simkube/simulation.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CRD_FILES = ['crds/arenaepisodes.simarena.io.yaml', 'charts/sim-arena/crds/arenaepisodes.simarena.io.yaml'];

interface Schema {
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
}

function specSchema(file: string): { crd: Record<string, any>; spec: Schema } {
  const crd = parse(readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, any>;
  const version = (crd.spec.versions as Array<Record<string, any>>).find((v) => v.name === VERSION);
  expect(version, `${file} serves ${VERSION}`).to.not.equal(undefined);
  return { crd, spec: version!.schema.openAPIV3Schema.properties.spec as Schema };
}

function at(schema: Schema, dotted: string): Schema {
  let s = schema;
  for (const p of dotted.split('.')) {
    const next = s.properties?.[p];
    if (!next) throw new Error(`the CRD has no spec.${dotted}`);
    s = next;
  }
  return s;
}

describe('api: the ArenaEpisode CRD matches the TypeScript contract', () => {
  before(() => registerAgents());

  for (const file of CRD_FILES) {
    describe(file, () => {
      const { crd, spec } = specSchema(file);

      it('names the resource as api/names.ts does', () => {
        expect(crd.metadata.name).to.equal(ARENA_EPISODE_CRD);
        expect(crd.spec.group).to.equal(GROUP);
        expect(crd.spec.names.kind).to.equal(KIND);
        expect(crd.spec.names.plural).to.equal(PLURAL);
      });

      it('defaults every field as EPISODE_DEFAULTS does', () => {
        const D = EPISODE_DEFAULTS;
        const want: Record<string, unknown> = {
          'trace.configMapRef.key': D.traceKey,
          'workload.kind': D.workloadKind,
          'workload.namespace': D.workloadNamespace,
          'policy.name': D.policy,
          'policy.seed': D.seed,
          // No schema default: shaped, or rightsizing with spec.usage, applied by toEpisodeSpec.
          'reward.mode': undefined,
          'reward.stepPenalty': D.stepPenalty,
          maxSteps: D.maxSteps,
          stepDuration: D.stepDuration,
          backend: D.backend,
          'actions.cpuStep': D.cpuStep,
          'actions.memoryStep': D.memoryStep,
          'actions.replicaStep': D.replicaStep,
          'safeguards.maxCpu': D.safeguards.maxCpu,
          'safeguards.maxMemory': D.safeguards.maxMemory,
          'safeguards.maxReplicas': D.safeguards.maxReplicas,
          'safeguards.minCpu': D.safeguards.minCpu,
          'safeguards.minMemory': D.safeguards.minMemory,
          'safeguards.minReplicas': D.safeguards.minReplicas,
          'nodePool.count': D.nodePool.count,
          'nodePool.cpu': D.nodePool.cpu,
          'nodePool.memory': D.nodePool.memory,
          'nodePool.pods': D.nodePool.pods,
          'simkube.driverImage': DEFAULT_DRIVER_IMAGE,
          'simkube.driverNamespace': DEFAULT_DRIVER_NAMESPACE,
          'simkube.speed': 1,
          'simkube.virtualNsPrefix': DEFAULT_VIRTUAL_NS_PREFIX,
          'simkube.traceDir': DEFAULT_TRACE_DIR,
        };
        const got = Object.fromEntries(Object.keys(want).map((k) => [k, at(spec, k).default]));
        expect(got).to.deep.equal(want);
      });

      it('lists every registered policy, reward mode and backend in its enums, and nothing else', () => {
        // Unit tests register throwaway policies named test-*; every other registered policy must be in the enum.
        const registered = policyNames().filter((n) => !n.startsWith('test-'));
        expect([...(at(spec, 'policy.name').enum ?? [])].sort()).to.deep.equal(registered.sort());
        expect([...(at(spec, 'reward.mode').enum ?? [])].sort()).to.deep.equal([...REWARD_MODES].sort());
        expect([...(at(spec, 'backend').enum ?? [])].sort()).to.deep.equal([...BACKENDS].sort());
      });
    });
  }

  it('toEpisodeSpec of a minimal spec gives the same episode as the CRD-defaulted spec', () => {
    const minimal = { trace: { configMapRef: { name: 'cm' } }, workload: { name: 'web' }, targetReplicas: 3 };
    const D = EPISODE_DEFAULTS;
    const defaulted = {
      ...minimal,
      workload: { name: 'web', kind: D.workloadKind, namespace: D.workloadNamespace },
      policy: { name: D.policy, seed: D.seed },
      reward: { mode: D.rewardMode, stepPenalty: D.stepPenalty },
      maxSteps: D.maxSteps,
      stepDuration: D.stepDuration,
      actions: { cpuStep: D.cpuStep, memoryStep: D.memoryStep, replicaStep: D.replicaStep },
      safeguards: { ...D.safeguards },
      nodePool: { ...D.nodePool },
    };
    expect(toEpisodeSpec(minimal)).to.deep.equal(toEpisodeSpec(defaulted));
    expect(toEpisodeSpec(minimal).maxSteps).to.equal(D.maxSteps);
  });
});
