import * as tf from '@tensorflow/tfjs-core';

/**
 * The PointNet paper's orthogonality regularization of a feature transform:
 * `weight · mean over the batch of ‖I − A Aᵀ‖²_F` for `A` `[B, k, k]`. A scalar.
 *
 * @param weight Defaults to `0.001` (the paper's).
 */
export function orthogonalityLoss(transform: tf.Tensor3D, weight = 0.001): tf.Scalar {
  return tf.tidy(() => {
    const k = transform.shape[1];
    const product = tf.matMul(transform, transform, false, true);
    const difference = tf.sub(tf.eye(k), product);
    return tf.mul(tf.mean(tf.sum(tf.square(difference), [1, 2])), weight) as tf.Scalar;
  });
}

/** A loss in the seed's criterion convention: `criterion({ logits, labels })` → `[loss, terms]`. */
export type CriterionLike<Input extends { logits: tf.Tensor; labels: tf.Tensor }> = (
  input: Input,
) => [tf.Tensor, Record<string, tf.Tensor>];

/** What {@link withRegularization}'s criterion accepts: a model output spread with the labels. */
export interface RegularizedCriterionInput {
  logits: tf.Tensor;
  labels: tf.Tensor;
  /** Added to the loss when present (the {@link PointNetCls} output's `regularization`). */
  regularization?: tf.Tensor;
}

/**
 * Wraps a criterion so that it also adds a model output's `regularization` term, reported as
 * `terms.regularization`:
 *
 * ```ts
 * const criterion = withRegularization(buildLoss(cfg.loss));
 * const [loss, terms] = criterion({ ...model.forward(points), labels });
 * ```
 *
 * Without a `regularization` (the vanilla model) it is the criterion unchanged.
 */
export function withRegularization<Input extends { logits: tf.Tensor; labels: tf.Tensor }>(
  criterion: CriterionLike<Input>,
): (input: Input & RegularizedCriterionInput) => [tf.Tensor, Record<string, tf.Tensor>] {
  return (input) => {
    const [loss, terms] = criterion(input);
    if (input.regularization === undefined) return [loss, terms];
    return [tf.add(loss, input.regularization), { ...terms, regularization: input.regularization }];
  };
}
