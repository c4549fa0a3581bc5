import { Module, nextOpSeed } from '@gorilla-ts/train/nn';
import * as tf from '@tensorflow/tfjs-core';
import { linearProduct } from './kernels.js';

/**
 * A seed for one tfjs random op, from `@gorilla-ts/train`'s package generator: after
 * `setRandomSeed(seed)`, initialisation and dropout masks are reproducible.
 */
export function opSeed(): number {
  return nextOpSeed();
}

/** PyTorch's default initialisation of a weight or bias: uniform in `±1/sqrt(fanIn)`. */
function kaimingUniform(shape: number[], fanIn: number): tf.Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.randomUniform(shape, -bound, bound, 'float32', opSeed());
}

/**
 * The state of a PyTorch `Conv1d(inChannels, outChannels, kernel_size=1)`: `weight`
 * `[out, in, 1]` and `bias` `[out]`, PyTorch's layout and initialisation, so a converted PyTorch
 * state dict loads as it is. The computation lives in the shared-MLP kernels
 * (`shared-mlp.ts`): on channels-last points `[M, in]` it is `x W^T + b`.
 */
export class PointwiseConv extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.weight = this.addParameter(
      'weight',
      kaimingUniform([outChannels, inChannels, 1], inChannels),
    );
    this.bias = this.addParameter('bias', kaimingUniform([outChannels], inChannels));
  }

  /** The weight as the matrix `[out, in]` (a free reshape). */
  matrix(): tf.Tensor2D {
    return tf.reshape(this.weight, [this.outChannels, this.inChannels]);
  }

  /** `x W^T + b` on channels-last points `[..., in]` (the plain formulation). */
  forward(input: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const flat = tf.reshape(input, [-1, this.inChannels]) as tf.Tensor2D;
      const output = tf.add(tf.matMul(flat, this.matrix(), false, true), this.bias);
      return tf.reshape(output, [...input.shape.slice(0, -1), this.outChannels]);
    });
  }
}

/**
 * The state of a PyTorch `Linear(inFeatures, outFeatures)`: `weight` `[out, in]`, `bias` `[out]`,
 * PyTorch's layout and initialisation. `forward` computes `x W^T + b` on `[B, in]`.
 */
export class LinearLayer extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    inFeatures: number,
    outFeatures: number,
    init?: { weight: tf.Tensor; bias: tf.Tensor },
  ) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = this.addParameter(
      'weight',
      init?.weight ?? kaimingUniform([outFeatures, inFeatures], inFeatures),
    );
    this.bias = this.addParameter('bias', init?.bias ?? kaimingUniform([outFeatures], inFeatures));
  }

  forward(input: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      tf.add(linearProduct(input as tf.Tensor2D, this.weight as tf.Tensor2D), this.bias),
    );
  }
}

/** Options of {@link BatchNorm}. */
export interface BatchNormOptions {
  /** Added to the variance before the square root. Defaults to `1e-5` (PyTorch's). */
  eps?: number;
  /** Weight of the new batch in the running statistics. Defaults to `0.1` (PyTorch's). */
  momentum?: number;
}

/**
 * The state of a PyTorch `BatchNorm1d(numFeatures)` over the channel (last) axis: `weight`,
 * `bias` (trainable), and the buffers `running_mean`, `running_var` and `num_batches_tracked`
 * (not parameters: they are not counted and not optimized). `forward` is the plain formulation
 * on `[..., C]`; the shared-MLP kernels use the state directly and call
 * {@link BatchNorm.updateRunningStats}.
 */
export class BatchNorm extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;

  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    this.numFeatures = numFeatures;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    this.weight = this.addParameter('weight', tf.ones([numFeatures]));
    this.bias = this.addParameter('bias', tf.zeros([numFeatures]));
    this.runningMean = this.addBuffer('running_mean', tf.zeros([numFeatures]));
    this.runningVar = this.addBuffer('running_var', tf.ones([numFeatures]));
    this.numBatchesTracked = this.addBuffer('num_batches_tracked', tf.scalar(0, 'int32'));
  }

  /**
   * Folds the batch statistics into the running ones as PyTorch does: `running = (1 - m) running
   * + m batch`, the variance unbiased (`var * count / (count - 1)`). `mean` and `variance` are
   * the biased batch statistics over `count` values per channel. No gradient flows through it.
   */
  updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    tf.tidy(() => {
      const m = this.momentum;
      const unbiased = tf.mul(variance, count / Math.max(count - 1, 1));
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
      this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
    });
  }

  /** Plain batch normalisation over every axis but the last (stock tfjs gradients). */
  forward(input: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (this.training) {
        const axes = input.shape.slice(0, -1).map((_, axis) => axis);
        ({ mean, variance } = tf.moments(input, axes));
        this.updateRunningStats(mean, variance, input.size / this.numFeatures);
      } else {
        mean = this.runningMean;
        variance = this.runningVar;
      }
      const scale = tf.mul(this.weight, tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(tf.sub(input, mean), scale), this.bias);
    });
  }
}
