// Env server with usage: the create fields, the continuing task, the wider Box, usage fields in info, errors.
import { expect } from 'chai';
import { parseCreateRequest } from '../../../src/envserver/config.js';
import { ArenaEnv } from '../../../src/envserver/env.js';
import { HttpError } from '../../../src/envserver/errors.js';
import { inBounds, USAGE_COMPONENTS, OBSERVATION_SIZE } from '../../../src/envserver/spaces.js';
import { EmbeddedBackend } from '../../../src/sim/embedded/index.js';
import { usageToPrometheus } from '../../../src/trace/usage/prometheus.js';
import { synthesizeUsage } from '../../../src/trace/usage/synth.js';

const web = { kind: 'Deployment', namespace: 'default', name: 'web' };
const usage = (memory: string) =>
  synthesizeUsage({
    workloads: [{ workload: web }],
    patterns: ['constant'],
    cpu: '200m',
    memory,
    duration: 3600,
    interval: 30,
    seed: 0,
    period: 3600,
  });
const config = (body: Record<string, unknown>) => parseCreateRequest(body, 'embedded');

describe('env server with usage', () => {
  it('a healthy workload at its target is not terminated; rightsizing scores it, the Box gains the usage components', async () => {
    const env = new ArenaEnv(
      config({ scenario: 'healthy', usage: usage('300Mi'), maxSteps: 3 }),
      new EmbeddedBackend(),
    );
    expect(env.spaces().observation_space.shape).to.deep.equal([OBSERVATION_SIZE + USAGE_COMPONENTS.length]);
    const r0 = await env.reset({ seed: 0 });
    expect(inBounds(r0.observation, true)).to.equal(true);
    expect(r0.info.raw_observation.oomKills).to.equal(0);
    for (let i = 1; i <= 3; i++) {
      const r = await env.stepAction(0);
      expect(r.terminated).to.equal(false);
      expect(r.truncated).to.equal(i === 3);
      expect(r.reward).to.be.lessThan(0).and.greaterThan(-0.1);
      expect(r.observation[OBSERVATION_SIZE + 3]).to.be.closeTo(300 / 512, 0.05);
    }
    expect(env.describe().usage).to.include({ stepSeconds: 30, missingLimits: 'request' });
  });

  it('stopAtGoal terminates at the goal; a Prometheus export is accepted; usage above the request OOM-kills', async () => {
    const exp = JSON.parse(JSON.stringify(usageToPrometheus(usage('700Mi'), { baseTs: 0 })));
    const env = new ArenaEnv(
      config({
        scenario: 'healthy',
        usage: exp,
        usageOptions: { noise: 0 },
        stopAtGoal: true,
        actions: { set: 'proportional' },
      }),
      new EmbeddedBackend(),
    );
    const r0 = await env.reset({ seed: 0 });
    expect(r0.info.raw_observation.ready).to.equal(0);
    expect(r0.observation[OBSERVATION_SIZE]).to.be.greaterThan(0);
    let r = await env.stepAction(2); // bump-mem ×1.25: 640Mi, still below 700Mi
    expect(r.info.resources.memory).to.equal('640Mi');
    r = await env.stepAction(2); // 800Mi
    expect(r.terminated).to.equal(true);
  });

  it('without usage the Box stays 9 wide', () => {
    const env = new ArenaEnv(config({ scenario: 'healthy' }), new EmbeddedBackend());
    expect(env.spaces().observation_space.shape).to.deep.equal([OBSERVATION_SIZE]);
  });

  it('bad usage is a 400 that names the field', () => {
    const bad = (body: Record<string, unknown>, re: RegExp) => {
      let err: unknown;
      try {
        config(body);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(HttpError);
      expect((err as HttpError).status).to.equal(400);
      expect((err as Error).message).to.match(re);
    };
    bad({ scenario: 'healthy', usage: { format: 'nope' } }, /invalid usage: usage\.format/);
    bad({ scenario: 'healthy', usage: 'x' }, /usage must be/);
    bad({ scenario: 'healthy', usage: usage('1Gi'), usageOptions: { noise: 2 } }, /usageOptions\.noise/);
    bad({ scenario: 'healthy', usageOptions: { noise: 0 } }, /usageOptions needs usage/);
    bad(
      {
        scenario: 'healthy',
        usage: { ...usage('1Gi'), series: [{ ...usage('1Gi').series[0]!, workload: { ...web, name: 'db' } }] },
      },
      /no usage for Deployment default\/web/,
    );
    bad({ scenario: 'healthy', actions: { set: 'wild' } }, /unknown action set "wild"/);
  });
});
