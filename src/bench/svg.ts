// Small self-contained SVG charts (no plotting dependency): a line chart for learning curves and a bar chart for
// solve rates. Output is deterministic text, so reports diff cleanly.

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const fmt = (x: number) => (Math.round(x * 100) / 100).toString();

/** "Nice" tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number((Math.round(v / step) * step).toPrecision(12)));
  return out;
}

export interface Series {
  label: string;
  values: number[];
  color: string;
  width?: number;
  opacity?: number;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
}

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 800;
  const H = o.height ?? 420;
  const m = { top: 44, right: 24, bottom: 56, left: 64 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const n = Math.max(1, ...o.series.map((s) => s.values.length));
  const all = o.series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  if (hi === lo) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const x = (i: number) => m.left + (n <= 1 ? pw / 2 : (i / (n - 1)) * pw);
  const y = (v: number) => m.top + ph - ((v - lo) / (hi - lo)) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(o.title)}</text>`,
  );
  for (const t of ticks(lo, hi)) {
    parts.push(`<line x1="${m.left}" y1="${fmt(y(t))}" x2="${m.left + pw}" y2="${fmt(y(t))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of ticks(1, n, 8).filter((t) => Number.isInteger(t))) {
    parts.push(`<text x="${fmt(x(t - 1))}" y="${m.top + ph + 18}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`);
  parts.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(
    `<text x="16" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + ph / 2})">${escapeXml(o.yLabel)}</text>`,
  );
  const legend: string[] = [
    `<rect x="${m.left + pw - 178}" y="${m.top}" width="176" height="${o.series.length * 16 + 4}" fill="#ffffff" fill-opacity="0.9"/>`,
  ];
  o.series.forEach((s, si) => {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${fmt(x(i))},${fmt(y(v))}` : '')).filter(Boolean);
    if (pts.length === 1)
      parts.push(`<circle cx="${pts[0]!.split(',')[0]}" cy="${pts[0]!.split(',')[1]}" r="3" fill="${s.color}"/>`);
    else if (pts.length)
      parts.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.5}" stroke-opacity="${s.opacity ?? 1}" points="${pts.join(' ')}"/>`,
      );
    const ly = m.top + 10 + si * 16;
    legend.push(
      `<line x1="${m.left + pw - 170}" y1="${ly}" x2="${m.left + pw - 150}" y2="${ly}" stroke="${s.color}" stroke-width="3"/>`,
    );
    legend.push(`<text x="${m.left + pw - 144}" y="${ly + 4}">${escapeXml(s.label)}</text>`);
  });
  parts.push(...legend);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export interface Bar {
  label: string;
  value: number;
  /** text drawn above the bar (default: the value as a percentage) */
  note?: string;
  /** a second line under the label */
  sub?: string;
}

/** Vertical bars of values in [0, 1] (solve rates). */
export function barChart(o: { title: string; yLabel: string; bars: Bar[]; width?: number; height?: number }): string {
  const W = o.width ?? Math.max(480, 120 + o.bars.length * 110);
  const H = o.height ?? 400;
  const m = { top: 48, right: 24, bottom: 64, left: 64 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const slot = pw / Math.max(1, o.bars.length);
  const bw = Math.min(72, slot * 0.6);
  const y = (v: number) => m.top + ph - Math.max(0, Math.min(1, v)) * ph;
  const palette = [
    '#4e79a7',
    '#f28e2b',
    '#59a14f',
    '#e15759',
    '#76b7b2',
    '#edc948',
    '#b07aa1',
    '#ff9da7',
    '#9c755f',
    '#bab0ac',
  ];
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(
    `<text x="${W / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(o.title)}</text>`,
  );
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${m.left}" y1="${fmt(y(t))}" x2="${m.left + pw}" y2="${fmt(y(t))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${Math.round(t * 100)}%</text>`);
  }
  parts.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`);
  parts.push(
    `<text x="16" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + ph / 2})">${escapeXml(o.yLabel)}</text>`,
  );
  o.bars.forEach((b, i) => {
    const cx = m.left + slot * (i + 0.5);
    const top = y(b.value);
    parts.push(
      `<rect x="${fmt(cx - bw / 2)}" y="${fmt(top)}" width="${fmt(bw)}" height="${fmt(m.top + ph - top)}" fill="${palette[i % palette.length]}"><title>${escapeXml(`${b.label}: ${(b.value * 100).toFixed(1)}%`)}</title></rect>`,
    );
    parts.push(
      `<text x="${fmt(cx)}" y="${fmt(top - 6)}" text-anchor="middle">${escapeXml(b.note ?? `${(b.value * 100).toFixed(1)}%`)}</text>`,
    );
    parts.push(`<text x="${fmt(cx)}" y="${m.top + ph + 18}" text-anchor="middle">${escapeXml(b.label)}</text>`);
    if (b.sub)
      parts.push(
        `<text x="${fmt(cx)}" y="${m.top + ph + 36}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(b.sub)}</text>`,
      );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** A learning curve: return per episode (faint) and its moving average (bold). */
export function learningCurveSvg(returns: number[], average: number[], title: string, window: number): string {
  return lineChart({
    title,
    xLabel: 'episode',
    yLabel: 'return',
    series: [
      { label: 'return per episode', values: returns, color: '#9ecae1', width: 1 },
      { label: `moving average (${window})`, values: average, color: '#08519c', width: 2.5 },
    ],
  });
}
