// The Simulation objects sim-arena writes against the real API server with SimKube's CRD (schema validation).
import { expect } from 'chai';
import { apiErrorCode, apiErrorMessage } from '../../../src/kube/errors.js';
import { simulationPath, SIMULATIONS_PATH } from '../../../src/sim/simkube/simulation.js';
import { buildSimulation, type Simulation } from '../../../src/sim/simkube/simulation.js';
import { clusterOrSkip, deleteSimulation, installSimkubeCrds, type Cluster } from './helpers.js';

describe('simkube: Simulation CRD on the real API server', function () {
  this.timeout(120_000);
  let c: Cluster;
  const created: string[] = [];

  before(async function () {
    c = await clusterOrSkip(this);
    await installSimkubeCrds(c);
  });

  after(async function () {
    if (!c) return;
    for (const n of created) await deleteSimulation(c, n).catch(() => undefined);
  });

  function sim(name: string): Simulation {
    return buildSimulation({
      name,
      runName: name,
      episode: 'crd-test',
      configMap: 'sa-trace-0123456789abcdef',
      workload: 'Deployment default/web',
      driverImage: 'quay.io/appliedcomputing/sk-driver:v2.7.0',
      driverNamespace: 'simkube',
      tracePath: 'file:///var/lib/sim-arena/traces/sa-trace-0123456789abcdef.sktrace',
      virtualNsPrefix: 'virtual',
      durationSeconds: 30,
      speed: 1,
    });
  }

  it('accepts the Simulation the backend builds, keeping every field (no pruning)', async () => {
    const name = `sa-crd-${process.pid}-a`;
    const body = sim(name);
    const out = (await c.kube.create<Simulation>(SIMULATIONS_PATH, body))!;
    created.push(name);
    expect(out.metadata?.name).to.equal(name);
    expect(out.spec.lifecycleParams).to.deep.equal({});
    expect(out.spec.driver).to.deep.include({
      port: 8888,
      tracePath: body.spec.driver.tracePath,
      virtualNsPrefix: 'virtual',
      certManagerIssuer: 'selfsigned',
    });
    expect(out.spec.hooks).to.deep.equal(body.spec.hooks);
    expect(out.spec).to.include({ duration: '30s', speed: 1, repetitions: 1 });
    expect(out.metadata?.labels).to.include({
      'app.kubernetes.io/managed-by': 'sim-arena',
      'simarena.io/episode': 'crd-test',
    });
    // the name is short enough for sk-<sim>-driver-svc
    expect(`sk-${name}-driver-svc`.length).to.be.at.most(63);
  });

  it('rejects a Simulation without lifecycleParams (what pitfall 1 is about)', async () => {
    const body = sim(`sa-crd-${process.pid}-b`) as unknown as { spec: Record<string, unknown> };
    delete body.spec.lifecycleParams;
    let err: unknown;
    await c.kube.create(SIMULATIONS_PATH, body).catch((e: unknown) => (err = e));
    expect(apiErrorCode(err), apiErrorMessage(err)).to.equal(422);
    expect(apiErrorMessage(err)).to.match(/lifecycleParams/);
  });

  // SimKube 2.7's CRD (`skctl crd`, the same Simulation schema as the fixture): status is a subresource and its
  // observedGeneration is required. sk-ctrl (when `npm run simkube:up` runs) reconciles these Simulations too, so the
  // checks below hold whatever status it has written meanwhile.
  it('keeps status to the status subresource, which requires observedGeneration', async () => {
    const name = `sa-crd-${process.pid}-c`;
    const made = await c.kube.create<Simulation>(SIMULATIONS_PATH, {
      ...sim(name),
      status: { observedGeneration: 7, state: 'Finished' },
    });
    created.push(name);
    expect(made?.status ?? undefined, 'status given on create is dropped').to.equal(undefined);
    // Through the main resource a status is ignored.
    const patched = await c.kube.mergePatch<Simulation>(simulationPath(name), {
      status: { observedGeneration: 7, state: 'Finished' },
    });
    expect(patched.status?.observedGeneration ?? undefined).to.not.equal(7);
    // A status without observedGeneration is invalid (a full replace, so what sk-ctrl wrote cannot fill it in).
    const replaceStatus = async (status: object): Promise<unknown> => {
      for (;;) {
        const cur = (await c.kube.get<Simulation>(simulationPath(name)))!;
        try {
          return await c.kube.request({
            method: 'PUT',
            path: simulationPath(name, 'status'),
            body: { ...cur, status },
          });
        } catch (e) {
          if (apiErrorCode(e) !== 409) throw e; // sk-ctrl wrote in between: read again
        }
      }
    };
    let err: unknown;
    await replaceStatus({ state: 'Running' }).catch((e: unknown) => (err = e));
    expect(apiErrorCode(err), apiErrorMessage(err)).to.equal(422);
    expect(apiErrorMessage(err)).to.match(/observedGeneration/);
    const out = (await replaceStatus({ observedGeneration: 1, state: 'Blocked' })) as Simulation;
    expect(out.status).to.deep.include({ observedGeneration: 1, state: 'Blocked' });
  });
});
