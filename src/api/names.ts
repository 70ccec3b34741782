// Every name of the simarena.io/v1alpha1 contract: the ArenaEpisode resource, and the labels, annotations and
// finalizer sim-arena puts on the objects it writes. Defined here once; everything else imports them.

export const GROUP = 'simarena.io';
export const VERSION = 'v1alpha1';
export const PLURAL = 'arenaepisodes';
export const KIND = 'ArenaEpisode';
/** The CRD's name (what `kubectl get crd` and preflight look for). */
export const ARENA_EPISODE_CRD = `${PLURAL}.${GROUP}`;
export const FINALIZER = 'simarena.io/cleanup';
/** The `reportingController` of the operator's Events. */
export const REPORTING_CONTROLLER = 'simarena.io/operator';

/** The data key of a trace ConfigMap. */
export const TRACE_KEY = 'trace.msgpack';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'sim-arena';
/** The managed-by label, as a label map to spread into an object's labels. */
export const MANAGED_BY = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
/** A label selector for objects sim-arena manages. */
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** The episode (its name, cut to a label value) an object belongs to. */
export const EPISODE_LABEL = 'simarena.io/episode';
/** On the operator's trace ConfigMaps: the uid of the episode that wrote them (what collection selects on). */
export const EPISODE_UID_LABEL = 'simarena.io/episode-uid';
/** What an operator-written object is for (e.g. `trace`). */
export const ROLE_LABEL = 'simarena.io/role';
/** On trace ConfigMaps that trace-sync copies to node disks. */
export const TRACE_LABEL = 'simarena.io/trace';
/** On models (e.g. a saved Q-table) sim-arena writes. */
export const MODEL_LABEL = 'simarena.io/model';
/** kwok backend: the node pool a node belongs to, and the run that owns a node or namespace. */
export const POOL_LABEL = 'simarena.io/pool';
export const RUN_LABEL = 'simarena.io/run';

/** On a trace ConfigMap the operator wrote: the step it holds and the sha256 of its bytes. */
export const STEP_ANNOTATION = 'simarena.io/step';
export const SHA256_ANNOTATION = 'simarena.io/sha256';
/** On a Simulation: the trace ConfigMap it replays and the workload it watches. */
export const TRACE_CONFIGMAP_ANNOTATION = 'simarena.io/trace-configmap';
export const WORKLOAD_ANNOTATION = 'simarena.io/workload';
/** kwok backend: on a run's namespace once its objects were applied. */
export const APPLIED_ANNOTATION = 'simarena.io/applied';
