import type { Dataset } from '@gorilla-ts/train';
import { RandomGenerator } from '@gorilla-ts/train';
import * as tf from '@tensorflow/tfjs-core';

/** One point cloud: `points` `[numPoints * 3]` (x, y, z per point) and its class. */
export interface PointSample {
  points: Float32Array;
  label: number;
}

/** A batch: points `[B, N, 3]`, labels `[B]` (the seed's `batch["point_set"]`, `batch["label"]`). */
export interface PointBatch {
  points: tf.Tensor3D;
  labels: tf.Tensor1D;
}

/** The classes: points on the surface of each shape. */
export const CLASSES = ['sphere', 'cube', 'cylinder', 'cone'] as const;

/** Options of {@link SyntheticPointClouds}. */
export interface SyntheticOptions {
  split: 'train' | 'test';
  samplesPerClass: number;
  numPoints: number;
  seed: number;
}

/**
 * Point clouds of 4 shapes (sphere, cube, cylinder, cone), each with its own random scale and
 * rotation about the vertical axis, drawn from the toolkit's seeded generator: sample `i` of a
 * split is the same on every run and machine. FIXME: replace with your data set (any object with
 * `length` and `get(index)` is a `Dataset`).
 */
export class SyntheticPointClouds implements Dataset<PointSample> {
  readonly length: number;
  readonly #options: SyntheticOptions;

  constructor(options: SyntheticOptions) {
    this.#options = options;
    this.length = options.samplesPerClass * CLASSES.length;
  }

  get(index: number): PointSample {
    const { numPoints, seed, split } = this.#options;
    const rng = new RandomGenerator(seed * 1_000_003 + (split === 'train' ? 0 : 500_009) + index);
    const label = index % CLASSES.length;
    const scale = rng.uniform(0.7, 1.3);
    const angle = rng.uniform(0, 2 * Math.PI);
    const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
    const points = new Float32Array(numPoints * 3);
    for (let p = 0; p < numPoints; p++) {
      const [x, y, z] = surfacePoint(CLASSES[label]!, rng);
      points[p * 3] = scale * (cos * x - sin * z) + rng.normal(0, 0.01);
      points[p * 3 + 1] = scale * y + rng.normal(0, 0.01);
      points[p * 3 + 2] = scale * (sin * x + cos * z) + rng.normal(0, 0.01);
    }
    return { points, label };
  }
}

function surfacePoint(
  shape: (typeof CLASSES)[number],
  rng: RandomGenerator,
): [number, number, number] {
  const u = rng.random();
  const theta = rng.uniform(0, 2 * Math.PI);
  switch (shape) {
    case 'sphere': {
      const y = 2 * u - 1;
      const r = Math.sqrt(1 - y * y);
      return [r * Math.cos(theta), y, r * Math.sin(theta)];
    }
    case 'cube': {
      const face = rng.int(6);
      const [a, b] = [rng.uniform(-1, 1), rng.uniform(-1, 1)];
      const sign = face % 2 === 0 ? 1 : -1;
      return face < 2 ? [sign, a, b] : face < 4 ? [a, sign, b] : [a, b, sign];
    }
    case 'cylinder':
      return [Math.cos(theta), 2 * u - 1, Math.sin(theta)];
    case 'cone': {
      const r = 1 - u;
      return [r * Math.cos(theta), 2 * u - 1, r * Math.sin(theta)];
    }
  }
}

/** Stacks samples into a {@link PointBatch}. */
export function pointCollate(samples: PointSample[]): PointBatch {
  const numPoints = samples[0]!.points.length / 3;
  const points = new Float32Array(samples.length * numPoints * 3);
  samples.forEach((sample, i) => {
    points.set(sample.points, i * numPoints * 3);
  });
  return {
    points: tf.tensor3d(points, [samples.length, numPoints, 3]),
    labels: tf.tensor1d(
      samples.map((sample) => sample.label),
      'int32',
    ),
  };
}
