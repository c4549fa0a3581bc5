import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClassificationMetrics } from './evaluate.js';

/** One epoch record of a run's JSON-lines metrics file (`logger.metrics` in the train command). */
export interface EpochRecord {
  epoch: number;
  loss?: number;
  lr?: number;
  accuracy?: number;
  meanClassAccuracy?: number;
}

/**
 * The epoch records of the run in `runDir` (its `*.jsonl` files, oldest first; a resumed run
 * repeats no epoch: the last record of an epoch wins). Missing folder or files: an empty list.
 */
export function readRunHistory(runDir: string): EpochRecord[] {
  let names: string[];
  try {
    names = readdirSync(runDir).filter((name) => name.endsWith('.jsonl'));
  } catch {
    return [];
  }
  const byEpoch = new Map<number, EpochRecord>();
  for (const name of names.sort()) {
    for (const line of readFileSync(join(runDir, name), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const record = JSON.parse(line) as Partial<EpochRecord>;
        if (typeof record.epoch === 'number') byEpoch.set(record.epoch, record as EpochRecord);
      } catch {
        // A line cut by a crash: skip it.
      }
    }
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function pct(value: number): string {
  return Number.isFinite(value) ? `${(100 * value).toFixed(2)}%` : 'n/a';
}

/** One line chart as inline SVG: `series` over epochs, axes with min/max ticks. */
export function lineChartSvg(
  title: string,
  series: ReadonlyArray<{ name: string; color: string; points: ReadonlyArray<[number, number]> }>,
  options: { percent?: boolean } = {},
): string {
  const width = 460;
  const height = 240;
  const pad = { left: 56, right: 16, top: 28, bottom: 36 };
  const all = series.flatMap((line) => line.points).filter(([, y]) => Number.isFinite(y));
  if (all.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="60"><text x="8" y="30" font-size="13">${escapeHtml(title)}: no data</text></svg>`;
  }
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (options.percent) [y0, y1] = [Math.min(y0, 1), Math.max(y1, 0)];
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const px = (x: number) =>
    pad.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const py = (y: number) => pad.top + (1 - (y - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
  const label = (y: number) => (options.percent ? `${(100 * y).toFixed(0)}%` : y.toPrecision(3));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<text x="${width / 2}" y="18" font-size="14" font-weight="bold" text-anchor="middle">${escapeHtml(title)}</text>`,
    `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#444"/>`,
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#444"/>`,
  ];
  for (const y of [y0, (y0 + y1) / 2, y1]) {
    parts.push(
      `<line x1="${pad.left}" y1="${py(y)}" x2="${width - pad.right}" y2="${py(y)}" stroke="#e3e3e3"/>`,
      `<text x="${pad.left - 6}" y="${py(y) + 4}" font-size="11" text-anchor="end">${label(y)}</text>`,
    );
  }
  for (const x of x0 === x1 ? [x0] : [x0, x1]) {
    parts.push(
      `<text x="${px(x)}" y="${height - pad.bottom + 16}" font-size="11" text-anchor="middle">${x}</text>`,
    );
  }
  parts.push(
    `<text x="${(pad.left + width - pad.right) / 2}" y="${height - 6}" font-size="12" text-anchor="middle">epoch</text>`,
  );
  series.forEach((line, i) => {
    const points = line.points.filter(([, y]) => Number.isFinite(y));
    if (points.length === 0) return;
    const path = points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${line.color}" stroke-width="2"/>`,
      ...points.map(
        ([x, y]) => `<circle cx="${px(x)}" cy="${py(y)}" r="2.5" fill="${line.color}"/>`,
      ),
      `<text x="${width - pad.right - 4}" y="${pad.top + 14 + i * 14}" font-size="11" text-anchor="end" fill="${line.color}">${escapeHtml(line.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** What {@link evalReportHtml} shows. */
export interface EvalReport {
  /** The checkpoint evaluated (absolute path). */
  checkpoint: string;
  metrics: ClassificationMetrics;
  classNames: readonly string[];
  /** The labelled confusion matrix, as SVG text (inlined). */
  confusionSvg: string;
  /** The run's epoch records (training curves); empty when the run's log is not at hand. */
  history: readonly EpochRecord[];
}

/**
 * A self-contained HTML page (no script, no external file, no server): the accuracies, a table
 * of per-class accuracy, the confusion matrix and the training curves (loss, accuracies) as
 * inline SVG.
 */
export function evalReportHtml(report: EvalReport): string {
  const { metrics, classNames, history } = report;
  const rows = metrics.perClass
    .map((row, i) => {
      const bar = Number.isFinite(row.accuracy)
        ? `<div class="bar" style="width:${(100 * row.accuracy).toFixed(1)}%"></div>`
        : '';
      return `<tr><td>${escapeHtml(classNames[i] ?? String(i))}</td><td>${row.support}</td><td>${row.correct}</td><td class="num">${pct(row.accuracy)}</td><td class="barcell">${bar}</td></tr>`;
    })
    .join('\n');
  const loss = lineChartSvg('training loss', [
    {
      name: 'loss',
      color: '#d62728',
      points: history.filter((r) => r.loss !== undefined).map((r) => [r.epoch, r.loss!]),
    },
  ]);
  const accuracy = lineChartSvg(
    'validation accuracy',
    [
      {
        name: 'overall',
        color: '#1f77b4',
        points: history.filter((r) => r.accuracy !== undefined).map((r) => [r.epoch, r.accuracy!]),
      },
      {
        name: 'mean class',
        color: '#2ca02c',
        points: history
          .filter((r) => r.meanClassAccuracy !== undefined)
          .map((r) => [r.epoch, r.meanClassAccuracy!]),
      },
    ],
    { percent: true },
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Evaluation: ${escapeHtml(report.checkpoint)}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
.summary td { padding: 2px 12px 2px 0; }
table.classes { border-collapse: collapse; }
table.classes th, table.classes td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.barcell { width: 160px; } .bar { height: 10px; background: #4a90c8; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
code { background: #f3f3f3; padding: 1px 4px; }
</style>
</head>
<body>
<h1>Evaluation report</h1>
<table class="summary">
<tr><td>checkpoint</td><td><code>${escapeHtml(report.checkpoint)}</code></td></tr>
<tr><td>test samples</td><td>${metrics.total}</td></tr>
<tr><td>overall accuracy</td><td><b>${pct(metrics.overallAccuracy)}</b></td></tr>
<tr><td>mean class accuracy</td><td><b>${pct(metrics.meanClassAccuracy)}</b></td></tr>
</table>
<h2>Training curves</h2>
<div class="charts">
${history.length === 0 ? '<p>No training log (*.jsonl) beside the checkpoint.</p>' : `${loss}\n${accuracy}`}
</div>
<h2>Confusion matrix</h2>
${report.confusionSvg}
<h2>Accuracy per class</h2>
<table class="classes">
<tr><th>class</th><th>samples</th><th>correct</th><th>accuracy</th><th></th></tr>
${rows}
</table>
</body>
</html>
`;
}
