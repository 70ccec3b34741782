// SimKube GVK strings: "group/version.Kind", or "version.Kind" for the core group ("/v1.Pod" is accepted too).

export interface Gvk {
  group: string;
  version: string;
  kind: string;
}

const GVK = /^(?:([a-z0-9.-]*)\/)?([a-z0-9]+)\.([A-Za-z][A-Za-z0-9]*)$/;

export function parseGvk(s: string): Gvk | undefined {
  const m = GVK.exec(s);
  if (!m) return undefined;
  return { group: m[1] ?? '', version: m[2]!, kind: m[3]! };
}

export function formatGvk(g: Gvk): string {
  return g.group ? `${g.group}/${g.version}.${g.kind}` : `${g.version}.${g.kind}`;
}

/** GVK string for an object's apiVersion + kind ("apps/v1" + "Deployment" -> "apps/v1.Deployment"). */
export function gvkOf(apiVersion: string, kind: string): string {
  return `${apiVersion}.${kind}`;
}

/** The pod template paths SimKube implies for built-in kinds (TracerConfig::normalize). */
export const BUILTIN_POD_SPEC_TEMPLATE_PATHS: Record<string, string> = {
  'batch/v1.CronJob': '/spec/jobTemplate/spec/template',
  'apps/v1.DaemonSet': '/spec/template',
  'apps/v1.Deployment': '/spec/template',
  'batch/v1.Job': '/spec/template',
  'apps/v1.StatefulSet': '/spec/template',
  'apps/v1.ReplicaSet': '/spec',
  'v1.Pod': '',
};

/** Where the PodSpec of a workload lives, as a key path into the object. */
export function podSpecPath(kind: string): string[] | undefined {
  switch (kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return ['spec', 'template', 'spec'];
    case 'CronJob':
      return ['spec', 'jobTemplate', 'spec', 'template', 'spec'];
    case 'Pod':
      return ['spec'];
    default:
      return undefined;
  }
}

/** Kinds whose replica count lives at spec.replicas. */
export function hasReplicas(kind: string): boolean {
  return kind === 'Deployment' || kind === 'ReplicaSet' || kind === 'StatefulSet';
}
