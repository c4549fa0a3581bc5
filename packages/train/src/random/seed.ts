import { randomInt } from 'node:crypto';
import { currentRank } from '../utils/rank.js';
import { RandomGenerator, type RandomState } from './generator.js';

const GLOBAL = Symbol.for('@gorilla-ts/train.random');

interface GlobalRandom {
  generator: RandomGenerator;
  seed: number | undefined;
}

function globalRandom(): GlobalRandom {
  const holder = globalThis as typeof globalThis & { [GLOBAL]?: GlobalRandom };
  // Until setRandomSeed() is called, runs differ (seeded from the OS), as in PyTorch's `random`.
  holder[GLOBAL] ??= { generator: new RandomGenerator(randomInt(2 ** 47)), seed: undefined };
  return holder[GLOBAL];
}

/** Options of {@link setRandomSeed}. */
export interface SetRandomSeedOptions {
  /**
   * Add this process's rank to the seed (`seed + rank`), so that data-parallel workers draw
   * different augmentations. Defaults to `false`.
   */
  rankShift?: boolean;
  /** Receives `set random seed: <seed>`. Defaults to no logging. */
  logger?: (line: string) => void;
}

/**
 * Seeds the package generator, which this package uses for data order, dropout masks,
 * augmentation and weight initialisation, and from which it derives the `seed` argument of every
 * tfjs random op it calls (tfjs has no global seed). Call it before building the model.
 * A run seeded the same way is reproducible; {@link getRandomState} goes into checkpoints.
 *
 * @returns the seed actually used (`seed + rank` with `rankShift`).
 */
export function setRandomSeed(seed: number, options: SetRandomSeedOptions = {}): number {
  const effective = options.rankShift ? seed + currentRank() : seed;
  const random = globalRandom();
  random.generator.seed(effective);
  random.seed = effective;
  options.logger?.(`set random seed: ${effective}`);
  return effective;
}

/** The seed last given to {@link setRandomSeed} (after the rank shift), or undefined. */
export function getRandomSeed(): number | undefined {
  return globalRandom().seed;
}

/** The package generator (shared by every copy of this package in the process). */
export function getRandomGenerator(): RandomGenerator {
  return globalRandom().generator;
}

/** A seed for one tfjs random op, drawn from the package generator. */
export function nextOpSeed(): number {
  return globalRandom().generator.nextSeed();
}

/** The package generator's state (what a checkpoint stores). */
export function getRandomState(): RandomState {
  return globalRandom().generator.getState();
}

/**
 * Restores the package generator's state.
 *
 * @throws {@link RandomStateError} for anything that is not a saved state.
 */
export function setRandomState(state: RandomState): void {
  globalRandom().generator.setState(state);
}
