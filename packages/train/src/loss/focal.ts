import { LOSSES } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { LossInputError } from '../errors.js';
import { registerOnce } from '../nn/register.js';
import {
  type Criterion,
  checkClassification,
  makeCriterion,
  type Reduction,
  reduce,
} from './criterion.js';
import { flatten } from './cross-entropy.js';

/** Options of {@link focalLoss}. */
export interface FocalLossOptions {
  /** Focusing exponent: `(1 - p_t)^gamma` down-weights easy examples. Defaults to `2`. */
  gamma?: number;
  /**
   * Balancing weight. `softmax`: one number for every class, or one per class (`alpha_t` is the
   * target's). `sigmoid`: `alpha` for positives and `1 - alpha` for negatives (torchvision's).
   * Defaults to none.
   */
  alpha?: number | readonly number[] | null;
  /** `softmax` (logits `[..., C]`, integer labels `[...]`) or `sigmoid` (labels shaped like logits, 0/1). Defaults to `softmax`. */
  mode?: 'softmax' | 'sigmoid';
  /** `softmax` only: elements with this label are left out. Defaults to `-100`. */
  ignoreIndex?: number;
  /** `mean` (over the elements not ignored), `sum` or `none`. Defaults to `mean`. */
  reduction?: Reduction;
}

/**
 * Focal loss (Lin et al. 2017): `-alpha_t (1 - p_t)^gamma log p_t`. In `softmax` mode `p_t` is
 * the softmax probability of the target class; in `sigmoid` mode each element is a binary task,
 * as torchvision's `sigmoid_focal_loss`. With `gamma = 0` and no `alpha` the softmax mode equals
 * the cross-entropy. Returns `[loss, { focal: loss }]`.
 */
export function focalLoss(options: FocalLossOptions = {}): Criterion<FocalLossOptions> {
  const {
    gamma = 2,
    alpha = null,
    mode = 'softmax',
    ignoreIndex = -100,
    reduction = 'mean',
  } = options;
  if (!(gamma >= 0)) throw new RangeError(`FocalLoss: gamma must be >= 0, got ${gamma}.`);
  const resolved = {
    gamma,
    alpha: Array.isArray(alpha) ? [...alpha] : alpha,
    mode,
    ignoreIndex,
    reduction,
  };
  const modulate = (oneMinusPt: tf.Tensor) =>
    gamma === 0 ? tf.onesLike(oneMinusPt) : tf.pow(tf.relu(oneMinusPt), gamma);
  return makeCriterion('FocalLoss', resolved, (input) => {
    if (mode === 'sigmoid') {
      const { logits, labels } = input;
      if (
        !(logits instanceof tf.Tensor) ||
        !(labels instanceof tf.Tensor) ||
        logits.shape.join(',') !== labels.shape.join(',')
      ) {
        throw new LossInputError(
          'FocalLoss (sigmoid): expected { logits, labels } tensors of the same shape.',
        );
      }
      if (Array.isArray(alpha))
        throw new LossInputError('FocalLoss (sigmoid): alpha must be one number.');
      const loss = tf.tidy(() => {
        const targets = tf.cast(labels, 'float32');
        const probs = tf.sigmoid(logits);
        // Binary cross-entropy with logits, stable form: max(x, 0) - x t + log(1 + exp(-|x|)).
        const ce = tf.add(
          tf.sub(tf.relu(logits), tf.mul(logits, targets)),
          tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
        );
        const pt = tf.add(tf.mul(probs, targets), tf.mul(tf.sub(1, probs), tf.sub(1, targets)));
        let values = tf.mul(ce, modulate(tf.sub(1, pt)));
        if (typeof alpha === 'number') {
          values = tf.mul(
            values,
            tf.add(tf.mul(targets, alpha), tf.mul(tf.sub(1, targets), 1 - alpha)),
          );
        }
        return reduce(values, reduction);
      });
      return [loss, { focal: loss }];
    }
    const classes = checkClassification('FocalLoss', input);
    if (Array.isArray(alpha) && alpha.length !== classes) {
      throw new LossInputError(
        `FocalLoss: alpha has ${alpha.length} values for ${classes} classes.`,
      );
    }
    const loss = tf.tidy(() => {
      const { logProbs, safeLabels, valid } = flatten(
        input.logits,
        input.labels,
        classes,
        ignoreIndex,
      );
      const oneHot = tf.cast(tf.oneHot(safeLabels, classes), 'float32');
      const logPt = tf.sum(tf.mul(logProbs, oneHot), -1);
      let values = tf.mul(tf.neg(logPt), modulate(tf.sub(1, tf.exp(logPt))));
      if (Array.isArray(alpha))
        values = tf.mul(values, tf.gather(tf.tensor1d([...alpha], 'float32'), safeLabels));
      else if (typeof alpha === 'number') values = tf.mul(values, alpha);
      values = tf.mul(values, valid);
      if (reduction === 'none') return tf.reshape(values, input.labels.shape);
      if (reduction === 'sum') return tf.sum(values);
      return tf.div(tf.sum(values), tf.sum(valid));
    });
    return [loss, { focal: loss }];
  });
}

registerOnce(LOSSES, 'FocalLoss', focalLoss, {
  schema: z.strictObject({
    gamma: z.number().nonnegative().optional(),
    alpha: z
      .union([z.number().min(0).max(1), z.array(z.number().nonnegative())])
      .nullable()
      .optional(),
    mode: z.enum(['softmax', 'sigmoid']).optional(),
    ignoreIndex: z.number().int().optional(),
    reduction: z.enum(['mean', 'sum', 'none']).optional(),
  }),
});
