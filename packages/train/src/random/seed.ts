import { currentRank } from '../utils/rank.js';
import { globalRandom } from './global.js';

export {
  getRandomGenerator,
  getRandomSeed,
  getRandomState,
  nextOpSeed,
  setRandomState,
} from './global.js';

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
