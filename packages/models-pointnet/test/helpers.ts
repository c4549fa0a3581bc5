import { type BackendName, initBackend } from '@gorilla-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import type { PointNetCls, PointNetClsOptions } from '../src/index.js';

/** Random points `[batch, points, channels]`, deterministic for a given seed. */
export function randomPoints(
  batch: number,
  points: number,
  seed: number,
  channels = 3,
): tf.Tensor3D {
  return tf.randomNormal([batch, points, channels], 0, 1, 'float32', seed) as tf.Tensor3D;
}

/**
 * Point clouds that differ in shape: Gaussian clouds, each with its own per-axis scale (0.4–1.6)
 * and offset (±0.5), so that each can be told apart (label them one class per sample).
 */
export function distinctClouds(batch: number, points: number): tf.Tensor3D {
  return tf.tidy(() => {
    const noise = tf.randomNormal([batch, points, 3], 0, 1, 'float32', 21);
    const scale = tf.randomUniform([batch, 1, 3], 0.4, 1.6, 'float32', 22);
    const offset = tf.randomUniform([batch, 1, 3], -0.5, 0.5, 'float32', 23);
    return tf.add(tf.mul(noise, scale), offset) as tf.Tensor3D;
  });
}

/** Class labels `0, 1, ...` modulo `numClasses`, int32. */
export function cyclicLabels(batch: number, numClasses: number): tf.Tensor1D {
  return tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % numClasses),
    'int32',
  );
}

/** Mean softmax cross-entropy plus the model's regularization, if any. */
export function lossOf(model: PointNetCls, points: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  const output = model.forward(points);
  const oneHot = tf.oneHot(labels, output.logits.shape[1]);
  const loss = tf.losses.softmaxCrossEntropy(oneHot, output.logits) as tf.Scalar;
  return output.regularization === undefined
    ? loss
    : (tf.add(loss, output.regularization) as tf.Scalar);
}

/** The gradient of {@link lossOf} for every parameter, by parameter name (kept; dispose them). */
export function gradientsByName(
  model: PointNetCls,
  points: tf.Tensor,
  labels: tf.Tensor1D,
): Map<string, tf.Tensor> {
  const named = model.namedParameters();
  const { value, grads } = tf.variableGrads(
    () => lossOf(model, points, labels),
    named.map(([, variable]) => variable),
  );
  value.dispose();
  return new Map(
    named.flatMap(([name, variable]) =>
      grads[variable.name] ? [[name, grads[variable.name]!]] : [],
    ),
  );
}

/** The largest absolute value of a tensor. */
export function maxAbs(tensor: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tensor)).dataSync()[0]!);
}

/** Whether a backend loads here (wasm and cpu always do; tensorflow needs tfjs-node). */
export async function backendAvailable(name: BackendName): Promise<boolean> {
  const previous = tf.getBackend();
  try {
    await initBackend({ backend: name, logger: () => {} });
    return true;
  } catch {
    return false;
  } finally {
    await tf.setBackend(previous);
  }
}

/**
 * Widths at which two per-point rows almost never coincide: with very narrow layers, an input
 * row whose features are all clipped to zero by ReLU repeats, ties appear in the max pool, and
 * tfjs's stock max gradient (split over every tied point) differs from PyTorch's and ours (the
 * first point). Small enough to run on every backend in seconds.
 */
export const SMALL: PointNetClsOptions = {
  numClasses: 5,
  featSize: 64,
  featLayerDims: [16, 32],
  classifierLayerDims: [32, 16],
  dropout: 0,
};
