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
 *
 * Every connection (to the rendezvous and between ranks) starts with an authentication exchange
 * (see `auth.ts`), before anything about the group is sent; until it succeeds, payloads larger
 * than {@link PRE_AUTH_MAX_PAYLOAD_BYTES} close the connection:
 *
 * | direction              | op          | payload                                               |
 * | ---------------------- | ----------- | ----------------------------------------------------- |
 * | acceptor -> connector  | `challenge` | 32 random bytes `a`                                   |
 * | connector -> acceptor  | `auth`      | 32 random bytes `c`, then `HMAC-SHA256(secret, "gorilla-dist/1 connector" . a . c)` |
 * | acceptor -> connector  | `auth`      | `HMAC-SHA256(secret, "gorilla-dist/1 acceptor" . a . c)` (or `reject`) |
 *
 * After the `hello` frames, every pair of ranks negotiates same-host shared memory with three
 * `sharedMemory` frames each way (`seq` 0; JSON payloads):
 *
 * | step | payload                    | meaning                                                    |
 * | ---- | -------------------------- | ---------------------------------------------------------- |
 * | 0    | `{ path, nonce }`          | "my file is `path` (or `null`: none); it starts with `nonce`" |
 * | 1    | `{ ok }`                   | "I could open your file and read your nonce"               |
 * | 2    | `{ ok }`                   | "every file I offered and was offered could be opened"     |
 *
 * A rank unlinks its file once every peer has answered step 1. Shared memory is used only when
 * every rank voted `ok` at step 2, i.e. when all ranks are on one host; otherwise all use TCP.
 *
 * Steps of `allReduce` (16), per collective (`seq`):
 *
 * - direct (small buffers): step 0, the whole buffer.
 * - ring over TCP: the buffer is cut into `n` chunks and each chunk into `m` segments (`m` from
 *   {@link RING_SEGMENT_BYTES}, the same on every rank); ring step `s` (`0 .. 2n-3`: reduce-scatter,
 *   then all-gather) of segment `j` is step `(s * m + j) mod 65536`, sent in that order.
 * - shared memory: the buffer is cut into segments of at most a region (4 MiB) and each segment
 *   into `n` chunks; for segment `k`, step `0x8000 + 2k` says "every chunk but mine is in my file"
 *   (payload: the whole buffer's byte length as a float64, checked by the receiver) and step
 *   `0x8000 + 2k + 1` "my chunk, reduced, is in my file" (empty); both mod 65536. Each rank's file
 *   holds two regions, at offsets 0 and 4 MiB; the `i`-th shared-memory segment since `init()`
 *   uses region `i mod 2`, with the segment's bytes at their offset within the segment. Reading
 *   a peer's region only after its signal, and writing a region again (two segments later) only
 *   after every peer's first signal of the segment in between, which each sends once done
 *   reading, keeps readers and writers apart.
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
  sharedMemory: 7,
  challenge: 8,
  auth: 9,
} as const;

/**
 * Largest payload accepted on a connection that has not authenticated yet: the authentication
 * frames are 64 bytes at most, so a stranger's huge length header is refused before anything is
 * allocated for it.
 */
export const PRE_AUTH_MAX_PAYLOAD_BYTES = 1024;

/**
 * Bytes per ring segment: each ring step is sent in frames of about this size, so that reducing
 * one overlaps receiving the next and a reduced segment travels on at once.
 */
export const RING_SEGMENT_BYTES = 1024 * 1024;

/** Names of the operation codes, for error messages. */
export const OP_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OP).map(([name, code]) => [code, name]),
);

/**
 * One decoded frame. `payload` starts at byte offset 0 of its own memory (aligned), unless the
 * receiver asked for it to land in a buffer of its own (see {@link FrameDecoder}).
 */
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

/** Header fields of a frame whose payload is about to arrive. */
export interface FrameHeader {
  op: number;
  seq: number;
  step: number;
  length: number;
}

/**
 * Reassembles frames from the chunks of a TCP stream. `placeFor`, when given, may return the
 * memory a payload should be written to (exactly `length` bytes), saving an allocation and a copy;
 * otherwise the payload gets fresh memory.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private payload: Uint8Array | undefined;
  private borrowed = false;
  private payloadFill = 0;
  /**
   * Largest payload accepted; a longer length header makes {@link FrameDecoder.push} throw before
   * anything is allocated. Defaults to no limit (4 GiB - 1, what the header can say).
   */
  maxPayloadBytes = MAX_PAYLOAD_BYTES;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly placeFor?: (header: FrameHeader) => Uint8Array | undefined,
  ) {}

  /**
   * Feeds one chunk; calls `onFrame` for every frame it completes. Throws a `DIST_AUTH_FAILED`
   * {@link DistError} on a length header above {@link FrameDecoder.maxPayloadBytes} (the stream
   * is then unusable: close it).
   */
  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.payload === undefined) {
        const take = Math.min(HEADER_BYTES - this.headerFill, chunk.byteLength - offset);
        this.header.set(chunk.subarray(offset, offset + take), this.headerFill);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < HEADER_BYTES) return;
        this.startPayload();
      } else {
        const take = Math.min(
          this.payload.byteLength - this.payloadFill,
          chunk.byteLength - offset,
        );
        this.payload.set(chunk.subarray(offset, offset + take), this.payloadFill);
        this.payloadFill += take;
        offset += take;
      }
      if (this.payloadFill === this.payload!.byteLength) this.emit(this.payload!);
    }
  }

  /**
   * Stops writing into memory returned by `placeFor` (its owner gave up waiting): the rest of
   * the current payload, if any, goes to fresh memory.
   */
  release(): void {
    if (!this.borrowed || this.payload === undefined) return;
    const own = new Uint8Array(this.payload.byteLength);
    own.set(this.payload.subarray(0, this.payloadFill));
    this.payload = own;
    this.borrowed = false;
  }

  private startPayload(): void {
    const length = this.header.readUInt32LE(0);
    if (length > this.maxPayloadBytes) {
      throw new DistError(
        'DIST_AUTH_FAILED',
        `refused a frame of ${length} bytes (at most ${this.maxPayloadBytes} are accepted here)`,
      );
    }
    const placed =
      length > 0
        ? this.placeFor?.({
            op: this.header.readUInt8(10),
            seq: this.header.readUInt32LE(4),
            step: this.header.readUInt16LE(8),
            length,
          })
        : undefined;
    this.borrowed = placed !== undefined && placed.byteLength === length;
    this.payload = this.borrowed ? placed : new Uint8Array(length);
    this.payloadFill = 0;
  }

  private emit(payload: Uint8Array): void {
    const frame: Frame = {
      op: this.header.readUInt8(10),
      seq: this.header.readUInt32LE(4),
      step: this.header.readUInt16LE(8),
      payload,
    };
    this.payload = undefined;
    this.borrowed = false;
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
