// Plots of a sweep: the headline figure against the swept parameter, one line per
// series (the other swept parameters), as SVG (vega-lite compiled to vega, rendered
// by vega's SVG renderer) and PNG (the SVG rasterised by resvg), and as a small
// ASCII chart for the terminal. Points with several seeds or repeats are averaged.
// Axes where sizes double are logarithmic (base 2); the y axis is logarithmic when
// the config says so, or ("auto") when the figure spans more than two decades.

import type { PlotSpec } from './config.js';
import type { Row } from './point.js';

export interface Series {
  label: string;
  points: { x: number; y: number }[];
}

/** The label of a row's series: the values of the series parameters. */
function seriesLabel(row: Row, names: readonly string[]): string {
  if (names.length === 0) return 'all';
  if (names.length === 1) return String(row[names[0]!]);
  return names.map((n) => `${n}=${String(row[n])}`).join(', ');
}

/** Mean y per (series, x), in first-seen series order and ascending x. */
export function seriesOf(rows: readonly Row[], spec: PlotSpec): Series[] {
  const bySeries = new Map<string, Map<number, { sum: number; n: number }>>();
  for (const r of rows) {
    const x = Number(r[spec.x]);
    const y = Number(r[spec.y]);
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const label = seriesLabel(r, spec.series);
    let m = bySeries.get(label);
    if (!m) bySeries.set(label, (m = new Map()));
    const acc = m.get(x) ?? { sum: 0, n: 0 };
    acc.sum += y;
    acc.n += 1;
    m.set(x, acc);
  }
  return [...bySeries].map(([label, m]) => ({ label, points: [...m].sort((a, b) => a[0] - b[0]).map(([x, a]) => ({ x, y: a.sum / a.n })) }));
}

export function useLogY(spec: PlotSpec, series: readonly Series[]): boolean {
  if (spec.logY !== 'auto') return spec.logY;
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  return lo > 0 && hi / lo > 100;
}

/** 1024 -> "1K", 16777216 -> "16M" (for axes of sizes). */
export function shortSize(n: number): string {
  const units: [number, string][] = [[2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']];
  for (const [u, s] of units) if (n >= u && n % u === 0) return `${n / u}${s}`;
  return String(n);
}

function shortNumber(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(n / 1e3).toPrecision(3)}k`;
  if (a === 0) return '0';
  return a >= 1e-3 ? String(Number(n.toPrecision(3))) : n.toExponential(1);
}

/** A vega-lite specification of the plot. */
export function vegaLiteSpec(series: readonly Series[], spec: PlotSpec, labels: { title: string; subtitle: string; yLabel: string }): Record<string, unknown> {
  const values = series.flatMap((s) => s.points.map((p) => ({ x: p.x, y: p.y, series: s.label })));
  const logY = useLogY(spec, series);
  const sizeAxis = spec.logX
    ? { labelExpr: "datum.value >= 1073741824 ? datum.value / 1073741824 + 'G' : datum.value >= 1048576 ? datum.value / 1048576 + 'M' : datum.value >= 1024 ? datum.value / 1024 + 'K' : datum.value", values: [...new Set(values.map((v) => v.x))].sort((a, b) => a - b) }
    : {};
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: labels.title, subtitle: labels.subtitle },
    width: 640,
    height: 360,
    background: 'white',
    padding: 12,
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: spec.x + (spec.logX ? ' (log scale)' : ''), scale: spec.logX ? { type: 'log', base: 2 } : { zero: false }, axis: sizeAxis },
      y: { field: 'y', type: 'quantitative', title: labels.yLabel + (logY ? ' (log scale)' : ''), scale: logY ? { type: 'log' } : { zero: true } },
      color: { field: 'series', type: 'nominal', title: spec.series.length === 0 ? null : spec.series.join(', '), legend: { orient: 'bottom', columns: 1, labelLimit: 600 } },
    },
    config: { font: 'DejaVu Sans, sans-serif' },
  };
}

/** Render the plot as SVG text and PNG bytes (the libraries are loaded only when a plot is drawn). */
export async function renderPlot(series: readonly Series[], spec: PlotSpec, labels: { title: string; subtitle: string; yLabel: string }): Promise<{ svg: string; png: Uint8Array }> {
  const [vega, vl, resvg] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  const compiled = vl.compile(vegaLiteSpec(series, spec, labels) as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new resvg.Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  return { svg, png };
}

const MARKS = ['*', 'o', '+', 'x', '#', '@', '%', '&'];

/** A small ASCII chart of the series (log axes as in the plot), with a legend. */
export function asciiChart(series: readonly Series[], spec: PlotSpec, yLabel: string, width = 60, height = 14): string {
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) return '(nothing to plot)\n';
  const logY = useLogY(spec, series);
  const fx = (x: number) => (spec.logX ? Math.log2(x) : x);
  const fy = (y: number) => (logY ? Math.log10(Math.max(y, Number.MIN_VALUE)) : y);
  const xs = pts.map((p) => fx(p.x));
  const ys = pts.map((p) => fy(p.y));
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  let y0 = Math.min(...ys);
  const y1 = Math.max(...ys);
  if (!logY) y0 = Math.min(0, y0);
  const col = (x: number) => (x1 === x0 ? 0 : Math.round(((fx(x) - x0) / (x1 - x0)) * (width - 1)));
  const rowOf = (y: number) => (y1 === y0 ? height - 1 : height - 1 - Math.round(((fy(y) - y0) / (y1 - y0)) * (height - 1)));
  const grid = Array.from({ length: height }, () => Array.from({ length: width }, () => ' '));
  series.forEach((s, i) => {
    const mark = MARKS[i % MARKS.length]!;
    for (const p of s.points) grid[rowOf(p.y)]![col(p.x)] = mark;
  });
  const unfy = (v: number) => (logY ? 10 ** v : v);
  const labelW = 9;
  const lines: string[] = [`${yLabel}${logY ? ' (log)' : ''}`];
  grid.forEach((cells, r) => {
    let v = unfy(y1 - ((y1 - y0) * r) / (height - 1 || 1));
    if (Math.abs(v) < 1e-9 * Math.max(Math.abs(unfy(y0)), Math.abs(unfy(y1)))) v = 0;
    const label = r === 0 || r === height - 1 || r === Math.floor(height / 2) ? shortNumber(v) : '';
    lines.push(`${label.padStart(labelW)} |${cells.join('')}`);
  });
  lines.push(`${''.padStart(labelW)} +${'-'.repeat(width)}`);
  const xVals = [...new Set(pts.map((p) => p.x))].sort((a, b) => a - b);
  const sizes = xVals.every((x) => Number.isInteger(x) && x > 0 && x % 1024 === 0);
  const axis = Array.from({ length: width + 8 }, () => ' ');
  let lastEnd = -1;
  for (const x of xVals) {
    const text = sizes ? shortSize(x) : shortNumber(x);
    const at = col(x);
    if (at <= lastEnd) continue;
    for (let i = 0; i < text.length && at + i < axis.length; i++) axis[at + i] = text[i]!;
    lastEnd = at + text.length;
  }
  lines.push(`${''.padStart(labelW)}  ${axis.join('').trimEnd()}`);
  lines.push(`${''.padStart(labelW)}  ${spec.x}${spec.logX ? ' (log2)' : ''}`);
  if (spec.series.length === 1) lines.push(`  ${spec.series[0]}:`);
  if (spec.series.length > 0) series.forEach((s, i) => lines.push(`  ${MARKS[i % MARKS.length]} ${s.label}`));
  return `${lines.join('\n')}\n`;
}
