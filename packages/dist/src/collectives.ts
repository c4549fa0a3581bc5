/**
 * Collective algorithms over point-to-point messages, independent of the transport.
 *
 * - all-reduce: for large buffers, ring reduce-scatter + ring all-gather (each rank sends and
 *   receives `2 (n-1)/n` times the buffer: bandwidth-optimal), pipelined in segments; for small
 *   ones, every rank sends its buffer to every other and reduces in rank order (one round:
 *   latency-optimal). Ranks on one host use shared memory instead (see `shm.ts`).
 * - broadcast: the source sends to every rank; for large buffers and more than two ranks, it
 *   scatters one chunk to each rank, which then run a ring all-gather.
 * - all-gather, gather, barrier: direct exchange (each rank sends `n-1` times its buffer, which is
 *   what a ring would send too).
 */
import type { BackendReduceOp, NumericArray, ReduceOp } from './backend.js';
import { DistError } from './errors.js';
import { RING_SEGMENT_BYTES } from './frame.js';

/** Point-to-point messaging inside one collective call. */
export interface Exchange {
  readonly rank: number;
  readonly worldSize: number;
  /** Sends `data` to `peer`; resolves when `data` may be modified again. */
  send(peer: number, step: number, data: Uint8Array): Promise<void>;
  /** Receives the next message from `peer`, which must be for `step`. */
  recv(peer: number, step: number): Promise<Uint8Array>;
  /**
   * Like `recv`, but a message of `target.byteLength` bytes may be written straight into
   * `target` (then returned); otherwise the message's own memory is returned.
   */
  recvInto?(peer: number, step: number, target: Uint8Array): Promise<Uint8Array>;
}

type TypedArrayConstructor<T> = new (
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number,
) => T;

/** The bytes behind a typed array (no copy). */
export function bytesOf(array: NumericArray): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** A typed array of the same kind as `like`, viewing `bytes` (no copy). */
export function viewLike<T extends NumericArray>(like: T, bytes: Uint8Array): T {
  const Ctor = like.constructor as TypedArrayConstructor<T>;
  return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / like.BYTES_PER_ELEMENT);
}

function checkBytes(
  operation: string,
  peer: number,
  bytes: Uint8Array,
  expected: number | undefined,
  like: NumericArray,
): Uint8Array {
  const bad =
    expected === undefined
      ? bytes.byteLength % like.BYTES_PER_ELEMENT !== 0
      : bytes.byteLength !== expected;
  if (bad) {
    const what = expected === undefined ? `a multiple of ${like.BYTES_PER_ELEMENT}` : `${expected}`;
    throw new DistError(
      'DIST_MISMATCH',
      `${operation}: rank ${peer} sent ${bytes.byteLength} bytes where ${what} were expected ` +
        `(${like.constructor.name}): every rank must pass arrays of the same kind and length`,
    );
  }
  return bytes;
}

/** `dst[i] = op(dst[i], src[i])` for every element. */
export function reduceInto(dst: NumericArray, src: NumericArray, op: BackendReduceOp): void {
  // Gradients (float32 sums) and reduceDict (float64) get loops of their own: a loop that sees
  // one array kind only is compiled for it, about twice as fast as the shared one below.
  const n = dst.length;
  if (op === 'sum' && dst instanceof Float32Array) {
    sumFloat32(dst, src as Float32Array);
  } else if (op === 'sum' && dst instanceof Float64Array) {
    sumFloat64(dst, src as Float64Array);
  } else if (op === 'sum') {
    for (let i = 0; i < n; i++) dst[i] = dst[i]! + src[i]!;
  } else if (op === 'max') {
    for (let i = 0; i < n; i++) if (src[i]! > dst[i]! || Number.isNaN(src[i]!)) dst[i] = src[i]!;
  } else {
    for (let i = 0; i < n; i++) if (src[i]! < dst[i]! || Number.isNaN(src[i]!)) dst[i] = src[i]!;
  }
}

/**
 * `buffer[i] = buffer[i] / divisor` for every element (integer arrays truncate toward zero, like
 * any assignment to them). Used for `mean`, with float32 and float64 loops of their own.
 */
export function divideInPlace(buffer: NumericArray, divisor: number): void {
  const n = buffer.length;
  if (buffer instanceof Float32Array) {
    divideFloat32(buffer, divisor);
  } else if (buffer instanceof Float64Array) {
    divideFloat64(buffer, divisor);
  } else {
    for (let i = 0; i < n; i++) buffer[i] = buffer[i]! / divisor;
  }
}

function divideFloat32(buffer: Float32Array, divisor: number): void {
  const n = buffer.length;
  for (let i = 0; i < n; i++) buffer[i] = buffer[i]! / divisor;
}

function divideFloat64(buffer: Float64Array, divisor: number): void {
  const n = buffer.length;
  for (let i = 0; i < n; i++) buffer[i] = buffer[i]! / divisor;
}

function sumFloat32(dst: Float32Array, src: Float32Array): void {
  const n = dst.length;
  const end = n - (n % 4);
  let i = 0;
  for (; i < end; i += 4) {
    dst[i] = dst[i]! + src[i]!;
    dst[i + 1] = dst[i + 1]! + src[i + 1]!;
    dst[i + 2] = dst[i + 2]! + src[i + 2]!;
    dst[i + 3] = dst[i + 3]! + src[i + 3]!;
  }
  for (; i < n; i++) dst[i] = dst[i]! + src[i]!;
}

function sumFloat64(dst: Float64Array, src: Float64Array): void {
  const n = dst.length;
  const end = n - (n % 4);
  let i = 0;
  for (; i < end; i += 4) {
    dst[i] = dst[i]! + src[i]!;
    dst[i + 1] = dst[i + 1]! + src[i + 1]!;
    dst[i + 2] = dst[i + 2]! + src[i + 2]!;
    dst[i + 3] = dst[i + 3]! + src[i + 3]!;
  }
  for (; i < n; i++) dst[i] = dst[i]! + src[i]!;
}

function chunkOf<T extends NumericArray>(array: T, index: number, chunks: number): T {
  const start = Math.floor((index * array.length) / chunks);
  const end = Math.floor(((index + 1) * array.length) / chunks);
  return array.subarray(start, end) as T;
}

function others(ex: Exchange): number[] {
  const peers: number[] = [];
  for (let peer = 0; peer < ex.worldSize; peer++) if (peer !== ex.rank) peers.push(peer);
  return peers;
}

/** Elements `[start, end)` of chunk `index` of `chunks` equal chunks of `length` elements. */
function chunkBounds(length: number, index: number, chunks: number): [number, number] {
  return [Math.floor((index * length) / chunks), Math.floor(((index + 1) * length) / chunks)];
}

/** Options of {@link ringAllReduce}. */
export interface RingOptions {
  /** Bytes per segment. Defaults to {@link RING_SEGMENT_BYTES}. */
  segmentBytes?: number;
  /** Returns at least `bytes` bytes of memory this call may use (reused between calls). */
  scratch?: (bytes: number) => Uint8Array;
}

/**
 * Ring reduce-scatter followed by ring all-gather, in place, pipelined (`mean` is the sum divided
 * by the world size): each of the `n` chunks
 * is cut into `m` segments of at most about `segmentBytes`, and every segment travels on as soon
 * as it is reduced (or received), so reducing one overlaps the transfer of the next, and the
 * all-gather starts before the reduce-scatter ends. Ring step `s` (`0 .. 2n-3`) of segment `j`
 * is message step `s * m + j`. The receives of a step are posted together, so that segments land
 * in place (scratch memory, or the buffer itself in the all-gather) rather than in fresh memory.
 */
export async function ringAllReduce(
  ex: Exchange,
  buffer: NumericArray,
  op: ReduceOp,
  options: RingOptions = {},
): Promise<void> {
  const n = ex.worldSize;
  const rank = ex.rank;
  const right = (rank + 1) % n;
  const left = (rank - 1 + n) % n;
  const length = buffer.length;
  const bpe = buffer.BYTES_PER_ELEMENT;
  const maxChunk = Math.ceil(length / n);
  const segmentBytes = Math.max(bpe, options.segmentBytes ?? RING_SEGMENT_BYTES);
  const m = Math.max(1, Math.ceil((maxChunk * bpe) / segmentBytes));
  /** Elements `[start, end)` of segment `j` of `chunk`, relative to the chunk's start. */
  const within = (chunk: number, j: number): [number, number, number] => {
    const [start, end] = chunkBounds(length, chunk, n);
    const [a, b] = chunkBounds(end - start, j, m);
    return [start, a, b];
  };
  const segment = (chunk: number, j: number): NumericArray => {
    const [start, a, b] = within(chunk, j);
    return buffer.subarray(start + a, start + b);
  };
  const scratch = options.scratch?.(maxChunk * bpe) ?? new Uint8Array(maxChunk * bpe);
  const sends: Array<Promise<void>> = [];
  // Sends per chunk: memory being sent must not change until they complete.
  const inFlight: Array<Array<Promise<void>>> = Array.from({ length: n }, () => []);
  const send = (step: number, chunk: number, j: number): void => {
    const sent = ex.send(right, step * m + j, bytesOf(segment(chunk, j)));
    // Awaited below; a failure must not surface as an unhandled rejection meanwhile.
    sent.catch(() => {});
    sends.push(sent);
    inFlight[chunk]!.push(sent);
  };
  const post = (step: number, into: (j: number) => Uint8Array): Array<Promise<Uint8Array>> =>
    Array.from({ length: m }, (_, j) => {
      const target = into(j);
      const received = ex.recvInto
        ? ex.recvInto(left, step * m + j, target)
        : ex.recv(left, step * m + j);
      received.catch(() => {});
      return received;
    });
  try {
    for (let j = 0; j < m; j++) send(0, rank, j);
    // Reduce-scatter: at step s, receive chunk (rank - s - 1), reduce it and pass it on; after
    // the last step this rank's chunk (rank + 1) is complete and its pass-on starts the
    // all-gather.
    for (let s = 0; s < n - 1; s++) {
      const chunk = (rank - s - 1 + n) % n;
      const received = post(s, (j) => {
        const [, a, b] = within(chunk, j);
        return scratch.subarray(a * bpe, b * bpe);
      });
      for (let j = 0; j < m; j++) {
        const target = segment(chunk, j);
        const bytes = await received[j]!;
        checkBytes('allReduce', left, bytes, target.byteLength, buffer);
        reduceInto(target, viewLike(buffer, bytes), op === 'mean' ? 'sum' : op);
        // A mean is divided once, by the rank that completes the chunk, before it travels on.
        if (op === 'mean' && s === n - 2) divideInPlace(target, n);
        send(s + 1, chunk, j);
      }
    }
    // All-gather: at step n - 1 + t, receive chunk (rank - t) in place and pass it on.
    for (let t = 0; t < n - 1; t++) {
      const chunk = (rank - t + n) % n;
      await Promise.all(inFlight[chunk]!);
      const received = post(n - 1 + t, (j) => bytesOf(segment(chunk, j)));
      for (let j = 0; j < m; j++) {
        const into = bytesOf(segment(chunk, j));
        const bytes = await received[j]!;
        checkBytes('allReduce', left, bytes, into.byteLength, buffer);
        if (bytes !== into) into.set(bytes);
        if (t < n - 2) send(n + t, chunk, j);
      }
    }
  } finally {
    // Whatever happened, return only once no send reads `buffer` any more.
    await Promise.allSettled(sends);
  }
  await Promise.all(sends);
}

/**
 * Ring all-gather of the `n` chunks of `buffer`, where rank `r` starts out owning chunk
 * `(r + shift) mod n`. Uses steps `firstStep .. firstStep + n - 2`.
 */
async function ringAllGatherChunks(
  ex: Exchange,
  buffer: NumericArray,
  firstStep: number,
  shift: number,
  operation: string,
): Promise<void> {
  const n = ex.worldSize;
  const right = (ex.rank + 1) % n;
  const left = (ex.rank - 1 + n) % n;
  for (let step = 0; step < n - 1; step++) {
    const send = chunkOf(buffer, (ex.rank + shift - step + 2 * n) % n, n);
    const target = chunkOf(buffer, (ex.rank + shift - step - 1 + 2 * n) % n, n);
    const [, bytes] = await Promise.all([
      ex.send(right, firstStep + step, bytesOf(send)),
      ex.recv(left, firstStep + step),
    ]);
    checkBytes(operation, left, bytes, target.byteLength, buffer);
    target.set(viewLike(buffer, bytes));
  }
}

/**
 * Every rank sends its buffer to every other one and reduces in rank order (`mean`: then divides
 * by the world size). One step.
 */
export async function directAllReduce(
  ex: Exchange,
  buffer: NumericArray,
  op: ReduceOp,
): Promise<void> {
  const parts: NumericArray[] = [];
  parts[ex.rank] = buffer;
  const mine = bytesOf(buffer);
  await Promise.all(
    others(ex).flatMap((peer) => [
      ex.send(peer, 0, mine),
      ex.recv(peer, 0).then((bytes) => {
        checkBytes('allReduce', peer, bytes, buffer.byteLength, buffer);
        parts[peer] = viewLike(buffer, bytes);
      }),
    ]),
  );
  const acc = parts[0]!;
  for (let peer = 1; peer < ex.worldSize; peer++) {
    reduceInto(acc, parts[peer]!, op === 'mean' ? 'sum' : op);
  }
  if (acc !== buffer) buffer.set(acc);
  if (op === 'mean') divideInPlace(buffer, ex.worldSize);
}

/** The source sends its whole buffer to every other rank. One step. */
export async function directBroadcast(
  ex: Exchange,
  buffer: NumericArray,
  src: number,
): Promise<void> {
  if (ex.rank === src) {
    const bytes = bytesOf(buffer);
    await Promise.all(others(ex).map((peer) => ex.send(peer, 0, bytes)));
    return;
  }
  const bytes = await ex.recv(src, 0);
  checkBytes('broadcast', src, bytes, buffer.byteLength, buffer);
  buffer.set(viewLike(buffer, bytes));
}

/** The source scatters chunk `i` to rank `i`; then a ring all-gather. Steps `0 .. n-1`. */
export async function scatterAllGatherBroadcast(
  ex: Exchange,
  buffer: NumericArray,
  src: number,
): Promise<void> {
  const n = ex.worldSize;
  if (ex.rank === src) {
    await Promise.all(
      others(ex).map((peer) => ex.send(peer, 0, bytesOf(chunkOf(buffer, peer, n)))),
    );
  } else {
    const target = chunkOf(buffer, ex.rank, n);
    const bytes = await ex.recv(src, 0);
    checkBytes('broadcast', src, bytes, target.byteLength, buffer);
    target.set(viewLike(buffer, bytes));
  }
  await ringAllGatherChunks(ex, buffer, 1, 0, 'broadcast');
}

/** Every rank sends its buffer to every other one. One step. */
export async function directAllGather<T extends NumericArray>(
  ex: Exchange,
  buffer: T,
): Promise<T[]> {
  const result: T[] = [];
  result[ex.rank] = buffer.slice() as T;
  const mine = bytesOf(buffer);
  await Promise.all(
    others(ex).flatMap((peer) => [
      ex.send(peer, 0, mine),
      ex.recv(peer, 0).then((bytes) => {
        checkBytes('allGather', peer, bytes, undefined, buffer);
        result[peer] = viewLike(buffer, bytes);
      }),
    ]),
  );
  return result;
}

/** Every rank sends its buffer to `dst`. One step. */
export async function directGather<T extends NumericArray>(
  ex: Exchange,
  buffer: T,
  dst: number,
): Promise<T[]> {
  if (ex.rank !== dst) {
    await ex.send(dst, 0, bytesOf(buffer));
    return [];
  }
  const result: T[] = [];
  result[ex.rank] = buffer.slice() as T;
  await Promise.all(
    others(ex).map(async (peer) => {
      const bytes = checkBytes('gather', peer, await ex.recv(peer, 0), undefined, buffer);
      result[peer] = viewLike(buffer, bytes);
    }),
  );
  return result;
}

/** Every rank sends an empty message to every other one and waits for theirs. */
export async function directBarrier(ex: Exchange): Promise<void> {
  const empty = new Uint8Array(0);
  await Promise.all(others(ex).flatMap((peer) => [ex.send(peer, 0, empty), ex.recv(peer, 0)]));
}
