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

/** Hyperparameters of {@link Adam} and {@link AdamW}, per group. */
export interface AdamHyperparameters extends BaseHyperparameters {
  /** Decay rates of the first and second moment estimates. */
  betas: [number, number];
  /** Added to the denominator. */
  eps: number;
  /** Use the maximum of past second moments (AMSGrad). */
  amsgrad: boolean;
}

/** Options of {@link Adam} and {@link AdamW}. */
export type AdamOptions = {
  params: ParamsInput<AdamHyperparameters>;
} & Partial<AdamHyperparameters>;

/**
 * Adam with PyTorch's `torch.optim.Adam` semantics (L2 weight decay added to the gradient):
 * `m = lerp(m, g, 1 - b1)`, `v = b2 v + (1 - b2) g^2`, `p -= lr / (1 - b1^t) m / (sqrt(v') / sqrt(1 - b2^t) + eps)`
 * with `v' = v`, or its running maximum with `amsgrad`. Slots: `<param>.exp_avg`,
 * `<param>.exp_avg_sq`, and `<param>.max_exp_avg_sq` with `amsgrad`.
 * Defaults: `lr 1e-3`, `betas [0.9, 0.999]`, `eps 1e-8`, `weightDecay 0`, `amsgrad false`.
 */
export class Adam extends Optimizer<AdamHyperparameters> {
  readonly type: string = 'Adam';
  /** Decoupled weight decay (AdamW) instead of L2 added to the gradient. */
  protected readonly decoupledWeightDecay: boolean = false;

  constructor(options: AdamOptions, defaultWeightDecay = 0) {
    const { params, ...overrides } = options;
    super(params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: defaultWeightDecay,
      amsgrad: false,
      ...overrides,
    });
  }

  protected updateParameter(
    name: string,
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<AdamHyperparameters>,
    step: number,
  ): void {
    const { lr, betas, eps, weightDecay, amsgrad } = group;
    const [beta1, beta2] = betas;
    const c = (value: number) => this.scalar(value);
    let g = grad;
    if (weightDecay !== 0) {
      if (this.decoupledWeightDecay) param.assign(tf.mul(param, c(1 - lr * weightDecay)));
      else g = tf.add(g, tf.mul(param, c(weightDecay)));
    }
    const expAvg = this.zerosSlot(name, 'exp_avg', param);
    const expAvgSq = this.zerosSlot(name, 'exp_avg_sq', param);
    expAvg.assign(tf.add(expAvg, tf.mul(tf.sub(g, expAvg), c(1 - beta1))));
    expAvgSq.assign(tf.add(tf.mul(expAvgSq, c(beta2)), tf.mul(tf.mul(g, g), c(1 - beta2))));
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** step);
    const stepSize = lr / biasCorrection1;
    let second: tf.Tensor = expAvgSq;
    if (amsgrad) {
      const maxExpAvgSq = this.zerosSlot(name, 'max_exp_avg_sq', param);
      maxExpAvgSq.assign(tf.maximum(maxExpAvgSq, expAvgSq));
      second = maxExpAvgSq;
    }
    const denom = tf.add(tf.div(tf.sqrt(second), c(biasCorrection2Sqrt)), c(eps));
    param.assign(tf.sub(param, tf.mul(tf.div(expAvg, denom), c(stepSize))));
  }
}

/**
 * AdamW: {@link Adam} with decoupled weight decay, PyTorch's `torch.optim.AdamW`:
 * `p = p (1 - lr weightDecay)` before the Adam update. Defaults as Adam but `weightDecay 1e-2`.
 */
export class AdamW extends Adam {
  override readonly type: string = 'AdamW';
  protected override readonly decoupledWeightDecay: boolean = true;

  constructor(options: AdamOptions) {
    super(options, 1e-2);
  }
}

const adamSchema = z.strictObject({
  params: paramsSchema,
  lr: z.number().nonnegative().optional(),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).optional(),
  eps: z.number().nonnegative().optional(),
  weightDecay: z.number().nonnegative().optional(),
  amsgrad: z.boolean().optional(),
});

registerOnce(OPTIMIZERS, 'Adam', Adam, { schema: adamSchema });
registerOnce(OPTIMIZERS, 'AdamW', AdamW, { schema: adamSchema });
