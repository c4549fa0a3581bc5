import { createRng as createUniform } from '@gorilla-ts/train';

/**
 * A tiny seeded PRNG (mulberry32) and seed mixing, so that every random draw of the data sets is
 * reproducible from `(seed, epoch, index)` alone.
 */

/** A source of uniform numbers in `[0, 1)` and standard normal numbers. */
export interface Rng {
  /** Uniform in `[0, 1)`. */
  next(): number;
  /** Uniform in `[low, high)`. */
  uniform(low: number, high: number): number;
  /** Standard normal (Marsaglia's polar method). */
  normal(): number;
  /** Uniform integer in `[0, n)`. */
  int(n: number): number;
}

/** Mixes 32-bit integers into one well-spread 32-bit seed (murmur3's finaliser per step). */
export function mixSeed(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Fold in values beyond 32 bits too (epochs and indices stay small, seeds may not).
    const low = part >>> 0;
    const high = Math.floor(part / 0x100000000) >>> 0;
    h = fmix32((h ^ low) + 0x7f4a7c15);
    if (high !== 0) h = fmix32((h ^ high) + 0x7f4a7c15);
  }
  return h >>> 0;
}

function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * mulberry32 (train's `createRng`: 32 bits of state, fast, and good enough for data
 * augmentation), with the uniform, integer and normal draws the augmentations need.
 */
export class Mulberry32 implements Rng {
  readonly next: () => number;
  #spare = 0;
  #hasSpare = false;

  constructor(seed: number) {
    this.next = createUniform(seed);
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  normal(): number {
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return this.#spare;
    }
    // Marsaglia's polar method: two normals per accepted pair, no trigonometry.
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s);
    this.#spare = v * factor;
    this.#hasSpare = true;
    return u * factor;
  }
}

/** A mulberry32 generator seeded with `seed` (any number; only its low 32 bits count). */
export function createRng(seed: number): Rng {
  return new Mulberry32(seed);
}
