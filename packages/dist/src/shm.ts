/**
 * Same-host shared memory for the TCP backend's all-reduce.
 *
 * Node cannot map memory shared between processes, but a file in `/dev/shm` (tmpfs: page cache,
 * no disk) written and read with `pwrite`/`pread` at offsets comes close: one copy in, one copy
 * out, and no TCP stack, no 64 KiB chunks, no event-loop wake-up per chunk. Each rank owns one
 * file, holding two regions (alternate segments use alternate regions, so a rank may write the
 * next segment while slower peers still read the previous one). Every peer opens it during
 * `init()`, after which its owner unlinks it: nothing is left behind, even after a crash. Tiny
 * TCP frames say when a region is ready (see `frame.ts` for the wire protocol).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { NumericArray, ReduceOp } from './backend.js';
import { bytesOf, divideInPlace, type Exchange, reduceInto, viewLike } from './collectives.js';
import { ENV } from './env.js';
import { DistError } from './errors.js';
import { jsonPayload, parseJsonPayload } from './frame.js';

/** Where shared-memory files go, when this directory exists (Linux). */
export const SHM_DIR = '/dev/shm';

/** The directory of the shared-memory files: `GORILLA_DIST_SHM_DIR`, else {@link SHM_DIR}. */
export function sharedMemoryDir(env: Record<string, string | undefined> = process.env): string {
  return env[ENV.sharedMemoryDir] || SHM_DIR;
}

/** The first part of the name of every shared-memory file of run (or group) `tag`. */
function filePrefix(tag: string): string {
  return `gorilla-dist-${tag}-`;
}

/**
 * Removes the shared-memory files of run `runId` (`GORILLA_DIST_RUN_ID`, set by `launch()`)
 * left in `dir` by workers killed while setting the group up; returns how many it removed.
 * A file that has already been unlinked, as after every complete set-up, is not there.
 */
export function removeRunFiles(runId: string, dir: string): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(filePrefix(runId))) continue;
    try {
      fs.unlinkSync(`${dir}/${name}`);
      removed++;
    } catch {
      // Gone meanwhile, or not ours to remove.
    }
  }
  return removed;
}

/**
 * Files of this process that exist under their name right now (between their creation and the
 * moment every peer has opened them). A signal that ends the process, or its exit, removes
 * them; otherwise a rank stopped during `init()` would leave them in `/dev/shm`.
 */
const liveFiles = new Set<string>();
const ENDING_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

function removeLiveFiles(): void {
  for (const path of liveFiles) {
    try {
      fs.unlinkSync(path);
    } catch {
      // Already gone.
    }
  }
  liveFiles.clear();
  unwatchEnd();
}

function onEndingSignal(signal: NodeJS.Signals): void {
  removeLiveFiles();
  // Nobody else handles it: end the process as the signal would have (and say so to the parent).
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function watchEnd(): void {
  if (liveFiles.size !== 1) return;
  for (const signal of ENDING_SIGNALS) process.on(signal, onEndingSignal);
  process.on('exit', removeLiveFiles);
}

function unwatchEnd(): void {
  for (const signal of ENDING_SIGNALS) process.off(signal, onEndingSignal);
  process.off('exit', removeLiveFiles);
}

/**
 * Test hook: `GORILLA_DIST_FAULT=shm-file:<SIGNAL>` makes a rank send itself that signal right
 * after creating its shared-memory file, and stall there (a rank killed at the worst moment).
 */
async function injectFault(): Promise<void> {
  const match = /^shm-file:(SIG[A-Z]+)$/.exec(process.env.GORILLA_DIST_FAULT ?? '');
  if (!match) return;
  process.kill(process.pid, match[1] as NodeJS.Signals);
  await new Promise(() => {});
}

/**
 * Bytes per region: buffers are all-reduced in segments of at most this size. Each rank's file
 * holds two regions (8 MiB in all, allocated in `init()` so that a full `/dev/shm` shows there).
 */
export const SHM_REGION_BYTES = 4 * 1024 * 1024;

/** Bytes of `/dev/shm` each local rank's file takes: two regions (8 MiB). */
export const SHM_BYTES_PER_RANK = 2 * SHM_REGION_BYTES;

/** Bytes read and reduced at a time: the pieces stay in cache between the read and the sum. */
const PIECE_BYTES = 256 * 1024;

/** First message step of the shared-memory all-reduce (see `frame.ts`). */
export const SHM_STEP_BASE = 0x8000;

/** Options of {@link SharedMemory.negotiate}. */
export interface SharedMemoryOptions {
  /** Whether this rank offers shared memory at all. */
  enabled: boolean;
  /**
   * Part of the file names, so that `launch()` can remove the files of its run after its
   * workers have exited: `GORILLA_DIST_RUN_ID`, or the group's random token.
   */
  tag: string;
  /** Directory of the files. Defaults to `GORILLA_DIST_SHM_DIR`, else {@link SHM_DIR}. */
  dir?: string;
  /** Bytes per region. Defaults to {@link SHM_REGION_BYTES}. */
  regionBytes?: number;
}

interface Offer {
  path: string | null;
  nonce?: string;
}

/** Whether `value` says `{ ok: true }`. */
function saysOk(payload: Uint8Array): boolean {
  try {
    return (parseJsonPayload(payload) as { ok?: unknown }).ok === true;
  } catch {
    return false;
  }
}

/**
 * Opens a peer's file for reading and checks that it starts with `nonce` (so that it is the
 * peer's file on this host, not a namesake). Returns the descriptor, or `undefined`.
 */
export function openPeerFile(path: unknown, nonce: unknown): number | undefined {
  if (typeof path !== 'string' || typeof nonce !== 'string' || nonce.length === 0) return undefined;
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const expected = Buffer.from(nonce, 'hex');
    const found = Buffer.alloc(expected.byteLength);
    if (
      fs.readSync(fd, found, 0, found.byteLength, 0) === found.byteLength &&
      found.equals(expected)
    ) {
      return fd;
    }
  } catch {
    // Not on this host (or not readable): no shared memory with this peer.
  }
  if (fd !== undefined) fs.closeSync(fd);
  return undefined;
}

/** Creates this rank's file, allocates both regions and writes `nonce` at its start. */
function createOwnFile(
  dir: string,
  name: string,
  bytes: number,
  nonce: Buffer,
): { fd: number; path: string } | undefined {
  const path = `${dir}/${name}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'wx', 0o600);
    liveFiles.add(path);
    watchEnd();
    // Written, not just sized, so that tmpfs allocates the pages now: a /dev/shm too small for
    // them fails here (and the group uses TCP) rather than in the middle of a collective.
    const zeros = Buffer.alloc(Math.min(bytes, 1024 * 1024));
    for (let offset = 0; offset < bytes; offset += zeros.byteLength) {
      const length = Math.min(zeros.byteLength, bytes - offset);
      if (fs.writeSync(fd, zeros, 0, length, offset) !== length) throw new Error('short write');
    }
    fs.writeSync(fd, nonce, 0, nonce.byteLength, 0);
    return { fd, path };
  } catch {
    if (fd !== undefined) fs.closeSync(fd);
    forget(path);
    return undefined;
  }
}

/** Unlinks one of this process's files. */
function forget(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Never created, or already gone.
  }
  if (liveFiles.delete(path) && liveFiles.size === 0) unwatchEnd();
}

/** Wraps an I/O error on a shared-memory file (not expected: its pages exist since `init()`). */
function ioError(what: string, error: unknown): DistError {
  return new DistError(
    'DIST_BACKEND_FAILED',
    `allReduce: could not ${what} shared memory: ${(error as Error).message ?? String(error)}`,
    { cause: error },
  );
}

/** Writes all of `bytes` at `position`. */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  try {
    while (done < bytes.byteLength) {
      done += fs.writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
    }
  } catch (error) {
    throw ioError('write', error);
  }
}

/** Reads exactly `bytes.byteLength` bytes at `position`. */
function readAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  let read = -1;
  while (done < bytes.byteLength && read !== 0) {
    try {
      read = fs.readSync(fd, bytes, done, bytes.byteLength - done, position + done);
    } catch (error) {
      throw ioError('read', error);
    }
    done += read;
  }
  if (done < bytes.byteLength)
    throw ioError('read', new Error(`end of file at ${position + done}`));
}

/**
 * The shared-memory files of a group whose ranks are all on this host: this rank's own file
 * (written) and every peer's (read), open until {@link SharedMemory.close}.
 */
export class SharedMemory {
  /** Descriptors by rank: this rank's own file (write) and its peers' (read). */
  private readonly fds: Array<number | undefined> = [];
  private ownPath: string | undefined;
  private segments = 0;
  private scratch: Uint8Array | undefined;
  /** Bytes per region. */
  readonly regionBytes: number;

  private constructor(
    private readonly rank: number,
    regionBytes: number,
  ) {
    this.regionBytes = regionBytes;
  }

  /**
   * Runs the handshake of `frame.ts` with every peer (message steps 0-2 of `ex`) and returns the
   * files when every rank could open every other rank's file, else `undefined` (on every rank
   * alike). Rejects only when the exchange itself fails, after closing and unlinking.
   */
  static async negotiate(
    ex: Exchange,
    options: SharedMemoryOptions,
  ): Promise<SharedMemory | undefined> {
    const regionBytes = options.regionBytes ?? SHM_REGION_BYTES;
    const shm = new SharedMemory(ex.rank, regionBytes);
    try {
      const ok = await shm.handshake(ex, options);
      if (ok) return shm;
      shm.close();
      return undefined;
    } catch (error) {
      shm.close();
      throw error;
    }
  }

  private async handshake(ex: Exchange, options: SharedMemoryOptions): Promise<boolean> {
    const dir = options.dir ?? sharedMemoryDir();
    const nonce = randomBytes(16);
    const name = `${filePrefix(options.tag)}${ex.rank}-${randomBytes(6).toString('hex')}`;
    const own =
      options.enabled && fs.existsSync(dir)
        ? createOwnFile(dir, name, 2 * this.regionBytes, nonce)
        : undefined;
    if (own) {
      this.fds[ex.rank] = own.fd;
      this.ownPath = own.path;
      await injectFault();
    }
    const offer: Offer = own ? { path: own.path, nonce: nonce.toString('hex') } : { path: null };
    const peers = Array.from({ length: ex.worldSize }, (_, r) => r).filter((r) => r !== ex.rank);
    const answers = await Promise.all(
      peers.map(async (peer) => {
        const [, theirs] = await Promise.all([
          ex.send(peer, 0, jsonPayload(offer)),
          ex.recv(peer, 0).then(async (payload) => {
            let fd: number | undefined;
            if (options.enabled) {
              try {
                const { path, nonce } = parseJsonPayload(payload) as {
                  path?: unknown;
                  nonce?: unknown;
                };
                fd = openPeerFile(path, nonce);
              } catch {
                // A malformed offer: no shared memory with this peer.
              }
            }
            this.fds[peer] = fd;
            await ex.send(peer, 1, jsonPayload({ ok: fd !== undefined }));
            return ex.recv(peer, 1);
          }),
        ]);
        return saysOk(theirs);
      }),
    );
    // Every peer has opened this file or given up: it can go (the open descriptors keep it).
    this.unlink();
    const mine =
      own !== undefined && answers.every(Boolean) && peers.every((p) => this.fds[p] !== undefined);
    const votes = await Promise.all(
      peers.map(async (peer) => {
        const [, vote] = await Promise.all([
          ex.send(peer, 2, jsonPayload({ ok: mine })),
          ex.recv(peer, 2),
        ]);
        return saysOk(vote);
      }),
    );
    return mine && votes.every(Boolean);
  }

  private unlink(): void {
    if (this.ownPath === undefined) return;
    forget(this.ownPath);
    this.ownPath = undefined;
  }

  /** Closes every file (and unlinks this rank's, if the handshake did not get that far). */
  close(): void {
    this.unlink();
    for (const fd of this.fds.splice(0)) {
      if (fd === undefined) continue;
      try {
        fs.closeSync(fd);
      } catch {
        // Already closed.
      }
    }
  }

  /**
   * All-reduce of `buffer` in place through the files, one segment of at most a region at a
   * time. For each segment every rank (1) writes the chunks that the others reduce into its
   * region and says so, (2) reduces its own chunk from the others' regions and writes the result
   * back, says so, and (3) reads every other reduced chunk. Each chunk is reduced (and, for
   * `mean`, divided by the world size) by one rank only, so every rank ends with bitwise the same
   * values.
   */
  async allReduce(ex: Exchange, buffer: NumericArray, op: ReduceOp): Promise<void> {
    const bpe = buffer.BYTES_PER_ELEMENT;
    const perSegment = Math.max(1, Math.floor(this.regionBytes / bpe));
    const segments = Math.max(1, Math.ceil(buffer.length / perSegment));
    for (let k = 0; k < segments; k++) {
      const start = Math.floor((k * buffer.length) / segments);
      const end = Math.floor(((k + 1) * buffer.length) / segments);
      await this.allReduceSegment(ex, buffer, buffer.subarray(start, end), op, k);
    }
  }

  private async allReduceSegment(
    ex: Exchange,
    whole: NumericArray,
    segment: NumericArray,
    op: ReduceOp,
    k: number,
  ): Promise<void> {
    const n = ex.worldSize;
    const rank = this.rank;
    const bpe = segment.BYTES_PER_ELEMENT;
    // Region parity alternates per segment, counted alike on every rank.
    const base = (this.segments++ % 2) * this.regionBytes;
    const own = this.fds[rank]!;
    const bounds = (chunk: number): [number, number] => [
      Math.floor((chunk * segment.length) / n),
      Math.floor(((chunk + 1) * segment.length) / n),
    ];
    const bytes = bytesOf(segment);
    const [mine, mineEnd] = bounds(rank);
    // (1) Every chunk but this rank's own, at its offset in the segment.
    writeAll(own, bytes.subarray(0, mine * bpe), base);
    writeAll(own, bytes.subarray(mineEnd * bpe), base + mineEnd * bpe);
    await this.signal(ex, whole, SHM_STEP_BASE + 2 * k, true);
    // (2) This rank's chunk, piece by piece so that each piece is still in cache when it is
    // summed and written back.
    const piece = Math.max(1, Math.floor(PIECE_BYTES / bpe));
    const sum = op === 'sum' || op === 'mean';
    if (this.scratch === undefined) this.scratch = new Uint8Array(PIECE_BYTES + 8);
    for (let at = mine; at < mineEnd; at += piece) {
      const part = segment.subarray(at, Math.min(mineEnd, at + piece));
      const partBytes = bytesOf(part);
      const position = base + at * bpe;
      const scratch = this.scratch.subarray(0, partBytes.byteLength);
      for (let peer = 0; peer < n; peer++) {
        if (peer === rank) continue;
        readAll(this.fds[peer]!, scratch, position);
        reduceInto(part, viewLike(part, scratch), sum ? 'sum' : op);
      }
      if (op === 'mean') divideInPlace(part, n);
      writeAll(own, partBytes, position);
    }
    await this.signal(ex, whole, SHM_STEP_BASE + 2 * k + 1, false);
    // (3) The other reduced chunks, straight into place.
    for (let peer = 0; peer < n; peer++) {
      if (peer === rank) continue;
      const [start, end] = bounds(peer);
      readAll(this.fds[peer]!, bytes.subarray(start * bpe, end * bpe), base + start * bpe);
    }
  }

  /** Tells every peer that this rank's region is ready and waits for theirs. */
  private async signal(
    ex: Exchange,
    whole: NumericArray,
    step: number,
    withLength: boolean,
  ): Promise<void> {
    const payload = withLength
      ? new Uint8Array(Float64Array.of(whole.byteLength).buffer)
      : new Uint8Array(0);
    const peers = Array.from({ length: ex.worldSize }, (_, r) => r).filter((r) => r !== ex.rank);
    await Promise.all(
      peers.flatMap((peer) => [
        ex.send(peer, step, payload),
        ex.recv(peer, step).then((received) => {
          if (!withLength) return;
          const theirs =
            received.byteLength === 8 ? new Float64Array(received.slice().buffer)[0]! : -1;
          if (theirs !== whole.byteLength) {
            throw new DistError(
              'DIST_MISMATCH',
              `allReduce: rank ${peer} sent ${theirs} bytes where ${whole.byteLength} were ` +
                `expected (${whole.constructor.name}): every rank must pass arrays of the same ` +
                `kind and length`,
            );
          }
        }),
      ]),
    );
  }
}
