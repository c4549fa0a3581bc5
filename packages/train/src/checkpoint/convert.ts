import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors.js';
import type { SafetensorsEntry, SafetensorsTensor } from './safetensors.js';

/** Converts raw safetensors bytes into a tfjs tensor, in `dtype` when given. @internal */
export function toTensor(
  filename: string,
  name: string,
  tensor: SafetensorsTensor,
  dtype?: tf.DataType,
): tf.Tensor {
  const { bytes, shape } = tensor;
  const buffer = bytes.buffer as ArrayBuffer;
  let values: Float32Array | Int32Array | Uint8Array;
  let natural: tf.DataType;
  switch (tensor.dtype) {
    case 'F32':
      values = new Float32Array(buffer, bytes.byteOffset, bytes.byteLength / 4);
      natural = 'float32';
      break;
    case 'F64':
      values = Float32Array.from(new Float64Array(buffer, bytes.byteOffset, bytes.byteLength / 8));
      natural = 'float32';
      break;
    case 'F16':
    case 'BF16': {
      const halves = new Uint16Array(buffer, bytes.byteOffset, bytes.byteLength / 2);
      values = Float32Array.from(halves, tensor.dtype === 'F16' ? halfToFloat : bfloat16ToFloat);
      natural = 'float32';
      break;
    }
    case 'I64': {
      const wide = new BigInt64Array(buffer, bytes.byteOffset, bytes.byteLength / 8);
      values = Int32Array.from(wide, (value) => {
        if (value > 2147483647n || value < -2147483648n) {
          throw new CheckpointError(
            'CHECKPOINT_UNSUPPORTED',
            filename,
            `Cannot load checkpoint '${filename}': the I64 tensor '${name}' holds ${value}, beyond int32.`,
          );
        }
        return Number(value);
      });
      natural = 'int32';
      break;
    }
    case 'I32':
      values = new Int32Array(buffer, bytes.byteOffset, bytes.byteLength / 4);
      natural = 'int32';
      break;
    case 'I16':
      values = Int32Array.from(new Int16Array(buffer, bytes.byteOffset, bytes.byteLength / 2));
      natural = 'int32';
      break;
    case 'I8':
      values = Int32Array.from(new Int8Array(buffer, bytes.byteOffset, bytes.byteLength));
      natural = 'int32';
      break;
    case 'U8':
      values = Int32Array.from(bytes);
      natural = 'int32';
      break;
    case 'BOOL':
      values = Uint8Array.from(bytes);
      natural = 'bool';
      break;
  }
  const result = tf.tensor(values, shape, natural);
  if (dtype === undefined || dtype === natural) return result;
  const cast = tf.cast(result, dtype);
  result.dispose();
  return cast;
}

/** A tensor's values as a safetensors entry (float32 → F32, int32 → I32, bool → BOOL). @internal */
export async function toEntry(
  filename: string,
  name: string,
  tensor: tf.Tensor,
): Promise<SafetensorsEntry> {
  const shape = tensor.shape;
  switch (tensor.dtype) {
    case 'float32':
      return { dtype: 'F32', shape, data: (await tensor.data()) as Float32Array };
    case 'int32':
      return { dtype: 'I32', shape, data: (await tensor.data()) as Int32Array };
    case 'bool':
      return { dtype: 'BOOL', shape, data: Uint8Array.from((await tensor.data()) as Uint8Array) };
    default:
      throw new CheckpointError(
        'CHECKPOINT_WRITE_FAILED',
        filename,
        `Cannot write checkpoint '${filename}': '${name}' has dtype ${tensor.dtype}, which safetensors cannot hold here.`,
      );
  }
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function bfloat16ToFloat(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits << 16);
  return view.getFloat32(0);
}
