import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import { KwokBackend } from './src/sim/kwok/index.js';
import { withKeepAlive } from './src/operator/runtime/kube.js';
import { canonicalScenario } from './src/trace/generate.js';
const kc = withKeepAlive((() => { const k = new KubeConfig(); k.loadFromFile('.cluster/kubeconfig'); return k; })());
const core = kc.makeApiClient(CoreV1Api);
const b = new KwokBackend(kc);
const { trace, meta } = canonicalScenario('replicas-over');
let bad = 0;
for (let i = 0; i < 15; i++) {
  const name = `race-${process.pid}-${i}`;
  const run = { name, trace, workload: meta.workload, opts: { seed: 0, durationSeconds: 30, runName: name }, startedAt: Date.now() };
  await b.start(run);
  let r;
  for (;;) { r = await b.poll(run); if (r.observation) break; await new Promise((x) => setTimeout(x, r.waitMs)); }
  if (r.observation.ready !== 5) {
    bad++;
    const pods = await core.listNamespacedPod({ namespace: name });
    console.log(name, JSON.stringify(r.observation), JSON.stringify(pods.items.slice(0, 2).map((p) => p.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime]))));
    const nodes = await core.listNode({ labelSelector: `simarena.io/pool=${name}` });
    console.log(JSON.stringify(nodes.items.map((n) => [n.metadata?.creationTimestamp, n.spec?.taints?.map((t) => t.key), n.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime])));
  }
  await b.cleanup(run);
}
console.log('bad', bad, '/15');
process.exit(0);
