import { z } from 'zod';
import { type AugmentInput, augmentSchema } from './augment.js';
import { PointCloudBase } from './base.js';
import { DataError } from './errors.js';
import { acceptSnakeCase } from './options.js';
import { createRng, mixSeed } from './random.js';
import { normalizeUnitSphere } from './sampling.js';
import { SHAPES } from './shapes.js';
import type { PointCloudSample } from './types.js';

/** Options of {@link SyntheticShapes}. */
export interface SyntheticShapesOptions {
  /** Classes, the first `numClasses` of {@link SYNTHETIC_SHAPE_NAMES}. Defaults to `8`. */
  numClasses?: number;
  /** Samples of each class. Defaults to `100`. */
  samplesPerClass?: number;
  /** Points per sample. Defaults to `1024`. */
  numPoints?: number;
  /** Standard deviation of the Gaussian noise added to each coordinate. Defaults to `0.01`. */
  noise?: number;
  /** Seed of the generator and of the augmentation stream. Defaults to `0`. */
  seed?: number;
  /** `'train'` and `'test'` draw different shapes from the same seed. Defaults to `'train'`. */
  split?: 'train' | 'test';
  /** Augmentations run by `get()`. Defaults to none. */
  augment?: AugmentInput;
}

/** The class names of {@link SyntheticShapes}, in label order. */
export const SYNTHETIC_SHAPE_NAMES: readonly string[] = SHAPES.map((shape) => shape.name);

const SPLIT_STREAM = { train: 0x7472, test: 0x7465 } as const;

/**
 * Procedural point clouds of parametric shapes (sphere, cube, cylinder, cone, torus, disc,
 * pyramid, helix, ellipsoid, capsule): the demo's default data, nothing to download.
 *
 * Sample `i` has label `i % numClasses` and is generated on demand from `(seed, split, i)`: random
 * proportions within its class, a random stretch of ±10 % per axis, a random turn about the up
 * axis (y), Gaussian noise, then centring and scaling to the unit sphere. The same options always
 * give the same samples; the train and test splits never share one.
 */
export class SyntheticShapes extends PointCloudBase {
  readonly length: number;
  readonly classNames: readonly string[];
  readonly numPoints: number;
  readonly channels = 3;
  readonly split: 'train' | 'test';
  readonly noise: number;

  constructor(options: SyntheticShapesOptions = {}) {
    super(options.augment, options.seed);
    const numClasses = options.numClasses ?? 8;
    if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > SHAPES.length) {
      throw new DataError(
        'DATA_INVALID_ARGUMENT',
        `numClasses must be an integer in [1, ${SHAPES.length}] (the shape kinds: ${SYNTHETIC_SHAPE_NAMES.join(', ')}), got ${numClasses}.`,
      );
    }
    const samplesPerClass = options.samplesPerClass ?? 100;
    this.numPoints = options.numPoints ?? 1024;
    for (const [name, value] of [
      ['samplesPerClass', samplesPerClass],
      ['numPoints', this.numPoints],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new DataError(
          'DATA_INVALID_ARGUMENT',
          `${name} must be a positive integer, got ${value}.`,
        );
      }
    }
    this.classNames = SYNTHETIC_SHAPE_NAMES.slice(0, numClasses);
    this.length = numClasses * samplesPerClass;
    this.split = options.split ?? 'train';
    this.noise = options.noise ?? 0.01;
  }

  protected readSample(index: number): PointCloudSample {
    const label = index % this.classNames.length;
    const rng = createRng(mixSeed(this.seed, SPLIT_STREAM[this.split], index));
    const n = this.numPoints;
    const points = new Float32Array(n * 3);
    SHAPES[label]!.generate(points, n, rng);
    const sx = rng.uniform(0.9, 1.1);
    const sy = rng.uniform(0.9, 1.1);
    const sz = rng.uniform(0.9, 1.1);
    const angle = rng.uniform(0, 2 * Math.PI);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    for (let o = 0; o < n * 3; o += 3) {
      const x = points[o]! * sx;
      const y = points[o + 1]! * sy;
      const z = points[o + 2]! * sz;
      points[o] = cos * x + sin * z + this.noise * rng.normal();
      points[o + 1] = y + this.noise * rng.normal();
      points[o + 2] = -sin * x + cos * z + this.noise * rng.normal();
    }
    normalizeUnitSphere(points, 3);
    return { points, label };
  }
}

/** The `DATASETS` schema of {@link SyntheticShapes} (camelCase or snake_case keys). */
export const syntheticShapesSchema = acceptSnakeCase(
  z.strictObject({
    numClasses: z.number().int().min(1).max(SHAPES.length).default(8),
    samplesPerClass: z.number().int().positive().default(100),
    numPoints: z.number().int().positive().default(1024),
    noise: z.number().nonnegative().default(0.01),
    seed: z.number().int().default(0),
    split: z.enum(['train', 'test']).default('train'),
    augment: augmentSchema.optional(),
  }),
  { num_point: { key: 'numPoints' }, task: { key: 'split' } },
);
