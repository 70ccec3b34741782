// Prints the namespaces of every object in a trace's events, one a line, sorted (record.sh checks a recording
// holds only its scenario's namespaces).  Usage: npx tsx test/cluster/simkube/record/namespaces.ts FILE
import { readFileSync } from 'node:fs';
import { getIn } from '../../../../src/trace/model.js';
import type { MsgMap, MsgValue } from '../../../../src/trace/msgpack.js';
import { decodeTrace } from '../../../../src/trace/trace.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: namespaces.ts FILE\n');
  process.exit(2);
}
const { trace } = decodeTrace(new Uint8Array(readFileSync(file)));
const seen = new Set<string>();
for (const ev of trace.get('events') as MsgValue[])
  for (const list of ['applied_objs', 'deleted_objs'])
    for (const o of (ev as MsgMap).get(list) as MsgValue[]) {
      const ns = getIn(o as MsgMap, ['metadata', 'namespace']);
      seen.add(typeof ns === 'string' && ns !== '' ? ns : '(cluster-scoped)');
    }
process.stdout.write(
  [...seen]
    .sort()
    .map((n) => `${n}\n`)
    .join(''),
);
