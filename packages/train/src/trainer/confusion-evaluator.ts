import { Registry } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { JsonValue } from '../optim/optimizer.js';
import type { Metrics } from './context.js';
import { ClassificationEvaluator, type Evaluator } from './evaluator.js';
import type { ForwardResult } from './forward.js';

const SHARED = Symbol.for('@gorilla-ts/train.evaluators');

/**
 * Evaluators by name, for configs (`evaluator: { type: 'ConfusionMatrixEvaluator', numClasses:
 * 10 }` in `Trainer.fromConfig`). Evaluators are the trainer's concept (they read its forward
 * results), so their registry lives here rather than beside `MODELS` in `@gorilla-ts/registry`;
 * like those, it is shared by every copy of this package in a process.
 */
export const EVALUATORS: Registry<Evaluator> = (() => {
  const holder = globalThis as typeof globalThis & { [SHARED]?: Registry<Evaluator> };
  holder[SHARED] ??= new Registry<Evaluator>('evaluators');
  return holder[SHARED];
})();

/** Options of {@link ConfusionMatrixEvaluator}. */
export interface ConfusionMatrixEvaluatorOptions {
  /** The number of classes. */
  numClasses: number;
  /** Class names for the per-class metrics and table. Defaults to `0`, `1`, ... */
  classNames?: readonly string[];
}

interface ConfusionPartial {
  /** `[true][predicted]`, row-major. */
  counts: number[];
  lossSum: number;
  lossSamples: number;
}

/**
 * Classification metrics from a confusion matrix, for data sets whose classes are unbalanced
 * (ModelNet): `acc` (overall accuracy), `mean_class_acc` (the mean over the classes that have
 * samples of their accuracy, ModelNet's "mAcc"), `acc/<class>` per class, `loss` (when the
 * forward gives one) and `samples`. Works across ranks like every {@link Evaluator}: each rank
 * counts its shard, the matrices are summed. {@link ConfusionMatrixEvaluator.format} gives the
 * log lines (the `LoggerHook` prints them): the accuracies and a per-class table.
 *
 * @example
 * ```ts
 * new Trainer({ ..., evaluator: new ConfusionMatrixEvaluator({ numClasses: 10, classNames }) });
 * // or in a config: evaluator: { type: ConfusionMatrixEvaluator, numClasses: 10 }
 * ```
 */
export class ConfusionMatrixEvaluator implements Evaluator {
  readonly numClasses: number;
  readonly classNames: readonly string[];
  #partial: ConfusionPartial;
  /** The summed matrix of the last {@link ConfusionMatrixEvaluator.summarize}. */
  lastCounts: readonly number[] | undefined;

  constructor(options: ConfusionMatrixEvaluatorOptions) {
    this.numClasses = options.numClasses;
    this.classNames =
      options.classNames ?? Array.from({ length: options.numClasses }, (_, i) => String(i));
    this.#partial = this.#empty();
  }

  #empty(): ConfusionPartial {
    return { counts: new Array(this.numClasses ** 2).fill(0), lossSum: 0, lossSamples: 0 };
  }

  reset(): void {
    this.#partial = this.#empty();
  }

  async process(result: ForwardResult): Promise<void> {
    const { output, labels, loss } = result;
    if (output === undefined || labels === undefined) return;
    const predictions = tf.tidy(() => tf.argMax(output, -1));
    const [truth, predicted] = await Promise.all([labels.data(), predictions.data()]);
    predictions.dispose();
    const n = this.numClasses;
    for (let i = 0; i < truth.length; i++) {
      const row = truth[i]!;
      const col = predicted[i]!;
      if (row < 0 || row >= n || col >= n) {
        throw new RangeError(
          `ConfusionMatrixEvaluator: label ${row} or prediction ${col} is outside [0, ${n}) (numClasses ${n}).`,
        );
      }
      this.#partial.counts[row * n + col]! += 1;
    }
    if (loss !== undefined && loss.rank === 0) {
      this.#partial.lossSum += (await loss.data())[0]! * truth.length;
      this.#partial.lossSamples += truth.length;
    }
  }

  partial(): JsonValue {
    return { ...this.#partial, counts: [...this.#partial.counts] };
  }

  summarize(partials: readonly JsonValue[]): Record<string, number> {
    const n = this.numClasses;
    const total = this.#empty();
    for (const part of partials as unknown as ConfusionPartial[]) {
      part.counts.forEach((count, i) => {
        total.counts[i]! += count;
      });
      total.lossSum += part.lossSum;
      total.lossSamples += part.lossSamples;
    }
    this.lastCounts = total.counts;
    const metrics: Record<string, number> = {};
    let samples = 0;
    let correct = 0;
    let classSum = 0;
    let present = 0;
    for (let row = 0; row < n; row++) {
      let support = 0;
      for (let col = 0; col < n; col++) support += total.counts[row * n + col]!;
      const hits = total.counts[row * n + row]!;
      samples += support;
      correct += hits;
      if (support > 0) {
        classSum += hits / support;
        present += 1;
        metrics[`acc/${this.classNames[row]}`] = hits / support;
      }
    }
    if (samples > 0) metrics.acc = correct / samples;
    if (present > 0) metrics.mean_class_acc = classSum / present;
    if (total.lossSamples > 0) metrics.loss = total.lossSum / total.lossSamples;
    metrics.samples = samples;
    return metrics;
  }

  /**
   * The log lines of an evaluation's metrics (`val/`-prefixed or not): `accuracy: 93.21%, mean
   * class accuracy: 91.02% (908 samples)` and a per-class table (class, samples, correct,
   * accuracy) of the last summarized matrix.
   */
  format(metrics: Metrics): string[] {
    const get = (name: string) => metrics[`val/${name}`] ?? metrics[name];
    const percent = (value: number | undefined) =>
      value === undefined || Number.isNaN(value) ? 'n/a' : `${(value * 100).toFixed(2)}%`;
    const loss = get('loss');
    const lines = [
      `accuracy: ${percent(get('acc'))}, mean class accuracy: ${percent(get('mean_class_acc'))}` +
        `${loss === undefined ? '' : `, loss: ${loss.toFixed(4)}`} (${get('samples') ?? 0} samples)`,
    ];
    const counts = this.lastCounts;
    if (counts === undefined) return lines;
    const n = this.numClasses;
    const width = Math.max(5, ...this.classNames.map((name) => name.length));
    const header = `${'class'.padEnd(width)}  samples  correct  accuracy`;
    lines.push(header, '-'.repeat(header.length));
    for (let row = 0; row < n; row++) {
      let support = 0;
      for (let col = 0; col < n; col++) support += counts[row * n + col]!;
      const hits = counts[row * n + row]!;
      lines.push(
        [
          this.classNames[row]!.padEnd(width),
          String(support).padStart(7),
          String(hits).padStart(7),
          percent(support > 0 ? hits / support : Number.NaN).padStart(8),
        ].join('  '),
      );
    }
    return lines;
  }
}

const positiveInt = z.number().int().positive();
if (!EVALUATORS.has('ClassificationEvaluator'))
  EVALUATORS.register('ClassificationEvaluator', ClassificationEvaluator, {
    schema: z.strictObject({}),
  });
if (!EVALUATORS.has('ConfusionMatrixEvaluator'))
  EVALUATORS.register('ConfusionMatrixEvaluator', ConfusionMatrixEvaluator, {
    schema: z
      .strictObject({ numClasses: positiveInt, classNames: z.array(z.string()).optional() })
      .refine((o) => o.classNames === undefined || o.classNames.length === o.numClasses, {
        message: 'classNames must have numClasses names',
        path: ['classNames'],
      }),
  });
