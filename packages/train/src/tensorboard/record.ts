import CRC32C from 'crc-32/crc32c.js';
import { EventFileError } from '../errors.js';

/** CRC-32C (Castagnoli) of `data`, as an unsigned 32-bit integer. */
export function crc32c(data: Uint8Array): number {
  return CRC32C.buf(data) >>> 0;
}

/**
 * TFRecord's masked CRC: `((crc >>> 15) | (crc << 17)) + 0xa282ead8`, modulo 2³². Masking keeps
 * a CRC of data that itself holds CRCs from being degenerate.
 */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/**
 * Frames one TFRecord: uint64 length (little-endian), masked CRC-32C of those 8 bytes, the data,
 * masked CRC-32C of the data.
 */
export function encodeRecord(data: Uint8Array): Uint8Array {
  const record = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(record.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(record.subarray(0, 8)), true);
  record.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return record;
}

/**
 * Splits a TFRecord file into its records, checking both CRCs of each.
 *
 * @param source - Named in error messages. Defaults to `'<buffer>'`.
 * @throws {@link EventFileError} for a truncated record or a CRC mismatch, with the byte offset.
 */
export function decodeRecords(bytes: Uint8Array, source = '<buffer>'): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length) {
      throw new EventFileError(`${source}: truncated record header at byte ${offset}.`);
    }
    const length = Number(view.getBigUint64(offset, true));
    if (view.getUint32(offset + 8, true) !== maskedCrc32c(bytes.subarray(offset, offset + 8))) {
      throw new EventFileError(`${source}: bad length CRC at byte ${offset}.`);
    }
    const start = offset + 12;
    if (start + length + 4 > bytes.length) {
      throw new EventFileError(
        `${source}: truncated record data at byte ${offset} (length ${length}).`,
      );
    }
    const data = bytes.subarray(start, start + length);
    if (view.getUint32(start + length, true) !== maskedCrc32c(data)) {
      throw new EventFileError(`${source}: bad data CRC in the record at byte ${offset}.`);
    }
    records.push(data);
    offset = start + length + 4;
  }
  return records;
}
