import { OPTIMIZERS } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { OptimizerError } from '../errors.js';
import { registerOnce } from '../nn/register.js';
import {
  type BaseHyperparameters,
  Optimizer,
  type ParamGroup,
  type ParamsInput,
} from './optimizer.js';
import { paramsSchema } from './schema.js';

/** Hyperparameters of {@link SGD}, per group. */
export interface SgdHyperparameters extends BaseHyperparameters {
  /** Momentum factor. */
  momentum: number;
  /** Dampening of the momentum. */
  dampening: number;
  /** Nesterov momentum (needs `momentum > 0` and `dampening = 0`). */
  nesterov: boolean;
}

/** Options of {@link SGD}. */
export type SgdOptions = { params: ParamsInput<SgdHyperparameters> } & Partial<SgdHyperparameters>;

/**
 * Stochastic gradient descent with PyTorch's `torch.optim.SGD` semantics:
 * `g = grad + weightDecay p`; with momentum, `buf = g` on the first step, then
 * `buf = momentum buf + (1 - dampening) g`, and `g = nesterov ? g + momentum buf : buf`;
 * `p = p - lr g`. Slot: `<param>.momentum_buffer`.
 * Defaults: `lr 1e-3`, `momentum 0`, `dampening 0`, `weightDecay 0`, `nesterov false`.
 */
export class SGD extends Optimizer<SgdHyperparameters> {
  readonly type = 'SGD';

  constructor(options: SgdOptions) {
    const { params, ...overrides } = options;
    super(params, {
      lr: 1e-3,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      ...overrides,
    });
    for (const group of this.paramGroups) {
      if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
        throw new OptimizerError(
          'OPTIMIZER_INVALID',
          'SGD: Nesterov momentum requires momentum > 0 and dampening = 0.',
        );
      }
    }
  }

  protected updateParameter(
    name: string,
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<SgdHyperparameters>,
  ): void {
    const { lr, momentum, dampening, weightDecay, nesterov } = group;
    const c = (value: number) => this.scalar(value);
    let g = weightDecay !== 0 ? tf.add(grad, tf.mul(param, c(weightDecay))) : grad;
    if (momentum !== 0) {
      const existing = this.getSlot(name, 'momentum_buffer');
      let buffer: tf.Tensor;
      if (existing === undefined) {
        buffer = this.setSlot(name, 'momentum_buffer', g);
      } else {
        existing.assign(tf.add(tf.mul(existing, c(momentum)), tf.mul(g, c(1 - dampening))));
        buffer = existing;
      }
      g = nesterov ? tf.add(g, tf.mul(buffer, c(momentum))) : buffer;
    }
    param.assign(tf.sub(param, tf.mul(g, c(lr))));
  }
}

registerOnce(OPTIMIZERS, 'SGD', SGD, {
  schema: z.strictObject({
    params: paramsSchema,
    lr: z.number().nonnegative().optional(),
    momentum: z.number().nonnegative().optional(),
    dampening: z.number().optional(),
    weightDecay: z.number().nonnegative().optional(),
    nesterov: z.boolean().optional(),
  }),
});
