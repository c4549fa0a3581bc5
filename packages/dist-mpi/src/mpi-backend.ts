import type { BackendReduceOp, NumericArray, ProcessGroupBackend } from '@gorilla-ts/dist';
import { DistError } from '@gorilla-ts/dist';
import { type MpiAddon, type MpiInfo, requireAddon } from './addon.js';

/** Default collective timeout: 30 minutes, as in `@gorilla-ts/dist`. */
const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of {@link MpiBackend}. */
export interface MpiBackendOptions {
  /**
   * A collective still running after this many ms aborts the MPI job with a message naming it
   * (MPI collectives cannot be cancelled, so a rank that never joins would hang the others).
   * Defaults to `GORILLA_DIST_TIMEOUT_MS`, else 30 minutes.
   */
  timeoutMs?: number;
  /**
   * Before each collective, all-gather a short description of it (operation, array kind and
   * length, op or root) and fail with `DIST_MISMATCH` on every rank when the ranks disagree,
   * instead of MPI's undefined behaviour (usually a hang or garbage). Costs one small all-gather
   * per call, and calls no longer overlap: for debugging. Defaults to `GORILLA_DIST_MPI_CHECK=1`.
   */
  checkCollectives?: boolean;
}

type Kind = { new (buffer: ArrayBuffer, byteOffset: number, length: number): NumericArray };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function readTimeoutMs(): number | undefined {
  const raw = process.env.GORILLA_DIST_TIMEOUT_MS;
  const value = Number(raw);
  return raw && Number.isInteger(value) && value > 0 ? value : undefined;
}

function describe(buffer: NumericArray): string {
  return `${buffer.constructor.name}[${buffer.length}]`;
}

/** Splits one gathered buffer into per-rank arrays of the same kind as `buffer` (views). */
function split<T extends NumericArray>(buffer: T, gathered: ArrayBuffer, ranks: number): T[] {
  const Kind = buffer.constructor as Kind;
  return Array.from(
    { length: ranks },
    (_, rank) => new Kind(gathered, rank * buffer.byteLength, buffer.length) as T,
  );
}

/**
 * The process-group backend over MPI (`mpirun`, `srun`). Ranks and sizes come from
 * `MPI_COMM_WORLD`, local ranks from `MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)`. Collectives
 * call `MPI_Allreduce` (in place), `MPI_Bcast`, `MPI_Allgather`, `MPI_Gather` and `MPI_Barrier` on
 * the binding's own MPI thread, in call order, and never block the event loop.
 *
 * MPI is initialised once per process: after `destroy()` (which finalises MPI) no other
 * `MpiBackend` can start in the same process.
 */
export class MpiBackend implements ProcessGroupBackend {
  /** Always `mpi`. */
  readonly name = 'mpi';
  private info: MpiInfo | undefined;
  private addon: MpiAddon | undefined;
  private readonly timeoutMs: number;
  private readonly checkCollectives: boolean;
  private state: 'new' | 'initializing' | 'ready' | 'destroyed' = 'new';
  private broken: DistError | undefined;
  private seq = 0;
  private pending = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: MpiBackendOptions = {}) {
    const timeoutMs = options.timeoutMs ?? readTimeoutMs() ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0)) {
      throw new DistError(
        'DIST_INVALID_ARGUMENT',
        `timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`,
      );
    }
    this.timeoutMs = Math.min(timeoutMs, MAX_TIMER_MS);
    this.checkCollectives = options.checkCollectives ?? process.env.GORILLA_DIST_MPI_CHECK === '1';
  }

  /** This process's rank in `MPI_COMM_WORLD` (0 before `init`). */
  get rank(): number {
    return this.info?.rank ?? 0;
  }

  /** Size of `MPI_COMM_WORLD` (1 before `init`). */
  get worldSize(): number {
    return this.info?.size ?? 1;
  }

  /** Rank among the processes that share this machine's memory (0 before `init`). */
  get localRank(): number {
    return this.info?.localRank ?? 0;
  }

  /** Number of processes on this machine (1 before `init`). */
  get localSize(): number {
    return this.info?.localSize ?? 1;
  }

  /** What MPI reported at `init`: thread level, library version, processor name; or `undefined`. */
  get mpi(): Readonly<MpiInfo> | undefined {
    return this.info;
  }

  /**
   * Initialises MPI (`MPI_Init_thread`, `MPI_THREAD_FUNNELED`) on the binding's MPI thread. Fails
   * with `DIST_BACKEND_UNAVAILABLE` when the addon is not built, and `DIST_BACKEND_FAILED` when
   * MPI cannot start (or was already finalised in this process).
   */
  async init(): Promise<void> {
    if (this.state !== 'new') {
      throw new DistError(
        'DIST_ALREADY_INITIALIZED',
        'this MpiBackend was initialised already: create one backend per process',
      );
    }
    const addon = requireAddon();
    this.state = 'initializing';
    try {
      this.info = await addon.init();
    } catch (error) {
      this.state = 'destroyed';
      throw new DistError(
        'DIST_BACKEND_FAILED',
        `MPI could not be initialised: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.addon = addon;
    this.state = 'ready';
    // A program that ends without destroying the group still finalises MPI, so that the MPI
    // launcher sees a clean exit; after a failure (non-zero exit code) it does not: the launcher
    // then stops the other ranks instead of leaving them waiting.
    process.once('exit', (code) => {
      if (this.state === 'ready' && code === 0 && this.pending === 0 && !this.broken) {
        this.state = 'destroyed';
        addon.finalizeSync();
      }
    });
  }

  allReduce(buffer: NumericArray, op: BackendReduceOp): Promise<void> {
    return this.run('allReduce', `${describe(buffer)} ${op}`, (addon) =>
      addon.allReduce(buffer, op),
    );
  }

  broadcast(buffer: NumericArray, src: number): Promise<void> {
    return this.run('broadcast', `${describe(buffer)} from ${src}`, (addon) =>
      addon.broadcast(buffer, src),
    );
  }

  async allGather<T extends NumericArray>(buffer: T): Promise<T[]> {
    const gathered = await this.run('allGather', describe(buffer), (addon) =>
      addon.allGather(buffer),
    );
    return split(buffer, gathered, this.worldSize);
  }

  async gather<T extends NumericArray>(buffer: T, dst: number): Promise<T[]> {
    const gathered = await this.run('gather', `${describe(buffer)} to ${dst}`, (addon) =>
      addon.gather(buffer, dst),
    );
    return gathered ? split(buffer, gathered, this.worldSize) : [];
  }

  barrier(): Promise<void> {
    return this.run('barrier', '', (addon) => addon.barrier());
  }

  /**
   * Every rank's JSON value, indexed by rank, in one `MPI_Allgatherv` of the UTF-8 bytes (the
   * values may differ in length). The generic `allGatherObject` of `@gorilla-ts/dist` works too;
   * this one is a single collective.
   */
  async allGatherObject<T>(value: T): Promise<T[]> {
    const text = JSON.stringify(value);
    if (text === undefined) {
      throw new DistError(
        'DIST_INVALID_ARGUMENT',
        `allGatherObject expects a JSON value, got ${typeof value}`,
      );
    }
    const bytes = encoder.encode(text);
    const { data, sizes } = await this.run('allGatherObject', '', (addon) =>
      addon.allGatherBytes(bytes),
    );
    let offset = 0;
    return Array.from(sizes, (size) => {
      const part = new Uint8Array(data, offset, size);
      offset += size;
      return JSON.parse(decoder.decode(part)) as T;
    });
  }

  /**
   * Finalises MPI (`MPI_Finalize`, after the collectives already queued). After a failure, or
   * with a collective still running, it only marks the backend destroyed: finalising could wait
   * forever for ranks that are gone, and the MPI launcher ends the job when this process exits.
   */
  async destroy(): Promise<void> {
    if (this.state === 'destroyed') return;
    const addon = this.addon;
    const clean = this.state === 'ready' && !this.broken && this.pending === 0;
    this.state = 'destroyed';
    this.broken ??= new DistError('DIST_GROUP_BROKEN', 'the MPI process group was destroyed');
    if (!addon || !clean) return;
    try {
      await addon.finalize();
    } catch (error) {
      throw new DistError('DIST_BACKEND_FAILED', (error as Error).message, { cause: error });
    }
  }

  /**
   * Ends the whole MPI job after `main` failed on this rank: prints the error with the rank, then
   * `MPI_Abort(MPI_COMM_WORLD, 1)`. Called by `launch()`; never returns.
   */
  async abort(reason: unknown): Promise<void> {
    const text = reason instanceof Error ? (reason.stack ?? String(reason)) : String(reason);
    process.stderr.write(
      `[gorilla-dist-mpi] rank ${this.rank} failed: ${text}\n` +
        '[gorilla-dist-mpi] aborting the MPI job (MPI_Abort)\n',
    );
    this.killJob();
  }

  private killJob(): never {
    const addon = this.addon ?? requireAddon();
    return addon.abort(1);
  }

  private usable(operation: string): MpiAddon {
    if (this.broken) throw this.broken;
    if (this.state !== 'ready' || !this.addon) {
      throw new DistError(
        'DIST_GROUP_BROKEN',
        `${operation}: the MPI backend is ${this.state === 'destroyed' ? 'destroyed' : 'not initialised'}`,
      );
    }
    return this.addon;
  }

  /** Queues one collective: in call order, with the watchdog, errors as `DistError`s. */
  private run<R>(
    operation: string,
    details: string,
    start: (addon: MpiAddon) => Promise<R>,
  ): Promise<R> {
    let addon: MpiAddon;
    try {
      addon = this.usable(operation);
    } catch (error) {
      return Promise.reject(error);
    }
    const seq = ++this.seq;
    const name = `${operation} #${seq}`;
    if (!this.checkCollectives) return this.watch(name, () => start(addon));
    const signature = `${operation}(${details})`;
    const result = this.tail.then(async () => {
      await this.watch(`${name} (check)`, () => this.checkSignature(addon, name, signature));
      return this.watch(name, () => start(addon));
    });
    this.tail = result.catch(() => {});
    return result;
  }

  private async watch<R>(name: string, start: () => Promise<R>): Promise<R> {
    this.pending++;
    const timer = setTimeout(() => this.timedOut(name), this.timeoutMs);
    timer.unref();
    try {
      return await start();
    } catch (error) {
      if (DistError.isInstance(error)) throw error;
      const failure = new DistError(
        'DIST_BACKEND_FAILED',
        `${name} failed on rank ${this.rank}: ${(error as Error).message}`,
        { cause: error },
      );
      this.broken ??= new DistError(
        'DIST_GROUP_BROKEN',
        `the MPI process group failed earlier (${failure.message})`,
        { cause: failure },
      );
      throw failure;
    } finally {
      clearTimeout(timer);
      this.pending--;
    }
  }

  private async checkSignature(addon: MpiAddon, name: string, signature: string): Promise<void> {
    const { data, sizes } = await addon.allGatherBytes(encoder.encode(signature));
    const all: string[] = [];
    let offset = 0;
    for (const size of sizes) {
      all.push(decoder.decode(new Uint8Array(data, offset, size)));
      offset += size;
    }
    if (all.every((other) => other === signature)) return;
    const error = new DistError(
      'DIST_MISMATCH',
      `${name}: the ranks called different collectives: ${all
        .map((call, rank) => `rank ${rank} ${call}`)
        .join(', ')}`,
    );
    this.broken ??= error;
    throw error;
  }

  private timedOut(name: string): void {
    process.stderr.write(
      `[gorilla-dist-mpi] rank ${this.rank}: ${name} did not complete within ${this.timeoutMs} ms ` +
        '(a rank never called it, or is stuck or gone); aborting the MPI job, since MPI ' +
        'collectives cannot be cancelled (raise GORILLA_DIST_TIMEOUT_MS if ranks just wait long)\n',
    );
    this.killJob();
  }
}
