import { afterEach, describe, expect, it } from 'vitest';
import { TrainError } from '../src/errors.js';
import { RandomGenerator } from '../src/random/generator.js';
import {
  getRandomGenerator,
  getRandomSeed,
  getRandomState,
  nextOpSeed,
  setRandomSeed,
  setRandomState,
} from '../src/random/seed.js';

describe('RandomGenerator', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new RandomGenerator(42);
    const b = new RandomGenerator(42);
    const c = new RandomGenerator(43);
    const draws = (rng: RandomGenerator) => Array.from({ length: 8 }, () => rng.nextUint32());
    const first = draws(a);
    expect(draws(b)).toEqual(first);
    expect(draws(c)).not.toEqual(first);
    for (const value of first)
      expect(Number.isInteger(value) && value >= 0 && value < 2 ** 32).toBe(true);
  });

  it('accepts seeds above 2^32 and tells them apart', () => {
    expect(new RandomGenerator(2 ** 40).nextUint32()).not.toBe(
      new RandomGenerator(2 ** 40 + 2 ** 32).nextUint32(),
    );
    expect(() => new RandomGenerator(-1)).toThrow(/non-negative safe integer/);
    expect(() => new RandomGenerator(1.5)).toThrow(/non-negative safe integer/);
  });

  it('draws uniform doubles, bounded integers and permutations', () => {
    const rng = new RandomGenerator(1);
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const value = rng.random();
      expect(value >= 0 && value < 1).toBe(true);
      sum += value;
    }
    expect(sum / 20000).toBeCloseTo(0.5, 1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[rng.int(3)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
    const permutation = rng.permutation(50);
    expect([...permutation].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(permutation).not.toEqual([...Array(50).keys()]);
    let squares = 0;
    for (let i = 0; i < 20000; i++) squares += rng.normal() ** 2;
    expect(squares / 20000).toBeCloseTo(1, 1);
  });

  it('restores its state exactly, and rejects what is not a state', () => {
    const rng = new RandomGenerator(7);
    rng.nextUint32();
    const state = rng.getState();
    const next = [rng.nextUint32(), rng.random(), rng.int(10)];
    const other = new RandomGenerator(99);
    other.setState(JSON.parse(JSON.stringify(state)));
    expect([other.nextUint32(), other.random(), other.int(10)]).toEqual(next);
    expect(() => other.setState({ algorithm: 'xoshiro128**', state: [0, 0, 0, 0] })).toThrow(
      /Not a random-generator state/,
    );
    try {
      other.setState({ nope: true } as never);
      expect.unreachable();
    } catch (error) {
      expect(TrainError.isInstance(error) && error.code).toBe('RANDOM_STATE_INVALID');
    }
  });

  it('forks independent generators deterministically', () => {
    const a = new RandomGenerator(5).fork();
    const b = new RandomGenerator(5).fork();
    expect(a.nextUint32()).toBe(b.nextUint32());
  });
});

describe('setRandomSeed', () => {
  const savedRank = process.env.RANK;
  afterEach(() => {
    if (savedRank === undefined) delete process.env.RANK;
    else process.env.RANK = savedRank;
  });

  it('seeds the package generator so that draws and op seeds repeat', () => {
    setRandomSeed(123);
    const first = [getRandomGenerator().random(), nextOpSeed()];
    setRandomSeed(123);
    expect([getRandomGenerator().random(), nextOpSeed()]).toEqual(first);
    expect(getRandomSeed()).toBe(123);
  });

  it('shifts the seed by the rank on request and logs it', () => {
    process.env.RANK = '3';
    const lines: string[] = [];
    expect(setRandomSeed(10, { rankShift: true, logger: (line) => lines.push(line) })).toBe(13);
    expect(lines).toEqual(['set random seed: 13']);
    expect(setRandomSeed(10)).toBe(10);
  });

  it('saves and restores the package state', () => {
    setRandomSeed(1);
    const state = getRandomState();
    const draws = [nextOpSeed(), nextOpSeed()];
    setRandomState(state);
    expect([nextOpSeed(), nextOpSeed()]).toEqual(draws);
  });
});
