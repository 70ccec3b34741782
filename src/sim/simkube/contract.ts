// The contract between the simkube backend (which writes trace ConfigMaps and waits for them to be on every node)
// and `sim-arena trace-sync` (the DaemonSet that copies them to each node's disk and reports back).
//
//   ConfigMap  <operatorNamespace>/sa-trace-<sha256[:16]>      labels: simarena.io/trace=true, managed-by=sim-arena
//     binaryData["trace.msgpack"]  the trace bytes (data["trace.msgpack"] as base64 is accepted too)
//     annotations:
//       simarena.io/sha256                 sha256 hex of the bytes (written by the backend, informational)
//       simarena.io/synced.<node>          sha256 hex of the bytes trace-sync wrote to <dir>/<configmap>.sktrace on <node>
//       simarena.io/sync-error.<node>      why <node> could not write it (removed once it succeeds)
//
// Annotation names are limited to 63 characters after the prefix; a long node name is shortened to a prefix plus a
// hash of the full name (syncedAnnotation/syncErrorAnnotation below are the only way to build the keys).
import { createHash } from 'node:crypto';
import { MANAGED_BY, TRACE_LABEL } from '../../api/names.js';

export const TRACE_KEY = 'trace.msgpack';
export const TRACE_SHA_ANNOTATION = 'simarena.io/sha256';
export const SYNCED_PREFIX = 'simarena.io/synced.';
export const SYNC_ERROR_PREFIX = 'simarena.io/sync-error.';
/** Prefix of a sync error about the trace itself (permanent), as opposed to the node's disk (may pass). */
export const INVALID_TRACE_PREFIX = 'invalid trace: ';
export const TRACE_FILE_SUFFIX = '.sktrace';
export const DEFAULT_TRACE_SYNC_SELECTOR = 'app.kubernetes.io/component=trace-sync';
export const DEFAULT_TRACE_DIR = '/var/lib/sim-arena/traces';
/** ConfigMaps hold at most 1 MiB of data. */
export const MAX_CONFIGMAP_BYTES = 1024 * 1024;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The content-addressed ConfigMap name for trace bytes. */
export function traceConfigMapName(bytes: Uint8Array): string {
  return `sa-trace-${sha256Hex(bytes).slice(0, 16)}`;
}

export function traceFileName(configMap: string): string {
  return `${configMap}${TRACE_FILE_SUFFIX}`;
}

/** `<node>` as the name part of an annotation key (≤ 63 characters, alphanumeric at both ends). */
function nodeKeyPart(kind: 'synced' | 'sync-error', node: string): string {
  const max = 63 - kind.length - 1;
  const clean = node.replace(/[^A-Za-z0-9._-]/g, '-');
  if (clean === node && clean.length <= max) return `${kind}.${node}`;
  const h = createHash('sha256').update(node).digest('hex').slice(0, 8);
  const head = clean.slice(0, max - 9).replace(/[^A-Za-z0-9]+$/, '');
  return `${kind}.${head}-${h}`;
}

export function syncedAnnotation(node: string): string {
  return `simarena.io/${nodeKeyPart('synced', node)}`;
}

export function syncErrorAnnotation(node: string): string {
  return `simarena.io/${nodeKeyPart('sync-error', node)}`;
}

/** The body of a trace ConfigMap. */
export function traceConfigMap(name: string, namespace: string, bytes: Uint8Array): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { [TRACE_LABEL]: 'true', ...MANAGED_BY },
      annotations: { [TRACE_SHA_ANNOTATION]: sha256Hex(bytes) },
    },
    binaryData: { [TRACE_KEY]: Buffer.from(bytes).toString('base64') },
  };
}

/** The trace bytes of a ConfigMap (binaryData, or data holding base64), or undefined when the key is absent. */
export function configMapTraceBytes(
  cm: { binaryData?: Record<string, string>; data?: Record<string, string> },
  key = TRACE_KEY,
): Uint8Array | undefined {
  const b64 = cm.binaryData?.[key] ?? cm.data?.[key];
  if (b64 === undefined) return undefined;
  return new Uint8Array(Buffer.from(b64, 'base64'));
}
