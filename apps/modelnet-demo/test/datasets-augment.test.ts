import { DATASETS } from '@gorilla-ts/registry';
import { describe, expect, it } from 'vitest';
import {
  type AugmentInput,
  applyAugment,
  augmentSchema,
  createRng,
  mixSeed,
  resolveAugment,
  SyntheticShapes,
} from '../src/datasets/index.js';

/** 64 points on a unit sphere with their normals (6 channels). */
function sphereWithNormals(n = 64): Float32Array {
  const rng = createRng(5);
  const out = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) {
    const v = [rng.normal(), rng.normal(), rng.normal()];
    const length = Math.hypot(...v);
    const unit = v.map((x) => x / length);
    out.set([...unit.map((x) => x * 0.8), ...unit], i * 6);
  }
  return out;
}

const rows = (points: Float32Array, channels: number) =>
  Array.from({ length: points.length / channels }, (_, i) =>
    Array.from(points.subarray(i * channels, (i + 1) * channels)),
  );

function run(input: AugmentInput, points: Float32Array, channels = 6, seed = 1): Float32Array {
  return applyAugment(points.slice(), channels, resolveAugment(input), createRng(seed));
}

describe('augmentations', () => {
  it('resolves the object form in a fixed order and the list form in its own, defaults filled', () => {
    expect(
      resolveAugment({
        shuffle: true,
        jitter: true,
        dropout: 0.5,
        shift: 0.2,
        scale: [0.5, 2],
        rotate: 'z',
      }),
    ).toEqual([
      { type: 'rotate', axis: 'z', maxAngle: Math.PI },
      { type: 'scale', low: 0.5, high: 2, anisotropic: false },
      { type: 'shift', range: 0.2 },
      { type: 'jitter', sigma: 0.01, clip: 0.05 },
      { type: 'dropout', maxRatio: 0.5 },
      { type: 'shuffle' },
    ]);
    expect(resolveAugment([{ type: 'jitter', sigma: 0.02 }, { type: 'rotate' }])).toEqual([
      { type: 'jitter', sigma: 0.02, clip: 0.05 },
      { type: 'rotate', axis: 'y', maxAngle: Math.PI },
    ]);
    expect(resolveAugment({ scale: true, rotate: false })).toEqual([
      { type: 'scale', low: 0.8, high: 1.25, anisotropic: false },
    ]);
    expect(resolveAugment(undefined)).toEqual([]);
  });

  it('rotate turns about the chosen axis, normals with the points', () => {
    const points = sphereWithNormals();
    for (const [axis, kept] of [
      ['y', 1],
      ['z', 2],
      ['x', 0],
    ] as const) {
      const out = run({ rotate: { axis } }, points);
      for (let o = 0; o < points.length; o += 6) {
        expect(out[o + kept]).toBeCloseTo(points[o + kept]!, 6);
        expect(out[o + 3 + kept]).toBeCloseTo(points[o + 3 + kept]!, 6);
        // Rotations keep point-normal dot products.
        const before =
          points[o]! * points[o + 3]! +
          points[o + 1]! * points[o + 4]! +
          points[o + 2]! * points[o + 5]!;
        const after = out[o]! * out[o + 3]! + out[o + 1]! * out[o + 4]! + out[o + 2]! * out[o + 5]!;
        expect(after).toBeCloseTo(before, 5);
      }
      expect(out).not.toEqual(points);
    }
  });

  it('scale multiplies xyz by one factor in range (anisotropic: per axis, normals renormalised)', () => {
    const points = sphereWithNormals();
    for (let seed = 0; seed < 20; seed++) {
      const out = run({ scale: [0.8, 1.25] }, points, 6, seed);
      const factor = out[0]! / points[0]!;
      expect(factor).toBeGreaterThanOrEqual(0.8);
      expect(factor).toBeLessThanOrEqual(1.25);
      for (let o = 0; o < points.length; o += 6) {
        for (let c = 0; c < 3; c++) expect(out[o + c]).toBeCloseTo(points[o + c]! * factor, 5);
        expect(Array.from(out.subarray(o + 3, o + 6))).toEqual(
          Array.from(points.subarray(o + 3, o + 6)),
        );
      }
    }
    const stretched = run({ scale: { low: 0.5, high: 2, anisotropic: true } }, points);
    for (let o = 0; o < points.length; o += 6) {
      expect(Math.hypot(stretched[o + 3]!, stretched[o + 4]!, stretched[o + 5]!)).toBeCloseTo(1, 5);
    }
  });

  it('shift adds one offset in [-range, range] per axis', () => {
    const points = sphereWithNormals();
    const out = run({ shift: 0.1 }, points);
    const offset = [0, 1, 2].map((c) => out[c]! - points[c]!);
    for (const d of offset) expect(Math.abs(d)).toBeLessThanOrEqual(0.1);
    for (let o = 0; o < points.length; o += 6) {
      for (let c = 0; c < 3; c++) expect(out[o + c]! - points[o + c]!).toBeCloseTo(offset[c]!, 5);
    }
  });

  it('jitter adds clipped Gaussian noise of the given sigma to xyz only', () => {
    const points = new Float32Array(20000 * 3);
    const out = run({ jitter: { sigma: 0.01, clip: 0.02 } }, points, 3);
    let sum = 0;
    let squares = 0;
    let clipped = 0;
    let largest = 0;
    for (const value of out) {
      largest = Math.max(largest, Math.abs(value));
      if (Math.abs(value) >= 0.02 - 1e-7) clipped++;
      sum += value;
      squares += value * value;
    }
    expect(largest).toBeLessThanOrEqual(0.02 + 1e-7);
    expect(Math.abs(sum / out.length)).toBeLessThan(5e-4);
    expect(Math.sqrt(squares / out.length)).toBeGreaterThan(0.0093); // slightly under 0.01: clipped
    expect(Math.sqrt(squares / out.length)).toBeLessThan(0.0101);
    expect(clipped / out.length).toBeGreaterThan(0.03); // P(|z| > 2) ≈ 4.6 %
    const withNormals = run({ jitter: true }, sphereWithNormals());
    const source = sphereWithNormals();
    for (let o = 0; o < source.length; o += 6) {
      expect(Array.from(withNormals.subarray(o + 3, o + 6))).toEqual(
        Array.from(source.subarray(o + 3, o + 6)),
      );
    }
  });

  it('dropout replaces some points by the first point and keeps the count', () => {
    const points = sphereWithNormals(1000);
    let everDropped = false;
    for (let seed = 0; seed < 10; seed++) {
      const out = run({ dropout: { maxRatio: 0.875 } }, points, 6, seed);
      expect(out.length).toBe(points.length);
      const first = Array.from(out.subarray(0, 6));
      let dropped = 0;
      rows(out, 6).forEach((row, i) => {
        if (i > 0 && row.every((v, c) => v === first[c])) dropped++;
        else expect(row).toEqual(Array.from(points.subarray(i * 6, i * 6 + 6)));
      });
      expect(dropped / 1000).toBeLessThan(0.875 + 0.05);
      if (dropped > 0) everDropped = true;
    }
    expect(everDropped).toBe(true);
  });

  it('shuffle permutes whole points', () => {
    const points = sphereWithNormals();
    const out = run({ shuffle: true }, points);
    expect(out).not.toEqual(points);
    const sortRows = (p: Float32Array) => rows(p, 6).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    expect(sortRows(out)).toEqual(sortRows(points));
  });

  it('draws from (seed, epoch, index): the same in any order, new each epoch', () => {
    const options = {
      samplesPerClass: 2,
      numPoints: 64,
      augment: { rotate: true, jitter: true, shuffle: true },
    };
    const a = new SyntheticShapes(options);
    const b = new SyntheticShapes(options);
    const plain = new SyntheticShapes({ ...options, augment: undefined });
    const forward = Array.from({ length: a.length }, (_, i) => a.getSync(i).points);
    for (let i = a.length - 1; i >= 0; i--) {
      expect(b.getSync(i).points).toEqual(forward[i]);
      expect(forward[i]).not.toEqual(plain.getSync(i).points);
    }
    b.setEpoch(1);
    expect(b.epoch).toBe(1);
    for (let i = 0; i < a.length; i++) expect(b.getSync(i).points).not.toEqual(forward[i]);
    b.setEpoch(0);
    expect(b.getSync(3).points).toEqual(forward[3]);
    expect(() => b.setEpoch(-1)).toThrow('setEpoch expects an integer >= 0, got -1.');
    expect(mixSeed(0, 1, 2)).not.toBe(mixSeed(0, 2, 1));
  });

  it('validates both forms, with snake_case keys mapped by the data set schemas', () => {
    expect(augmentSchema.safeParse({ scale: [0.8, 1.25], shift: 0.1 }).success).toBe(true);
    expect(
      augmentSchema.safeParse([{ type: 'dropout', maxRatio: 0.5 }, { type: 'shuffle' }]).success,
    ).toBe(true);
    expect(augmentSchema.safeParse({ scale: [1.25, 0.8] }).success).toBe(false);
    expect(augmentSchema.safeParse([{ type: 'spin' }]).success).toBe(false);
    expect(augmentSchema.safeParse({ dropout: 2 }).success).toBe(false);
    const built = DATASETS.build<SyntheticShapes>({
      type: 'SyntheticShapes',
      augment: { dropout: { max_ratio: 0.5 }, rotate: { axis: 'z', max_angle: 0.1 } },
    });
    expect(built.augment).toEqual([
      { type: 'rotate', axis: 'z', maxAngle: 0.1 },
      { type: 'dropout', maxRatio: 0.5 },
    ]);
  });
});
