import { RandomGenerator } from '../random/generator.js';
/**
 * The order in which a {@link DataLoader} visits a dataset: any iterable of indices. A sampler
 * that reshuffles per epoch has `setEpoch`, which the loader calls before each epoch (the
 * `DistributedSampler` of `@gorilla-ts/dist`, say). A `length`, when present, saves the loader
 * from iterating once to count.
 */
export interface Sampler extends Iterable<number> {
  setEpoch?(epoch: number): void;
  readonly length?: number;
  /** Extra state to store in checkpoints (e.g. a seed), returned by the loader's `stateDict`. */
  stateDict?(): unknown;
  loadStateDict?(state: unknown): void;
}

/** Visits `0, 1, ..., length - 1`. */
export class SequentialSampler implements Sampler {
  constructor(readonly length: number) {}

  *[Symbol.iterator](): Iterator<number> {
    for (let index = 0; index < this.length; index += 1) yield index;
  }
}

/** Options of {@link RandomSampler}. */
export interface RandomSamplerOptions {
  /** The base seed; each epoch's order depends on `(seed, epoch)` only. Defaults to `0`. */
  seed?: number;
}

/**
 * A permutation of `0..length-1` that depends only on `(seed, epoch)`: the same on every
 * machine and after a resume, different every epoch once {@link RandomSampler.setEpoch} is called
 * (the loader does it).
 */
export class RandomSampler implements Sampler {
  seed: number;
  epoch = 0;

  constructor(
    readonly length: number,
    options: RandomSamplerOptions = {},
  ) {
    this.seed = options.seed ?? 0;
  }

  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  [Symbol.iterator](): Iterator<number> {
    return permutation(this.length, this.seed, this.epoch)[Symbol.iterator]();
  }

  stateDict(): { seed: number } {
    return { seed: this.seed };
  }

  loadStateDict(state: unknown): void {
    const seed = (state as { seed?: unknown } | null)?.seed;
    if (typeof seed === 'number') this.seed = seed;
  }
}

/**
 * A Fisher–Yates permutation of `0..length-1` from the toolkit's seeded generator on
 * `(seed, epoch)`: the same order as dist's `DistributedSampler` gives for that seed and epoch
 * before sharding.
 */
export function permutation(length: number, seed: number, epoch = 0): number[] {
  return new RandomGenerator(seed, epoch).permutation(length);
}

/**
 * A deterministic generator of floats in [0, 1) from a seed: the toolkit's one generator
 * ({@link RandomGenerator}, xoshiro128**) as a function. `seed`: any number; its low 32 bits
 * count (negative and fractional seeds are folded into them). Not for cryptography.
 */
export function createRng(seed: number): () => number {
  const generator = new RandomGenerator(seed >>> 0);
  return () => generator.random();
}

/** Mixes integers (up to 2⁵³) into one 32-bit seed. */
export function hash32(...values: number[]): number {
  let hash = 0x811c9dc5;
  for (const value of values) {
    const low = value >>> 0;
    const high = Math.floor(value / 4294967296) >>> 0;
    for (const word of [low, high]) {
      hash = Math.imul(hash ^ word, 0x01000193) >>> 0;
      hash ^= hash >>> 13;
      hash = Math.imul(hash, 0x5bd1e995) >>> 0;
      hash ^= hash >>> 15;
    }
  }
  return hash >>> 0;
}
