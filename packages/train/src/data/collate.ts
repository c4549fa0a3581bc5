import * as tf from '@tensorflow/tfjs-core';
import { DataLoaderError } from '../errors.js';

/** The typed arrays {@link defaultCollate} stacks. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array;

/**
 * A typed array with a shape: how a sample carries an n-dimensional array without tensors (which
 * cannot cross worker threads). Make one with {@link ndarray}.
 */
export interface NdArray {
  readonly data: TypedArray;
  readonly shape: readonly number[];
}

/**
 * Wraps `data` with a `shape` (their sizes must agree), e.g. a point cloud:
 * `ndarray(new Float32Array(1024 * 3), [1024, 3])`.
 */
export function ndarray(data: TypedArray, shape: readonly number[]): NdArray {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new RangeError(
      `ndarray: shape [${shape.join(', ')}] holds ${size} values, the data has ${data.length}.`,
    );
  }
  return { data, shape: [...shape] };
}

/** Whether `value` is an {@link NdArray} (an object with exactly `data` and `shape`). */
export function isNdArray(value: unknown): value is NdArray {
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  const candidate = value as { data?: unknown; shape?: unknown };
  return (
    keys.length === 2 &&
    isTypedArray(candidate.data) &&
    Array.isArray(candidate.shape) &&
    candidate.shape.every((size) => Number.isInteger(size))
  );
}

type NumericArray = readonly number[] | readonly NumericArray[];

/**
 * What {@link defaultCollate} makes of a batch of `T`: numbers and booleans become 1-D tensors,
 * arrays become stacked tensors (batch first), strings a `string[]`, and objects and tuples are
 * collated field by field.
 */
export type Collated<T> = T extends number | boolean
  ? tf.Tensor1D
  : T extends TypedArray | NdArray | tf.Tensor | NumericArray
    ? tf.Tensor
    : T extends string
      ? string[]
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Collated<T[K]> }
        : T extends object
          ? { -readonly [K in keyof T]: Collated<T[K]> }
          : never;

/**
 * Turns a list of samples into one batch of tensors, batch dimension first:
 *
 * - numbers → `[B]` tensor, `int32` when every value is an integer (labels), else `float32`;
 *   booleans → `bool`;
 * - typed arrays → `[B, length]`, {@link NdArray}s → `[B, ...shape]`, nested number arrays →
 *   `[B, ...their shape]`, tensors → stacked: `float32` for float data, `int32` for integer data;
 * - strings → a plain `string[]`;
 * - objects and tuples (arrays that are not all numbers) → the same structure, each field
 *   collated.
 *
 * Every sample must have the same structure and shapes. The caller owns the tensors: dispose the
 * batch after use (`tf.dispose(batch)`).
 *
 * @throws {@link DataLoaderError} naming the field path and the sample that does not fit.
 */
export function defaultCollate<T>(samples: readonly T[]): Collated<T> {
  if (samples.length === 0) throw new DataLoaderError('defaultCollate: the batch is empty.');
  return collateAt(samples, 'batch') as Collated<T>;
}

function collateAt(samples: readonly unknown[], path: string): unknown {
  const first = samples[0];
  const mismatch = (index: number, expected: string): never => {
    throw new DataLoaderError(
      `defaultCollate: ${path} of sample ${index} does not fit sample 0: expected ${expected}, got ${describe(samples[index])}.`,
    );
  };
  if (typeof first === 'number') {
    samples.forEach((sample, index) => {
      if (typeof sample !== 'number') mismatch(index, 'a number');
    });
    const values = samples as number[];
    return tf.tensor1d(values, values.every(isInt32) ? 'int32' : 'float32');
  }
  if (typeof first === 'boolean') {
    samples.forEach((sample, index) => {
      if (typeof sample !== 'boolean') mismatch(index, 'a boolean');
    });
    return tf.tensor1d(samples as boolean[], 'bool');
  }
  if (typeof first === 'string') {
    samples.forEach((sample, index) => {
      if (typeof sample !== 'string') mismatch(index, 'a string');
    });
    return [...(samples as string[])];
  }
  if (first instanceof tf.Tensor) {
    samples.forEach((sample, index) => {
      if (!(sample instanceof tf.Tensor) || !sameShape(sample.shape, first.shape)) {
        mismatch(index, `a tensor of shape [${first.shape.join(', ')}]`);
      }
    });
    return tf.stack(samples as tf.Tensor[]);
  }
  if (isTypedArray(first) || isNdArray(first)) {
    const shape = isTypedArray(first) ? [first.length] : first.shape;
    const float = isFloatArray(isTypedArray(first) ? first : first.data);
    const size = shape.reduce((a, b) => a * b, 1);
    const out = float
      ? new Float32Array(samples.length * size)
      : new Int32Array(samples.length * size);
    samples.forEach((sample, index) => {
      const data = isTypedArray(sample) ? sample : isNdArray(sample) ? sample.data : undefined;
      const sampleShape = isTypedArray(sample)
        ? [sample.length]
        : isNdArray(sample)
          ? sample.shape
          : undefined;
      if (data === undefined || !sameShape(sampleShape!, shape) || isFloatArray(data) !== float) {
        mismatch(index, `${float ? 'float' : 'integer'} data of shape [${shape.join(', ')}]`);
      }
      out.set(data!, index * size);
    });
    return tf.tensor(out, [samples.length, ...shape], float ? 'float32' : 'int32');
  }
  if (Array.isArray(first)) {
    const numericShape = shapeOfNumeric(first);
    if (numericShape !== undefined) {
      const size = numericShape.reduce((a, b) => a * b, 1);
      const flat: number[] = [];
      samples.forEach((sample, index) => {
        const shape = Array.isArray(sample) ? shapeOfNumeric(sample) : undefined;
        if (shape === undefined || !sameShape(shape, numericShape)) {
          mismatch(index, `a number array of shape [${numericShape.join(', ')}]`);
        }
        flat.push(...((sample as unknown[]).flat(Number.POSITIVE_INFINITY) as number[]));
      });
      if (flat.length !== samples.length * size) {
        throw new DataLoaderError(`defaultCollate: ${path} has ragged number arrays.`);
      }
      return tf.tensor(
        flat,
        [samples.length, ...numericShape],
        flat.every(isInt32) ? 'int32' : 'float32',
      );
    }
    samples.forEach((sample, index) => {
      if (!Array.isArray(sample) || sample.length !== first.length) {
        mismatch(index, `a tuple of length ${first.length}`);
      }
    });
    return first.map((_, position) =>
      collateAt(
        samples.map((sample) => (sample as unknown[])[position]),
        `${path}[${position}]`,
      ),
    );
  }
  if (typeof first === 'object' && first !== null) {
    const keys = Object.keys(first);
    const result: Record<string, unknown> = {};
    for (const key of keys) {
      const values = samples.map((sample, index) => {
        if (typeof sample !== 'object' || sample === null || !(key in sample)) {
          mismatch(index, `an object with '${key}'`);
        }
        return (sample as Record<string, unknown>)[key];
      });
      result[key] = collateAt(values, `${path}.${key}`);
    }
    return result;
  }
  throw new DataLoaderError(
    `defaultCollate: cannot batch ${path} (${describe(first)}); pass a custom collate function.`,
  );
}

function isInt32(value: number): boolean {
  return Number.isInteger(value) && value >= -2147483648 && value <= 2147483647;
}

/** The shape of a rectangular nested number array (`[0]` when empty), else undefined. */
function shapeOfNumeric(value: readonly unknown[]): number[] | undefined {
  if (value.length === 0) return [0];
  if (value.every((item) => typeof item === 'number')) return [value.length];
  if (!value.every((item) => Array.isArray(item))) return undefined;
  const inner = shapeOfNumeric(value[0] as unknown[]);
  if (inner === undefined) return undefined;
  for (const item of value) {
    const shape = shapeOfNumeric(item as unknown[]);
    if (shape === undefined || !sameShape(shape, inner)) return undefined;
  }
  return [value.length, ...inner];
}

/** Whether `value` is one of the {@link TypedArray}s (not a DataView, not a BigInt array). */
export function isTypedArray(value: unknown): value is TypedArray {
  return (
    ArrayBuffer.isView(value) &&
    !(value instanceof DataView) &&
    !(value instanceof BigInt64Array) &&
    !(value instanceof BigUint64Array)
  );
}

function isFloatArray(value: TypedArray): boolean {
  return value instanceof Float32Array || value instanceof Float64Array;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, axis) => size === b[axis]);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (value instanceof tf.Tensor) return `a tensor of shape [${value.shape.join(', ')}]`;
  if (isTypedArray(value)) return `a ${value.constructor.name} of length ${value.length}`;
  if (isNdArray(value)) return `an ndarray of shape [${value.shape.join(', ')}]`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `an object with keys ${Object.keys(value).join(', ')}`;
  return `a ${typeof value}`;
}
