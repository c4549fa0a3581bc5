import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  confusionImages,
  confusionSvg,
  heatColor,
  writeConfusionImage,
} from '../src/confusion-image.js';
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
  it('labels both axes, prints the counts, colours by row share, titles with the accuracies', () => {
    const svg = confusionSvg(example(), ['cat', 'dog', 'owl'], { title: 'run <x>' });
    // Class names on both axes: each name twice (row label, column label).
    for (const name of ['cat', 'dog', 'owl']) {
      expect(svg.match(new RegExp(`>${name}</text>`, 'g'))).toHaveLength(2);
    }
    expect(svg).toContain('>run &#60;x&#62;</text>');
    expect(svg).toContain('overall accuracy 75.0% · mean class accuracy 75.0% · 8 samples');
    expect(svg).toContain('>predicted class</text>');
    expect(svg).toContain('>true class</text>');
    // Counts in the non-empty cells, colour = share of the row: 2/2 on the first row.
    expect(svg).toContain(`fill="${hexOf(heatColor(1))}"`);
    expect(svg).toContain(`fill="${hexOf(heatColor(0.25))}"`);
    for (const tick of ['0%', '50%', '100%']) expect(svg).toContain(`>${tick}</text>`);
  });

  it('rasterises to a PNG of the SVG size (1.5× past 20 classes)', () => {
    const { svg, png } = confusionImages(example(), ['cat', 'dog', 'owl']);
    const image = PNG.sync.read(png);
    const [, width, height] = /width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
    expect([image.width, image.height]).toEqual([width, height]);
    const forty = { numClasses: 40, counts: new Int32Array(1600).fill(1) };
    const big = PNG.sync.read(confusionImages(forty, []).png);
    expect(big.width).toBeGreaterThan(1500);
    // Rasterising 40 classes takes ~1 s alone, ~5 s on a busy 2-core machine.
  }, 30_000);

  it('writeConfusionImage hands the PNG to the writer at the step', () => {
    const calls: Array<[string, number, number | undefined]> = [];
    writeConfusionImage(
      { addImage: (tag, png, step) => calls.push([tag, png.length, step]) },
      example(),
      ['cat', 'dog', 'owl'],
      7,
    );
    expect(calls).toEqual([['val/confusion_matrix', expect.any(Number), 7]]);
  });
});

function hexOf(rgb: readonly number[]): string {
  return `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}
