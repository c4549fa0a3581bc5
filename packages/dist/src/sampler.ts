import { DistError } from './errors.js';
import { getRank, getWorldSize } from './process-group.js';
import { randomPermutation } from './rng.js';

/** Options of {@link DistributedSampler}. */
export interface DistributedSamplerOptions {
  /** Number of ranks sharing the dataset. Defaults to `getWorldSize()`. */
  numReplicas?: number;
  /** This rank. Defaults to `getRank()`. */
  rank?: number;
  /** Whether to shuffle (a new order each epoch, the same on every rank). Defaults to true. */
  shuffle?: boolean;
  /** Seed of the shuffle; must be the same on every rank. Defaults to 0. */
  seed?: number;
  /**
   * Whether to drop the tail that does not divide evenly among ranks, instead of padding.
   * Defaults to false.
   */
  dropLast?: boolean;
}

/** Options of {@link InferenceSampler}. */
export interface InferenceSamplerOptions {
  /** Number of ranks sharing the dataset. Defaults to `getWorldSize()`. */
  numReplicas?: number;
  /** This rank. Defaults to `getRank()`. */
  rank?: number;
}

/** What a sampler saves in a checkpoint. */
export interface SamplerState {
  /** The epoch whose order the sampler gives. */
  epoch: number;
  /** The shuffle seed. */
  seed: number;
}

type Sized = number | { readonly length: number };

function checkedLength(dataset: Sized): number {
  const length = typeof dataset === 'number' ? dataset : dataset.length;
  if (!Number.isInteger(length) || length < 0) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `a sampler needs a dataset length that is an integer >= 0, got ${length}`,
    );
  }
  return length;
}

function checkedReplicas(options: { numReplicas?: number; rank?: number }): [number, number] {
  const numReplicas = options.numReplicas ?? getWorldSize();
  const rank = options.rank ?? getRank();
  if (!Number.isInteger(numReplicas) || numReplicas < 1) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `numReplicas must be an integer >= 1, got ${numReplicas}`,
    );
  }
  if (!Number.isInteger(rank) || rank < 0 || rank >= numReplicas) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `rank must be an integer in [0, ${numReplicas}), got ${rank}`,
    );
  }
  return [numReplicas, rank];
}

/**
 * Splits a dataset's indices among the ranks of a data-parallel run, like PyTorch's
 * `DistributedSampler`: each epoch, one permutation (seeded by `seed` and the epoch, identical on every
 * rank; the identity when `shuffle` is false) is dealt out round-robin, rank `r` taking positions
 * `r, r + numReplicas, r + 2 numReplicas, ...`.
 *
 * Padding: when `length` is not a multiple of `numReplicas`, the permutation is extended by
 * repeating its first elements until it is, so every rank yields `ceil(length / numReplicas)`
 * indices and every sample appears once per epoch, a few of them twice. With `dropLast` the tail
 * is dropped instead: `floor(length / numReplicas)` each, and up to `numReplicas - 1` samples are
 * left out that epoch (different ones each epoch when shuffling).
 *
 * Call {@link DistributedSampler.setEpoch} at the start of every epoch; without it every epoch
 * repeats the same order.
 */
export class DistributedSampler implements Iterable<number> {
  /** Number of samples in the dataset. */
  readonly datasetLength: number;
  /** Number of ranks sharing the dataset. */
  readonly numReplicas: number;
  /** This rank. */
  readonly rank: number;
  /** Whether the order is shuffled. */
  readonly shuffle: boolean;
  /** Whether the uneven tail is dropped. */
  readonly dropLast: boolean;
  /** Indices per rank and epoch. */
  readonly length: number;
  /** Indices per epoch over all ranks (`length * numReplicas`). */
  readonly totalSize: number;
  private seedValue: number;
  private epochValue = 0;

  constructor(dataset: Sized, options: DistributedSamplerOptions = {}) {
    this.datasetLength = checkedLength(dataset);
    [this.numReplicas, this.rank] = checkedReplicas(options);
    this.shuffle = options.shuffle ?? true;
    this.dropLast = options.dropLast ?? false;
    this.seedValue = checkInteger('seed', options.seed ?? 0);
    this.length = this.dropLast
      ? Math.floor(this.datasetLength / this.numReplicas)
      : Math.ceil(this.datasetLength / this.numReplicas);
    this.totalSize = this.length * this.numReplicas;
  }

  /** The epoch whose order the sampler currently gives. */
  get epoch(): number {
    return this.epochValue;
  }

  /** The shuffle seed. */
  get seed(): number {
    return this.seedValue;
  }

  /** Selects the order of `epoch`; call it with the same value on every rank. */
  setEpoch(epoch: number): void {
    this.epochValue = checkInteger('epoch', epoch);
  }

  /** This rank's indices for the current epoch. */
  indices(): number[] {
    const n = this.datasetLength;
    const order = this.shuffle
      ? randomPermutation(n, this.seedValue, this.epochValue)
      : Array.from({ length: n }, (_, i) => i);
    const result: number[] = [];
    for (let position = this.rank; position < this.totalSize; position += this.numReplicas) {
      result.push(order[position % n]!);
    }
    return result;
  }

  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }

  /** The state to save in a checkpoint. */
  stateDict(): SamplerState {
    return { epoch: this.epochValue, seed: this.seedValue };
  }

  /** Restores a state saved by {@link DistributedSampler.stateDict}. */
  loadStateDict(state: SamplerState): void {
    this.epochValue = checkInteger('epoch', state.epoch);
    this.seedValue = checkInteger('seed', state.seed);
  }
}

function checkInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DistError('DIST_INVALID_ARGUMENT', `${name} must be an integer >= 0, got ${value}`);
  }
  return value;
}

/**
 * Splits a dataset's indices into contiguous, nearly equal shards, one per rank, without padding
 * or shuffling, so that a distributed evaluation sees every sample exactly once. Shard sizes differ
 * by at most one (the first `length mod numReplicas` ranks take one more).
 */
export class InferenceSampler implements Iterable<number> {
  /** Number of samples in the dataset. */
  readonly datasetLength: number;
  /** Number of ranks sharing the dataset. */
  readonly numReplicas: number;
  /** This rank. */
  readonly rank: number;
  /** First index of this rank's shard. */
  readonly begin: number;
  /** Number of indices in this rank's shard. */
  readonly length: number;

  constructor(dataset: Sized, options: InferenceSamplerOptions = {}) {
    this.datasetLength = checkedLength(dataset);
    [this.numReplicas, this.rank] = checkedReplicas(options);
    const base = Math.floor(this.datasetLength / this.numReplicas);
    const extra = this.datasetLength % this.numReplicas;
    this.begin = base * this.rank + Math.min(this.rank, extra);
    this.length = base + (this.rank < extra ? 1 : 0);
  }

  /** This rank's indices. */
  indices(): number[] {
    return Array.from({ length: this.length }, (_, i) => this.begin + i);
  }

  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}
