import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { classify, loadModel } from '../src/core.js';
import { decodeSamples, type SampleSet } from '../src/samples.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The bundled sample, as the page loads it. */
export function bundledSamples(): SampleSet {
  return decodeSamples(readFileSync(join(root, 'public/samples/modelnet10-test.bin')));
}

/** Per-shape logits and argmax of `checkpoint` on `backend`, through the viewer's own code. */
export async function classifyOn(
  backend: string,
  checkpoint: string,
  samples: SampleSet,
): Promise<Array<{ id: string; predicted: number; logits: number[] }>> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  await tf.ready();
  const loaded = loadModel(readFileSync(checkpoint), checkpoint);
  try {
    const results = [];
    for (const shape of samples.shapes) {
      const { predicted, logits } = await classify(loaded, shape.points, 3);
      results.push({ id: shape.id, predicted, logits: [...logits] });
    }
    return results;
  } finally {
    loaded.model.dispose();
  }
}

/** The largest absolute difference between two lists of logit vectors. */
export function maxAbsDifference(a: number[][], b: number[][]): number {
  let max = 0;
  for (const [i, row] of a.entries())
    for (const [j, value] of row.entries()) max = Math.max(max, Math.abs(value - b[i]![j]!));
  return max;
}
