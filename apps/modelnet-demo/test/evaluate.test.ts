import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { confusionPng, heatColor } from '../src/confusion-image.js';
import {
  addToConfusion,
  confusionCsv,
  confusionMetrics,
  emptyConfusion,
  perClassTable,
  percent,
} from '../src/evaluate.js';

/** 3 classes: class 0 all right (4), class 1 half right (2 of 4), class 2 has no samples. */
function example() {
  const matrix = emptyConfusion(3);
  addToConfusion(matrix, [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1, 0, 2]);
  return matrix;
}

describe('confusion matrix metrics', () => {
  it('counts [true][predicted] and gives overall and mean class accuracy', () => {
    const matrix = example();
    expect(Array.from(matrix.counts)).toEqual([4, 0, 0, 1, 2, 1, 0, 0, 0]);
    const metrics = confusionMetrics(matrix);
    expect(metrics.total).toBe(8);
    expect(metrics.overallAccuracy).toBeCloseTo(6 / 8);
    // The class without samples is left out of the mean, not counted as 0.
    expect(metrics.meanClassAccuracy).toBeCloseTo((1 + 0.5) / 2);
    expect(metrics.perClass.map((c) => c.support)).toEqual([4, 4, 0]);
    expect(metrics.perClass[2]!.accuracy).toBeNaN();
  });

  it('formats a per-class table and a CSV with the class names', () => {
    const matrix = example();
    const table = perClassTable(confusionMetrics(matrix), ['sphere', 'cube', 'cone']);
    expect(table.split('\n')).toEqual([
      'class   samples  correct  accuracy',
      '----------------------------------',
      'sphere        4        4   100.00%',
      'cube          4        2    50.00%',
      'cone          0        0       n/a',
    ]);
    expect(confusionCsv(matrix, ['sphere', 'cube', 'a,b'])).toBe(
      'true \\ predicted,sphere,cube,"a,b"\nsphere,4,0,0\ncube,1,2,1\n"a,b",0,0,0\n',
    );
    expect(percent(0.98765)).toBe('98.77%');
  });
});

describe('confusion matrix image', () => {
  it('draws one cell per pair, darker for a larger share of the row', () => {
    const png = PNG.sync.read(confusionPng(example(), { cellSize: 10 }));
    // 3 cells of 10 pixels and 4 grid lines of 1 pixel.
    expect([png.width, png.height]).toEqual([34, 34]);
    const pixel = (row: number, col: number) => {
      const x = 1 + col * 11 + 5;
      const y = 1 + row * 11 + 5;
      const o = (y * png.width + x) * 4;
      return Array.from(png.data.subarray(o, o + 3));
    };
    expect(pixel(0, 0)).toEqual(heatColor(1));
    expect(pixel(1, 1)).toEqual(heatColor(0.5));
    expect(pixel(1, 0)).toEqual(heatColor(0.25));
    expect(pixel(0, 1)).toEqual(heatColor(0));
    expect(pixel(2, 2)).toEqual(heatColor(0)); // no samples: white
    expect(heatColor(1)[0]).toBeLessThan(heatColor(0)[0]);
  });
});
