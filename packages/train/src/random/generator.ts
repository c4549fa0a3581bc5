import { RandomStateError } from '../errors.js';

/** The JSON-able state of a {@link RandomGenerator}: restore it with {@link RandomGenerator.setState}. */
export interface RandomState {
  /** Always `xoshiro128**`. */
  algorithm: 'xoshiro128**';
  /** The four 32-bit words of the generator, as unsigned integers. */
  state: [number, number, number, number];
}

const TWO_POW_32 = 4294967296;

/**
 * A small, fast, seedable pseudo-random generator (xoshiro128**, seeded through splitmix32)
 * whose whole state is four integers, so it can be saved in a checkpoint and restored exactly.
 * Not for cryptography.
 *
 * @example
 * ```ts
 * const rng = new RandomGenerator(42);
 * rng.random(); // in [0, 1)
 * rng.shuffle([1, 2, 3]);
 * const saved = rng.getState(); // ... later: rng.setState(saved)
 * ```
 */
export class RandomGenerator {
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;

  /** Seeds the generator from a non-negative safe integer. */
  constructor(seed: number) {
    this.seed(seed);
  }

  /** Re-seeds in place: the same seed always gives the same sequence. */
  seed(seed: number): void {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RandomStateError(`A seed must be a non-negative safe integer, got ${seed}.`);
    }
    const low = seed >>> 0;
    const high = Math.floor(seed / TWO_POW_32) >>> 0;
    let x = (low ^ Math.imul(high, 0x85ebca6b) ^ 0x9e3779b9) | 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x ^ (x >>> 16);
      z = Math.imul(z, 0x21f0aaad);
      z ^= z >>> 15;
      z = Math.imul(z, 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s1 = this.#s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A uniform double in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** A uniform integer in [0, n), without modulo bias. `n` must be a positive integer up to 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) {
      throw new RangeError(`int(n) needs an integer n in [1, 2^32], got ${n}.`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let value = this.nextUint32();
    while (value >= limit) value = this.nextUint32();
    return value % n;
  }

  /** A normally distributed double (Box-Muller; uses two uniform draws per call). */
  normal(mean = 0, std = 1): number {
    const u = 1 - this.random();
    const v = this.random();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const item = array[i]!;
      array[i] = array[j]!;
      array[j] = item;
    }
    return array;
  }

  /** A random permutation of `0 .. n-1`. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, index) => index));
  }

  /**
   * A seed for a tfjs random op (`tf.randomUniform(shape, 0, 1, 'float32', rng.nextSeed())`),
   * so that tfjs's own random numbers follow this generator.
   */
  nextSeed(): number {
    return this.nextUint32();
  }

  /** A new generator seeded from this one (for a worker, a data loader, an augmentation). */
  fork(): RandomGenerator {
    return new RandomGenerator(this.nextUint32() * 2097152 + (this.nextUint32() >>> 11));
  }

  /** The full state, JSON-able. */
  getState(): RandomState {
    return {
      algorithm: 'xoshiro128**',
      state: [this.#s0 >>> 0, this.#s1 >>> 0, this.#s2 >>> 0, this.#s3 >>> 0],
    };
  }

  /**
   * Restores a state from {@link RandomGenerator.getState}.
   *
   * @throws {@link RandomStateError} for anything that is not such a state.
   */
  setState(state: RandomState): void {
    const words = (state as { state?: unknown } | null)?.state;
    if (
      (state as { algorithm?: unknown } | null)?.algorithm !== 'xoshiro128**' ||
      !Array.isArray(words) ||
      words.length !== 4 ||
      !words.every((word) => Number.isInteger(word) && word >= 0 && word < TWO_POW_32) ||
      words.every((word) => word === 0)
    ) {
      throw new RandomStateError(
        `Not a random-generator state: expected { algorithm: 'xoshiro128**', state: [4 unsigned 32-bit integers, not all 0] }, got ${JSON.stringify(state)}.`,
      );
    }
    [this.#s0, this.#s1, this.#s2, this.#s3] = (words as number[]).map((word) => word | 0) as [
      number,
      number,
      number,
      number,
    ];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
