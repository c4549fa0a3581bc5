import { describe, expect, it } from 'vitest';
import { DistributedSampler, InferenceSampler } from '../src/index.js';

const shards = (
  length: number,
  n: number,
  options: { shuffle?: boolean; seed?: number; dropLast?: boolean; epoch?: number } = {},
) =>
  Array.from({ length: n }, (_, rank) => {
    const sampler = new DistributedSampler(length, { numReplicas: n, rank, ...options });
    if (options.epoch !== undefined) sampler.setEpoch(options.epoch);
    return [...sampler];
  });

describe('DistributedSampler', () => {
  it.each([
    [10, 3],
    [12, 4],
    [7, 2],
    [2, 5],
    [1000, 8],
    [0, 3],
  ])('covers every sample each epoch, padding evenly (%i samples, %i ranks)', (length, n) => {
    for (const epoch of [0, 1, 2]) {
      const parts = shards(length, n, { epoch });
      const per = Math.ceil(length / n);
      expect(parts.every((part) => part.length === per)).toBe(true);
      const all = parts.flat();
      expect(new Set(all)).toEqual(new Set(Array.from({ length }, (_, i) => i)));
      // Disjoint except for the padding: exactly n*per - length repeats.
      expect(all.length - new Set(all).size).toBe(per * n - length);
    }
  });

  it('deals strided positions and pads by repeating the start, like torch (no shuffle)', () => {
    expect(shards(10, 3, { shuffle: false })).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7, 0],
      [2, 5, 8, 1],
    ]);
    expect(shards(2, 5, { shuffle: false })).toEqual([[0], [1], [0], [1], [0]]);
  });

  it('dropLast drops the uneven tail: disjoint shards of floor(length / n)', () => {
    const parts = shards(10, 3, { dropLast: true, epoch: 4 });
    expect(parts.map((p) => p.length)).toEqual([3, 3, 3]);
    const all = parts.flat();
    expect(new Set(all).size).toBe(9);
    expect(shards(10, 3, { shuffle: false, dropLast: true })).toEqual([
      [0, 3, 6],
      [1, 4, 7],
      [2, 5, 8],
    ]);
    expect(new DistributedSampler(10, { numReplicas: 3, rank: 0, dropLast: true }).totalSize).toBe(
      9,
    );
  });

  it('gives every rank the same permutation, and a new one each epoch', () => {
    const order = (epoch: number, seed = 0): number[] =>
      shards(100, 4, { epoch, seed })
        .flatMap((_, __, parts) => parts.flat())
        .slice(0, 100);
    const a = shards(100, 4, { epoch: 0 });
    const b = shards(100, 4, { epoch: 0 });
    expect(a).toEqual(b);
    expect(order(1)).not.toEqual(order(0));
    expect(order(0, 1)).not.toEqual(order(0, 0));
    // Not the identity.
    expect(a[0]).not.toEqual([
      0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80, 84, 88, 92,
      96,
    ]);
  });

  it('keeps a stable order for a given seed and epoch (a regression pin)', () => {
    const sampler = new DistributedSampler(10, { numReplicas: 1, rank: 0, seed: 7 });
    sampler.setEpoch(3);
    expect(sampler.indices()).toMatchInlineSnapshot(`
      [
        2,
        5,
        3,
        4,
        0,
        6,
        8,
        1,
        9,
        7,
      ]
    `);
  });

  it('saves and restores its epoch', () => {
    const sampler = new DistributedSampler({ length: 50 }, { numReplicas: 2, rank: 1, seed: 5 });
    sampler.setEpoch(6);
    const state = sampler.stateDict();
    expect(state).toEqual({ epoch: 6, seed: 5 });
    const resumed = new DistributedSampler(50, { numReplicas: 2, rank: 1 });
    resumed.loadStateDict(state);
    expect(resumed.indices()).toEqual(sampler.indices());
  });

  it('defaults to the process group (a world of one here) and validates', () => {
    const sampler = new DistributedSampler(5, { shuffle: false });
    expect([sampler.numReplicas, sampler.rank, sampler.length]).toEqual([1, 0, 5]);
    expect([...sampler]).toEqual([0, 1, 2, 3, 4]);
    expect(() => new DistributedSampler(5, { numReplicas: 2, rank: 2 })).toThrow(
      'rank must be an integer in [0, 2), got 2',
    );
    expect(() => new DistributedSampler(-1)).toThrow('integer >= 0, got -1');
    expect(() => sampler.setEpoch(1.5)).toThrow('epoch must be an integer >= 0, got 1.5');
  });
});

describe('InferenceSampler', () => {
  it.each([
    [10, 3],
    [2, 4],
    [9, 3],
    [0, 2],
  ])('gives contiguous shards that count every sample once (%i samples, %i ranks)', (length, n) => {
    const parts = Array.from({ length: n }, (_, rank) => [
      ...new InferenceSampler(length, { numReplicas: n, rank }),
    ]);
    expect(parts.flat()).toEqual(Array.from({ length }, (_, i) => i));
    const sizes = parts.map((p) => p.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('shards 10 over 3 as 4, 3, 3', () => {
    const sampler = new InferenceSampler(10, { numReplicas: 3, rank: 1 });
    expect([sampler.begin, sampler.length, sampler.indices()]).toEqual([4, 3, [4, 5, 6]]);
  });
});
