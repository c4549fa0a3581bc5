import { allReduce, broadcast, getWorldSize } from '@gorilla-ts/dist';
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Gradients } from '../optim/optimizer.js';

/** Options of {@link allReduceGradients}. */
export interface AllReduceGradientsOptions {
  /**
   * Gradients are flattened into buckets of about this many bytes; while one bucket is being
   * all-reduced the next one is copied out of its tensors, so communication overlaps with the
   * device-to-host copy. Defaults to 4 MiB (PointNet's 3.2 MB of gradients is one bucket).
   */
  bucketBytes?: number;
}

const DEFAULT_BUCKET_BYTES = 4 * 1024 * 1024;

/**
 * Averages gradients over the ranks of the process group: each rank passes its own gradients
 * and gets back tensors holding the mean over all ranks, in the same order and shapes. With one
 * process it returns the input unchanged (no copy). The returned tensors are new; the input
 * tensors are not disposed.
 */
export async function allReduceGradients(
  gradients: Gradients,
  options: AllReduceGradientsOptions = {},
): Promise<Map<string, tf.Tensor>> {
  const entries = gradients instanceof Map ? [...gradients] : Object.entries(gradients);
  if (getWorldSize() === 1) return new Map(entries);
  const buckets = bucketize(entries, options.bucketBytes ?? DEFAULT_BUCKET_BYTES);
  // Chain the collectives (they must run in the same order on every rank) while the next
  // bucket's host copy proceeds concurrently.
  let chain: Promise<unknown> = Promise.resolve();
  const reduced = buckets.map((bucket) => {
    const flat = tf.tidy(() => tf.concat(bucket.map(([, tensor]) => tf.reshape(tensor, [-1]))));
    const host = flat.data() as Promise<Float32Array>;
    host.finally(() => flat.dispose());
    chain = Promise.all([host, chain]).then(([buffer]) => allReduce(buffer, 'mean'));
    return chain as Promise<Float32Array>;
  });
  const result = new Map<string, tf.Tensor>();
  for (const [index, bucket] of buckets.entries()) {
    const buffer = await reduced[index]!;
    let offset = 0;
    for (const [name, tensor] of bucket) {
      result.set(
        name,
        tf.tensor(buffer.subarray(offset, offset + tensor.size), tensor.shape, 'float32'),
      );
      offset += tensor.size;
    }
  }
  return result;
}

/**
 * Copies rank `src`'s parameters and buffers into every other rank's model, so that all ranks
 * start from the same weights (call it once after building the model and after `resume`).
 * A no-op with one process.
 */
export async function broadcastParameters(model: Module<never, unknown>, src = 0): Promise<void> {
  if (getWorldSize() === 1) return;
  for (const [, variable] of model.stateDict()) {
    const buffer = (await variable.data()) as Float32Array | Int32Array;
    const copy = buffer.slice();
    await broadcast(copy, src);
    assignFrom(variable, copy);
  }
}

/**
 * Averages the model's floating-point buffers (BatchNorm running mean and variance) over the
 * ranks, so every rank evaluates and checkpoints the same statistics. A no-op with one process.
 */
export async function syncBuffers(model: Module<never, unknown>): Promise<void> {
  if (getWorldSize() === 1) return;
  for (const [, variable] of model.namedBuffers()) {
    if (variable.dtype !== 'float32') continue;
    const buffer = ((await variable.data()) as Float32Array).slice();
    await allReduce(buffer, 'mean');
    assignFrom(variable, buffer);
  }
}

/** Assigns host data to a variable, freeing the temporary tensor (assign copies it). */
function assignFrom(variable: tf.Variable, data: Float32Array | Int32Array): void {
  const value = tf.tensor(data, variable.shape, variable.dtype);
  variable.assign(value);
  value.dispose();
}

function bucketize(
  entries: Array<[string, tf.Tensor]>,
  bucketBytes: number,
): Array<Array<[string, tf.Tensor]>> {
  const buckets: Array<Array<[string, tf.Tensor]>> = [];
  let current: Array<[string, tf.Tensor]> = [];
  let bytes = 0;
  for (const entry of entries) {
    if (entry[1].dtype !== 'float32') {
      throw new TypeError(
        `allReduceGradients: gradient '${entry[0]}' is ${entry[1].dtype}, expected float32.`,
      );
    }
    current.push(entry);
    bytes += entry[1].size * 4;
    if (bytes >= bucketBytes) {
      buckets.push(current);
      current = [];
      bytes = 0;
    }
  }
  if (current.length > 0) buckets.push(current);
  return buckets;
}
