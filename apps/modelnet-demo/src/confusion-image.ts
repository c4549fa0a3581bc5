import { Resvg } from '@resvg/resvg-js';
import { type ClassificationMetrics, type ConfusionMatrix, confusionMetrics } from './evaluate.js';

/** Where a share in `[0, 1]` lands on a white → dark blue scale (matplotlib's Blues). */
const BLUES: ReadonlyArray<readonly [number, number, number]> = [
  [247, 251, 255],
  [198, 219, 239],
  [107, 174, 214],
  [33, 113, 181],
  [8, 48, 107],
];

/** The colour of `value` in `[0, 1]`, interpolated along {@link BLUES}. */
export function heatColor(value: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0)) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(t));
  const f = t - i;
  const [a, b] = [BLUES[i]!, BLUES[i + 1]!];
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

/** Options of {@link confusionSvg}. */
export interface ConfusionSvgOptions {
  /** A first title line (the run or checkpoint). Defaults to `Confusion matrix`. */
  title?: string;
}

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function hex([r, g, b]: readonly number[]): string {
  return `#${[r, g, b].map((v) => v!.toString(16).padStart(2, '0')).join('')}`;
}

function pct(value: number): string {
  return Number.isFinite(value) ? `${(100 * value).toFixed(1)}%` : 'n/a';
}

/**
 * The confusion matrix as a labelled SVG: true classes down the left, predicted classes along
 * the bottom (names on both axes), the count in every non-empty cell, cells coloured by the
 * row-normalised share (the fraction of that class's samples) with a colour bar from 0% to 100%,
 * and the overall and mean class accuracy in the title. Cell and font sizes shrink with the
 * number of classes so that 40 classes stay readable (about 1100 pixels wide).
 */
export function confusionSvg(
  matrix: ConfusionMatrix,
  classNames: readonly string[],
  options: ConfusionSvgOptions = {},
): string {
  const n = matrix.numClasses;
  const metrics: ClassificationMetrics = confusionMetrics(matrix);
  const names = Array.from({ length: n }, (_, i) => classNames[i] ?? String(i));
  const cell = n <= 10 ? 52 : n <= 20 ? 34 : 22;
  const labelFont = n <= 10 ? 13 : n <= 20 ? 12 : 11;
  const countFont = Math.max(8, Math.min(14, Math.floor(cell * 0.36)));
  const longest = Math.max(...names.map((name) => name.length), 4);
  const labelWidth = Math.ceil(longest * labelFont * 0.62) + 12;
  const left = labelWidth + 28; // the row labels and the "true class" axis title
  const top = 64; // two title lines
  const side = n * cell;
  // Column labels run at -60° below the matrix: their height is about the label length.
  const bottom = Math.ceil(longest * labelFont * 0.62 * Math.sin(Math.PI / 3)) + 40;
  const legendX = left + side + 24;
  const width = legendX + 80;
  const height = top + side + bottom;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" font-size="16" font-weight="bold" text-anchor="middle">${escapeXml(options.title ?? 'Confusion matrix')}</text>`,
    `<text x="${width / 2}" y="46" font-size="13" text-anchor="middle">overall accuracy ${pct(metrics.overallAccuracy)} · mean class accuracy ${pct(metrics.meanClassAccuracy)} · ${metrics.total} samples</text>`,
  );
  for (let row = 0; row < n; row++) {
    const support = metrics.perClass[row]?.support ?? 0;
    const y = top + row * cell;
    parts.push(
      `<text x="${left - 6}" y="${y + cell / 2}" font-size="${labelFont}" text-anchor="end" dominant-baseline="central">${escapeXml(names[row]!)}</text>`,
    );
    for (let col = 0; col < n; col++) {
      const count = matrix.counts[row * n + col]!;
      const share = support > 0 ? count / support : 0;
      const x = left + col * cell;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${hex(heatColor(share))}" stroke="#c8c8c8" stroke-width="0.5"/>`,
      );
      if (count > 0) {
        parts.push(
          `<text x="${x + cell / 2}" y="${y + cell / 2}" font-size="${countFont}" text-anchor="middle" dominant-baseline="central" fill="${share > 0.55 ? '#ffffff' : '#1a1a1a'}">${count}</text>`,
        );
      }
    }
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${side}" height="${side}" fill="none" stroke="#404040" stroke-width="1"/>`,
  );
  for (let col = 0; col < n; col++) {
    const x = left + col * cell + cell / 2;
    const y = top + side + 8;
    parts.push(
      `<text x="${x}" y="${y}" font-size="${labelFont}" text-anchor="end" dominant-baseline="central" transform="rotate(-60 ${x} ${y})">${escapeXml(names[col]!)}</text>`,
    );
  }
  parts.push(
    `<text x="${left + side / 2}" y="${height - 10}" font-size="13" font-weight="bold" text-anchor="middle">predicted class</text>`,
    `<text x="14" y="${top + side / 2}" font-size="13" font-weight="bold" text-anchor="middle" dominant-baseline="central" transform="rotate(-90 14 ${top + side / 2})">true class</text>`,
  );
  // The colour bar: share of the true class's samples, 0% at the bottom, 100% at the top.
  const stops = BLUES.map(
    (rgb, i) => `<stop offset="${(100 * i) / (BLUES.length - 1)}%" stop-color="${hex(rgb)}"/>`,
  ).reverse();
  const barHeight = Math.min(side, 320);
  parts.push(
    `<defs><linearGradient id="scale" x1="0" y1="0" x2="0" y2="1">${stops
      .map((stop, i) =>
        stop.replace(/offset="[^"]+"/, `offset="${(100 * i) / (stops.length - 1)}%"`),
      )
      .join('')}</linearGradient></defs>`,
    `<rect x="${legendX}" y="${top}" width="16" height="${barHeight}" fill="url(#scale)" stroke="#404040" stroke-width="0.5"/>`,
  );
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const y = top + barHeight * (1 - tick);
    parts.push(
      `<line x1="${legendX + 16}" y1="${y}" x2="${legendX + 20}" y2="${y}" stroke="#404040"/>`,
      `<text x="${legendX + 23}" y="${y}" font-size="11" dominant-baseline="central">${tick * 100}%</text>`,
    );
  }
  parts.push(
    `<text x="${legendX + 8}" y="${top + barHeight + 18}" font-size="11" text-anchor="middle">of class</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** Rasterises an SVG to PNG with resvg (fonts: the system's; DejaVu Sans where installed). */
export function svgToPng(svg: string, scale = 1): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: '#ffffff',
  });
  return resvg.render().asPng();
}

/** The labelled confusion matrix as SVG text and the same picture as PNG bytes. */
export function confusionImages(
  matrix: ConfusionMatrix,
  classNames: readonly string[],
  options: ConfusionSvgOptions = {},
): { svg: string; png: Buffer } {
  const svg = confusionSvg(matrix, classNames, options);
  // Past 20 classes the cells are small: rasterise at 1.5× so the counts stay sharp.
  return { svg, png: svgToPng(svg, matrix.numClasses > 20 ? 1.5 : 1) };
}

/** What {@link writeConfusionImage} writes to: a `TensorBoardWriter` or anything alike. */
export interface ImageWriter {
  addImage(tag: string, png: Uint8Array, step?: number): void;
}

/**
 * Writes the labelled confusion matrix to TensorBoard's Images tab (tag `val/confusion_matrix`
 * unless given), for an evaluator to call at each evaluation. Returns the PNG.
 */
export function writeConfusionImage(
  writer: ImageWriter,
  matrix: ConfusionMatrix,
  classNames: readonly string[],
  step: number,
  tag = 'val/confusion_matrix',
): Buffer {
  const { png } = confusionImages(matrix, classNames, { title: `Confusion matrix, step ${step}` });
  writer.addImage(tag, png, step);
  return png;
}
