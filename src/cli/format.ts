// Plain-text tables and step lines for people reading a terminal.
import type { EpisodeResult, StepRecord } from '../arena/episode.js';
import { formatObservation } from '../arena/observation.js';

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

export function fixed(x: number, digits = 3): string {
  return (Math.round(x * 10 ** digits) / 10 ** digits).toFixed(digits);
}

export function stepLine(r: StepRecord): string {
  const res = `${r.resources.cpu} cpu, ${r.resources.memory} mem, ${r.resources.replicas} replicas`;
  const blocked = r.blocked ? `  [${r.blockedReason}]` : '';
  return `step ${String(r.step).padStart(3)}  ${r.action.padEnd(10)} → ${formatObservation(r.observation).padEnd(30)} reward ${fixed(r.reward).padStart(7)}  (${res})${usageText(r.observation)}${r.solved ? '  solved' : ''}${blocked}`;
}

/** With usage: OOM kills, throttling and p95 usage next to the request. */
export function usageText(o: StepRecord['observation']): string {
  if (o.usage === undefined) return '';
  const m = (b: number) => `${Math.round(b / 1024 ** 2)}Mi`;
  return `  [oom ${o.oomKills ?? 0}, throttled ${Math.round((o.throttling ?? 0) * 100)}%, p95 ${Math.round(o.usage.cpu.p95 * 1000)}m/${m(o.usage.memory.p95)}]`;
}

export function historyTable(result: EpisodeResult): string {
  return table(
    ['step', 'action', 'blocked', 'ready', 'pending', 'total', 'cpu', 'memory', 'replicas', 'reward'],
    result.history.map((r) => [
      r.step,
      r.action,
      r.blocked ? 'yes' : '',
      r.observation.ready,
      r.observation.pending,
      r.observation.total,
      r.resources.cpu,
      r.resources.memory,
      r.resources.replicas,
      fixed(r.reward),
    ]),
  );
}

export function summaryLine(result: EpisodeResult, target: number): string {
  const how = result.solved
    ? result.stepsToSolve === 0
      ? 'already at target'
      : `solved in ${result.stepsToSolve} step(s)`
    : `not solved after ${result.steps} step(s)`;
  return `${how}; target ${target}; final ${result.history.length ? formatObservation(result.history[result.history.length - 1]!.observation) : formatObservation(result.initial)}; total reward ${fixed(result.totalReward)}`;
}

/** A one-line progress indicator on stderr, only on a terminal. */
export function progress(label: string, done: number, total: number): void {
  if (!process.stderr.isTTY) return;
  const width = 24;
  const filled = total ? Math.round((done / total) * width) : width;
  process.stderr.write(
    `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`,
  );
}
