import * as tf from '@tensorflow/tfjs-core';
import type { JsonValue } from '../optim/optimizer.js';
import type { Metrics } from './context.js';
import type { ForwardResult } from './forward.js';
import type { Awaitable } from './hook.js';

/**
 * Turns an evaluation's batches into metrics, in a way that works across ranks: each rank
 * accumulates a JSON-able `partial` over its own shard (`InferenceSampler`), the trainer gathers
 * every rank's partial (`allGatherObject`) and `summarize` combines them, so every sample counts
 * exactly once and every rank gets the same metrics.
 */
export interface Evaluator {
  /** Forgets the previous evaluation. */
  reset(): void;
  /** Accumulates one batch's results (tensors freed by the trainer afterwards). */
  process(result: ForwardResult, batch: unknown): Awaitable;
  /** This rank's accumulated state, JSON-able. */
  partial(): JsonValue;
  /** The metrics (names without the `val/` prefix) from every rank's partial, in rank order. */
  summarize(partials: readonly JsonValue[]): Record<string, number>;
  /**
   * Optional: the log lines of an evaluation's metrics (the `LoggerHook` prints them instead of
   * its generic `name value` line), e.g. accuracies and a per-class table.
   */
  format?(metrics: Metrics): string[];
}

interface ClassificationPartial {
  samples: number;
  accSamples: number;
  correct: number;
  lossSum: number;
  lossSamples: number;
}

/**
 * The default evaluator: `acc` (argmax of the output over the last axis against integer labels),
 * `loss` (the mean loss, weighted by the labels per batch) and `samples` (how many labelled
 * elements, or batch items without labels, were evaluated over all ranks). `acc` and `loss` are
 * left out when the forward gives no output/labels or no loss.
 */
export class ClassificationEvaluator implements Evaluator {
  #partial: ClassificationPartial = {
    samples: 0,
    accSamples: 0,
    correct: 0,
    lossSum: 0,
    lossSamples: 0,
  };

  reset(): void {
    this.#partial = { samples: 0, accSamples: 0, correct: 0, lossSum: 0, lossSamples: 0 };
  }

  async process(result: ForwardResult): Promise<void> {
    const { output, labels, loss } = result;
    const count = labels?.size ?? output?.shape[0] ?? 1;
    this.#partial.samples += count;
    if (output !== undefined && labels !== undefined && output.rank === labels.rank + 1) {
      const correct = tf.tidy(() =>
        tf.sum(tf.cast(tf.equal(tf.argMax(output, -1), tf.cast(labels, 'int32')), 'int32')),
      );
      this.#partial.correct += (await correct.data())[0]!;
      this.#partial.accSamples += count;
      correct.dispose();
    }
    if (loss !== undefined && loss.rank === 0) {
      this.#partial.lossSum += (await loss.data())[0]! * count;
      this.#partial.lossSamples += count;
    }
  }

  partial(): JsonValue {
    return { ...this.#partial };
  }

  summarize(partials: readonly JsonValue[]): Record<string, number> {
    const total: ClassificationPartial = {
      samples: 0,
      accSamples: 0,
      correct: 0,
      lossSum: 0,
      lossSamples: 0,
    };
    for (const part of partials as unknown as ClassificationPartial[]) {
      total.samples += part.samples;
      total.accSamples += part.accSamples;
      total.correct += part.correct;
      total.lossSum += part.lossSum;
      total.lossSamples += part.lossSamples;
    }
    const metrics: Record<string, number> = {};
    if (total.accSamples > 0) metrics.acc = total.correct / total.accSamples;
    if (total.lossSamples > 0) metrics.loss = total.lossSum / total.lossSamples;
    metrics.samples = total.samples;
    return metrics;
  }
}
