import { MODULES } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { Module } from './module.js';
import { registerOnce } from './register.js';

/** Options of {@link BatchNorm1d}. */
export interface BatchNorm1dOptions {
  /** Size of the last (channel) axis. */
  numFeatures: number;
  /** Added to the variance before the square root. Defaults to `1e-5`. */
  eps?: number;
  /**
   * Weight of the new batch in the running statistics: `running = (1 - m) running + m batch`.
   * `null` gives the cumulative average over all batches seen. Defaults to `0.1`.
   */
  momentum?: number | null;
  /** Learn a per-channel scale (`weight`) and shift (`bias`). Defaults to `true`. */
  affine?: boolean;
  /** Keep running statistics and use them in evaluation mode. Defaults to `true`. */
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation over every axis but the last: inputs `[B, C]` or `[B, N, C]` (channels
 * last, unlike PyTorch's `[B, C, N]`), with PyTorch's semantics otherwise. In training mode it
 * normalises with the batch statistics and updates `running_mean` and `running_var` (the latter
 * with the unbiased batch variance) and `num_batches_tracked`; in evaluation mode it uses the
 * running statistics.
 */
export class BatchNorm1d extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly weight: tf.Variable | undefined;
  readonly bias: tf.Variable | undefined;
  readonly runningMean: tf.Variable | undefined;
  readonly runningVar: tf.Variable | undefined;
  readonly numBatchesTracked: tf.Variable | undefined;

  constructor(options: BatchNorm1dOptions) {
    super();
    const {
      numFeatures,
      eps = 1e-5,
      momentum = 0.1,
      affine = true,
      trackRunningStats = true,
    } = options;
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? this.addParameter('weight', tf.ones([numFeatures])) : undefined;
    this.bias = affine ? this.addParameter('bias', tf.zeros([numFeatures])) : undefined;
    if (trackRunningStats) {
      this.runningMean = this.addBuffer('running_mean', tf.zeros([numFeatures]));
      this.runningVar = this.addBuffer('running_var', tf.ones([numFeatures]));
      this.numBatchesTracked = this.addBuffer('num_batches_tracked', tf.scalar(0, 'int32'));
    }
  }

  forward(input: tf.Tensor): tf.Tensor {
    const shape = input.shape;
    if (shape.length < 2 || shape[shape.length - 1] !== this.numFeatures) {
      throw new Error(
        `BatchNorm1d: expected an input [..., ${this.numFeatures}] of rank >= 2, got [${shape.join(', ')}].`,
      );
    }
    return tf.tidy(() => {
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (this.training || this.runningMean === undefined || this.runningVar === undefined) {
        const axes = shape.slice(0, -1).map((_, axis) => axis);
        const count = input.size / this.numFeatures;
        if (this.training && count <= 1) {
          throw new Error(
            `BatchNorm1d: expected more than 1 value per channel when training, got input [${shape.join(', ')}].`,
          );
        }
        ({ mean, variance } = tf.moments(input, axes));
        if (this.training && this.runningMean !== undefined)
          this.#updateRunningStats(mean, variance, count);
      } else {
        mean = this.runningMean;
        variance = this.runningVar;
      }
      let output = tf.mul(tf.sub(input, mean), tf.rsqrt(tf.add(variance, this.eps)));
      if (this.weight !== undefined && this.bias !== undefined) {
        output = tf.add(tf.mul(output, this.weight), this.bias);
      }
      return output;
    });
  }

  #updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    const runningMean = this.runningMean!;
    const runningVar = this.runningVar!;
    const tracked = this.numBatchesTracked!;
    tf.tidy(() => {
      // Outside the loss's path, so no gradient flows through these updates.
      const unbiased = tf.mul(variance, count / (count - 1));
      const newTracked = tf.add(tracked, tf.scalar(1, 'int32'));
      // momentum null: the cumulative average, factor 1 / num_batches_tracked (as PyTorch).
      const factor =
        this.momentum === null
          ? tf.div(tf.scalar(1), tf.cast(newTracked, 'float32'))
          : tf.scalar(this.momentum);
      const keep = tf.sub(tf.scalar(1), factor);
      runningMean.assign(tf.add(tf.mul(runningMean, keep), tf.mul(mean, factor)));
      runningVar.assign(tf.add(tf.mul(runningVar, keep), tf.mul(unbiased, factor)));
      tracked.assign(newTracked);
    });
  }
}

registerOnce(MODULES, 'BatchNorm1d', BatchNorm1d, {
  schema: z.strictObject({
    numFeatures: z.number().int().positive(),
    eps: z.number().positive().optional(),
    momentum: z.number().min(0).max(1).nullable().optional(),
    affine: z.boolean().optional(),
    trackRunningStats: z.boolean().optional(),
  }),
});
