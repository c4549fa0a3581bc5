#!/usr/bin/env node
/**
 * The ModelNet10 curves of the README's Results section, from the recorded runs:
 *
 *   node scripts/plot-curves.mjs   (from apps/modelnet-demo)
 *
 * Reads ../../bench/results/modelnet10-demo-trainer-20epochs.jsonl (this demo on the Trainer,
 * 3 seeds, twice), ../../bench/results/modelnet10-pytorch-h200-16seeds-20epochs.jsonl (PyTorch,
 * the same recipe, 16 seeds) and the previous hand-written loop's table (below; its per-epoch
 * logs were not kept). Writes docs/modelnet10-curves.svg and .png: test accuracy per epoch, and
 * the best accuracy so far (what `epoch_best.safetensors` holds).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';

const here = dirname(fileURLToPath(import.meta.url));
const results = join(here, '../../../bench/results');
const out = join(here, '../docs');

const readLines = (file) =>
  readFileSync(join(results, file), 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line));

/** The previous loop (the demo's own doTrain, before issue 15), from the README's table. */
const PREVIOUS_LOOP = {
  epochs: [1, 2, 4, 6, 9, 14, 17, 19, 20],
  seeds: [
    [81.1, 80.4, 83.0, 88.0, 88.4, 90.0, 90.97, 89.9, 86.2],
    [82.05, 65.3, 85.8, 85.0, 87.9, 85.0, 88.8, 87.7, 91.41],
    [78.6, 61.6, 69.6, 89.9, 90.75, 86.2, 83.8, 91.74, 91.74],
  ],
};

const demo = readLines('modelnet10-demo-trainer-20epochs.jsonl');
const torch = readLines('modelnet10-pytorch-h200-16seeds-20epochs.jsonl').filter(
  (row) => row.seed !== undefined && row.epoch <= 20,
);

/** name -> seed -> accuracy by epoch (1-based, sparse). */
function curves(rows) {
  const byRun = new Map();
  for (const row of rows) {
    const key = row.run ?? 'pytorch';
    if (!byRun.has(key)) byRun.set(key, new Map());
    const seeds = byRun.get(key);
    if (!seeds.has(row.seed)) seeds.set(row.seed, []);
    seeds.get(row.seed)[row.epoch] = row.testAccuracy;
  }
  return byRun;
}
const demoRuns = curves(demo);
const torchSeeds = [...curves(torch).get('pytorch').values()];
const bestSoFar = (values) => {
  let best = -Infinity;
  return values.map((value) => {
    if (value === undefined) return undefined;
    best = Math.max(best, value);
    return best;
  });
};

const W = 1100;
const H = 520;
const panel = { w: 470, h: 330, top: 60 };
const panels = [
  { x: 70, title: 'test accuracy after each epoch', transform: (v) => v, min: 55 },
  { x: 610, title: 'best test accuracy so far (epoch_best)', transform: bestSoFar, min: 75 },
];
const max = 95;
const colours = ['#1f77b4', '#d62728', '#2ca02c'];

const esc = (text) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
const parts = [];
parts.push(
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
  '<title>ModelNet10 test accuracy per epoch and best so far: this demo on the Trainer, the previous loop, PyTorch</title>',
  `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="${W / 2}" y="26" text-anchor="middle" font-size="17" font-weight="bold">ModelNet10, PointNet (vanilla), the seed's recipe: this demo on the Trainer vs the previous loop vs PyTorch</text>`,
);

for (const p of panels) {
  const xOf = (epoch) => p.x + ((epoch - 1) / 19) * panel.w;
  const yOf = (acc) =>
    panel.top + panel.h - ((Math.max(acc, p.min) - p.min) / (max - p.min)) * panel.h;
  parts.push(
    `<text x="${p.x + panel.w / 2}" y="${panel.top - 10}" text-anchor="middle" font-size="14">${esc(p.title)}</text>`,
  );
  for (let acc = p.min; acc <= max; acc += 5) {
    parts.push(
      `<line x1="${p.x}" x2="${p.x + panel.w}" y1="${yOf(acc)}" y2="${yOf(acc)}" stroke="${acc === 90 ? '#888' : '#e4e4e4'}" stroke-dasharray="${acc === 90 ? '4 3' : ''}"/>`,
      `<text x="${p.x - 6}" y="${yOf(acc) + 4}" text-anchor="end" font-size="11">${acc}%</text>`,
    );
  }
  for (const epoch of [1, 5, 10, 15, 20]) {
    parts.push(
      `<text x="${xOf(epoch)}" y="${panel.top + panel.h + 16}" text-anchor="middle" font-size="11">${epoch}</text>`,
    );
  }
  parts.push(
    `<text x="${p.x + panel.w / 2}" y="${panel.top + panel.h + 34}" text-anchor="middle" font-size="12">epoch</text>`,
    `<rect x="${p.x}" y="${panel.top}" width="${panel.w}" height="${panel.h}" fill="none" stroke="#444"/>`,
  );
  const path = (values, style) => {
    const points = values
      .map((value, epoch) =>
        value === undefined ? undefined : `${xOf(epoch).toFixed(1)},${yOf(value).toFixed(1)}`,
      )
      .filter((point) => point !== undefined);
    return `<polyline points="${points.join(' ')}" fill="none" ${style}/>`;
  };
  // PyTorch: the band of 16 seeds and their mean.
  const torchCurves = torchSeeds.map((seed) => p.transform(seed));
  const lo = [];
  const hi = [];
  const mean = [];
  for (let epoch = 1; epoch <= 20; epoch++) {
    const values = torchCurves.map((seed) => seed[epoch]).filter((v) => v !== undefined);
    lo[epoch] = Math.min(...values);
    hi[epoch] = Math.max(...values);
    mean[epoch] = values.reduce((a, b) => a + b, 0) / values.length;
  }
  const band = [];
  for (let epoch = 1; epoch <= 20; epoch++) band.push(`${xOf(epoch)},${yOf(hi[epoch])}`);
  for (let epoch = 20; epoch >= 1; epoch--) band.push(`${xOf(epoch)},${yOf(lo[epoch])}`);
  parts.push(`<polygon points="${band.join(' ')}" fill="#999" fill-opacity="0.22"/>`);
  parts.push(path(mean, 'stroke="#555" stroke-width="3"'));
  // This demo on the Trainer.
  const [current, before] = [...demoRuns.keys()];
  for (const [seed, values] of demoRuns.get(before)) {
    parts.push(
      path(
        p.transform(values),
        `stroke="${colours[seed]}" stroke-width="1.2" stroke-dasharray="5 4" stroke-opacity="0.7"`,
      ),
    );
  }
  for (const [seed, values] of demoRuns.get(current)) {
    parts.push(path(p.transform(values), `stroke="${colours[seed]}" stroke-width="2"`));
  }
  // The previous loop: its table's epochs only, so only per epoch (best-so-far needs every epoch).
  if (p.transform === bestSoFar) continue;
  for (const [seed, row] of PREVIOUS_LOOP.seeds.entries()) {
    for (const [i, epoch] of PREVIOUS_LOOP.epochs.entries()) {
      parts.push(
        `<rect x="${xOf(epoch) - 3.5}" y="${yOf(row[i]) - 3.5}" width="7" height="7" fill="white" stroke="${colours[seed]}" stroke-width="1.5"/>`,
      );
    }
  }
}

// Legend.
const legendY = 450;
const legend = [
  ['line', '#555', 3, '', 'PyTorch 2.11, same recipe, mean of 16 seeds (band: min-max)'],
  [
    'line',
    '#1f77b4',
    2,
    '',
    'this demo on Trainer.fromConfig, seeds 0 / 1 / 2 (blue / red / green)',
  ],
  ['line', '#1f77b4', 1.2, '5 4', 'the same, before the one-generator change (other data orders)'],
  [
    'box',
    '#1f77b4',
    1.5,
    '',
    "the previous hand-written loop (README table's epochs; left panel only)",
  ],
];
for (const [i, [kind, colour, width, dash, label]] of legend.entries()) {
  const x = 70 + (i % 2) * 540;
  const y = legendY + Math.floor(i / 2) * 24;
  if (kind === 'line') {
    parts.push(
      `<line x1="${x}" x2="${x + 34}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="${width}" stroke-dasharray="${dash}"/>`,
    );
  } else {
    parts.push(
      `<rect x="${x + 13}" y="${y - 3.5}" width="7" height="7" fill="white" stroke="${colour}" stroke-width="1.5"/>`,
    );
  }
  parts.push(`<text x="${x + 42}" y="${y + 4}" font-size="12">${esc(label)}</text>`);
}
parts.push(
  `<text x="70" y="${H - 12}" font-size="11" fill="#555">Demo: tfjs-node on a 2-core AMD EPYC (3,991 training / 908 test shapes, 1,024 points, batch 32). PyTorch: one H200 GPU. Dashed grey line: 90 %.</text>`,
  '</svg>',
);

const svg = parts.join('\n');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'modelnet10-curves.svg'), svg);
const png = new Resvg(svg, { font: { loadSystemFonts: true }, fitTo: { mode: 'original' } })
  .render()
  .asPng();
writeFileSync(join(out, 'modelnet10-curves.png'), png);
console.log(
  JSON.stringify({
    svg: 'docs/modelnet10-curves.svg',
    png: 'docs/modelnet10-curves.png',
    bytes: png.length,
  }),
);
