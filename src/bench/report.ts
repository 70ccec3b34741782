// Writing a benchmark run: report.json (settings, aggregates, every episode with its steps), report.md (tables) and
// solve-rate.svg (bar chart of solve rate per policy).
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';
import { join } from 'node:path';
import { summarize, type Aggregate, type BenchSummary, type EpisodeRecord } from './harness.js';
import { barChart } from './svg.js';

export interface BenchMeta {
  /** the command line, as typed */
  command: string;
  backend: string;
  seed: number;
  /** bench seeds: seed, seed+1, …, seed+seeds-1 */
  seeds: number;
  /** the official split the scenarios came from, or null (a --scenarios selection) */
  split: string | null;
  episodesPerScenario: number;
  maxSteps: number;
  reward: string;
  /** the usage the episodes ran with (a file, or synthesized load patterns seeded per episode), or null */
  usage?: Record<string, unknown> | null;
  policies: string[];
  scenarios: Array<{
    id: string;
    source: string;
    problemType: string;
    target: number;
    origin: string;
    description: string;
  }>;
  legacyDir: string | null;
  startedAt: string;
  seconds: number;
  node: string;
  notes: string[];
  /** how the q-table was obtained (trained here or loaded), when it ran */
  qTable?: Record<string, unknown>;
}

export interface BenchReport {
  meta: BenchMeta;
  summary: BenchSummary;
  episodes: EpisodeRecord[];
}

function usageLine(u: BenchMeta['usage']): string {
  if (!u) return '';
  if (u.kind === 'file') return `usage from \`${String(u.file)}\`, `;
  return `usage synthesized per episode (\`${String(u.patterns)}\` at ${String(u.cpu)} CPU / ${String(u.memory)} per pod, seeded by the episode seed), `;
}

export function buildReport(meta: BenchMeta, episodes: EpisodeRecord[]): BenchReport {
  return { meta, summary: summarize(episodes), episodes };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number | null, d = 2) => (x === null ? '—' : x.toFixed(d));
const cell = (s: string) => s.replace(/\|/g, '\\|');

function mdTable(headers: string[], rows: Array<Array<string | number>>): string {
  const line = (r: Array<string | number>) => `| ${r.map((c) => cell(String(c))).join(' | ')} |`;
  return [line(headers), `|${headers.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** "-3.95 ± 1.20", or the mean alone when there is no interval (fewer than 2 scenarios). */
export const withCi = (a: Pick<Aggregate, 'meanReturn' | 'ci95'>) =>
  a.ci95 === null ? num(a.meanReturn) : `${num(a.meanReturn)} ± ${num(a.ci95)}`;

/** The leaderboard table alone (also pasted into docs/leaderboard.md). */
export function leaderboardTable(s: BenchSummary): string {
  return mdTable(
    [
      'Rank',
      'Policy',
      'Split',
      'Solve rate',
      'Solved',
      'Mean return ± 95% CI',
      'Seeds',
      'Seed sd',
      'Mean steps to solve',
      'Mean steps',
      'Blocked actions',
      'Errors',
    ],
    s.ranking.map((p, i) => {
      const a = s.byPolicy[p]!;
      return [
        i + 1,
        p,
        a.split ?? '—',
        pct(a.solveRate),
        `${a.solved}/${a.episodes}`,
        withCi(a),
        a.seeds,
        num(a.seedSd),
        num(a.meanStepsToSolve),
        num(a.meanSteps),
        a.blockedActions,
        a.errors,
      ];
    }),
  );
}

export function problemTypeTable(s: BenchSummary): string {
  const types = [...new Set(Object.values(s.byPolicyAndProblem).flatMap((m) => Object.keys(m)))].sort();
  return mdTable(
    ['Policy', ...types.map((t) => `${t} (solve · steps · return)`)],
    s.ranking.map((p) => [
      p,
      ...types.map((t) => {
        const a: Aggregate | undefined = s.byPolicyAndProblem[p]?.[t];
        return a ? `${pct(a.solveRate)} · ${num(a.meanStepsToSolve, 1)} · ${num(a.meanReturn)}` : '—';
      }),
    ]),
  );
}

export function scenarioTable(r: BenchReport): string {
  const s = r.summary;
  return mdTable(
    ['Scenario', 'Type', 'Target', ...s.ranking],
    r.meta.scenarios.map((sc) => [
      sc.id,
      sc.problemType,
      sc.target,
      ...s.ranking.map((p) => {
        const a = s.byPolicyAndScenario[p]?.[sc.id];
        if (!a) return '—';
        const mark = a.solveRate === 1 ? '✅' : a.solveRate === 0 ? '❌' : '◐';
        return `${mark} ${a.solved}/${a.episodes}${a.meanStepsToSolve !== null ? ` in ${num(a.meanStepsToSolve, 1)}` : ''}${a.errors ? ` (${a.errors} err)` : ''}`;
      }),
    ]),
  );
}

export function reportMarkdown(r: BenchReport): string {
  const m = r.meta;
  const errors = r.episodes.filter((e) => e.error);
  const out = [
    '# sim-arena benchmark',
    '',
    '```',
    m.command,
    '```',
    '',
    `Backend **${m.backend}**, ${m.split ? `split **${m.split}**, ` : ''}${m.seeds > 1 ? `seeds ${m.seed}–${m.seed + m.seeds - 1}` : `seed ${m.seed}`}, ${m.episodesPerScenario} episode(s) per scenario and seed, at most ${m.maxSteps} steps, reward \`${m.reward}\`, ${usageLine(m.usage)}` +
      `${m.scenarios.length} scenarios × ${m.policies.length} policies = ${r.episodes.length} episodes in ${m.seconds.toFixed(1)} s (${m.startedAt}, Node ${m.node}).`,
    '',
    'A step counts as solving the episode when the observation *after* its action has ready = total = target and nothing Pending; ' +
      'an episode that starts at the target is solved in 0 steps without asking the policy. Mean steps to solve is over solved episodes; ' +
      'mean steps over all episodes (unsolved ones run to the step limit). ' +
      "The ± is the half-width of the 95% confidence interval of the mean return: Student's t over the per-scenario mean returns " +
      '(each scenario averaged over its seeds and episodes; n = scenarios). Seed sd is the standard deviation of the per-seed mean returns.',
    '',
    '## Leaderboard',
    '',
    leaderboardTable(r.summary),
    '',
    '## By problem type',
    '',
    problemTypeTable(r.summary),
    '',
    '## Per scenario (solved/episodes and mean steps to solve)',
    '',
    scenarioTable(r),
    '',
  ];
  if (m.qTable) out.push('## q-table', '', '```json', JSON.stringify(m.qTable, null, 2), '```', '');
  if (m.notes.length) out.push('## Notes', '', ...m.notes.map((n) => `- ${n}`), '');
  if (errors.length)
    out.push(
      '## Errors',
      '',
      ...errors
        .slice(0, 50)
        .map((e) => `- ${e.policy} on ${e.scenario} (episode ${e.episode}, after ${e.steps} step(s)): ${e.error}`),
      '',
    );
  return `${out.join('\n')}\n`;
}

export function solveRateSvg(s: BenchSummary, title = 'Solve rate per policy'): string {
  return barChart({
    title,
    yLabel: 'solve rate',
    bars: s.ranking.map((p) => ({
      label: p,
      value: s.byPolicy[p]!.solveRate,
      note: `${pct(s.byPolicy[p]!.solveRate)} (${s.byPolicy[p]!.solved}/${s.byPolicy[p]!.episodes})`,
      sub: `return ${withCi(s.byPolicy[p]!)}`,
    })),
  });
}

export const REPORT_FILES = {
  json: 'report.json',
  markdown: 'report.md',
  plot: 'solve-rate.svg',
  command: 'command.txt',
} as const;

export function writeReport(dir: string, r: BenchReport): Record<keyof typeof REPORT_FILES, string> {
  mkdirSync(dir, { recursive: true });
  const paths = {
    json: join(dir, REPORT_FILES.json),
    markdown: join(dir, REPORT_FILES.markdown),
    plot: join(dir, REPORT_FILES.plot),
    command: join(dir, REPORT_FILES.command),
  };
  writeFileAtomic(paths.json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileAtomic(paths.markdown, reportMarkdown(r));
  const split = r.meta.split ? `, ${r.meta.split} split` : '';
  writeFileAtomic(
    paths.plot,
    solveRateSvg(
      r.summary,
      `Solve rate per policy${split}, ${r.meta.seeds} seed${r.meta.seeds === 1 ? '' : 's'} (mean return ± 95% CI below)`,
    ),
  );
  writeFileAtomic(paths.command, `${r.meta.command}\n`);
  return paths;
}
