import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient clipping, applied to the (accumulated, all-reduced) gradients before each optimizer
 * step: `{ maxNorm, normType }` rescales all gradients together when their total norm exceeds
 * `maxNorm` (PyTorch's `clip_grad_norm_`); `{ value }` clamps every element to `[-value, value]`
 * (`clip_grad_value_`).
 */
export type ClipGradOptions =
  | {
      /** The largest total norm allowed. */
      maxNorm: number;
      /** The norm's order: 2 (Euclidean), any p > 0, or `Infinity` (largest element). Defaults to `2`. */
      normType?: number;
    }
  | {
      /** The largest absolute value allowed per element. */
      value: number;
    };

/** Adds `grads` into `sum` (a new map; both inputs' tensors are disposed), or returns `grads`. */
export function addGradients(
  sum: Map<string, tf.Tensor> | undefined,
  grads: Map<string, tf.Tensor>,
): Map<string, tf.Tensor> {
  if (sum === undefined) return grads;
  const result = new Map<string, tf.Tensor>();
  for (const [name, grad] of grads) {
    const previous = sum.get(name);
    result.set(name, previous === undefined ? grad : tf.add(previous, grad));
    if (previous !== undefined) tf.dispose([previous, grad]);
  }
  for (const [name, previous] of sum) if (!grads.has(name)) result.set(name, previous);
  return result;
}

/**
 * The total `normType`-norm of the gradients, as one scalar tensor (yours to dispose).
 * PyTorch: the norm of the vector of each gradient's norm.
 */
export function gradientNorm(grads: ReadonlyMap<string, tf.Tensor>, normType = 2): tf.Scalar {
  return tf.tidy(() => {
    const tensors = [...grads.values()];
    if (tensors.length === 0) return tf.scalar(0);
    if (normType === Number.POSITIVE_INFINITY) {
      return tf.max(tf.stack(tensors.map((grad) => tf.max(tf.abs(grad))))) as tf.Scalar;
    }
    const powered = tensors.map((grad) =>
      normType === 2 ? tf.sum(tf.square(grad)) : tf.sum(tf.pow(tf.abs(grad), normType)),
    );
    const total = tf.addN(powered);
    return (normType === 2 ? tf.sqrt(total) : tf.pow(total, 1 / normType)) as tf.Scalar;
  });
}

/**
 * Clips `grads` as `options` says. Returns the clipped gradients (new tensors; the inputs are
 * disposed) and, for norm clipping, the total norm before clipping (yours to dispose).
 */
export function clipGradients(
  grads: Map<string, tf.Tensor>,
  options: ClipGradOptions,
): { grads: Map<string, tf.Tensor>; norm: tf.Scalar | undefined } {
  const result = new Map<string, tf.Tensor>();
  if ('value' in options) {
    for (const [name, grad] of grads)
      result.set(name, tf.clipByValue(grad, -options.value, options.value));
    tf.dispose([...grads.values()]);
    return { grads: result, norm: undefined };
  }
  const norm = gradientNorm(grads, options.normType ?? 2);
  const coefficient = tf.tidy(() => tf.minimum(tf.div(options.maxNorm, tf.add(norm, 1e-6)), 1));
  for (const [name, grad] of grads) result.set(name, tf.mul(grad, coefficient));
  tf.dispose([...grads.values(), coefficient]);
  return { grads: result, norm };
}
