// What the test cluster's kubelet stand-ins (hook-runner.ts for hook pods, simkube/driver-runner.ts for SimKube's
// driver pod) write when the command they ran on the host for a pod's container exits: the pod's final status, as a
// kubelet would, so the Job controller completes or fails the pod's Job.
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { apiErrorMessage, isNotFound } from '../../src/kube/errors.js';
import { mergePatch } from '../../src/kube/request.js';

/** A timestamp as the kubelet writes one (whole seconds). */
export const kubeNow = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The kubelet's FallbackToLogsOnError message: the log's last 80 lines, at most 2048 bytes ('' without a log). */
export function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-80).join('\n').slice(-2048);
  } catch {
    return '';
  }
}

export interface Termination {
  namespace: string;
  pod: string;
  container: { name: string; image?: string };
  exitCode: number;
  /** Completed, Error, StartError, ... */
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
}

/** Marks the pod Succeeded (exit 0) or Failed with its one container terminated; a pod already gone is no error. */
export async function writeTermination(kc: KubeConfig, t: Termination, log: (m: string) => void): Promise<void> {
  const ok = t.exitCode === 0;
  try {
    await mergePatch(kc, `/api/v1/namespaces/${t.namespace}/pods/${t.pod}/status`, {
      status: {
        phase: ok ? 'Succeeded' : 'Failed',
        startTime: t.startedAt,
        conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: t.finishedAt }],
        containerStatuses: [
          {
            name: t.container.name,
            image: t.container.image ?? '',
            imageID: '',
            ready: false,
            restartCount: 0,
            started: false,
            state: {
              terminated: {
                exitCode: t.exitCode,
                reason: t.reason,
                ...(t.message ? { message: t.message } : {}),
                startedAt: t.startedAt,
                finishedAt: t.finishedAt,
              },
            },
          },
        ],
      },
    });
  } catch (e) {
    if (!isNotFound(e))
      log(`pod ${t.namespace}/${t.pod}: could not write its terminated status: ${apiErrorMessage(e)}`);
  }
}
