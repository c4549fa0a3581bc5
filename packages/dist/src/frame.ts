/**
 * Wire protocol of the TCP backend: length-prefixed binary frames.
 *
 * Every frame is a 12-byte little-endian header followed by `length` payload bytes:
 *
 * | bytes | field                                                         |
 * | ----- | ------------------------------------------------------------- |
 * | 0-3   | `length`: payload bytes (u32)                                 |
 * | 4-7   | `seq`: collective sequence number, the same on every rank (u32) |
 * | 8-9   | `step`: step within the collective (u16)                      |
 * | 10    | `op`: operation code, see {@link OP} (u8)                      |
 * | 11    | reserved, 0                                                   |
 *
 * Rendezvous and handshake frames carry UTF-8 JSON payloads; collective frames carry the raw bytes
 * of typed arrays (little-endian on every supported platform).
 */
import type { Socket } from 'node:net';
import { DistError } from './errors.js';

/** Size of a frame header in bytes. */
export const HEADER_BYTES = 12;

const MAX_PAYLOAD_BYTES = 0xffff_ffff;

/** Operation codes. */
export const OP = {
  join: 1,
  status: 2,
  table: 3,
  reject: 4,
  hello: 5,
  bye: 6,
  allReduce: 16,
  broadcast: 17,
  allGather: 18,
  gather: 19,
  barrier: 20,
} as const;

/** Names of the operation codes, for error messages. */
export const OP_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OP).map(([name, code]) => [code, name]),
);

/** One decoded frame. `payload` owns its memory and starts at byte offset 0 (aligned). */
export interface Frame {
  op: number;
  seq: number;
  step: number;
  payload: Uint8Array;
}

/** Encodes a frame header. */
export function encodeHeader(op: number, seq: number, step: number, length: number): Buffer {
  if (length > MAX_PAYLOAD_BYTES) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `a single message is limited to ${MAX_PAYLOAD_BYTES} bytes, got ${length}: split the buffer`,
    );
  }
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32LE(length, 0);
  header.writeUInt32LE(seq >>> 0, 4);
  header.writeUInt16LE(step & 0xffff, 8);
  header.writeUInt8(op, 10);
  header.writeUInt8(0, 11);
  return header;
}

/**
 * Writes one frame. The promise resolves once the payload has been handed to the kernel, so the
 * caller may then modify the memory behind `payload` (Node does not copy written buffers).
 */
export function writeFrame(
  socket: Socket,
  op: number,
  seq: number,
  step: number,
  payload: Uint8Array,
): Promise<void> {
  const header = encodeHeader(op, seq, step, payload.byteLength);
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null): void => (error ? reject(error) : resolve());
    if (payload.byteLength === 0) {
      socket.write(header, done);
      return;
    }
    socket.cork();
    socket.write(header);
    socket.write(payload, done);
    socket.uncork();
  });
}

/** Reassembles frames from the chunks of a TCP stream. */
export class FrameDecoder {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private payload: Uint8Array | undefined;
  private payloadFill = 0;

  constructor(private readonly onFrame: (frame: Frame) => void) {}

  /** Feeds one chunk; calls `onFrame` for every frame it completes. */
  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.payload === undefined) {
        const take = Math.min(HEADER_BYTES - this.headerFill, chunk.byteLength - offset);
        this.header.set(chunk.subarray(offset, offset + take), this.headerFill);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < HEADER_BYTES) return;
        this.payload = new Uint8Array(this.header.readUInt32LE(0));
        this.payloadFill = 0;
      } else {
        const take = Math.min(
          this.payload.byteLength - this.payloadFill,
          chunk.byteLength - offset,
        );
        this.payload.set(chunk.subarray(offset, offset + take), this.payloadFill);
        this.payloadFill += take;
        offset += take;
      }
      if (this.payloadFill === this.payload.byteLength) this.emit(this.payload);
    }
  }

  private emit(payload: Uint8Array): void {
    const frame: Frame = {
      op: this.header.readUInt8(10),
      seq: this.header.readUInt32LE(4),
      step: this.header.readUInt16LE(8),
      payload,
    };
    this.payload = undefined;
    this.headerFill = 0;
    this.payloadFill = 0;
    this.onFrame(frame);
  }
}

/** Encodes a JSON value as a frame payload. */
export function jsonPayload(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Decodes a JSON frame payload. */
export function parseJsonPayload(payload: Uint8Array): unknown {
  return JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString());
}
