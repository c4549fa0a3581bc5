import { RandomGenerator as SharedGenerator } from '@gorilla-ts/dist/rng';
import { RandomStateError } from '../errors.js';

export type { RandomState } from '@gorilla-ts/dist/rng';

/**
 * The toolkit's one seeded generator (xoshiro128**, from `@gorilla-ts/dist`, which needs it for
 * the `DistributedSampler`), throwing this package's {@link RandomStateError} for a bad seed or
 * state. The same seeds give the same stream as dist's. Not for cryptography.
 *
 * @example
 * ```ts
 * const rng = new RandomGenerator(42);
 * rng.random(); // in [0, 1)
 * rng.shuffle([1, 2, 3]);
 * const saved = rng.getState(); // ... later: rng.setState(saved)
 * ```
 */
export class RandomGenerator extends SharedGenerator {
  protected override invalid(message: string): Error {
    return new RandomStateError(message);
  }
}
