import { OPTIMIZERS } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import {
  type BaseHyperparameters,
  Optimizer,
  type ParamGroup,
  type ParamsInput,
} from './optimizer.js';
import { paramsSchema } from './schema.js';

/** Hyperparameters of {@link RMSprop}, per group. */
export interface RmspropHyperparameters extends BaseHyperparameters {
  /** Smoothing constant of the squared-gradient average. */
  alpha: number;
  /** Added to the denominator. */
  eps: number;
  /** Momentum factor. */
  momentum: number;
  /** Normalise by the centred second moment (an estimate of the variance). */
  centered: boolean;
}

/** Options of {@link RMSprop}. */
export type RmspropOptions = {
  params: ParamsInput<RmspropHyperparameters>;
} & Partial<RmspropHyperparameters>;

/**
 * RMSprop with PyTorch's `torch.optim.RMSprop` semantics: `g = grad + weightDecay p`,
 * `s = alpha s + (1 - alpha) g^2`; centred: `a = lerp(a, g, 1 - alpha)`, `avg = sqrt(s - a^2) + eps`,
 * else `avg = sqrt(s) + eps`; with momentum `buf = momentum buf + g / avg`, `p -= lr buf`, else
 * `p -= lr g / avg`. Slots: `<param>.square_avg`, `<param>.momentum_buffer` (momentum > 0),
 * `<param>.grad_avg` (centred).
 * Defaults: `lr 1e-2`, `alpha 0.99`, `eps 1e-8`, `weightDecay 0`, `momentum 0`, `centered false`.
 */
export class RMSprop extends Optimizer<RmspropHyperparameters> {
  readonly type = 'RMSprop';

  constructor(options: RmspropOptions) {
    const { params, ...overrides } = options;
    super(params, {
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      momentum: 0,
      centered: false,
      ...overrides,
    });
  }

  protected updateParameter(
    name: string,
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<RmspropHyperparameters>,
  ): void {
    const { lr, alpha, eps, weightDecay, momentum, centered } = group;
    const c = (value: number) => this.scalar(value);
    const g = weightDecay !== 0 ? tf.add(grad, tf.mul(param, c(weightDecay))) : grad;
    const squareAvg = this.zerosSlot(name, 'square_avg', param);
    squareAvg.assign(tf.add(tf.mul(squareAvg, c(alpha)), tf.mul(tf.mul(g, g), c(1 - alpha))));
    let avg: tf.Tensor;
    if (centered) {
      const gradAvg = this.zerosSlot(name, 'grad_avg', param);
      gradAvg.assign(tf.add(gradAvg, tf.mul(tf.sub(g, gradAvg), c(1 - alpha))));
      avg = tf.sqrt(tf.sub(squareAvg, tf.mul(gradAvg, gradAvg)));
    } else {
      avg = tf.sqrt(squareAvg);
    }
    avg = tf.add(avg, c(eps));
    if (momentum > 0) {
      const buffer = this.zerosSlot(name, 'momentum_buffer', param);
      buffer.assign(tf.add(tf.mul(buffer, c(momentum)), tf.div(g, avg)));
      param.assign(tf.sub(param, tf.mul(buffer, c(lr))));
    } else {
      param.assign(tf.sub(param, tf.mul(tf.div(g, avg), c(lr))));
    }
  }
}

registerOnce(OPTIMIZERS, 'RMSprop', RMSprop, {
  schema: z.strictObject({
    params: paramsSchema,
    lr: z.number().nonnegative().optional(),
    alpha: z.number().min(0).max(1).optional(),
    eps: z.number().nonnegative().optional(),
    weightDecay: z.number().nonnegative().optional(),
    momentum: z.number().nonnegative().optional(),
    centered: z.boolean().optional(),
  }),
});
