/** The bundled sample of ModelNet10 test shapes (see scripts/make-samples.mjs for the format). */
import { InputError } from './core.js';

/** One bundled shape. */
export interface SampleShape {
  /** ModelNet's id, e.g. `chair_0890`. */
  id: string;
  /** Its true class index in `classes`. */
  label: number;
  /** xyz, `numPoints × 3`. */
  points: Float32Array;
}

/** The decoded sample file. */
export interface SampleSet {
  source: string;
  classes: string[];
  numPoints: number;
  shapes: SampleShape[];
}

/** Decodes `modelnet10-test.bin`. */
export function decodeSamples(bytes: Uint8Array): SampleSet {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw new InputError('The sample file is truncated.');
  const length = view.getUint32(0, true);
  let header: {
    format?: string;
    source: string;
    classes: string[];
    numPoints: number;
    scale: number;
    shapes: Array<{ id: string; label: number }>;
  };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  } catch {
    throw new InputError('The sample file has no valid header.');
  }
  if (header.format !== 'gorilla-ts-samples/1')
    throw new InputError(
      `The sample file has format '${header.format}', expected gorilla-ts-samples/1.`,
    );
  const stride = header.numPoints * 3;
  const start = 4 + length;
  if (bytes.byteLength < start + header.shapes.length * stride * 2)
    throw new InputError('The sample file is truncated.');
  const values = new Int16Array(
    bytes.buffer.slice(
      bytes.byteOffset + start,
      bytes.byteOffset + start + header.shapes.length * stride * 2,
    ),
  );
  return {
    source: header.source,
    classes: header.classes,
    numPoints: header.numPoints,
    shapes: header.shapes.map((shape, i) => ({
      ...shape,
      points: Float32Array.from(
        values.subarray(i * stride, (i + 1) * stride),
        (v) => v / header.scale,
      ),
    })),
  };
}
