import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../errors.js';

/** What a criterion is called with: the seed's `{ logits, labels }` dict. */
export interface CriterionInput {
  /** The model's output: class scores `[..., C]` (channels last), or predictions for regression losses. */
  logits: tf.Tensor;
  /** Class indices `[...]` (int32; `[..., C]` one-hot/multi-hot floats for sigmoid focal loss), or regression targets shaped like `logits`. */
  labels: tf.Tensor;
}

/**
 * Each named term of a loss, as scalar tensors (the total's terms: `{ ce }`, `{ smooth_l1 }`,
 * `{ focal }`). They are created in the caller's scope and follow the usual `tf.tidy` rules:
 * inside `tf.variableGrads`, `tf.keep()` the ones you want to read after it returns.
 */
export type LossTerms = Record<string, tf.Tensor>;

/** How a loss reduces the per-element values: PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * A loss in the seed's criterion convention: `criterion({ logits, labels })` returns
 * `[loss, lossOut]`, the total (a scalar unless `reduction: 'none'`) and its named terms.
 */
export interface Criterion<Options = unknown> {
  (input: CriterionInput): [tf.Tensor, LossTerms];
  /** The registered name (`CrossEntropyLoss`, ...). */
  readonly type: string;
  /** The options it was built with, defaults filled in. */
  readonly options: Readonly<Options>;
}

/** Attaches `type` and `options` to a criterion function. @internal */
export function makeCriterion<Options>(
  type: string,
  options: Options,
  compute: (input: CriterionInput) => [tf.Tensor, LossTerms],
): Criterion<Options> {
  return Object.assign(compute, { type, options: Object.freeze({ ...options }) });
}

/** Checks `{ logits, labels }` and returns the class count (the last axis of logits). @internal */
export function checkClassification(type: string, input: CriterionInput): number {
  const { logits, labels } = input ?? {};
  if (!(logits instanceof tf.Tensor) || !(labels instanceof tf.Tensor)) {
    throw new LossInputError(`${type}: expected { logits, labels } tensors.`);
  }
  const leading = logits.shape.slice(0, -1);
  if (
    logits.rank < 1 ||
    labels.rank !== leading.length ||
    !labels.shape.every((size, axis) => size === leading[axis])
  ) {
    throw new LossInputError(
      `${type}: labels [${labels.shape.join(', ')}] must match logits [${logits.shape.join(', ')}] without its last (class) axis.`,
    );
  }
  return logits.shape[logits.rank - 1]!;
}

/** Applies a reduction to per-element losses. @internal */
export function reduce(values: tf.Tensor, reduction: Reduction): tf.Tensor {
  if (reduction === 'none') return values;
  return reduction === 'sum' ? tf.sum(values) : tf.mean(values);
}
