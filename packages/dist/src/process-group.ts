import type { NumericArray, ProcessGroupBackend, ReduceOp } from './backend.js';
import { createRegisteredBackend, selectBackendName } from './backend-registry.js';
import { divideInPlace } from './collectives.js';
import { ENV, parseDistUrl, readDistEnv, readTimeoutMs } from './env.js';
import { DistError } from './errors.js';
import { TcpBackend } from './tcp-backend.js';

let group: ProcessGroupBackend | undefined;
let initializing = false;

/** Options of {@link initProcessGroup}. Unset fields come from the environment. */
export interface InitProcessGroupOptions {
  /**
   * The transport: a backend object, or a name (`tcp`, or one registered with
   * `registerProcessGroupBackend`, such as `mpi` once `@gorilla-ts/dist-mpi` is imported).
   * Defaults to `GORILLA_DIST_BACKEND`, else `mpi` when an MPI launcher (`mpirun`, `srun`) started
   * this process and `RANK` is unset, else `tcp`. A `tcp` backend is built from the fields below;
   * a backend object carries its own settings, and a registered one receives `timeoutMs` only.
   */
  backend?: ProcessGroupBackend | string;
  /** This process's rank. Defaults to `RANK`, else 0. */
  rank?: number;
  /** Number of processes. Defaults to `WORLD_SIZE`, else 1. */
  worldSize?: number;
  /** Rank on this machine. Defaults to `LOCAL_RANK`, else the position among same-host ranks. */
  localRank?: number;
  /** Ranks on this machine. Defaults to `LOCAL_WORLD_SIZE`, else the number of same-host ranks. */
  localSize?: number;
  /** `tcp://host:port` of the rendezvous. Defaults to `tcp://$MASTER_ADDR:$MASTER_PORT`. */
  distUrl?: string;
  /** Collective timeout in ms. Defaults to `GORILLA_DIST_TIMEOUT_MS`, else 30 minutes. */
  timeoutMs?: number;
  /** Rendezvous timeout in ms. Defaults to `timeoutMs`. */
  initTimeoutMs?: number;
  /**
   * Whether this process hosts the rendezvous. Defaults to `rank === 0`, except in workers spawned
   * by `launch()`, whose launcher hosts it.
   */
  hostRendezvous?: boolean;
  /** See {@link TcpBackendOptions.ringThresholdBytes}. Defaults to 262,144. */
  ringThresholdBytes?: number;
  /**
   * See {@link TcpBackendOptions.sharedMemory}. Defaults to `true`, unless `GORILLA_DIST_SHM` is
   * `0`.
   */
  sharedMemory?: boolean;
}

/**
 * Joins the process group: every rank calls it, and it resolves once all have joined. Without a
 * call (or with one process) the collectives are identities and the rank helpers describe a
 * world of one. Fails with `DIST_ALREADY_INITIALIZED` when a group exists.
 */
export async function initProcessGroup(options: InitProcessGroupOptions = {}): Promise<void> {
  if (group || initializing) {
    throw new DistError(
      'DIST_ALREADY_INITIALIZED',
      'the process group is already initialised: call destroyProcessGroup() first',
    );
  }
  initializing = true;
  try {
    const backend =
      typeof options.backend === 'object' ? options.backend : backendFrom(options.backend, options);
    await backend.init();
    group = backend;
  } finally {
    initializing = false;
  }
}

function backendFrom(
  requested: string | undefined,
  options: InitProcessGroupOptions,
): ProcessGroupBackend {
  const name = selectBackendName(requested);
  if (name === 'tcp') return tcpBackendFrom(options);
  const timeoutMs = options.timeoutMs ?? readTimeoutMs();
  return createRegisteredBackend(name, timeoutMs === undefined ? {} : { timeoutMs });
}

function tcpBackendFrom(options: InitProcessGroupOptions): TcpBackend {
  const env = readDistEnv();
  const rank = options.rank ?? env?.rank ?? 0;
  const url = options.distUrl === undefined ? undefined : parseDistUrl(options.distUrl);
  const timeoutMs = options.timeoutMs ?? env?.timeoutMs ?? readTimeoutMs();
  const localRank = options.localRank ?? env?.localRank;
  const localSize = options.localSize ?? env?.localSize;
  return new TcpBackend({
    rank,
    worldSize: options.worldSize ?? env?.worldSize ?? 1,
    masterAddr: url?.host ?? env?.masterAddr ?? process.env[ENV.masterAddr] ?? '127.0.0.1',
    masterPort: url?.port ?? env?.masterPort ?? (Number(process.env[ENV.masterPort]) || undefined),
    hostRendezvous: options.hostRendezvous ?? (rank === 0 && !env?.spawnedByLaunch),
    ...(localRank === undefined ? {} : { localRank }),
    ...(localSize === undefined ? {} : { localSize }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(options.initTimeoutMs === undefined ? {} : { initTimeoutMs: options.initTimeoutMs }),
    ...(options.ringThresholdBytes === undefined
      ? {}
      : { ringThresholdBytes: options.ringThresholdBytes }),
    ...(options.sharedMemory === undefined ? {} : { sharedMemory: options.sharedMemory }),
  });
}

/** Leaves the process group and closes its connections. A no-op when there is none. */
export async function destroyProcessGroup(): Promise<void> {
  const current = group;
  group = undefined;
  await current?.destroy();
}

/**
 * Leaves the process group after `main` failed on this rank: the backend's `abort` when it has
 * one (it ends the whole job), else `destroy`, whose errors are dropped. Used by `launch()`.
 */
export async function abortProcessGroup(reason: unknown): Promise<void> {
  const current = group;
  group = undefined;
  if (current?.abort) await current.abort(reason);
  else await current?.destroy().catch(() => {});
}

/** Whether a process group is initialised. */
export function isInitialized(): boolean {
  return group !== undefined;
}

/** This process's rank; 0 without a process group. */
export function getRank(): number {
  return group?.rank ?? 0;
}

/** Number of processes; 1 without a process group. */
export function getWorldSize(): number {
  return group?.worldSize ?? 1;
}

/**
 * This process's rank among those on its machine; 0 without a process group. Works however the
 * group was started (by `launch`, by an outside launcher, or by `initProcessGroup` directly).
 */
export function getLocalRank(): number {
  return group?.localRank ?? 0;
}

/** Number of processes on this machine; 1 without a process group. */
export function getLocalSize(): number {
  return group?.localSize ?? 1;
}

/** Whether this is rank 0 (also true without a process group). */
export function isMainProcess(): boolean {
  return getRank() === 0;
}

/**
 * Wraps `fn` so that it runs on rank 0 only; elsewhere the wrapper returns `undefined`.
 * Whatever runs on rank 0 alone must not call collectives; end rank-divergent work with
 * {@link synchronize} when the other ranks depend on its result.
 */
export function masterOnly<A extends unknown[], R>(
  fn: (...args: A) => R,
): (...args: A) => R | undefined {
  return (...args: A) => (isMainProcess() ? fn(...args) : undefined);
}

/** Waits until every rank has called it (a barrier); returns at once with one process. */
export async function synchronize(): Promise<void> {
  if (group && group.worldSize > 1) await group.barrier();
}

/** Waits until every rank has called it. The same as {@link synchronize}. */
export async function barrier(): Promise<void> {
  await synchronize();
}

const ARRAY_KINDS = [
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
];

function checkArray(operation: string, buffer: unknown): asserts buffer is NumericArray {
  if (!ARRAY_KINDS.some((Kind) => buffer instanceof Kind)) {
    const got = buffer?.constructor?.name ?? typeof buffer;
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `${operation} expects a typed array (${ARRAY_KINDS.map((k) => k.name).join(', ')}), got ${got}`,
    );
  }
}

const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'mean', 'max', 'min'];

function checkRank(operation: string, name: string, value: number): void {
  const worldSize = getWorldSize();
  if (!Number.isInteger(value) || value < 0 || value >= worldSize) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `${operation}: ${name} must be a rank in [0, ${worldSize}), got ${value}`,
    );
  }
}

/**
 * Reduces `buffer` element-wise across all ranks, in place, and resolves to it. Every rank ends up
 * with the same values. With one process it returns `buffer` unchanged (also for `mean`).
 *
 * @param op - `sum`, `mean` (sum divided by the world size), `max` or `min`. Defaults to `sum`.
 */
export async function allReduce<T extends NumericArray>(
  buffer: T,
  op: ReduceOp = 'sum',
): Promise<T> {
  checkArray('allReduce', buffer);
  if (!REDUCE_OPS.includes(op)) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `allReduce: unknown op ${JSON.stringify(op)}; expected one of ${REDUCE_OPS.join(', ')}`,
    );
  }
  if (!group || group.worldSize === 1) return buffer;
  if (group instanceof TcpBackend) {
    // It divides each chunk once, on one rank, instead of the whole buffer on every rank.
    await group.allReduce(buffer, op);
    return buffer;
  }
  await group.allReduce(buffer, op === 'mean' ? 'sum' : op);
  if (op === 'mean') divideInPlace(buffer, group.worldSize);
  return buffer;
}

/** Copies rank `src`'s `buffer` into `buffer` on every rank, in place; resolves to `buffer`. */
export async function broadcast<T extends NumericArray>(buffer: T, src = 0): Promise<T> {
  checkArray('broadcast', buffer);
  checkRank('broadcast', 'src', src);
  if (group && group.worldSize > 1) await group.broadcast(buffer, src);
  return buffer;
}

/** Every rank's `buffer` (of the same kind and length), indexed by rank; fresh arrays. */
export async function allGather<T extends NumericArray>(buffer: T): Promise<T[]> {
  checkArray('allGather', buffer);
  if (!group || group.worldSize === 1) return [buffer.slice() as T];
  return group.allGather(buffer);
}

/** Every rank's `buffer`, indexed by rank, on rank `dst` (default 0); `[]` on the others. */
export async function gather<T extends NumericArray>(buffer: T, dst = 0): Promise<T[]> {
  checkArray('gather', buffer);
  checkRank('gather', 'dst', dst);
  if (!group || group.worldSize === 1) return [buffer.slice() as T];
  if (group.gather) return group.gather(buffer, dst);
  const all = await group.allGather(buffer);
  return group.rank === dst ? all : [];
}

/**
 * Reduces every value of a record across ranks (`mean` by default, as for averaging losses), in
 * sorted-key order; every rank receives the result. Every rank must pass the same keys.
 */
export async function reduceDict(
  values: Readonly<Record<string, number>>,
  op: ReduceOp = 'mean',
): Promise<Record<string, number>> {
  const keys = Object.keys(values).sort();
  const buffer = Float64Array.from(keys, (key) => values[key]!);
  await allReduce(buffer, op);
  return Object.fromEntries(keys.map((key, i) => [key, buffer[i]!]));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeJson(operation: string, value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `${operation} expects a JSON value, got ${typeof value}`,
    );
  }
  return encoder.encode(text);
}

/**
 * Every rank's JSON value, indexed by rank. Values travel as JSON, also with one process, so
 * every rank sees the same thing (a `Date` arrives as a string, `undefined` fields vanish).
 */
export async function allGatherObject<T>(value: T): Promise<T[]> {
  const bytes = encodeJson('allGatherObject', value);
  const sizes = await allGather(Int32Array.of(bytes.byteLength));
  const max = Math.max(...sizes.map((size) => size[0]!));
  const padded = new Uint8Array(max);
  padded.set(bytes);
  const all = await allGather(padded);
  return all.map(
    (part, rank) => JSON.parse(decoder.decode(part.subarray(0, sizes[rank]![0]!))) as T,
  );
}

/** Rank `src`'s JSON value (default rank 0), on every rank. Travels as JSON, as above. */
export async function broadcastObject<T>(value: T, src = 0): Promise<T> {
  const bytes = getRank() === src ? encodeJson('broadcastObject', value) : new Uint8Array(0);
  const size = await broadcast(Int32Array.of(bytes.byteLength), src);
  const buffer = getRank() === src ? bytes : new Uint8Array(size[0]!);
  await broadcast(buffer, src);
  return JSON.parse(decoder.decode(buffer)) as T;
}
