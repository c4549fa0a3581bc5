import { LOSSES } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { LossInputError } from '../errors.js';
import { registerOnce } from '../nn/register.js';
import { type Criterion, makeCriterion, type Reduction, reduce } from './criterion.js';

/** Options of {@link smoothL1Loss}. */
export interface SmoothL1LossOptions {
  /** Where the loss turns from quadratic to linear; 0 gives the L1 loss. Defaults to `1`. */
  beta?: number;
  /** `mean`, `sum` or `none`. Defaults to `mean`. */
  reduction?: Reduction;
}

/**
 * PyTorch's `nn.SmoothL1Loss`: with `d = |logits - labels|`, `0.5 d^2 / beta` where `d < beta`,
 * else `d - 0.5 beta`. `logits` are the predictions and `labels` the targets, of the same shape.
 * Returns `[loss, { smooth_l1: loss }]`.
 */
export function smoothL1Loss(options: SmoothL1LossOptions = {}): Criterion<SmoothL1LossOptions> {
  const { beta = 1, reduction = 'mean' } = options;
  if (!(beta >= 0)) throw new RangeError(`SmoothL1Loss: beta must be >= 0, got ${beta}.`);
  return makeCriterion('SmoothL1Loss', { beta, reduction }, ({ logits, labels }) => {
    if (!(logits instanceof tf.Tensor) || !(labels instanceof tf.Tensor)) {
      throw new LossInputError('SmoothL1Loss: expected { logits, labels } tensors.');
    }
    if (logits.shape.join(',') !== labels.shape.join(',')) {
      throw new LossInputError(
        `SmoothL1Loss: logits [${logits.shape.join(', ')}] and labels [${labels.shape.join(', ')}] must have the same shape.`,
      );
    }
    const loss = tf.tidy(() => {
      const diff = tf.abs(tf.sub(logits, tf.cast(labels, logits.dtype)));
      const values =
        beta === 0
          ? diff
          : tf.where(
              tf.less(diff, beta),
              tf.div(tf.mul(tf.square(diff), 0.5), beta),
              tf.sub(diff, 0.5 * beta),
            );
      return reduce(values, reduction);
    });
    return [loss, { smooth_l1: loss }];
  });
}

registerOnce(LOSSES, 'SmoothL1Loss', smoothL1Loss, {
  schema: z.strictObject({
    beta: z.number().nonnegative().optional(),
    reduction: z.enum(['mean', 'sum', 'none']).optional(),
  }),
});
