const DIST_ERROR_BRAND = Symbol.for('gorilla-ts.dist.error');

/**
 * Stable machine-readable codes carried by every {@link DistError}.
 *
 * - `DIST_INVALID_ARGUMENT`: a bad option or argument (message says what was expected).
 * - `DIST_ALREADY_INITIALIZED`: `initProcessGroup` called twice without `destroyProcessGroup`.
 * - `DIST_ADDRESS_IN_USE`: the rendezvous address `host:port` is taken ({@link AddressInUseError}).
 * - `DIST_RENDEZVOUS_FAILED`: the ranks could not meet (bad world size, duplicate rank, unreachable master).
 * - `DIST_TIMEOUT`: a collective or the rendezvous did not complete in time ({@link CollectiveTimeoutError}).
 * - `DIST_PEER_LOST`: another rank closed its connection (it exited or crashed).
 * - `DIST_MISMATCH`: ranks called different collectives, or passed buffers of different lengths.
 * - `DIST_GROUP_BROKEN`: the group failed earlier and can no longer be used.
 * - `DIST_WORKER_FAILED`: a worker process threw, exited non-zero or was killed ({@link WorkerFailedError}).
 * - `DIST_INTERRUPTED`: the launcher received SIGINT or SIGTERM and stopped its workers.
 * - `DIST_GPU_UNAVAILABLE`: no NVIDIA GPU, or too few with enough free memory ({@link GpuUnavailableError}).
 * - `DIST_BACKEND_UNAVAILABLE`: the requested process-group backend (e.g. `mpi`) is not installed,
 *   not registered, or cannot run here (message says what to install or import).
 * - `DIST_AUTH_FAILED`: a connection could not prove that it knows the job's secret
 *   (`GORILLA_DIST_SECRET`), or the secret is missing where one is required.
 * - `DIST_BACKEND_FAILED`: a backend's own transport reported an error (e.g. an MPI error code);
 *   the original is `error.cause`.
 */
export type DistErrorCode =
  | 'DIST_INVALID_ARGUMENT'
  | 'DIST_ALREADY_INITIALIZED'
  | 'DIST_ADDRESS_IN_USE'
  | 'DIST_RENDEZVOUS_FAILED'
  | 'DIST_TIMEOUT'
  | 'DIST_PEER_LOST'
  | 'DIST_MISMATCH'
  | 'DIST_GROUP_BROKEN'
  | 'DIST_WORKER_FAILED'
  | 'DIST_INTERRUPTED'
  | 'DIST_GPU_UNAVAILABLE'
  | 'DIST_BACKEND_UNAVAILABLE'
  | 'DIST_BACKEND_FAILED'
  | 'DIST_AUTH_FAILED';

/** Options accepted by the {@link DistError} constructor. */
export interface DistErrorOptions {
  /** The underlying error, kept as `error.cause`. Defaults to none. */
  cause?: unknown;
}

/**
 * Base class of every error thrown by `@gorilla-ts/dist`.
 *
 * Use {@link DistError.isInstance} rather than `instanceof`: it also recognises errors created by
 * another copy of this package (duplicate installs), through a `Symbol.for` brand.
 */
export class DistError extends Error {
  /** Stable code, safe to branch on. */
  readonly code: DistErrorCode;

  constructor(code: DistErrorCode, message: string, options: DistErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DistError';
    this.code = code;
    Object.defineProperty(this, DIST_ERROR_BRAND, { value: true });
  }

  /** Whether `value` is a {@link DistError} from any copy of this package. */
  static isInstance(value: unknown): value is DistError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[DIST_ERROR_BRAND] === true
    );
  }
}

/** The rendezvous address is already taken by another process. */
export class AddressInUseError extends DistError {
  /** Host part of the address that was in use. */
  readonly host: string;
  /** Port that was in use. */
  readonly port: number;

  constructor(host: string, port: number, options: DistErrorOptions = {}) {
    super(
      'DIST_ADDRESS_IN_USE',
      `tcp://${host}:${port} is already in use: another run (or program) holds port ${port}. ` +
        `Stop it, pick another port in distUrl, or use distUrl 'auto' on a single machine.`,
      options,
    );
    this.name = 'AddressInUseError';
    this.host = host;
    this.port = port;
  }

  /** Whether `value` is an {@link AddressInUseError} from any copy of this package. */
  static override isInstance(value: unknown): value is AddressInUseError {
    return DistError.isInstance(value) && value.code === 'DIST_ADDRESS_IN_USE';
  }
}

/** A collective (or the rendezvous) could not complete within its timeout. */
export class CollectiveTimeoutError extends DistError {
  /** The operation that timed out, such as `allReduce` or `rendezvous`. */
  readonly operation: string;
  /** The ranks this process was still waiting for when the time ran out. */
  readonly waitingFor: readonly number[];
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;

  constructor(
    operation: string,
    waitingFor: readonly number[],
    timeoutMs: number,
    message: string,
    options: DistErrorOptions = {},
  ) {
    super('DIST_TIMEOUT', message, options);
    this.name = 'CollectiveTimeoutError';
    this.operation = operation;
    this.waitingFor = waitingFor;
    this.timeoutMs = timeoutMs;
  }

  /** Whether `value` is a {@link CollectiveTimeoutError} from any copy of this package. */
  static override isInstance(value: unknown): value is CollectiveTimeoutError {
    return DistError.isInstance(value) && value.code === 'DIST_TIMEOUT';
  }
}

/** What a worker process reported about the error that ended it. */
export interface WorkerErrorInfo {
  /** `error.name`, e.g. `Error` or `DistError`. */
  name: string;
  /** `error.message`. */
  message: string;
  /** `error.stack`, when there was one. */
  stack?: string;
  /** `error.code`, when there was one. */
  code?: string;
}

/** A worker process threw, exited with a non-zero code, or was killed by a signal. */
export class WorkerFailedError extends DistError {
  /** Global rank of the worker. */
  readonly rank: number;
  /** Local rank of the worker on its machine. */
  readonly localRank: number;
  /** Process id of the worker. */
  readonly pid: number | undefined;
  /** Exit code, or `null` when a signal ended it. */
  readonly exitCode: number | null;
  /** The signal that ended it, or `null`. */
  readonly signal: NodeJS.Signals | null;
  /** The error the worker reported before it exited, when it reported one. */
  readonly workerError: WorkerErrorInfo | undefined;

  constructor(
    fields: {
      rank: number;
      localRank: number;
      pid: number | undefined;
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      workerError: WorkerErrorInfo | undefined;
    },
    message: string,
  ) {
    super('DIST_WORKER_FAILED', message);
    this.name = 'WorkerFailedError';
    this.rank = fields.rank;
    this.localRank = fields.localRank;
    this.pid = fields.pid;
    this.exitCode = fields.exitCode;
    this.signal = fields.signal;
    this.workerError = fields.workerError;
  }

  /** Whether `value` is a {@link WorkerFailedError} from any copy of this package. */
  static override isInstance(value: unknown): value is WorkerFailedError {
    return DistError.isInstance(value) && value.code === 'DIST_WORKER_FAILED';
  }
}

/** Free memory of one GPU, as reported by `nvidia-smi`. */
export interface GpuInfo {
  /** The GPU's index (PCI bus order). */
  index: number;
  /** Free memory in MiB. */
  memoryFreeMB: number;
}

/** No NVIDIA GPU, or too few GPUs with enough free memory. */
export class GpuUnavailableError extends DistError {
  /** The GPUs seen in the last query (empty when there is no driver). */
  readonly gpus: readonly GpuInfo[];

  constructor(gpus: readonly GpuInfo[], message: string, options: DistErrorOptions = {}) {
    super('DIST_GPU_UNAVAILABLE', message, options);
    this.name = 'GpuUnavailableError';
    this.gpus = gpus;
  }

  /** Whether `value` is a {@link GpuUnavailableError} from any copy of this package. */
  static override isInstance(value: unknown): value is GpuUnavailableError {
    return DistError.isInstance(value) && value.code === 'DIST_GPU_UNAVAILABLE';
  }
}

/** Turns anything thrown into a plain, serialisable description. */
export function describeError(error: unknown): WorkerErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'NonError', message: String(error) };
}

/** Formats a list of ranks as `rank 2` or `ranks 1, 3`. */
export function formatRanks(ranks: readonly number[]): string {
  return ranks.length === 1 ? `rank ${ranks[0]}` : `ranks ${ranks.join(', ')}`;
}
