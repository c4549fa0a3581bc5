/**
 * Training curves from the run folder's metrics file (`log/<run>/<timestamp>.jsonl`, one JSON
 * object per line, written by the demo's logger), drawn as small SVG line charts.
 */
import { InputError } from './core.js';

/** One series: `[x, y]` points. */
export type Series = Array<[number, number]>;

/** The numeric series of a metrics file over `epoch` (else the line number). */
export function parseMetrics(name: string, text: string): Map<string, Series> {
  const series = new Map<string, Series>();
  const lines = text.split(/\r?\n/);
  let rows = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new InputError(
        `'${name}' line ${i + 1} is not JSON (expected the run's .jsonl metrics file).`,
      );
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) continue;
    const values = record as Record<string, unknown>;
    const x = typeof values.epoch === 'number' ? values.epoch : rows + 1;
    rows++;
    for (const [key, value] of Object.entries(values)) {
      if (key === 'epoch' || key === 'iter' || typeof value !== 'number' || !Number.isFinite(value))
        continue;
      if (!series.has(key)) series.set(key, []);
      series.get(key)!.push([x, value]);
    }
  }
  if (rows === 0) throw new InputError(`'${name}' holds no metrics lines.`);
  return series;
}

const COLORS = ['#e4572e', '#29335c', '#17bebb', '#f3a712', '#669bbc', '#8a4fff'];

/** An SVG line chart of the given series (shared axes), as markup. */
export function chartSvg(
  title: string,
  series: Array<[string, Series]>,
  width = 360,
  height = 200,
): string {
  const pad = { left: 44, right: 10, top: 24, bottom: 28 };
  const all = series.flatMap(([, points]) => points);
  if (all.length === 0) return '';
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) {
    const margin = Math.abs(y0) * 0.1 || 0.5;
    [y0, y1] = [y0 - margin, y1 + margin];
  }
  const sx = (x: number) => pad.left + ((x - x0) / (x1 - x0 || 1)) * (width - pad.left - pad.right);
  const sy = (y: number) =>
    height - pad.bottom - ((y - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
  const lines = series.map(([name, points], i) => {
    const color = COLORS[i % COLORS.length];
    const path = points
      .map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join('');
    const dots =
      points.length === 1
        ? `<circle cx="${sx(points[0]![0])}" cy="${sy(points[0]![1])}" r="3" fill="${color}"/>`
        : '';
    return `<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>${dots}<text x="${pad.left + 6 + i * 110}" y="14" fill="${color}" font-size="11">${escapeXml(name)}</text>`;
  });
  const format = (v: number) =>
    Number.isInteger(v) || Math.abs(v) >= 100
      ? v.toFixed(0)
      : Math.abs(v) < 0.01
        ? v.toExponential(1)
        : v.toPrecision(3);
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}">
<rect x="${pad.left}" y="${pad.top}" width="${width - pad.left - pad.right}" height="${height - pad.top - pad.bottom}" fill="#fafafa" stroke="#ccc"/>
<text x="${pad.left - 4}" y="${pad.top + 8}" text-anchor="end" font-size="10">${format(y1)}</text>
<text x="${pad.left - 4}" y="${height - pad.bottom}" text-anchor="end" font-size="10">${format(y0)}</text>
<text x="${pad.left}" y="${height - 10}" font-size="10">${format(x0)}</text>
<text x="${width - pad.right}" y="${height - 10}" text-anchor="end" font-size="10">${format(x1)}</text>
<text x="${(width + pad.left) / 2}" y="${height - 4}" text-anchor="middle" font-size="10">epoch</text>
${lines.join('\n')}
</svg>`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
