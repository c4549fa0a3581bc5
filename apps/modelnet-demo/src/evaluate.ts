import { allGatherObject } from '@gorilla-ts/dist';
import type { DataLoader } from '@gorilla-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import type { PointBatch } from './data.js';
import type { PointCloudSample } from './datasets/index.js';

/** A classifier as evaluation sees it: eval mode and a forward pass giving logits. */
export interface Classifier {
  train(mode?: boolean): unknown;
  eval(): unknown;
  forward(points: tf.Tensor): { logits: tf.Tensor };
}

/** Counts `[true class][predicted class]`, row-major, `numClasses × numClasses`. */
export interface ConfusionMatrix {
  readonly numClasses: number;
  readonly counts: Int32Array;
}

/** Accuracy figures of a {@link ConfusionMatrix}. */
export interface ClassificationMetrics {
  /** Correct predictions / samples. */
  overallAccuracy: number;
  /** Mean over the classes that have samples of their own accuracy (ModelNet's "mAcc"). */
  meanClassAccuracy: number;
  /** Samples evaluated. */
  total: number;
  /** Per class: samples, correct predictions and accuracy (`NaN` without samples). */
  perClass: Array<{ support: number; correct: number; accuracy: number }>;
}

/** An all-zero matrix. */
export function emptyConfusion(numClasses: number): ConfusionMatrix {
  return { numClasses, counts: new Int32Array(numClasses * numClasses) };
}

/** Adds each (label, prediction) pair to `matrix`. */
export function addToConfusion(
  matrix: ConfusionMatrix,
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
): void {
  const n = matrix.numClasses;
  for (let i = 0; i < labels.length; i++) {
    matrix.counts[labels[i]! * n + predictions[i]!]! += 1;
  }
}

/** The metrics of a confusion matrix. */
export function confusionMetrics(matrix: ConfusionMatrix): ClassificationMetrics {
  const n = matrix.numClasses;
  const perClass = Array.from({ length: n }, (_, row) => {
    let support = 0;
    for (let col = 0; col < n; col++) support += matrix.counts[row * n + col]!;
    const correct = matrix.counts[row * n + row]!;
    return { support, correct, accuracy: support > 0 ? correct / support : Number.NaN };
  });
  const total = perClass.reduce((sum, c) => sum + c.support, 0);
  const correct = perClass.reduce((sum, c) => sum + c.correct, 0);
  const present = perClass.filter((c) => c.support > 0);
  return {
    overallAccuracy: total > 0 ? correct / total : Number.NaN,
    meanClassAccuracy:
      present.length > 0
        ? present.reduce((sum, c) => sum + c.accuracy, 0) / present.length
        : Number.NaN,
    total,
    perClass,
  };
}

/**
 * Classifies this rank's shard of `loader` in eval mode, then sums the confusion matrices of
 * every rank (`allGatherObject`), so each sample is counted exactly once: the loader must use an
 * `InferenceSampler` (see `buildTestLoader`). Collective: call it on every rank. The model is put
 * back in training mode afterwards.
 */
export async function evaluate(
  model: Classifier,
  loader: DataLoader<PointCloudSample, PointBatch>,
  numClasses: number,
): Promise<ConfusionMatrix> {
  const local = emptyConfusion(numClasses);
  model.eval();
  try {
    loader.setEpoch(0);
    for await (const batch of loader) {
      const predictions = tf.tidy(() => tf.argMax(model.forward(batch.points).logits, -1));
      const [labels, predicted] = await Promise.all([batch.labels.data(), predictions.data()]);
      tf.dispose([batch.points, batch.labels, predictions]);
      addToConfusion(local, labels, predicted);
    }
  } finally {
    model.train();
  }
  const all = await allGatherObject(Array.from(local.counts));
  const total = emptyConfusion(numClasses);
  for (const counts of all) {
    for (const [i, count] of counts.entries()) total.counts[i]! += count;
  }
  return total;
}

/** `93.21%`. */
export function percent(value: number): string {
  return Number.isNaN(value) ? 'n/a' : `${(value * 100).toFixed(2)}%`;
}

/** A per-class table: class, samples, correct, accuracy (aligned text). */
export function perClassTable(
  metrics: ClassificationMetrics,
  classNames: readonly string[],
): string {
  const width = Math.max(5, ...classNames.map((name) => name.length));
  const header = `${'class'.padEnd(width)}  samples  correct  accuracy`;
  const rows = metrics.perClass.map((c, i) =>
    [
      (classNames[i] ?? String(i)).padEnd(width),
      String(c.support).padStart(7),
      String(c.correct).padStart(7),
      percent(c.accuracy).padStart(8),
    ].join('  '),
  );
  return [header, '-'.repeat(header.length), ...rows].join('\n');
}

/** The matrix as CSV: a header of predicted classes, one row per true class. */
export function confusionCsv(matrix: ConfusionMatrix, classNames: readonly string[]): string {
  const n = matrix.numClasses;
  const name = (i: number) => csvField(classNames[i] ?? String(i));
  const lines = [['true \\ predicted', ...Array.from({ length: n }, (_, i) => name(i))].join(',')];
  for (let row = 0; row < n; row++) {
    const counts = Array.from(matrix.counts.subarray(row * n, row * n + n), String);
    lines.push([name(row), ...counts].join(','));
  }
  return `${lines.join('\n')}\n`;
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
