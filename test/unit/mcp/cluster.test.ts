// The four cluster tools: result shapes from API objects (always), and against the real control plane when
// .cluster/kubeconfig (or SIM_ARENA_TEST_KUBECONFIG) reaches one; skipped with a message otherwise.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Event, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { REPO_ROOT } from '../../../src/bench/scenarios.js';
import { ensureCluster, waitFor } from '../../support/cluster.js';
import { ClusterTools, deploymentView, eventsView, isKwokPod, podView } from '../../../src/mcp/cluster.js';
import { createArenaServer } from '../../../src/mcp/server.js';
import { LATEST_PROTOCOL_VERSION, type McpServer } from '../../../src/mcp/protocol.js';

describe('mcp: cluster tools', () => {
  describe("result shapes (the predecessor's, reference §1.6)", () => {
    it('get_pods: name, phase, node_name, conditions and container states', () => {
      const pod: V1Pod = {
        metadata: { name: 'web-1' },
        spec: { nodeName: 'n1', containers: [{ name: 'web' }] },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [
            {
              name: 'web',
              ready: true,
              restartCount: 2,
              image: 'x',
              imageID: '',
              state: { running: { startedAt: new Date('2026-01-02T03:04:05Z') } },
            },
            {
              name: 'side',
              ready: false,
              restartCount: 0,
              image: 'x',
              imageID: '',
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'boom' } },
            },
            {
              name: 'init',
              ready: false,
              restartCount: 0,
              image: 'x',
              imageID: '',
              state: { terminated: { reason: 'Completed', exitCode: 0 } },
            },
          ],
        },
      };
      expect(podView(pod)).to.deep.equal({
        name: 'web-1',
        phase: 'Running',
        node_name: 'n1',
        conditions: [{ type: 'Ready', status: 'True', reason: null, message: null }],
        containers: [
          {
            name: 'web',
            ready: true,
            restart_count: 2,
            state: { running: { started_at: '2026-01-02T03:04:05.000Z' } },
          },
          {
            name: 'side',
            ready: false,
            restart_count: 0,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'boom' } },
          },
          {
            name: 'init',
            ready: false,
            restart_count: 0,
            state: { terminated: { reason: 'Completed', exit_code: 0 } },
          },
        ],
      });
      expect(
        podView({
          metadata: { name: 'p' },
          status: {
            phase: 'Pending',
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message: '0/3 nodes are available: 3 Insufficient cpu.',
              },
            ],
          },
        }),
      ).to.deep.equal({
        name: 'p',
        phase: 'Pending',
        node_name: null,
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient cpu.',
          },
        ],
        containers: [],
      });
    });

    it('describe_deployment: replicas desired/ready/available/unavailable, containers with resources, conditions', () => {
      const d: V1Deployment = {
        metadata: { name: 'web', namespace: 'ns' },
        spec: {
          replicas: 3,
          selector: {},
          template: { spec: { containers: [{ name: 'web', image: 'img', resources: { requests: { cpu: '17' } } }] } },
        },
        status: {
          readyReplicas: 1,
          conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'm' }],
        },
      };
      expect(deploymentView(d)).to.deep.equal({
        name: 'web',
        namespace: 'ns',
        replicas: { desired: 3, ready: 1, available: 0, unavailable: 0 },
        containers: [{ name: 'web', image: 'img', resources: { requests: { cpu: '17' }, limits: {} } }],
        conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'm' }],
      });
    });

    it('get_events: the deployment and what it owns, Warnings first, then oldest first, at most last_n', () => {
      const ev = (name: string, type: string, reason: string, ts: string): CoreV1Event => ({
        metadata: {},
        involvedObject: { kind: 'Pod', name },
        type,
        reason,
        message: `${reason} ${name}`,
        count: 1,
        lastTimestamp: new Date(ts),
      });
      const events = [
        ev('web-abc-1', 'Normal', 'Scheduled', '2026-01-01T00:00:03Z'),
        ev('webserver-1', 'Warning', 'FailedScheduling', '2026-01-01T00:00:01Z'),
        ev('web-abc-2', 'Warning', 'FailedScheduling', '2026-01-01T00:00:02Z'),
        ev('web', 'Normal', 'ScalingReplicaSet', '2026-01-01T00:00:00Z'),
        ev('web-abc-3', 'Warning', 'FailedScheduling', '2026-01-01T00:00:01Z'),
      ];
      const v = eventsView('ns', events, 'web', 3);
      expect(v).to.deep.include({ namespace: 'ns', deploy_filter: 'web', total_returned: 3 });
      expect(v.events.map((e) => e.object_name)).to.deep.equal(['web-abc-3', 'web-abc-2', 'web']);
      expect(v.events[0]).to.deep.equal({
        type: 'Warning',
        reason: 'FailedScheduling',
        message: 'FailedScheduling web-abc-3',
        object_kind: 'Pod',
        object_name: 'web-abc-3',
        count: 1,
        last_timestamp: '2026-01-01T00:00:01.000Z',
      });
      expect(eventsView('ns', events, undefined, 20).total_returned).to.equal(5);
    });

    it('recognises pods on KWOK nodes', () => {
      expect(isKwokPod({}, { 'kwok.x-k8s.io/node': 'fake' })).to.equal(true);
      expect(
        isKwokPod({ spec: { containers: [], tolerations: [{ key: 'kwok-provider', operator: 'Exists' }] } }, undefined),
      ).to.equal(true);
      expect(isKwokPod({ spec: { containers: [] } }, {})).to.equal(false);
    });
  });

  describe('against the real control plane', function () {
    this.timeout(30_000);
    const kubeconfig = process.env.SIM_ARENA_TEST_KUBECONFIG ?? join(REPO_ROOT, '.cluster', 'kubeconfig');
    let server: McpServer;
    let ns = '';
    let k8s: typeof import('@kubernetes/client-node');
    let kc: import('@kubernetes/client-node').KubeConfig;
    let id = 0;
    const call = async (name: string, args: Record<string, unknown>) => {
      const r = (await server.handle({
        jsonrpc: '2.0',
        id: ++id,
        method: 'tools/call',
        params: { name, arguments: args },
      })) as { result: { isError: boolean; structuredContent: Record<string, unknown> } };
      return r.result;
    };

    before(async function () {
      // Bring the shared test cluster up first (built on a fresh machine), so this suite never skips in `npm test`.
      if (!process.env.SIM_ARENA_TEST_KUBECONFIG) await ensureCluster().catch(() => undefined);
      if (!existsSync(kubeconfig)) {
        console.log(`      (skipped: no test cluster — ${kubeconfig} does not exist; test/cluster/up.sh creates it)`);
        this.skip();
      }
      k8s = await import('@kubernetes/client-node');
      kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      try {
        await core.listNamespace({ limit: 1 });
      } catch (e) {
        console.log(
          `      (skipped: the test cluster in ${kubeconfig} does not answer: ${(e as Error).message.split('\n')[0]})`,
        );
        this.skip();
      }
      ns = `mcp-${process.pid}-${Date.now().toString(36)}`;
      await core.createNamespace({ body: { metadata: { name: ns, labels: { 'simarena.io/test': 'true' } } } });
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      const deployment = (name: string, replicas: number, cpu: string) => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: ns },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              nodeSelector: { type: 'virtual' },
              tolerations: [{ key: 'kwok-provider', operator: 'Exists', effect: 'NoSchedule' }],
              containers: [
                { name, image: 'ghcr.io/example/web:1.0', resources: { requests: { cpu, memory: '64Mi' } } },
              ],
            },
          },
        },
      });
      await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 2, '100m') });
      // Far larger than any node (other suites may add bigger KWOK nodes to the shared cluster).
      await apps.createNamespacedDeployment({ namespace: ns, body: deployment('big', 1, '10k') });
      server = createArenaServer({ cluster: new ClusterTools({ kubeconfig }) });
      await server.handle({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {} },
      });
      // Wait until both web pods are bound and big's pod has been found unschedulable.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const pods = (await core.listNamespacedPod({ namespace: ns })).items;
        const web = pods.filter((p) => p.metadata?.labels?.app === 'web' && p.spec?.nodeName);
        const big = pods.find(
          (p) => p.metadata?.labels?.app === 'big' && p.status?.conditions?.some((c) => c.reason === 'Unschedulable'),
        );
        if (web.length === 2 && big) break;
        if (Date.now() > deadline)
          throw new Error(
            `pods did not settle in ${ns}: ${JSON.stringify(pods.map((p) => [p.metadata?.name, p.spec?.nodeName, p.status?.phase]))}`,
          );
        await new Promise((r) => setTimeout(r, 250));
      }
    });

    after(async () => {
      if (ns)
        await kc
          .makeApiClient(k8s.CoreV1Api)
          .deleteNamespace({ name: ns })
          .catch(() => undefined);
    });

    it('get_pods lists the pods, Pending ones with their Unschedulable condition', async () => {
      const r = await call('get_pods', { namespace: ns });
      expect(r.isError).to.equal(false);
      const data = r.structuredContent as { namespace: string; count: number; pods: Array<ReturnType<typeof podView>> };
      expect(data).to.deep.include({ namespace: ns, count: 3 });
      const big = data.pods.find((p) => p.name.startsWith('big-'))!;
      expect(big).to.deep.include({ phase: 'Pending', node_name: null });
      expect(big.conditions.find((c) => c.type === 'PodScheduled')).to.deep.include({
        status: 'False',
        reason: 'Unschedulable',
      });
      expect(data.pods.filter((p) => p.name.startsWith('web-') && p.node_name)).to.have.length(2);
    });

    it('describe_deployment reports replicas and requests', async () => {
      const r = await call('describe_deployment', { namespace: ns, deploy: 'big' });
      expect(r.isError).to.equal(false);
      expect(r.structuredContent).to.deep.include({ name: 'big', namespace: ns });
      expect((r.structuredContent.replicas as { desired: number }).desired).to.equal(1);
      expect(r.structuredContent.containers).to.deep.equal([
        {
          name: 'big',
          image: 'ghcr.io/example/web:1.0',
          resources: { requests: { cpu: '10k', memory: '64Mi' }, limits: {} },
        },
      ]);
      const missing = await call('describe_deployment', { namespace: ns, deploy: 'nope' });
      expect(missing.isError).to.equal(true);
      expect(missing.structuredContent.error).to.match(/reading deployment .*\/nope: HTTP 404/);
    });

    it("get_events finds the scheduling failure of the deployment's pod", async () => {
      // The scheduler records FailedScheduling a moment after the pod appears: wait for it rather than race it.
      const r = await waitFor(
        'a FailedScheduling event',
        async () => {
          const x = await call('get_events', { namespace: ns, deploy: 'big', last_n: 50 });
          return (x.structuredContent.events as Array<{ reason: string }> | undefined)?.some(
            (e) => e.reason === 'FailedScheduling',
          )
            ? x
            : undefined;
        },
        20_000,
      );
      expect(r.isError).to.equal(false);
      const events = r.structuredContent.events as Array<{
        type: string;
        reason: string;
        message: string;
        object_name: string;
      }>;
      expect(r.structuredContent).to.deep.include({ deploy_filter: 'big' });
      expect(events.every((e) => e.object_name === 'big' || e.object_name.startsWith('big-'))).to.equal(true);
      const failed = events.find((e) => e.reason === 'FailedScheduling');
      expect(failed, JSON.stringify(events)).to.not.equal(undefined);
      expect(failed!.type).to.equal('Warning');
      expect(failed!.message).to.match(/Insufficient cpu/);
      expect(events[0]!.type, 'Warnings first').to.equal('Warning');
    });

    it('get_pod_logs says a KWOK pod has no logs', async () => {
      const pods = (await call('get_pods', { namespace: ns })).structuredContent.pods as Array<{
        name: string;
        node_name: string | null;
      }>;
      const web = pods.find((p) => p.name.startsWith('web-'))!;
      const r = await call('get_pod_logs', { namespace: ns, pod_name: web.name, tail_lines: 10 });
      expect(r.isError).to.equal(false);
      expect(r.structuredContent).to.deep.include({
        namespace: ns,
        pod_name: web.name,
        container: 'web',
        tail_lines: 10,
        logs: '',
      });
      expect(r.structuredContent.note).to.match(
        /runs on a KWOK node \(.+\): KWOK simulates pods without running their containers, so there are no logs/,
      );
      const big = pods.find((p) => p.name.startsWith('big-'))!;
      const pending = await call('get_pod_logs', { namespace: ns, pod_name: big.name });
      expect(pending.structuredContent.note).to.match(/KWOK|not scheduled/);
    });
  });
});
