// The kwok backend's hook Jobs: one Job per command, no shell unless sendSim needs stdin from the Simulation file.
import { expect } from 'chai';
import type { StepRun } from '../../../../src/arena/backend.js';
import {
  DEFAULT_HOOK_IMAGE,
  HOOK_LABEL,
  SIMULATION_ENV,
  hookJob,
  hookJobName,
  hooksConfigMapName,
  simulationDocument,
} from '../../../../src/sim/kwok/hooks.js';
import { hookJobOptionsFromFlags } from '../../../../src/cli/hook-flags.js';
import { buildTrace, deploymentObject } from '../../../../src/trace/generate.js';

const run: StepRun = {
  name: 'my-episode-1a2b3c4d-s3',
  episode: 'my-episode',
  trace: buildTrace([deploymentObject({ replicas: 1, cpu: '100m', memory: '64Mi' })]),
  workload: { kind: 'Deployment', namespace: 'default', name: 'web' },
  opts: { seed: 1, durationSeconds: 20 },
  startedAt: 0,
};

describe('kwok backend: hook Jobs', () => {
  it('runs the command and args as given (no shell), once, with a deadline, labelled with run and stage', () => {
    const job = hookJob(run, 'preRun', 1, { cmd: 'kubectl', args: ['get', 'ns; rm -rf /'] }, { timeoutSeconds: 42 });
    expect(job.metadata?.name).to.equal('my-episode-1a2b3c4d-s3-prerun-1');
    expect(job.metadata?.namespace).to.equal('sim-arena');
    expect(job.spec?.backoffLimit).to.equal(0);
    expect(job.spec?.activeDeadlineSeconds).to.equal(42);
    const pod = job.spec!.template;
    expect(pod.metadata?.labels?.[HOOK_LABEL]).to.equal('true');
    expect(pod.metadata?.labels?.['simarena.io/hook-stage']).to.equal('preRun');
    expect(pod.spec?.restartPolicy).to.equal('Never');
    const c = pod.spec!.containers[0]!;
    expect(c.image).to.equal(DEFAULT_HOOK_IMAGE);
    expect(c.command).to.deep.equal(['kubectl']);
    expect(c.args).to.deep.equal(['get', 'ns; rm -rf /']);
    expect(c.terminationMessagePolicy).to.equal('FallbackToLogsOnError');
  });

  it('sendSim: a /bin/sh wrapper that execs the command with the Simulation file on stdin; options reach the pod', () => {
    const job = hookJob(
      run,
      'postRun',
      0,
      { cmd: 'my-report', args: ['--x', 'a b'], sendSim: true },
      {
        image: 'example/hooks:1',
        namespace: 'hooks',
        serviceAccount: 'hook-sa',
        nodeSelector: { pool: 'hooks' },
        tolerations: [{ key: 'hooks', operator: 'Exists' }],
      },
      { metadata: { name: hooksConfigMapName(run.name), uid: 'u-1' } },
    );
    const spec = job.spec!.template.spec!;
    const c = spec.containers[0]!;
    expect(c.command).to.deep.equal(['/bin/sh', '-c', `exec "$0" "$@" < "$${SIMULATION_ENV}"`]);
    expect(c.args).to.deep.equal(['my-report', '--x', 'a b']);
    expect(c.env).to.deep.include({ name: SIMULATION_ENV, value: '/var/run/sim-arena/simulation.json' });
    expect(spec.volumes?.[0]?.configMap?.name).to.equal('my-episode-1a2b3c4d-s3-hooks');
    expect([spec.serviceAccountName, spec.nodeSelector, spec.tolerations]).to.deep.equal([
      'hook-sa',
      { pool: 'hooks' },
      [{ key: 'hooks', operator: 'Exists' }],
    ]);
    expect(job.metadata?.namespace).to.equal('hooks');
    expect(job.metadata?.ownerReferences?.[0]).to.deep.include({ kind: 'ConfigMap', uid: 'u-1' });
  });

  it('names stay DNS labels of at most 63 characters, distinct per stage and index', () => {
    const long = 'x'.repeat(60);
    const names = new Set(['preStart', 'preRun', 'postRun', 'postStop'].map((s) => hookJobName(long, s as never, 0)));
    expect(names.size).to.equal(4);
    for (const n of names) expect(n).to.match(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });

  it('the sendSim document is Simulation-shaped, with the hooks in SimKube form and the replay namespace', () => {
    const doc = simulationDocument(run, { preRun: [{ cmd: 'a' }], postStop: [{ cmd: 'b', sendSim: true }] }) as {
      kind: string;
      metadata: { name: string; labels: Record<string, string> };
      spec: { driver: { namespace: string }; duration: string; hooks: Record<string, unknown[]> };
    };
    expect(doc.kind).to.equal('Simulation');
    expect(doc.metadata.name).to.equal(run.name);
    expect(doc.metadata.labels['simarena.io/episode']).to.equal('my-episode');
    expect(doc.spec.driver.namespace).to.equal(run.name);
    expect(doc.spec.duration).to.equal('20s');
    expect(doc.spec.hooks.preRunHooks).to.deep.equal([{ cmd: 'a' }]);
    expect(doc.spec.hooks.postStopHooks).to.deep.equal([{ cmd: 'b', sendSim: true }]);
  });

  it('flags: each setting, and a clear error for a bad one', () => {
    expect(
      hookJobOptionsFromFlags({
        'hook-image': 'img:1',
        'hook-namespace': 'hooks',
        'hook-service-account': 'sa',
        'hook-timeout': '30',
        'hook-node-selector': 'a=b,c=d',
        'hook-tolerations': '[{"key":"k","operator":"Exists"}]',
      }),
    ).to.deep.equal({
      image: 'img:1',
      namespace: 'hooks',
      serviceAccount: 'sa',
      timeoutSeconds: 30,
      nodeSelector: { a: 'b', c: 'd' },
      tolerations: [{ key: 'k', operator: 'Exists' }],
    });
    expect(hookJobOptionsFromFlags({})).to.deep.equal({});
    expect(() => hookJobOptionsFromFlags({ 'hook-node-selector': 'nope' })).to.throw(/KEY=VALUE/);
    expect(() => hookJobOptionsFromFlags({ 'hook-tolerations': '{"key":"k"}' })).to.throw(/JSON list/);
    expect(() => hookJobOptionsFromFlags({ 'hook-timeout': '0' })).to.throw(/--hook-timeout must be a whole number/);
    expect(() => hookJobOptionsFromFlags({ 'hook-namespace': 'Bad_NS' })).to.throw(/not a namespace name/);
  });
});
