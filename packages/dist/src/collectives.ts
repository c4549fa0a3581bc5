/**
 * Collective algorithms over point-to-point messages, independent of the transport.
 *
 * - all-reduce: for large buffers, ring reduce-scatter + ring all-gather (each rank sends and
 *   receives `2 (n-1)/n` times the buffer: bandwidth-optimal); for small ones, every rank sends its
 *   buffer to every other and reduces in rank order (one round: latency-optimal).
 * - broadcast: the source sends to every rank; for large buffers and more than two ranks, it
 *   scatters one chunk to each rank, which then run a ring all-gather.
 * - all-gather, gather, barrier: direct exchange (each rank sends `n-1` times its buffer, which is
 *   what a ring would send too).
 */
import type { BackendReduceOp, NumericArray } from './backend.js';
import { DistError } from './errors.js';

/** Point-to-point messaging inside one collective call. */
export interface Exchange {
  readonly rank: number;
  readonly worldSize: number;
  /** Sends `data` to `peer`; resolves when `data` may be modified again. */
  send(peer: number, step: number, data: Uint8Array): Promise<void>;
  /** Receives the next message from `peer`, which must be for `step`. */
  recv(peer: number, step: number): Promise<Uint8Array>;
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
  const n = dst.length;
  if (op === 'sum') {
    for (let i = 0; i < n; i++) dst[i] = dst[i]! + src[i]!;
  } else if (op === 'max') {
    for (let i = 0; i < n; i++) if (src[i]! > dst[i]! || Number.isNaN(src[i]!)) dst[i] = src[i]!;
  } else {
    for (let i = 0; i < n; i++) if (src[i]! < dst[i]! || Number.isNaN(src[i]!)) dst[i] = src[i]!;
  }
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

/** Ring reduce-scatter followed by ring all-gather, in place. Steps `0 .. 2n-3`. */
export async function ringAllReduce(
  ex: Exchange,
  buffer: NumericArray,
  op: BackendReduceOp,
): Promise<void> {
  const n = ex.worldSize;
  const right = (ex.rank + 1) % n;
  const left = (ex.rank - 1 + n) % n;
  for (let step = 0; step < n - 1; step++) {
    const send = chunkOf(buffer, (ex.rank - step + n) % n, n);
    const target = chunkOf(buffer, (ex.rank - step - 1 + 2 * n) % n, n);
    const [, bytes] = await Promise.all([ex.send(right, step, bytesOf(send)), ex.recv(left, step)]);
    checkBytes('allReduce', left, bytes, target.byteLength, buffer);
    reduceInto(target, viewLike(buffer, bytes), op);
  }
  await ringAllGatherChunks(ex, buffer, n - 1, 1, 'allReduce');
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

/** Every rank sends its buffer to every other one and reduces in rank order. One step. */
export async function directAllReduce(
  ex: Exchange,
  buffer: NumericArray,
  op: BackendReduceOp,
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
  for (let peer = 1; peer < ex.worldSize; peer++) reduceInto(acc, parts[peer]!, op);
  if (acc !== buffer) buffer.set(acc);
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
