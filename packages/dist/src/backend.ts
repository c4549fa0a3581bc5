/**
 * Typed arrays the collectives accept. Every rank must pass the same kind of array; the bytes travel
 * in the platform's byte order (little-endian on every platform Node supports in practice).
 */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

/**
 * Reductions of the public `allReduce`. `mean` is `sum` divided by the world size (integer arrays
 * truncate toward zero, like any assignment to them); integer sums wrap like the array type does.
 */
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min';

/** Reductions a backend must implement (`mean` is derived from `sum` by the caller). */
export type BackendReduceOp = 'sum' | 'max' | 'min';

/**
 * A transport for the process group. The built-in {@link TcpBackend} implements it over TCP
 * sockets; another transport (an MPI binding on a cluster, say) can implement it and be passed
 * to `initProcessGroup({ backend })`.
 *
 * Contract:
 * - `init()` is called once, before anything else; it resolves when every rank has joined.
 *   `rank`, `worldSize`, `localRank` and `localSize` are valid after it resolves.
 * - Every rank calls the same collectives in the same order, with arrays of the same kind and
 *   length (`allGather` and `gather` included). The caller awaits nothing in between: a backend
 *   must itself run collectives in call order if they overlap.
 * - Collectives work in place where they return nothing, and resolve only when the caller may
 *   read and modify its buffer again.
 * - Results are identical on every rank (bitwise, for floating-point reductions).
 * - Failures reject with a `DistError` (`DIST_TIMEOUT` naming the ranks waited for,
 *   `DIST_PEER_LOST`, `DIST_MISMATCH`); after one, the group may refuse further work.
 * - `destroy()` releases every resource; it must not throw when called after a failure.
 * - `abort(reason)`, when present, is called instead of `destroy()` by `launch()` when `main`
 *   failed on this rank; it ends the whole job promptly (for transports, like MPI, where the other
 *   ranks would otherwise wait forever in their next collective).
 */
export interface ProcessGroupBackend {
  /** Short name for logs, e.g. `tcp` or `mpi`. */
  readonly name: string;
  /** This process's rank in `[0, worldSize)`. */
  readonly rank: number;
  /** Number of processes in the group. */
  readonly worldSize: number;
  /** This process's rank among the processes of its machine. */
  readonly localRank: number;
  /** Number of processes of the group on this machine. */
  readonly localSize: number;
  /** Joins the group; resolves when every rank has joined. */
  init(): Promise<void>;
  /** Reduces `buffer` element-wise across ranks, in place, on every rank. */
  allReduce(buffer: NumericArray, op: BackendReduceOp): Promise<void>;
  /** Copies rank `src`'s `buffer` into `buffer` on every other rank. */
  broadcast(buffer: NumericArray, src: number): Promise<void>;
  /** Returns every rank's `buffer`, indexed by rank (fresh arrays, never aliases of `buffer`). */
  allGather<T extends NumericArray>(buffer: T): Promise<T[]>;
  /**
   * Returns every rank's `buffer` on rank `dst` and `[]` elsewhere. Optional: without it the
   * process group falls back to `allGather`.
   */
  gather?<T extends NumericArray>(buffer: T, dst: number): Promise<T[]>;
  /** Resolves once every rank has called it. */
  barrier(): Promise<void>;
  /** Leaves the group and releases its resources. */
  destroy(): Promise<void>;
  /**
   * Optional: ends the whole job after `main` failed on this rank (`reason` is the error), instead
   * of `destroy()`. Without it, `launch()` calls `destroy()`.
   */
  abort?(reason: unknown): Promise<void>;
}
