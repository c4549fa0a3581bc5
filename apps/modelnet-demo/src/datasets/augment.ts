import { z } from 'zod';
import type { Rng } from './random.js';

/** A coordinate axis. */
export type Axis = 'x' | 'y' | 'z';

/** Rotation about one axis by a uniform random angle in `[-maxAngle, maxAngle]`. */
export interface RotateOptions {
  /** The rotation axis (the up axis). Defaults to `'y'`, ModelNet's up axis. */
  axis?: Axis;
  /** Largest angle in radians. Defaults to `Math.PI` (any orientation about the axis). */
  maxAngle?: number;
}

/** Scaling by a uniform random factor in `[low, high]`. */
export interface ScaleOptions {
  /** Defaults to `0.8`. */
  low?: number;
  /** Defaults to `1.25`. */
  high?: number;
  /** One factor per axis instead of one for all (normals are then corrected). Defaults to `false`. */
  anisotropic?: boolean;
}

/** Translation by a uniform random offset in `[-range, range]` per axis. */
export interface ShiftOptions {
  /** Defaults to `0.1`. */
  range?: number;
}

/** Per-coordinate Gaussian noise, clipped. */
export interface JitterOptions {
  /** Standard deviation. Defaults to `0.01`. */
  sigma?: number;
  /** Noise is clipped to `[-clip, clip]`. Defaults to `0.05`. */
  clip?: number;
}

/**
 * PointNet++'s random point dropout: draws a ratio in `[0, maxRatio)`, then replaces each point
 * with probability `ratio` by the first point (so the point count stays fixed).
 */
export interface DropoutOptions {
  /** Defaults to `0.875`. */
  maxRatio?: number;
}

/**
 * Augmentations as one object: each key switches one on (`true` takes the defaults). They run in
 * this fixed order: rotate, scale, shift, jitter, dropout, shuffle. For another order, give a list
 * of {@link AugmentStepOptions} instead.
 *
 * @example `{ scale: [0.8, 1.25], shift: 0.1 }` (the ModelNet recipe)
 */
export interface AugmentOptions {
  rotate?: boolean | Axis | RotateOptions;
  scale?: boolean | readonly [number, number] | ScaleOptions;
  shift?: boolean | number | ShiftOptions;
  jitter?: boolean | JitterOptions;
  dropout?: boolean | number | DropoutOptions;
  /** Shuffles the point order. */
  shuffle?: boolean;
}

/** One augmentation of a list, applied in list order. */
export type AugmentStepOptions =
  | ({ type: 'rotate' } & RotateOptions)
  | ({ type: 'scale' } & ScaleOptions)
  | ({ type: 'shift' } & ShiftOptions)
  | ({ type: 'jitter' } & JitterOptions)
  | ({ type: 'dropout' } & DropoutOptions)
  | { type: 'shuffle' };

/** Either form of the `augment` option. */
export type AugmentInput = AugmentOptions | readonly AugmentStepOptions[];

/** One augmentation with every default filled in. */
export type AugmentStep =
  | { type: 'rotate'; axis: Axis; maxAngle: number }
  | { type: 'scale'; low: number; high: number; anisotropic: boolean }
  | { type: 'shift'; range: number }
  | { type: 'jitter'; sigma: number; clip: number }
  | { type: 'dropout'; maxRatio: number }
  | { type: 'shuffle' };

const ORDER = ['rotate', 'scale', 'shift', 'jitter', 'dropout', 'shuffle'] as const;

/** Turns either form of the `augment` option into the list of steps to run, defaults filled in. */
export function resolveAugment(input: AugmentInput | undefined): AugmentStep[] {
  if (input === undefined) return [];
  if (isStepList(input)) return input.map(fillStep);
  const steps: AugmentStep[] = [];
  for (const type of ORDER) {
    const value = input[type];
    if (value === undefined || value === false) continue;
    steps.push(fillStep(objectEntryToStep(type, value)));
  }
  return steps;
}

function isStepList(input: AugmentInput): input is readonly AugmentStepOptions[] {
  return Array.isArray(input);
}

function objectEntryToStep(type: (typeof ORDER)[number], value: unknown): AugmentStepOptions {
  if (value === true) return { type } as AugmentStepOptions;
  switch (type) {
    case 'rotate':
      return typeof value === 'string'
        ? { type, axis: value as Axis }
        : { type, ...(value as RotateOptions) };
    case 'scale':
      if (Array.isArray(value)) return { type, low: value[0], high: value[1] };
      return { type, ...(value as ScaleOptions) };
    case 'shift':
      return typeof value === 'number' ? { type, range: value } : { type, ...(value as object) };
    case 'dropout':
      return typeof value === 'number' ? { type, maxRatio: value } : { type, ...(value as object) };
    case 'jitter':
      return { type, ...(value as JitterOptions) };
    case 'shuffle':
      return { type };
  }
}

function fillStep(step: AugmentStepOptions): AugmentStep {
  switch (step.type) {
    case 'rotate':
      return { type: 'rotate', axis: step.axis ?? 'y', maxAngle: step.maxAngle ?? Math.PI };
    case 'scale': {
      const low = step.low ?? 0.8;
      const high = step.high ?? 1.25;
      if (!(low > 0 && high >= low)) {
        throw new RangeError(`augment scale needs 0 < low <= high, got [${low}, ${high}].`);
      }
      return { type: 'scale', low, high, anisotropic: step.anisotropic ?? false };
    }
    case 'shift':
      return { type: 'shift', range: step.range ?? 0.1 };
    case 'jitter':
      return { type: 'jitter', sigma: step.sigma ?? 0.01, clip: step.clip ?? 0.05 };
    case 'dropout':
      return { type: 'dropout', maxRatio: step.maxRatio ?? 0.875 };
    case 'shuffle':
      return { type: 'shuffle' };
  }
}

/**
 * Runs `steps` on one point cloud in place (`channels` values per point, xyz first, then the
 * normal when `channels >= 6`), drawing from `rng`. Returns `points`.
 */
export function applyAugment(
  points: Float32Array,
  channels: number,
  steps: readonly AugmentStep[],
  rng: Rng,
): Float32Array {
  for (const step of steps) {
    switch (step.type) {
      case 'rotate':
        rotate(points, channels, step.axis, rng.uniform(-step.maxAngle, step.maxAngle));
        break;
      case 'scale':
        scale(points, channels, step, rng);
        break;
      case 'shift': {
        const dx = rng.uniform(-step.range, step.range);
        const dy = rng.uniform(-step.range, step.range);
        const dz = rng.uniform(-step.range, step.range);
        for (let o = 0; o < points.length; o += channels) {
          points[o] = points[o]! + dx;
          points[o + 1] = points[o + 1]! + dy;
          points[o + 2] = points[o + 2]! + dz;
        }
        break;
      }
      case 'jitter':
        for (let o = 0; o < points.length; o += channels) {
          for (let c = 0; c < 3; c++) {
            const noise = Math.min(step.clip, Math.max(-step.clip, step.sigma * rng.normal()));
            points[o + c] = points[o + c]! + noise;
          }
        }
        break;
      case 'dropout': {
        const ratio = rng.next() * step.maxRatio;
        for (let o = channels; o < points.length; o += channels) {
          if (rng.next() <= ratio) for (let c = 0; c < channels; c++) points[o + c] = points[c]!;
        }
        break;
      }
      case 'shuffle':
        shuffleRows(points, channels, rng);
        break;
    }
  }
  return points;
}

const AXES: Record<Axis, [number, number]> = { x: [1, 2], y: [2, 0], z: [0, 1] };

function rotate(points: Float32Array, channels: number, axis: Axis, angle: number): void {
  const [a, b] = AXES[axis];
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const withNormals = channels >= 6;
  for (let o = 0; o < points.length; o += channels) {
    const u = points[o + a]!;
    const v = points[o + b]!;
    points[o + a] = cos * u - sin * v;
    points[o + b] = sin * u + cos * v;
    if (withNormals) {
      const nu = points[o + 3 + a]!;
      const nv = points[o + 3 + b]!;
      points[o + 3 + a] = cos * nu - sin * nv;
      points[o + 3 + b] = sin * nu + cos * nv;
    }
  }
}

function scale(
  points: Float32Array,
  channels: number,
  step: Extract<AugmentStep, { type: 'scale' }>,
  rng: Rng,
): void {
  const sx = rng.uniform(step.low, step.high);
  const sy = step.anisotropic ? rng.uniform(step.low, step.high) : sx;
  const sz = step.anisotropic ? rng.uniform(step.low, step.high) : sx;
  const fixNormals = step.anisotropic && channels >= 6;
  for (let o = 0; o < points.length; o += channels) {
    points[o] = points[o]! * sx;
    points[o + 1] = points[o + 1]! * sy;
    points[o + 2] = points[o + 2]! * sz;
    if (fixNormals) {
      // Normals transform by the inverse transpose: divide, then renormalise.
      const nx = points[o + 3]! / sx;
      const ny = points[o + 4]! / sy;
      const nz = points[o + 5]! / sz;
      const length = Math.sqrt(nx * nx + ny * ny + nz * nz) || 1;
      points[o + 3] = nx / length;
      points[o + 4] = ny / length;
      points[o + 5] = nz / length;
    }
  }
}

function shuffleRows(points: Float32Array, channels: number, rng: Rng): void {
  const n = points.length / channels;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    if (j === i) continue;
    const oi = i * channels;
    const oj = j * channels;
    for (let c = 0; c < channels; c++) {
      const value = points[oi + c]!;
      points[oi + c] = points[oj + c]!;
      points[oj + c] = value;
    }
  }
}

const axisSchema = z.enum(['x', 'y', 'z']);
const rotateFields = { axis: axisSchema.optional(), maxAngle: z.number().positive().optional() };
const scaleFields = {
  low: z.number().positive().optional(),
  high: z.number().positive().optional(),
  anisotropic: z.boolean().optional(),
};
const shiftFields = { range: z.number().nonnegative().optional() };
const jitterFields = {
  sigma: z.number().nonnegative().optional(),
  clip: z.number().nonnegative().optional(),
};
const dropoutFields = { maxRatio: z.number().min(0).max(1).optional() };

const scaleRange = (value: { low?: number; high?: number } | readonly number[]): boolean => {
  const [low, high] = Array.isArray(value)
    ? value
    : [(value as ScaleOptions).low ?? 0.8, (value as ScaleOptions).high ?? 1.25];
  return low !== undefined && high !== undefined && low <= high;
};

/** The object form of `augment`, validated. */
export const augmentObjectSchema = z.strictObject({
  rotate: z.union([z.boolean(), axisSchema, z.strictObject(rotateFields)]).optional(),
  scale: z
    .union([
      z.boolean(),
      z.tuple([z.number().positive(), z.number().positive()]),
      z.strictObject(scaleFields),
    ])
    .refine((value) => typeof value === 'boolean' || scaleRange(value), 'scale needs low <= high')
    .optional(),
  shift: z.union([z.boolean(), z.number().nonnegative(), z.strictObject(shiftFields)]).optional(),
  jitter: z.union([z.boolean(), z.strictObject(jitterFields)]).optional(),
  dropout: z
    .union([z.boolean(), z.number().min(0).max(1), z.strictObject(dropoutFields)])
    .optional(),
  shuffle: z.boolean().optional(),
});

/** The list form of `augment`, validated. */
export const augmentListSchema = z.array(
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('rotate'), ...rotateFields }),
    z
      .strictObject({ type: z.literal('scale'), ...scaleFields })
      .refine(scaleRange, 'scale needs low <= high'),
    z.strictObject({ type: z.literal('shift'), ...shiftFields }),
    z.strictObject({ type: z.literal('jitter'), ...jitterFields }),
    z.strictObject({ type: z.literal('dropout'), ...dropoutFields }),
    z.strictObject({ type: z.literal('shuffle') }),
  ]),
);

/** The `augment` option of every data set: the object or the list form. */
export const augmentSchema = z.union([augmentObjectSchema, augmentListSchema]);
