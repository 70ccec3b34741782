// The trace as SimKube 2.7's driver can replay it. Three things in traces sim-arena accepts break the real driver
// (sk-driver/src/runner.rs, sk-core/src/trace/config.rs); each is handled here, on a copy, with a note saying so:
//   - cluster-scoped objects (v1/Node, describing the node pool): the driver takes every object's namespace with
//     `unwrap()` and panics. They are left out: the Simulation replays onto the cluster's own KWOK nodes.
//   - apps/v1.ReplicaSet in config.trackedObjects: SimKube's built-in pod template path for ReplicaSet is `/spec`
//     (not /spec/template), so the driver writes /spec/metadata and server-side apply fails (".spec.metadata: field
//     not declared in schema"). Untracked, the driver applies the ReplicaSet unchanged and SimKube's webhook still
//     gives its pods the virtual nodeSelector and toleration (their owner chain reaches the driver's root).
//   - a pod template naming a ServiceAccount the trace does not carry: the API server refuses the pods
//     ("serviceaccount … not found") in the virtual namespace. The ServiceAccount is added to the trace, in the
//     event that first applies the workload, before it (SimKube issue #129's workaround).
import type { MsgMap, MsgValue } from '../../trace/msgpack.js';
import { cloneValue, getMap, getString, isMap } from '../../trace/model.js';
import { podSpecPath } from '../../trace/gvk.js';
import type { Trace } from '../../trace/trace.js';

export interface ReplayableTrace {
  trace: Trace;
  /** What was changed, one sentence each (empty when the trace replays as it is). */
  notes: string[];
}

const REPLICASET_GVK = 'apps/v1.ReplicaSet';

function namespaceOf(o: MsgMap): string | undefined {
  const ns = getString(o, ['metadata', 'namespace']);
  return ns ? ns : undefined;
}

function serviceAccountOf(o: MsgMap): string | undefined {
  const path = podSpecPath(String(o.get('kind')));
  if (!path) return undefined;
  const spec = getMap(o, path);
  const sa = getString(spec, ['serviceAccountName']) ?? getString(spec, ['serviceAccount']);
  return sa && sa !== 'default' ? sa : undefined;
}

function serviceAccountObject(namespace: string, name: string): MsgMap {
  return new Map<MsgValue, MsgValue>([
    ['apiVersion', 'v1'],
    ['kind', 'ServiceAccount'],
    [
      'metadata',
      new Map<MsgValue, MsgValue>([
        ['name', name],
        ['namespace', namespace],
      ]),
    ],
  ]);
}

/** A copy of `trace` that SimKube 2.7's driver replays, and what was changed to get there. Never mutates `trace`. */
export function replayableBySimkube(trace: Trace): ReplayableTrace {
  const out = cloneValue(trace);
  const notes: string[] = [];

  const tracked = getMap(out, ['config', 'trackedObjects']);
  if (tracked?.has(REPLICASET_GVK)) {
    tracked.delete(REPLICASET_GVK);
    notes.push(
      `${REPLICASET_GVK} is left out of config.trackedObjects: SimKube's pod template path for it is /spec, so its driver would write /spec/metadata and the API server rejects the ReplicaSet; SimKube's webhook still pins the pods to the virtual nodes`,
    );
  }

  const events = (out.get('events') as MsgValue[]).filter(isMap);
  let clusterScoped = 0;
  const clusterKinds = new Set<string>();
  const accounts = new Set<string>(); // "ns/name" the trace creates (or we added)
  for (const ev of events) {
    for (const o of (ev.get('applied_objs') as MsgValue[]).filter(isMap)) {
      if (o.get('kind') === 'ServiceAccount' && namespaceOf(o))
        accounts.add(`${namespaceOf(o)}/${getString(o, ['metadata', 'name'])}`);
    }
  }
  const added: string[] = [];
  for (const ev of events) {
    for (const list of ['applied_objs', 'deleted_objs'] as const) {
      const objs = (ev.get(list) as MsgValue[]).filter(isMap);
      const kept: MsgValue[] = [];
      for (const o of objs) {
        const ns = namespaceOf(o);
        if (!ns) {
          clusterScoped++;
          clusterKinds.add(`${String(o.get('apiVersion'))}/${String(o.get('kind'))}`);
          continue;
        }
        const sa = list === 'applied_objs' ? serviceAccountOf(o) : undefined;
        if (sa && !accounts.has(`${ns}/${sa}`)) {
          accounts.add(`${ns}/${sa}`);
          kept.push(serviceAccountObject(ns, sa));
          added.push(`${ns}/${sa}`);
        }
        kept.push(o);
      }
      if (kept.length !== (ev.get(list) as MsgValue[]).length) ev.set(list, kept);
    }
  }
  if (clusterScoped) {
    notes.push(
      `${clusterScoped} cluster-scoped object(s) (${[...clusterKinds].sort().join(', ')}) left out of the events: SimKube's driver replays only namespaced objects (it panics on others); the replay uses the cluster's own virtual nodes`,
    );
  }
  if (added.length) {
    notes.push(
      `ServiceAccount(s) ${added.join(', ')} added before the workloads that name them: without them the API server refuses their pods in the virtual namespace`,
    );
  }
  return { trace: out, notes };
}
