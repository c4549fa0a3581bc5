import { PNG } from 'pngjs';
import type { ConfusionMatrix } from './evaluate.js';

/** Options of {@link confusionPng}. */
export interface ConfusionPngOptions {
  /** Side of one cell in pixels. Defaults to fitting the matrix in about 640 pixels (8 to 48). */
  cellSize?: number;
}

/** Where a count fraction in `[0, 1]` lands on a white → dark blue scale (matplotlib's Blues). */
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

/**
 * The confusion matrix as a PNG heatmap: one square cell per (true class = row, predicted
 * class = column), its colour the row-normalised count (the share of that class's samples), with
 * grey grid lines. Rows without samples stay white.
 */
export function confusionPng(matrix: ConfusionMatrix, options: ConfusionPngOptions = {}): Buffer {
  const n = matrix.numClasses;
  const cell = options.cellSize ?? Math.min(48, Math.max(8, Math.floor(640 / n)));
  const grid = 1;
  const side = n * cell + (n + 1) * grid;
  const png = new PNG({ width: side, height: side });
  png.data.fill(255);
  const paint = (x0: number, y0: number, w: number, h: number, rgb: readonly number[]) => {
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0; x < x0 + w; x++) {
        const o = (y * side + x) * 4;
        png.data[o] = rgb[0]!;
        png.data[o + 1] = rgb[1]!;
        png.data[o + 2] = rgb[2]!;
        png.data[o + 3] = 255;
      }
    }
  };
  for (let k = 0; k <= n; k++) {
    const at = k * (cell + grid);
    paint(at, 0, grid, side, [160, 160, 160]);
    paint(0, at, side, grid, [160, 160, 160]);
  }
  for (let row = 0; row < n; row++) {
    let support = 0;
    for (let col = 0; col < n; col++) support += matrix.counts[row * n + col]!;
    for (let col = 0; col < n; col++) {
      const share = support > 0 ? matrix.counts[row * n + col]! / support : 0;
      paint(grid + col * (cell + grid), grid + row * (cell + grid), cell, cell, heatColor(share));
    }
  }
  return PNG.sync.write(png);
}
