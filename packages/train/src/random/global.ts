import { RandomGenerator, type RandomState } from './generator.js';

const GLOBAL = Symbol.for('@gorilla-ts/train.random');

interface GlobalRandom {
  generator: RandomGenerator;
  seed: number | undefined;
}

/**
 * The package generator, shared by every copy of this package in the realm (Node or browser).
 * This module imports nothing Node-only: the browser entry (`@gorilla-ts/train/nn`) uses it.
 *
 * @internal
 */
export function globalRandom(): GlobalRandom {
  const holder = globalThis as typeof globalThis & { [GLOBAL]?: GlobalRandom };
  // Until setRandomSeed() is called, runs differ (seeded from the OS), as in PyTorch's `random`.
  holder[GLOBAL] ??= { generator: new RandomGenerator(osSeed()), seed: undefined };
  return holder[GLOBAL];
}

/** A 47-bit seed from the platform's CSPRNG (Web Crypto: Node ≥ 19 and every browser). */
function osSeed(): number {
  const words = globalThis.crypto.getRandomValues(new Uint32Array(2));
  return (words[0]! & 0x7fff) * 2 ** 32 + words[1]!;
}

/** The seed last given to `setRandomSeed` (after the rank shift), or undefined. */
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
