import { LOSSES } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { LossInputError } from '../errors.js';
import { registerOnce } from '../nn/register.js';
import { type Criterion, checkClassification, makeCriterion, type Reduction } from './criterion.js';

/** Options of {@link crossEntropyLoss}. */
export interface CrossEntropyLossOptions {
  /** A weight per class (length C). Defaults to none (all 1). */
  weight?: readonly number[];
  /** Elements whose label is this are left out (of the sum and of the mean's denominator). Defaults to `-100`. */
  ignoreIndex?: number;
  /** `mean` (weighted: divided by the sum of the targets' class weights), `sum` or `none`. Defaults to `mean`. */
  reduction?: Reduction;
  /** Mixes the target with the uniform distribution: `(1 - s) nll + s / C * sum_c(-w_c log p_c)`. Defaults to `0`. */
  labelSmoothing?: number;
}

/**
 * Softmax cross-entropy with PyTorch's `nn.CrossEntropyLoss` semantics (class weights, weighted
 * mean, ignore index, label smoothing) for logits `[..., C]` (classes on the last axis) and
 * integer labels `[...]`. With every element ignored, the mean is NaN, as in PyTorch.
 * Returns `[loss, { ce: loss }]`.
 *
 * @example
 * ```ts
 * const criterion = crossEntropyLoss({ labelSmoothing: 0.1 });
 * const [loss, lossOut] = criterion({ logits, labels });
 * ```
 */
export function crossEntropyLoss(
  options: CrossEntropyLossOptions = {},
): Criterion<CrossEntropyLossOptions> {
  const { weight, ignoreIndex = -100, reduction = 'mean', labelSmoothing = 0 } = options;
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new RangeError(
      `CrossEntropyLoss: labelSmoothing must be in [0, 1], got ${labelSmoothing}.`,
    );
  }
  const resolved = {
    ...(weight === undefined ? {} : { weight: [...weight] }),
    ignoreIndex,
    reduction,
    labelSmoothing,
  };
  return makeCriterion('CrossEntropyLoss', resolved, (input) => {
    const classes = checkClassification('CrossEntropyLoss', input);
    if (weight !== undefined && weight.length !== classes) {
      throw new LossInputError(
        `CrossEntropyLoss: weight has ${weight.length} values for ${classes} classes.`,
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
      const classWeight = weight === undefined ? undefined : tf.tensor1d([...weight], 'float32');
      // w_i: the target's class weight, 0 where ignored.
      const targetWeight =
        classWeight === undefined ? valid : tf.mul(tf.gather(classWeight, safeLabels), valid);
      const nll = tf.mul(tf.neg(tf.sum(tf.mul(logProbs, oneHot), -1)), targetWeight);
      let smooth: tf.Tensor | undefined;
      if (labelSmoothing > 0) {
        const weighted = classWeight === undefined ? logProbs : tf.mul(logProbs, classWeight);
        smooth = tf.mul(tf.neg(tf.sum(weighted, -1)), valid);
      }
      const combine = (nllPart: tf.Tensor, smoothPart: tf.Tensor | undefined) =>
        smoothPart === undefined
          ? nllPart
          : tf.add(
              tf.mul(nllPart, 1 - labelSmoothing),
              tf.mul(smoothPart, labelSmoothing / classes),
            );
      if (reduction === 'none') return tf.reshape(combine(nll, smooth), input.labels.shape);
      if (reduction === 'sum')
        return combine(tf.sum(nll), smooth === undefined ? undefined : tf.sum(smooth));
      const denominator = tf.sum(targetWeight);
      return combine(
        tf.div(tf.sum(nll), denominator),
        smooth === undefined ? undefined : tf.div(tf.sum(smooth), denominator),
      );
    });
    return [loss, { ce: loss }];
  });
}

/** Log-probabilities `[M, C]`, labels `[M]` with ignored ones replaced by 0, and the valid mask as floats. @internal */
export function flatten(
  logits: tf.Tensor,
  labels: tf.Tensor,
  classes: number,
  ignoreIndex: number,
) {
  const logProbs = tf.reshape(tf.logSoftmax(logits), [-1, classes]);
  const flatLabels = tf.reshape(
    labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32'),
    [-1],
  ) as tf.Tensor1D;
  const validMask = tf.notEqual(flatLabels, tf.scalar(ignoreIndex, 'int32'));
  const safeLabels = tf.where(validMask, flatLabels, tf.zerosLike(flatLabels)) as tf.Tensor1D;
  return { logProbs, safeLabels, valid: tf.cast(validMask, 'float32') };
}

registerOnce(LOSSES, 'CrossEntropyLoss', crossEntropyLoss, {
  schema: z.strictObject({
    weight: z.array(z.number().nonnegative()).optional(),
    ignoreIndex: z.number().int().optional(),
    reduction: z.enum(['mean', 'sum', 'none']).optional(),
    labelSmoothing: z.number().min(0).max(1).optional(),
  }),
});
