// Hooks on the kwok backend: each command of ArenaEpisode spec.hooks runs as a Kubernetes Job, one per command, in
// order, at SimKube's four stage points of a replay (preStart before the run's namespace and nodes exist, preRun after
// that just before the workloads are applied, postRun after the observation, postStop after the namespace and nodes
// are deleted). SimKube's semantics (src/arena/hooks.ts): no shell, `sendSim` feeds a Simulation-shaped JSON document
// to the command's stdin, a non-zero exit fails the stage only with `ignoreFailure: false`, a command that cannot be
// started always fails it. Nothing runs inside the operator: the Job's container runs the command; only for sendSim
// does the hook image need /bin/sh, for `exec "$0" "$@" < FILE`, so the command itself still gets no shell.
//
// Every step is recorded in the cluster, so a restarted operator carries on where the last one stopped: a run's
// ConfigMap `<run>-hooks` (in the hook namespace) holds the Simulation document and, as annotations, each finished
// stage, when the replay was set up, and the observation taken before postRun; its Jobs are named after the run,
// stage and index and are owned by that ConfigMap, so deleting it (the run's clean-up) removes them and their pods.
import {
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1ConfigMap,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import type { V1Toleration } from '@kubernetes/client-node';
import { HOOK_STAGES, HookFailed, type EpisodeHooks, type HookStage, type SimulationHook } from '../../arena/hooks.js';
import type { PollResult, StepRun } from '../../arena/backend.js';
import { EPISODE_LABEL, MANAGED_BY, RUN_LABEL } from '../../api/names.js';
import { apiErrorCode, isNotFound } from '../../kube/errors.js';
import { mergePatchOptions } from '../../kube/custom-objects.js';
import { dnsLabel, labelValue } from '../simkube/simulation.js';
import { formatWorkload } from '../../trace/workload.js';

/** On every hook Job and its pod: what it is (the test cluster's kubelet stand-in looks for it). */
export const HOOK_LABEL = 'simarena.io/hook';
export const HOOK_STAGE_LABEL = 'simarena.io/hook-stage';
export const HOOK_INDEX_LABEL = 'simarena.io/hook-index';
/** The Simulation document's key in the run's hooks ConfigMap, and where a sendSim hook's container finds it. */
export const SIMULATION_KEY = 'simulation.json';
export const SIMULATION_MOUNT = '/var/run/sim-arena';
/** Env var naming the Simulation document's path inside every hook container. */
export const SIMULATION_ENV = 'SIM_ARENA_SIMULATION';
export const DEFAULT_HOOK_IMAGE = 'registry.k8s.io/kubectl:v1.33.4';
export const DEFAULT_HOOK_NAMESPACE = 'sim-arena';
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 300;

const STAGE_ANNOTATION = (s: HookStage) => `simarena.io/hooks-${s.toLowerCase()}`;
const SETUP_ANNOTATION = 'simarena.io/hooks-setup-at';
const CLEANED_ANNOTATION = 'simarena.io/hooks-cleaned-at';
const OBSERVATION_ANNOTATION = 'simarena.io/hooks-observation';

/** Where and how hook Jobs run (CLI flags on `run`, operator flags, Helm values). */
export interface HookJobOptions {
  /** Container image with the hook commands (and /bin/sh for sendSim). Default registry.k8s.io/kubectl. */
  image?: string;
  /** Namespace of the Jobs and of each run's hooks ConfigMap. Default sim-arena. */
  namespace?: string;
  /** ServiceAccount of the hook pods (its RBAC is what the commands may do). Default: the namespace's default. */
  serviceAccount?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  /** A Job still running this long after it started fails (activeDeadlineSeconds). Default 300. */
  timeoutSeconds?: number;
}

export interface StageRun {
  stage: HookStage;
  outcome: 'Succeeded' | 'Failed';
  message: string;
}

/** The command as one line, as SimKube's events quote it. */
export const commandLine = (h: SimulationHook): string => [h.cmd, ...(h.args ?? [])].join(' ');

/** The run's hooks ConfigMap name (≤ 63 characters). */
export function hooksConfigMapName(run: string): string {
  return dnsLabel(`${run}-hooks`, 63);
}

/** The Job of hook `index` of `stage` (a DNS label ≤ 63, as the job-name label on its pods must be). */
export function hookJobName(run: string, stage: HookStage, index: number): string {
  return dnsLabel(`${run}-${stage.toLowerCase()}-${index}`, 63);
}

/** The Simulation-shaped document a sendSim hook reads (SimKube sends its Simulation object as JSON). */
export function simulationDocument(run: StepRun, hooks: EpisodeHooks): Record<string, unknown> {
  const copy = (hs: SimulationHook[] | undefined) => (hs ?? []).map((h) => ({ ...h }));
  return {
    apiVersion: 'simkube.io/v1',
    kind: 'Simulation',
    metadata: {
      name: run.name,
      labels: {
        ...MANAGED_BY,
        [RUN_LABEL]: labelValue(run.name),
        ...(run.episode ? { [EPISODE_LABEL]: labelValue(run.episode) } : {}),
      },
      annotations: { 'simarena.io/backend': 'kwok', 'simarena.io/workload': formatWorkload(run.workload) },
    },
    spec: {
      // On kwok the replay's objects go into the run's own namespace (there is no driver; this names it for hooks).
      driver: { namespace: run.name },
      ...(run.opts.durationSeconds ? { duration: `${Math.max(1, Math.ceil(run.opts.durationSeconds))}s` } : {}),
      speed: 1,
      repetitions: 1,
      hooks: {
        preStartHooks: copy(hooks.preStart),
        preRunHooks: copy(hooks.preRun),
        postRunHooks: copy(hooks.postRun),
        postStopHooks: copy(hooks.postStop),
      },
    },
  };
}

/** The Job running one hook command. */
export function hookJob(
  run: StepRun,
  stage: HookStage,
  index: number,
  hook: SimulationHook,
  opts: HookJobOptions,
  owner?: V1ConfigMap,
): V1Job {
  const labels = {
    ...MANAGED_BY,
    [HOOK_LABEL]: 'true',
    [RUN_LABEL]: labelValue(run.name),
    [HOOK_STAGE_LABEL]: stage,
    [HOOK_INDEX_LABEL]: String(index),
    ...(run.episode ? { [EPISODE_LABEL]: labelValue(run.episode) } : {}),
  };
  const simPath = `${SIMULATION_MOUNT}/${SIMULATION_KEY}`;
  // No shell for the command: it is the container's command and args as given. sendSim needs stdin from a file,
  // which only a wrapper can do: /bin/sh -c 'exec "$0" "$@" < FILE' cmd args... (the shell replaces itself).
  const command = hook.sendSim ? ['/bin/sh', '-c', `exec "$0" "$@" < "$${SIMULATION_ENV}"`] : [hook.cmd];
  const args = hook.sendSim ? [hook.cmd, ...(hook.args ?? [])] : (hook.args ?? []);
  const cm = hooksConfigMapName(run.name);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: hookJobName(run.name, stage, index),
      namespace: opts.namespace ?? DEFAULT_HOOK_NAMESPACE,
      labels,
      annotations: { 'simarena.io/hook-command': commandLine(hook).slice(0, 4096) },
      ...(owner?.metadata?.uid
        ? {
            ownerReferences: [
              { apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name!, uid: owner.metadata.uid },
            ],
          }
        : {}),
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: opts.timeoutSeconds ?? DEFAULT_HOOK_TIMEOUT_SECONDS,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          ...(opts.serviceAccount ? { serviceAccountName: opts.serviceAccount } : {}),
          ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}),
          ...(opts.tolerations ? { tolerations: opts.tolerations } : {}),
          containers: [
            {
              name: 'hook',
              image: opts.image ?? DEFAULT_HOOK_IMAGE,
              command,
              ...(args.length ? { args } : {}),
              env: [{ name: SIMULATION_ENV, value: simPath }],
              volumeMounts: [{ name: 'simulation', mountPath: SIMULATION_MOUNT, readOnly: true }],
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
          volumes: [{ name: 'simulation', configMap: { name: cm } }],
        },
      },
    },
  };
}

interface Record_ {
  cm: V1ConfigMap;
  ann: Record<string, string>;
}

/** Runs a replay's hook stages as Jobs, one poll at a time (never waits itself). */
export class HookJobs {
  private readonly core: CoreV1Api;
  private readonly batch: BatchV1Api;
  readonly namespace: string;

  constructor(
    kc: KubeConfig,
    readonly hooks: EpisodeHooks,
    readonly opts: HookJobOptions = {},
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.namespace = opts.namespace ?? DEFAULT_HOOK_NAMESPACE;
  }

  /** The run's record: created with the Simulation document (idempotent). */
  async ensureRecord(run: StepRun): Promise<void> {
    const name = hooksConfigMapName(run.name);
    try {
      await this.core.createNamespacedConfigMap({
        namespace: this.namespace,
        body: {
          metadata: {
            name,
            labels: {
              ...MANAGED_BY,
              [RUN_LABEL]: labelValue(run.name),
              ...(run.episode ? { [EPISODE_LABEL]: labelValue(run.episode) } : {}),
            },
          },
          data: { [SIMULATION_KEY]: JSON.stringify(simulationDocument(run, this.hooks)) },
        },
      });
    } catch (e) {
      if (apiErrorCode(e) === 409) return;
      if (isNotFound(e))
        throw new HookFailed(
          `hook namespace ${this.namespace} does not exist: create it (kubectl create namespace ${this.namespace}) or set the hook namespace option`,
        );
      throw e;
    }
  }

  async read(run: StepRun): Promise<Record_> {
    const cm = await this.core.readNamespacedConfigMap({
      name: hooksConfigMapName(run.name),
      namespace: this.namespace,
    });
    return { cm, ann: cm.metadata?.annotations ?? {} };
  }

  async annotate(run: StepRun, rec: Record_, ann: Record<string, string>): Promise<void> {
    await this.core.patchNamespacedConfigMap(
      { name: hooksConfigMapName(run.name), namespace: this.namespace, body: { metadata: { annotations: ann } } },
      mergePatchOptions(),
    );
    Object.assign(rec.ann, ann);
  }

  setupAt(rec: Record_): number | undefined {
    const v = rec.ann[SETUP_ANNOTATION];
    return v ? Number(v) : undefined;
  }
  markSetup(run: StepRun, rec: Record_): Promise<void> {
    return this.annotate(run, rec, { [SETUP_ANNOTATION]: String(Date.now()) });
  }
  cleaned(rec: Record_): boolean {
    return !!rec.ann[CLEANED_ANNOTATION];
  }
  markCleaned(run: StepRun, rec: Record_): Promise<void> {
    return this.annotate(run, rec, { [CLEANED_ANNOTATION]: String(Date.now()) });
  }
  observation(rec: Record_): unknown {
    const v = rec.ann[OBSERVATION_ANNOTATION];
    return v ? JSON.parse(v) : undefined;
  }
  keepObservation(run: StepRun, rec: Record_, observation: unknown): Promise<void> {
    return this.annotate(run, rec, { [OBSERVATION_ANNOTATION]: JSON.stringify(observation) });
  }

  /** The preRun or postRun failure recorded before clean-up, if any (the run ends with it after postStop). */
  failedBeforeStop(rec: Record_): HookFailed | undefined {
    const f = this.runs(rec).find((r) => (r.stage === 'preRun' || r.stage === 'postRun') && r.outcome === 'Failed');
    return f ? new HookFailed(f.message) : undefined;
  }

  /** How the stages that ran went (for the episode's Hooks condition). */
  runs(rec: Record_): StageRun[] {
    const out: StageRun[] = [];
    for (const stage of HOOK_STAGES) {
      const v = rec.ann[STAGE_ANNOTATION(stage)];
      if (v) out.push({ stage, ...(JSON.parse(v) as Omit<StageRun, 'stage'>) });
    }
    return out;
  }

  /**
   * Advance `stage`: its Jobs in order, one at a time. Returns undefined when the stage is done (recorded on the
   * run's ConfigMap), or what to wait for; throws HookFailed when a hook failed it.
   */
  async stage(run: StepRun, rec: Record_, stage: HookStage): Promise<PollResult | undefined> {
    if (rec.ann[STAGE_ANNOTATION(stage)]) {
      const done = JSON.parse(rec.ann[STAGE_ANNOTATION(stage)]!) as Omit<StageRun, 'stage'>;
      if (done.outcome === 'Failed') throw new HookFailed(done.message);
      return undefined;
    }
    const hooks = this.hooks[stage] ?? [];
    const ignored: string[] = [];
    for (const [i, hook] of hooks.entries()) {
      const name = hookJobName(run.name, stage, i);
      let job: V1Job;
      try {
        job = await this.batch.readNamespacedJob({ name, namespace: this.namespace });
      } catch (e) {
        if (!isNotFound(e)) throw e;
        await this.batch
          .createNamespacedJob({ namespace: this.namespace, body: hookJob(run, stage, i, hook, this.opts, rec.cm) })
          .catch((err: unknown) => {
            if (apiErrorCode(err) !== 409) throw err;
          });
        return {
          waitMs: 500,
          waiting: { reason: 'HookRunning', message: `${stage} hook ${i + 1}/${hooks.length}: ${commandLine(hook)}` },
        };
      }
      const cond = (t: string) => job.status?.conditions?.find((c) => c.type === t && c.status === 'True');
      if (cond('Complete')) continue;
      const failed = cond('Failed');
      if (!failed) {
        const why = await this.pending(name);
        return {
          waitMs: 500,
          waiting: {
            reason: 'HookRunning',
            message: `${stage} hook ${i + 1}/${hooks.length}: ${commandLine(hook)}${why ? ` (${why})` : ''}`,
          },
        };
      }
      const f = await this.failure(name, !!hook.sendSim, failed.reason, failed.message);
      const msg = `${stage} hook \`${commandLine(hook)}\` (Job ${this.namespace}/${name}) ${f.text}`;
      if (f.notStarted || hook.ignoreFailure === false) {
        const message = `${msg}${f.notStarted ? ' (a command that cannot start fails its stage even with ignoreFailure)' : ''}`;
        await this.annotate(run, rec, { [STAGE_ANNOTATION(stage)]: JSON.stringify({ outcome: 'Failed', message }) });
        throw new HookFailed(message);
      }
      ignored.push(`${msg} (ignored: ignoreFailure is not false)`);
    }
    const message = hooks.length
      ? `${hooks.length} hook(s) ran${ignored.length ? `; ${ignored.join('; ')}` : ''}`
      : 'no hooks';
    await this.annotate(run, rec, { [STAGE_ANNOTATION(stage)]: JSON.stringify({ outcome: 'Succeeded', message }) });
    return undefined;
  }

  private async podsOf(job: string): Promise<V1Pod[]> {
    return (
      await this.core.listNamespacedPod({
        namespace: this.namespace,
        labelSelector: `batch.kubernetes.io/job-name=${job}`,
      })
    ).items;
  }

  /** Why a running Job's pod has not finished yet, when it says (image pull, unschedulable, ...). */
  private async pending(job: string): Promise<string | undefined> {
    const pod = (await this.podsOf(job).catch(() => []))[0];
    if (!pod) return undefined;
    const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating')
      return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
    const unsched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unsched) return `pod ${pod.metadata?.name} not scheduled: ${unsched.message ?? unsched.reason}`;
    return undefined;
  }

  /** A failed Job's account: exit code, the container's message (FallbackToLogsOnError: its log tail) or log tail. */
  private async failure(
    job: string,
    wrapped: boolean,
    reason?: string,
    message?: string,
  ): Promise<{ text: string; notStarted: boolean }> {
    const pod = (await this.podsOf(job).catch(() => []))[0];
    const term = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    if (!term) {
      if (reason === 'DeadlineExceeded')
        return {
          text: `did not finish within ${this.opts.timeoutSeconds ?? DEFAULT_HOOK_TIMEOUT_SECONDS}s (hook timeout)`,
          notStarted: false,
        };
      return { text: `failed: ${reason ?? 'Failed'}${message ? `: ${message}` : ''}`, notStarted: false };
    }
    let detail = term.message?.trim();
    if (!detail && pod?.metadata?.name) {
      detail = await this.core
        .readNamespacedPodLog({ name: pod.metadata.name, namespace: this.namespace, tailLines: 20 })
        .then((s) => String(s).trim())
        .catch(() => undefined);
    }
    // The runtime could not start it (no such command, not executable), or the sendSim wrapper's shell said so.
    const notStarted =
      term.reason === 'StartError' ||
      term.reason === 'ContainerCannotRun' ||
      (wrapped && (term.exitCode === 126 || term.exitCode === 127));
    const tail = detail ? `: ${detail.split('\n').slice(-20).join('\n').slice(-2000)}` : '';
    return {
      text: `${notStarted ? 'could not start' : 'failed'} with exit code ${term.exitCode}${term.reason && term.reason !== 'Error' ? ` (${term.reason})` : ''}${tail}`,
      notStarted,
    };
  }

  /** Deletes the run's record; its Jobs and their pods go with it (owner references). */
  async remove(run: StepRun): Promise<void> {
    await this.core
      .deleteNamespacedConfigMap({
        name: hooksConfigMapName(run.name),
        namespace: this.namespace,
        propagationPolicy: 'Background',
      })
      .catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    // Jobs that lost their owner reference (created before the ConfigMap was read) are deleted by label.
    await this.batch
      .deleteCollectionNamespacedJob({
        namespace: this.namespace,
        labelSelector: `${HOOK_LABEL}=true,${RUN_LABEL}=${labelValue(run.name)}`,
        propagationPolicy: 'Background',
      })
      .catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
  }
}
