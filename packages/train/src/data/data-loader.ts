import * as tf from '@tensorflow/tfjs-core';
import { DataLoaderError } from '../errors.js';
import { type Collated, defaultCollate } from './collate.js';
import type { Dataset } from './dataset.js';
import { RandomSampler, type Sampler, SequentialSampler } from './sampler.js';
import { WorkerPool, workerModuleUrl } from './worker-pool.js';

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions<T, B> {
  /** Samples per batch. Defaults to `1`. */
  batchSize?: number;
  /**
   * Visit the dataset in a seeded random order that changes every epoch (ignored with a
   * `sampler`). Defaults to `false`.
   */
  shuffle?: boolean;
  /** The shuffle seed: the order depends only on `(seed, epoch)`. Defaults to `0`. */
  seed?: number;
  /** Drop the last batch when it is smaller than `batchSize`. Defaults to `false`. */
  dropLast?: boolean;
  /** Turns a list of samples into a batch. Defaults to {@link defaultCollate} (tensors). */
  collate?: (samples: T[]) => B;
  /**
   * The order of indices, instead of the loader's own (e.g. `@gorilla-ts/dist`'s
   * `DistributedSampler`); its `setEpoch` is called before each epoch. Defaults to none.
   */
  sampler?: Sampler;
  /**
   * How many batches load ahead of the one being consumed, so loading overlaps the training
   * step. `0` loads each batch only when asked for. Defaults to `2`.
   */
  prefetch?: number;
  /**
   * Worker threads that load samples off the main thread (for CPU-heavy transforms).
   * Needs `workerModule`. `0` loads on the main thread. Defaults to `0`.
   */
  numWorkers?: number;
  /**
   * With `numWorkers > 0`: the path (relative to the cwd) or URL of a JavaScript module that
   * each worker imports to build its own copy of the dataset. It exports
   * `createDataset(options)` (or a default function) returning a {@link Dataset} (or a promise
   * of one), or exports the dataset itself as `dataset`. The copy must have the same items in
   * the same order as the loader's dataset; samples must be structured-cloneable (numbers,
   * strings, typed arrays, {@link NdArray}s, plain objects and arrays: not tensors), and are
   * collated on the main thread. Defaults to none.
   */
  workerModule?: string | URL;
  /** Passed to the worker module's `createDataset(options)`. Defaults to `undefined`. */
  workerOptions?: unknown;
}

/** A loader's position, for checkpoints: see {@link DataLoader.stateDict}. */
export interface DataLoaderState {
  /** The epoch the next iteration runs. */
  epoch: number;
  /** Batches of that epoch already handed out; a resumed iteration starts after them. */
  batchIndex: number;
  /** The shuffle seed. */
  seed: number;
  /** The custom sampler's own state, when it has `stateDict()`. */
  sampler?: unknown;
}

/**
 * Batches a {@link Dataset} for training: seeded shuffling (or any sampler), batching with
 * optional drop-last, collation into tensors, prefetching so that loading overlaps compute, and
 * optional worker threads. Iterate it with `for await`; each full iteration is one epoch, after
 * which the epoch advances by itself (so the order changes) unless {@link DataLoader.setEpoch}
 * says otherwise.
 *
 * The position (epoch, batches consumed, seed) is saved by {@link DataLoader.stateDict}; after
 * {@link DataLoader.loadStateDict}, the next iteration skips the batches already consumed and
 * yields the rest in the same order as the uninterrupted run.
 *
 * Batches are yours: dispose their tensors after the step (`tf.dispose(batch)`). Batches loaded
 * ahead but never yielded (a `break`) are disposed by the loader. Call
 * {@link DataLoader.close} to stop worker threads.
 *
 * @example
 * ```ts
 * const loader = new DataLoader(dataset, { batchSize: 32, shuffle: true, seed: 42 });
 * for (let epoch = 0; epoch < 10; epoch += 1) {
 *   loader.setEpoch(epoch);
 *   for await (const batch of loader) { step(batch); tf.dispose(batch); }
 * }
 * ```
 */
export class DataLoader<T, B = Collated<T>> implements AsyncIterable<B> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly prefetch: number;
  readonly numWorkers: number;
  readonly #collate: (samples: T[]) => B;
  readonly #sampler: Sampler;
  readonly #ownSampler: RandomSampler | undefined;
  readonly #options: DataLoaderOptions<T, B>;
  #epoch = 0;
  #batchIndex = 0;
  #iterating = false;
  #pool: WorkerPool | undefined;

  constructor(dataset: Dataset<T>, options: DataLoaderOptions<T, B> = {}) {
    this.dataset = dataset;
    this.batchSize = positiveInteger(options.batchSize ?? 1, 'batchSize');
    this.dropLast = options.dropLast ?? false;
    this.prefetch = nonNegativeInteger(options.prefetch ?? 2, 'prefetch');
    this.numWorkers = nonNegativeInteger(options.numWorkers ?? 0, 'numWorkers');
    if (this.numWorkers > 0 && options.workerModule === undefined) {
      throw new DataLoaderError(
        'DataLoader: numWorkers > 0 needs workerModule, the module each worker imports to build the dataset.',
      );
    }
    // Refuse a data:/http: worker module here, before anything starts.
    if (options.workerModule !== undefined) workerModuleUrl(options.workerModule);
    this.#collate = options.collate ?? (defaultCollate as unknown as (samples: T[]) => B);
    this.#options = options;
    if (options.sampler !== undefined) {
      this.#sampler = options.sampler;
    } else if (options.shuffle) {
      this.#ownSampler = new RandomSampler(dataset.length, { seed: options.seed ?? 0 });
      this.#sampler = this.#ownSampler;
    } else {
      this.#sampler = new SequentialSampler(dataset.length);
    }
  }

  /** The epoch the next iteration runs. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Batches of the current epoch already handed out. */
  get batchIndex(): number {
    return this.#batchIndex;
  }

  /** The shuffle seed (0 when not shuffling). */
  get seed(): number {
    return this.#ownSampler?.seed ?? this.#options.seed ?? 0;
  }

  /** Batches per epoch. */
  get length(): number {
    const samples = this.#sampler.length ?? [...this.#sampler].length;
    return this.dropLast
      ? Math.floor(samples / this.batchSize)
      : Math.ceil(samples / this.batchSize);
  }

  /**
   * Sets the epoch of the next iteration (which decides the shuffle order). A different epoch
   * starts it from its first batch; the same epoch keeps the position (so calling it after
   * {@link DataLoader.loadStateDict} does not lose a mid-epoch resume).
   */
  setEpoch(epoch: number): void {
    nonNegativeInteger(epoch, 'epoch');
    if (epoch !== this.#epoch) this.#batchIndex = 0;
    this.#epoch = epoch;
  }

  /** The position to store in a checkpoint. */
  stateDict(): DataLoaderState {
    const state: DataLoaderState = {
      epoch: this.#epoch,
      batchIndex: this.#batchIndex,
      seed: this.seed,
    };
    const sampler = this.#ownSampler === undefined ? this.#sampler.stateDict?.() : undefined;
    if (sampler !== undefined) state.sampler = sampler;
    return state;
  }

  /**
   * Restores a position from {@link DataLoader.stateDict}.
   *
   * @throws {@link DataLoaderError} (`DATA_STATE_INVALID`) for a malformed state or a batch index
   *   past the end of the epoch.
   */
  loadStateDict(state: DataLoaderState): void {
    const valid =
      typeof state === 'object' &&
      state !== null &&
      Number.isInteger(state.epoch) &&
      state.epoch >= 0 &&
      Number.isInteger(state.batchIndex) &&
      state.batchIndex >= 0 &&
      typeof state.seed === 'number';
    if (!valid) {
      throw new DataLoaderError(
        `DataLoader.loadStateDict expects { epoch, batchIndex, seed } with non-negative integers, got ${JSON.stringify(state)}.`,
        { code: 'DATA_STATE_INVALID' },
      );
    }
    if (state.batchIndex > this.length) {
      throw new DataLoaderError(
        `DataLoader.loadStateDict: batchIndex ${state.batchIndex} is past the end of an epoch of ${this.length} batches.`,
        { code: 'DATA_STATE_INVALID' },
      );
    }
    this.#epoch = state.epoch;
    this.#batchIndex = state.batchIndex;
    if (this.#ownSampler !== undefined) this.#ownSampler.seed = state.seed;
    else if (state.sampler !== undefined) this.#sampler.loadStateDict?.(state.sampler);
  }

  /**
   * One epoch of batches, from the current position. Starting a second iteration while one is
   * open is refused (its first `next()` rejects).
   */
  [Symbol.asyncIterator](): AsyncIterator<B> {
    return this.#iterate();
  }

  /** Stops the worker threads, if any. The loader can be iterated again afterwards. */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
  }

  /** The batches of `epoch`, as index lists. */
  #batches(epoch: number): number[][] {
    this.#sampler.setEpoch?.(epoch);
    const indices = [...this.#sampler];
    const batches: number[][] = [];
    for (let start = 0; start < indices.length; start += this.batchSize) {
      const batch = indices.slice(start, start + this.batchSize);
      if (batch.length < this.batchSize && this.dropLast) break;
      batches.push(batch);
    }
    return batches;
  }

  async #load(indices: readonly number[]): Promise<B> {
    let samples: T[];
    if (this.numWorkers > 0) {
      this.#pool ??= new WorkerPool({
        module: this.#options.workerModule!,
        size: this.numWorkers,
        options: this.#options.workerOptions,
        expectedLength: this.dataset.length,
      });
      samples = (await this.#pool.load(indices)) as T[];
    } else {
      samples = await Promise.all(indices.map((index) => this.dataset.get(index)));
    }
    return this.#collate(samples);
  }

  async *#iterate(): AsyncGenerator<B, void, undefined> {
    if (this.#iterating) {
      throw new DataLoaderError(
        'DataLoader: an iteration is already running; finish or break it before starting another.',
      );
    }
    this.#iterating = true;
    const inFlight: Array<Promise<B>> = [];
    try {
      const epoch = this.#epoch;
      const batches = this.#batches(epoch);
      let next = this.#batchIndex;
      /** Starts loading batches until `target` are in flight. */
      const fill = (target: number) => {
        while (next < batches.length && inFlight.length < target) {
          const promise = this.#load(batches[next]!);
          // A batch loaded ahead may fail before it is awaited: its error surfaces at its turn.
          promise.catch(() => {});
          inFlight.push(promise);
          next += 1;
        }
      };
      // The current batch plus `prefetch` ahead: while batch k is consumed, k+1..k+prefetch load.
      fill(this.prefetch + 1);
      for (;;) {
        fill(1); // with prefetch 0, the next batch starts loading only when asked for
        if (inFlight.length === 0) break;
        const batch = await inFlight.shift()!;
        fill(this.prefetch);
        this.#batchIndex += 1;
        yield batch;
      }
      this.#epoch = epoch + 1;
      this.#batchIndex = 0;
    } finally {
      this.#iterating = false;
      const leftover = await Promise.allSettled(inFlight);
      for (const result of leftover) {
        if (result.status === 'fulfilled') tf.dispose(result.value as tf.TensorContainer);
      }
    }
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new DataLoaderError(`DataLoader: ${name} must be a positive integer, got ${value}.`);
  }
  return value;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new DataLoaderError(`DataLoader: ${name} must be a non-negative integer, got ${value}.`);
  }
  return value;
}
