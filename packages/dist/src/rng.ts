/**
 * The toolkit's one seeded pseudo-random generator: xoshiro128**, seeded through splitmix32 from
 * any number of integers. It lives here, the lowest package that needs one (the
 * `DistributedSampler`'s order), and `@gorilla-ts/train` uses it for everything else (the global
 * generator of `setRandomSeed`, data-loader orders, data augmentations), so that one seed gives
 * the same streams everywhere: on every rank, machine and run.
 */

/** The JSON-able state of a {@link RandomGenerator}: restore it with {@link RandomGenerator.setState}. */
export interface RandomState {
  /** Always `xoshiro128**`. */
  algorithm: 'xoshiro128**';
  /** The four 32-bit words of the generator, as unsigned integers. */
  state: [number, number, number, number];
}

const TWO_POW_32 = 4294967296;

function splitmix32(state: number): [value: number, next: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [(z ^ (z >>> 16)) >>> 0, next];
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/**
 * A small, fast, seedable pseudo-random generator (xoshiro128**) whose whole state is four
 * integers, so it can be saved in a checkpoint and restored exactly. Seeded from one or more
 * non-negative safe integers (`new RandomGenerator(seed, epoch)`: each mixed in full). Not for
 * cryptography.
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

  /** @throws RangeError (or the subclass's {@link RandomGenerator.invalid} error) for a bad seed. */
  constructor(...seeds: number[]) {
    this.seed(...seeds);
  }

  /** Re-seeds in place: the same seeds always give the same sequence. */
  seed(...seeds: number[]): void {
    if (seeds.length === 0) throw this.invalid('A generator needs at least one seed.');
    let state = 0x2545f491;
    for (const seed of seeds) {
      if (!Number.isSafeInteger(seed) || seed < 0) {
        throw this.invalid(`A seed must be a non-negative safe integer, got ${seed}.`);
      }
      const low = seed >>> 0;
      const high = Math.floor(seed / TWO_POW_32) >>> 0;
      [, state] = splitmix32(state ^ low);
      [, state] = splitmix32(state ^ high);
    }
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [value, next] = splitmix32(state);
      words.push(value);
      state = next;
    }
    [this.#s0, this.#s1, this.#s2, this.#s3] = words as [number, number, number, number];
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

  /** A new generator of the same class seeded from this one (for a worker, a loader, an augmentation). */
  fork(): this {
    const Class = this.constructor as new (...seeds: number[]) => this;
    return new Class(this.nextUint32(), this.nextUint32());
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
   * @throws the {@link RandomGenerator.invalid} error for anything that is not such a state.
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
      throw this.invalid(
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

  /** The error for a bad seed or state: a `RangeError`; subclasses throw their package's own. */
  protected invalid(message: string): Error {
    return new RangeError(message);
  }
}

/** A uniformly random permutation of `0 .. length-1` (Fisher-Yates) determined by `seeds`. */
export function randomPermutation(length: number, ...seeds: number[]): number[] {
  return new RandomGenerator(...seeds).permutation(length);
}
