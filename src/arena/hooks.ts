// Simulation hooks: commands run around each replay, in SimKube's four stages and with its semantics (sk-core
// hooks.rs): preStart in sk-ctrl before the driver exists (again on every reconcile while the Simulation is
// Initializing, so it must be idempotent), preRun in the driver before the first event, postRun in the driver after the
// last, postStop in sk-ctrl at cleanup. Hooks of a stage run in order, each as `cmd args...` with no shell; sendSim
// writes the Simulation as JSON to its stdin. A hook that exits non-zero fails the stage only with
// `ignoreFailure: false` (unset means ignored, as in SimKube); a command that cannot be started always fails it.

export interface SimulationHook {
  cmd: string;
  args?: string[];
  sendSim?: boolean;
  ignoreFailure?: boolean;
}

export const HOOK_STAGES = ['preStart', 'preRun', 'postRun', 'postStop'] as const;
export type HookStage = (typeof HOOK_STAGES)[number];
export type EpisodeHooks = Partial<Record<HookStage, SimulationHook[]>>;

/** Bounds the CRD's schema states too. */
export const HOOK_LIMITS = { perStage: 16, args: 64, length: 4096 } as const;

const HOOK_KEYS = ['cmd', 'args', 'sendSim', 'ignoreFailure'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Check hooks given by a user (ArenaEpisode spec.hooks, `--hooks` file) and return them in canonical form; a
 * RangeError names the first bad field (`where` is its path, e.g. "spec.hooks").
 */
export function parseHooks(value: unknown, where: string): EpisodeHooks {
  if (!isObject(value))
    throw new RangeError(`${where} must be an object with lists preStart, preRun, postRun, postStop`);
  const out: EpisodeHooks = {};
  for (const [stage, list] of Object.entries(value)) {
    if (!(HOOK_STAGES as readonly string[]).includes(stage))
      throw new RangeError(`${where}.${stage}: not a hook stage (use ${HOOK_STAGES.join(', ')})`);
    if (list === null || list === undefined) continue;
    if (!Array.isArray(list)) throw new RangeError(`${where}.${stage} must be a list of hooks`);
    if (list.length > HOOK_LIMITS.perStage)
      throw new RangeError(`${where}.${stage}: at most ${HOOK_LIMITS.perStage} hooks, got ${list.length}`);
    out[stage as HookStage] = list.map((h, i) => parseHook(h, `${where}.${stage}[${i}]`));
  }
  return out;
}

function parseHook(h: unknown, where: string): SimulationHook {
  if (!isObject(h)) throw new RangeError(`${where} must be an object {cmd, args?, sendSim?, ignoreFailure?}`);
  for (const k of Object.keys(h))
    if (!HOOK_KEYS.includes(k)) throw new RangeError(`${where}.${k}: unknown field (use ${HOOK_KEYS.join(', ')})`);
  const { cmd, args, sendSim, ignoreFailure } = h;
  if (typeof cmd !== 'string' || cmd.trim() === '')
    throw new RangeError(`${where}.cmd must be a command name or path, e.g. kubectl`);
  if (cmd.length > HOOK_LIMITS.length) throw new RangeError(`${where}.cmd is longer than ${HOOK_LIMITS.length}`);
  const out: SimulationHook = { cmd };
  if (args !== undefined && args !== null) {
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))
      throw new RangeError(`${where}.args must be a list of strings (no shell: one argument per item)`);
    if (args.length > HOOK_LIMITS.args) throw new RangeError(`${where}.args: at most ${HOOK_LIMITS.args} arguments`);
    if (args.some((a: string) => a.length > HOOK_LIMITS.length))
      throw new RangeError(`${where}.args: an argument is longer than ${HOOK_LIMITS.length}`);
    out.args = [...(args as string[])];
  }
  for (const [k, v] of [
    ['sendSim', sendSim],
    ['ignoreFailure', ignoreFailure],
  ] as const) {
    if (v === undefined || v === null) continue;
    if (typeof v !== 'boolean') throw new RangeError(`${where}.${k} must be true or false`);
    out[k] = v;
  }
  return out;
}

export const hasHooks = (h: EpisodeHooks | undefined): boolean =>
  !!h && HOOK_STAGES.some((s) => (h[s]?.length ?? 0) > 0);

/** A hook with ignoreFailure: false failed its stage: the run cannot go on, and retrying would fail the same way. */
export class HookFailed extends Error {
  override name = 'HookFailed';
}
