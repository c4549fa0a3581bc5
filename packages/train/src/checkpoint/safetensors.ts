/**
 * The safetensors format, read and written on plain byte arrays. This module imports nothing
 * Node-only: the browser entry (`@gorilla-ts/train/nn`) parses checkpoints with it.
 */

/** The dtypes this reader/writer handles (safetensors names). */
export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U8'
  | 'BOOL';

/** One tensor to write: raw values in the dtype's layout. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  /** Row-major values; written little-endian. */
  data:
    | Float32Array
    | Float64Array
    | Int32Array
    | Int16Array
    | Int8Array
    | Uint8Array
    | Uint16Array
    | BigInt64Array;
}

/** A tensor as read: its dtype, shape and raw bytes (a copy, aligned). */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  bytes: Uint8Array;
}

/** Why a buffer is not a readable safetensors file (see {@link parseSafetensors}). */
export class SafetensorsFormatError extends Error {
  constructor(
    readonly kind: 'empty' | 'truncated' | 'invalid' | 'unsupported',
    message: string,
  ) {
    super(message);
    this.name = 'SafetensorsFormatError';
  }
}

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const MAX_HEADER = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The bytes before the tensor data: an 8-byte little-endian header length, then the JSON header
 * (`{ name: { dtype, shape, data_offsets }, __metadata__: { key: string } }`) padded with spaces to
 * a multiple of 8 so that the data is aligned. Also returns each entry's bytes in order.
 */
export function encodeSafetensors(
  tensors: ReadonlyArray<readonly [string, SafetensorsEntry]>,
  metadata: Readonly<Record<string, string>>,
): { head: Uint8Array; chunks: Uint8Array[] } {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, entry] of tensors) {
    if (name === '__metadata__' || name in header)
      throw new Error(`safetensors: duplicate or reserved tensor name '${name}'.`);
    const count = entry.shape.reduce((product, size) => product * size, 1);
    const bytes = toLittleEndianBytes(entry.data, BYTES[entry.dtype]);
    if (bytes.byteLength !== count * BYTES[entry.dtype]) {
      throw new Error(
        `safetensors: '${name}' has ${bytes.byteLength} bytes, expected ${count * BYTES[entry.dtype]} for ${entry.dtype} [${entry.shape.join(', ')}].`,
      );
    }
    header[name] = {
      dtype: entry.dtype,
      shape: [...entry.shape],
      data_offsets: [offset, offset + bytes.byteLength],
    };
    offset += bytes.byteLength;
    chunks.push(bytes);
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  const length = encoder.encode(json).byteLength;
  json += ' '.repeat((8 - ((8 + length) % 8)) % 8);
  const jsonBytes = encoder.encode(json);
  const head = new Uint8Array(8 + jsonBytes.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true);
  head.set(jsonBytes, 8);
  return { head, chunks };
}

/**
 * Parses a whole safetensors file.
 *
 * @throws {@link SafetensorsFormatError} describing what is wrong in one phrase.
 */
export function parseSafetensors(input: Uint8Array | ArrayBuffer): {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
} {
  const buffer = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (buffer.byteLength === 0)
    throw new SafetensorsFormatError('empty', 'the file is empty (0 bytes)');
  if (
    buffer.byteLength >= 4 &&
    buffer[0] === 0x50 &&
    buffer[1] === 0x4b &&
    buffer[2] === 0x03 &&
    buffer[3] === 0x04
  ) {
    throw new SafetensorsFormatError(
      'invalid',
      'it is a zip archive (a PyTorch .pth/.pt file?), not a safetensors file',
    );
  }
  if (buffer.byteLength < 8) {
    throw new SafetensorsFormatError(
      'truncated',
      `it has ${buffer.byteLength} bytes, fewer than the 8-byte header length`,
    );
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER)) {
    throw new SafetensorsFormatError(
      'invalid',
      'it is not a safetensors file (its first 8 bytes are no header length)',
    );
  }
  const dataStart = 8 + Number(headerLength);
  if (dataStart > buffer.byteLength) {
    throw new SafetensorsFormatError(
      looksLikeJsonStart(buffer) ? 'truncated' : 'invalid',
      looksLikeJsonStart(buffer)
        ? `it is truncated: the header needs ${dataStart} bytes, the file has ${buffer.byteLength}`
        : 'it is not a safetensors file (no JSON header after the 8-byte length)',
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(
        buffer.subarray(8, 8 + Number(headerLength)),
      ),
    );
  } catch {
    throw new SafetensorsFormatError(
      'invalid',
      'it is not a safetensors file (the header is not JSON)',
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsFormatError(
      'invalid',
      'it is not a safetensors file (the header is not a JSON object)',
    );
  }
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  const dataLength = buffer.byteLength - dataStart;
  let dataEnd = 0;
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      for (const [key, item] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        if (typeof item === 'string') metadata[key] = item;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info?.dtype;
    const shape = info?.shape;
    const offsets = info?.data_offsets;
    if (
      typeof dtype !== 'string' ||
      !Array.isArray(shape) ||
      !shape.every((size) => Number.isInteger(size) && size >= 0) ||
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((offset) => Number.isInteger(offset) && offset >= 0) ||
      offsets[1] < offsets[0]
    ) {
      throw new SafetensorsFormatError(
        'invalid',
        `its header entry '${name}' is not { dtype, shape, data_offsets }`,
      );
    }
    if (!(dtype in BYTES)) {
      throw new SafetensorsFormatError(
        'unsupported',
        `the tensor '${name}' has the unsupported dtype ${dtype}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((product, size) => product * size, 1);
    if (end - begin !== count * BYTES[dtype as SafetensorsDtype]) {
      throw new SafetensorsFormatError(
        'invalid',
        `the tensor '${name}' has ${end - begin} bytes for ${dtype} [${shape.join(', ')}]`,
      );
    }
    dataEnd = Math.max(dataEnd, end);
    if (end > dataLength) continue; // reported below as truncation, once
    const bytes = buffer.slice(dataStart + begin, dataStart + end);
    tensors.set(name, {
      dtype: dtype as SafetensorsDtype,
      shape: shape as number[],
      bytes: LITTLE_ENDIAN ? bytes : swapBytes(bytes, BYTES[dtype as SafetensorsDtype]),
    });
  }
  if (dataEnd > dataLength) {
    throw new SafetensorsFormatError(
      'truncated',
      `it is truncated: the tensors need ${dataStart + dataEnd} bytes, the file has ${buffer.byteLength}`,
    );
  }
  return { tensors, metadata };
}

function looksLikeJsonStart(buffer: Uint8Array): boolean {
  return buffer.byteLength > 8 && buffer[8] === 0x7b; // '{'
}

function toLittleEndianBytes(data: SafetensorsEntry['data'], width: number): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return LITTLE_ENDIAN ? bytes : swapBytes(bytes, width);
}

function swapBytes(bytes: Uint8Array, width: number): Uint8Array {
  if (width === 1) return bytes;
  const swapped = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += width) {
    for (let j = 0; j < width; j++) swapped[i + j] = bytes[i + width - 1 - j]!;
  }
  return swapped;
}
