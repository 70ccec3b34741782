import { loadKubeConfig } from '../src/operator/runtime/kube.js';
import { runCases, summarize, failureText, fidelityCase } from '../src/sim/fidelity/index.js';
const n = Number(process.argv[2] ?? 10);
const conc = Number(process.argv[3] ?? 8);
const start = Number(process.argv[4] ?? 1);
const kc = loadKubeConfig('/work/main/.cluster/kubeconfig');
const t0 = Date.now();
const seeds = Array.from({ length: n }, (_, i) => start + i);
if (process.env.SHOW) { for (const s of seeds) { const c = fidelityCase(s); console.log(s, c.nodes.map(x=>`${x.cpu}/${x.memory}/${x.pods}`).join(' '), '\n  ' + c.workloads.map(w=>w.summary).join('\n  ')); } process.exit(0); }
const res = await runCases(kc, seeds, { concurrency: conc, onResult: (r) => { if (!r.verdict?.agree) console.log(failureText(r) + '\n'); else process.stdout.write(`${r.case.seed}:ok${r.verdict.tieSeed!==null?'(tie '+r.verdict.tieSeed+')':''} ${r.realMs}ms  `); } });
console.log('\n', summarize(res), `${(Date.now() - t0) / 1000}s`);
