import { MODULES } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { nextOpSeed } from '../random/global.js';
import { Module } from './module.js';
import { registerOnce } from './register.js';

/** Options of {@link Dropout}. */
export interface DropoutOptions {
  /** The probability of zeroing each element. Defaults to `0.5`. */
  p?: number;
}

/**
 * In training mode, zeroes each element with probability `p` and scales the rest by `1/(1-p)`
 * (PyTorch's inverted dropout); in evaluation mode, the identity. The masks are drawn with seeds
 * from the package generator, so a seeded run ({@link setRandomSeed}) draws the same masks.
 */
export class Dropout extends Module {
  readonly p: number;

  constructor(options: DropoutOptions = {}) {
    super();
    const { p = 0.5 } = options;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}.`);
    this.p = p;
  }

  forward(input: tf.Tensor): tf.Tensor {
    if (!this.training || this.p === 0) return input;
    if (this.p === 1) return tf.zerosLike(input);
    return tf.tidy(() => {
      const draw = tf.randomUniform(input.shape, 0, 1, 'float32', nextOpSeed());
      const mask = tf.cast(tf.greaterEqual(draw, this.p), input.dtype);
      return tf.mul(input, tf.mul(mask, 1 / (1 - this.p)));
    });
  }
}

registerOnce(MODULES, 'Dropout', Dropout, {
  schema: z.strictObject({ p: z.number().min(0).max(1).optional() }),
});
