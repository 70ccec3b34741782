// Caps and floors (sim-arena-reference.md §2.5): 16 CPU, 32Gi, 100 replicas; 50m, 64Mi, 1 replica.
import { expect } from 'chai';
import { encodeTrace } from '../../../src/trace/trace.js';
import type { WorkloadRef } from '../../../src/trace/workload.js';
import { applyAction, DEFAULT_STEPS, type ActionSettings, type ActionType } from '../../../src/arena/actions.js';
import {
  checkCpu,
  checkMemory,
  checkReplicas,
  DEFAULT_SAFEGUARDS,
  resolveLimits,
  type Safeguards,
} from '../../../src/arena/safeguards.js';
import { loadLegacy, singleWorkloadTrace } from '../trace/helpers.js';
import { sameBytes } from './helpers.js';

const web: WorkloadRef = { kind: 'Deployment', namespace: 'default', name: 'web' };

function run(
  start: { cpu?: string; memory?: string; replicas?: number },
  action: ActionType,
  safeguards: Partial<Safeguards> = {},
  steps: Partial<ActionSettings['steps']> = {},
) {
  const t = singleWorkloadTrace({
    replicas: start.replicas ?? 3,
    containers: [{ name: 'web', cpu: start.cpu ?? '500m', memory: start.memory ?? '512Mi' }],
  });
  const bytes = encodeTrace(t);
  const out = applyAction(t, web, action, {
    steps: { ...DEFAULT_STEPS, ...steps },
    safeguards: { ...DEFAULT_SAFEGUARDS, ...safeguards },
  });
  if (out.blocked) expect(sameBytes(encodeTrace(t), bytes), 'blocked leaves the trace byte-identical').to.equal(true);
  else expect(sameBytes(encodeTrace(t), bytes)).to.equal(false);
  return out;
}

describe('safeguards', () => {
  it('the defaults are the predecessor constants', () => {
    expect(resolveLimits(DEFAULT_SAFEGUARDS)).to.deep.equal({
      maxCpuMillis: 16000n,
      minCpuMillis: 50n,
      maxMemoryBytes: 34359738368n,
      minMemoryBytes: 67108864n,
      maxReplicas: 100,
      minReplicas: 1,
    });
  });

  it('a floor above its cap is refused', () => {
    expect(() => resolveLimits({ ...DEFAULT_SAFEGUARDS, minCpu: '17' })).to.throw(RangeError, /minCpu/);
    expect(() => resolveLimits({ ...DEFAULT_SAFEGUARDS, minMemory: '33Gi' })).to.throw(RangeError, /minMemory/);
    expect(() => resolveLimits({ ...DEFAULT_SAFEGUARDS, minReplicas: 101 })).to.throw(RangeError, /minReplicas/);
  });

  describe('check functions at the boundaries (direction matters)', () => {
    const l = resolveLimits(DEFAULT_SAFEGUARDS);
    it('CPU', () => {
      expect(checkCpu(16000n, 1, l)).to.equal(undefined);
      expect(checkCpu(16001n, 1, l)).to.equal('the CPU request would become 16001m, above the cap of 16');
      expect(checkCpu(50n, -1, l)).to.equal(undefined);
      expect(checkCpu(49n, -1, l)).to.equal('the CPU request would become 49m, below the floor of 50m');
      expect(checkCpu(20000n, -1, l), 'reducing from above the cap').to.equal(undefined);
      expect(checkCpu(10n, 1, l), 'raising from below the floor').to.equal(undefined);
    });
    it('memory', () => {
      expect(checkMemory(34359738368n, 1, l)).to.equal(undefined);
      expect(checkMemory(34359738369n, 1, l)).to.match(
        /memory request would become 34359738369, above the cap of 32Gi/,
      );
      expect(checkMemory(67108864n, -1, l)).to.equal(undefined);
      expect(checkMemory(67108863n, -1, l)).to.match(/below the floor of 64Mi/);
      expect(checkMemory(40n * 2n ** 30n, -1, l)).to.equal(undefined);
    });
    it('replicas', () => {
      expect(checkReplicas(100, 1, l)).to.equal(undefined);
      expect(checkReplicas(101, 1, l)).to.equal('replicas would become 101, above the cap of 100');
      expect(checkReplicas(1, -1, l)).to.equal(undefined);
      expect(checkReplicas(0, -1, l)).to.equal('replicas would become 0, below the floor of 1');
      expect(checkReplicas(150, -1, l)).to.equal(undefined);
    });
  });

  describe('default caps through applyAction', () => {
    it('bump-cpu up to exactly 16 is allowed; past it stops at 16; at 16 it is blocked with the cap in words', () => {
      expect(run({ cpu: '15500m' }, 'bump-cpu').after.cpu).to.equal('16');
      const out = run({ cpu: '15600m' }, 'bump-cpu');
      expect(out).to.include({ blocked: false, clamped: true });
      expect(out.after.cpu).to.equal('16');
      expect(out.note).to.equal(
        "bump-cpu: the pod's effective CPU request stopped at the cap of 16 (15600m + a step would be 16100m)",
      );
      expect(run({ cpu: '16' }, 'bump-cpu').reason).to.equal(
        "bump-cpu blocked: the pod's effective CPU request is 16, already at the cap of 16",
      );
    });

    it('bump-mem up to exactly 32Gi is allowed; at 32Gi it is blocked', () => {
      expect(run({ memory: '32512Mi' }, 'bump-mem').after.memory).to.equal('32Gi');
      const out = run({ memory: '32Gi' }, 'bump-mem');
      expect(out.blocked).to.equal(true);
      expect(out.reason).to.equal(
        "bump-mem blocked: the pod's effective memory request is 32Gi, already at the cap of 32Gi",
      );
    });

    it('scale-up to exactly 100 is allowed; past it is blocked', () => {
      expect(run({ replicas: 99 }, 'scale-up').after.replicas).to.equal(100);
      const out = run({ replicas: 100 }, 'scale-up');
      expect(out.reason).to.equal('scale-up blocked: replicas is 100, already at the cap of 100');
    });

    it('a workload above a cap can still be reduced (20000m → 19500m, 40Gi → 40704Mi, 150 replicas → 149)', () => {
      expect(run({ cpu: '20000m' }, 'reduce-cpu')).to.include({ blocked: false, changed: true });
      expect(run({ cpu: '20000m' }, 'reduce-cpu').after.cpu).to.equal('19500m');
      expect(run({ memory: '40Gi' }, 'reduce-mem').after.memory).to.equal('40704Mi');
      expect(run({ replicas: 150 }, 'scale-down').after.replicas).to.equal(149);
    });

    it('but a bump on it is blocked (trace-cpu-heavy, trace-mem-slight)', () => {
      const t = loadLegacy('trace-cpu-heavy');
      const bytes = encodeTrace(t);
      const out = applyAction(t, web, 'bump-cpu');
      expect(out.reason).to.equal(
        "bump-cpu blocked: the pod's effective CPU request is 20, already above the cap of 16",
      );
      expect(sameBytes(encodeTrace(t), bytes)).to.equal(true);
      const m = loadLegacy('trace-mem-slight');
      expect(applyAction(m, web, 'bump-mem').reason).to.match(/above the cap of 32Gi/);
    });
  });

  describe('default floors through applyAction', () => {
    it('reduce-cpu down to exactly 50m is allowed; a step past it stops at 50m; at 50m it is blocked', () => {
      expect(run({ cpu: '550m' }, 'reduce-cpu').after.cpu).to.equal('50m');
      const out = run({ cpu: '500m' }, 'reduce-cpu');
      expect(out).to.include({ blocked: false, changed: true, clamped: true });
      expect(out.after.cpu).to.equal('50m');
      expect(out.note).to.equal(
        "reduce-cpu: the pod's effective CPU request stopped at the floor of 50m (500m − a step would be 0)",
      );
      expect(run({ cpu: '50m' }, 'reduce-cpu').reason).to.equal(
        "reduce-cpu blocked: the pod's effective CPU request is 50m, already at the floor of 50m",
      );
      expect(run({ cpu: '10m' }, 'reduce-cpu').reason).to.equal(
        "reduce-cpu blocked: the pod's effective CPU request is 10m, already below the floor of 50m",
      );
    });

    it('reduce-mem down to exactly 64Mi is allowed; a step past it stops at 64Mi; at 64Mi it is blocked', () => {
      expect(run({ memory: '320Mi' }, 'reduce-mem').after.memory).to.equal('64Mi');
      const out = run({ memory: '300Mi' }, 'reduce-mem');
      expect(out).to.include({ blocked: false, clamped: true });
      expect(out.after.memory).to.equal('64Mi');
      expect(run({ memory: '64Mi' }, 'reduce-mem').reason).to.equal(
        "reduce-mem blocked: the pod's effective memory request is 64Mi, already at the floor of 64Mi",
      );
    });

    it('scale-down to exactly 1 is allowed; at 1 it is blocked', () => {
      expect(run({ replicas: 2 }, 'scale-down').after.replicas).to.equal(1);
      expect(run({ replicas: 1 }, 'scale-down').reason).to.equal(
        'scale-down blocked: replicas is 1, already at the floor of 1',
      );
    });

    it('a workload below a floor can still be raised (10m → 510m)', () => {
      expect(run({ cpu: '10m' }, 'bump-cpu').after.cpu).to.equal('510m');
      expect(run({ memory: '10Mi' }, 'bump-mem').after.memory).to.equal('266Mi');
    });
  });

  describe('custom settings', () => {
    const custom: Partial<Safeguards> = {
      maxCpu: '4',
      minCpu: '250m',
      maxMemory: '8Gi',
      minMemory: '512Mi',
      maxReplicas: 5,
      minReplicas: 2,
    };

    it('CPU cap and floor', () => {
      expect(run({ cpu: '3500m' }, 'bump-cpu', custom).after.cpu).to.equal('4');
      expect(run({ cpu: '4' }, 'bump-cpu', custom).reason).to.match(/is 4, already at the cap of 4$/);
      expect(run({ cpu: '750m' }, 'reduce-cpu', custom).after.cpu).to.equal('250m');
      expect(run({ cpu: '700m' }, 'reduce-cpu', custom).after.cpu).to.equal('250m');
      expect(run({ cpu: '250m' }, 'reduce-cpu', custom).reason).to.match(/is 250m, already at the floor of 250m$/);
    });

    it('memory cap and floor', () => {
      expect(run({ memory: '7936Mi' }, 'bump-mem', custom).after.memory).to.equal('8Gi');
      expect(run({ memory: '8Gi' }, 'bump-mem', custom).reason).to.match(/is 8Gi, already at the cap of 8Gi$/);
      expect(run({ memory: '768Mi' }, 'reduce-mem', custom).after.memory).to.equal('512Mi');
      expect(run({ memory: '512Mi' }, 'reduce-mem', custom).reason).to.match(
        /is 512Mi, already at the floor of 512Mi$/,
      );
    });

    it('replica cap and floor', () => {
      expect(run({ replicas: 4 }, 'scale-up', custom).after.replicas).to.equal(5);
      expect(run({ replicas: 5 }, 'scale-up', custom).reason).to.match(/is 5, already at the cap of 5$/);
      expect(run({ replicas: 3 }, 'scale-down', custom).after.replicas).to.equal(2);
      expect(run({ replicas: 2 }, 'scale-down', custom).reason).to.match(/is 2, already at the floor of 2$/);
    });

    it('caps apply to the result of custom steps', () => {
      expect(run({ cpu: '3' }, 'bump-cpu', custom, { cpu: '1500m' })).to.include({
        clamped: true,
        note: "bump-cpu: the pod's effective CPU request stopped at the cap of 4 (3 + a step would be 4500m)",
      });
      expect(run({ replicas: 3 }, 'scale-up', custom, { replicas: 2 }).after.replicas).to.equal(5);
      expect(run({ replicas: 4 }, 'scale-up', custom, { replicas: 2 })).to.include({ clamped: true, blocked: false });
      expect(run({ replicas: 4 }, 'scale-up', custom, { replicas: 2 }).after.replicas).to.equal(5);
    });

    it('decimal safeguard values parse as quantities (maxMemory 8G, maxCpu 2500m)', () => {
      expect(resolveLimits({ ...DEFAULT_SAFEGUARDS, maxMemory: '8G', maxCpu: '2500m' })).to.include({
        maxMemoryBytes: 8_000_000_000n,
        maxCpuMillis: 2500n,
      });
    });
  });
});
