/**
 * A small seeded pseudo-random generator (xoshiro128**, seeded through splitmix32), so that the
 * sampler's order depends only on its seed and epoch: the same on every rank, machine and run.
 */

function splitmix32(state: number): [value: number, next: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [(z ^ (z >>> 16)) >>> 0, next];
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** xoshiro128** seeded from any number of integers (each mixed in full, up to 2^53). */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(...seeds: number[]) {
    let state = 0x2545f491;
    for (const seed of seeds) {
      const low = seed >>> 0;
      const high = Math.floor(seed / 2 ** 32) >>> 0;
      [, state] = splitmix32(state ^ low);
      [, state] = splitmix32(state ^ high);
    }
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [value, next] = splitmix32(state);
      words.push(value);
      state = next;
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next value in `[0, 2^32)`. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform integer in `[0, bound)`, without modulo bias; `bound` in `[1, 2^32]`. */
  nextBelow(bound: number): number {
    const limit = 2 ** 32 - (2 ** 32 % bound);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % bound;
    }
  }
}

/** A uniformly random permutation of `0 .. length-1` (Fisher-Yates) determined by `seeds`. */
export function randomPermutation(length: number, ...seeds: number[]): number[] {
  const rng = new Rng(...seeds);
  const order = Array.from({ length }, (_, i) => i);
  for (let i = length - 1; i > 0; i--) {
    const j = rng.nextBelow(i + 1);
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}
