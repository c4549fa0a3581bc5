import { DATASETS } from '@gorilla-ts/registry';
import { describe, expect, it } from 'vitest';
import {
  DataError,
  type PointCloudSample,
  SYNTHETIC_SHAPE_NAMES,
  SyntheticShapes,
} from '../src/datasets/index.js';

/** Features that do not change under a turn about y: histograms of |p|, y and the xz radius, and covariance eigenvalues. */
function features(points: Float32Array): number[] {
  const n = points.length / 3;
  const bins = 10;
  const radius = new Array<number>(bins).fill(0);
  const height = new Array<number>(bins).fill(0);
  const ring = new Array<number>(bins).fill(0);
  let yy = 0;
  let xx = 0;
  let zz = 0;
  let xz = 0;
  for (let o = 0; o < points.length; o += 3) {
    const x = points[o]!;
    const y = points[o + 1]!;
    const z = points[o + 2]!;
    const bin = (value: number) => Math.min(bins - 1, Math.max(0, Math.floor(value * bins)));
    radius[bin(Math.hypot(x, y, z))]! += 1 / n;
    height[bin((y + 1) / 2)]! += 1 / n;
    ring[bin(Math.hypot(x, z))]! += 1 / n;
    yy += (y * y) / n;
    xx += (x * x) / n;
    zz += (z * z) / n;
    xz += (x * z) / n;
  }
  // Eigenvalues of the horizontal 2×2 covariance (turn-invariant).
  const mean = (xx + zz) / 2;
  const spread = Math.sqrt(((xx - zz) / 2) ** 2 + xz * xz);
  return [...radius, ...height, ...ring, 3 * yy, 3 * (mean + spread), 3 * (mean - spread)];
}

function nearestNeighbourAccuracy(train: PointCloudSample[], test: PointCloudSample[]): number {
  const trainFeatures = train.map((sample) => features(sample.points));
  let correct = 0;
  for (const sample of test) {
    const f = features(sample.points);
    let best = Number.POSITIVE_INFINITY;
    let label = -1;
    trainFeatures.forEach((g, i) => {
      let d = 0;
      for (let k = 0; k < f.length; k++) d += (f[k]! - g[k]!) ** 2;
      if (d < best) {
        best = d;
        label = train[i]!.label;
      }
    });
    if (label === sample.label) correct++;
  }
  return correct / test.length;
}

describe('SyntheticShapes', () => {
  it('has at least 8 shape kinds, labels i % numClasses, and the requested size', () => {
    expect(SYNTHETIC_SHAPE_NAMES.length).toBeGreaterThanOrEqual(8);
    const set = new SyntheticShapes({ samplesPerClass: 3, numPoints: 64 });
    expect(set.classNames).toEqual(SYNTHETIC_SHAPE_NAMES.slice(0, 8));
    expect([set.length, set.numClasses, set.numPoints, set.channels]).toEqual([24, 8, 64, 3]);
    expect(Array.from({ length: 10 }, (_, i) => set.getSync(i).label)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 0, 1,
    ]);
    expect(SYNTHETIC_SHAPE_NAMES).toEqual([
      'sphere',
      'cube',
      'cylinder',
      'cone',
      'torus',
      'disc',
      'pyramid',
      'helix',
      'ellipsoid',
      'capsule',
    ]);
  });

  it('is deterministic, in any access order; the splits and seeds differ', () => {
    const options = { numClasses: 10, samplesPerClass: 2, numPoints: 128 };
    const a = new SyntheticShapes(options);
    const b = new SyntheticShapes(options);
    const forward = Array.from({ length: a.length }, (_, i) => a.getSync(i).points);
    for (let i = b.length - 1; i >= 0; i--) expect(b.getSync(i).points).toEqual(forward[i]);
    const test = new SyntheticShapes({ ...options, split: 'test' });
    const reseeded = new SyntheticShapes({ ...options, seed: 1 });
    for (let i = 0; i < a.length; i++) {
      expect(test.getSync(i).points).not.toEqual(forward[i]);
      expect(reseeded.getSync(i).points).not.toEqual(forward[i]);
    }
  });

  it('normalises every sample to the unit sphere, centred at its mean', () => {
    const set = new SyntheticShapes({ numClasses: 10, samplesPerClass: 2, numPoints: 256 });
    for (let i = 0; i < set.length; i++) {
      const { points } = set.getSync(i);
      let maxNorm = 0;
      const mean = [0, 0, 0];
      for (let o = 0; o < points.length; o += 3) {
        maxNorm = Math.max(maxNorm, Math.hypot(points[o]!, points[o + 1]!, points[o + 2]!));
        for (let c = 0; c < 3; c++) mean[c]! += points[o + c]! / 256;
      }
      expect(maxNorm).toBeCloseTo(1, 5);
      for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-5);
      expect(points.every(Number.isFinite)).toBe(true);
    }
  });

  it('has distinct classes: a 1-NN on turn-invariant features separates all 10 kinds', () => {
    const options = { numClasses: 10, numPoints: 512, noise: 0.01 };
    const train = new SyntheticShapes({ ...options, samplesPerClass: 20 });
    const test = new SyntheticShapes({ ...options, samplesPerClass: 10, split: 'test' });
    const all = (set: SyntheticShapes) =>
      Array.from({ length: set.length }, (_, i) => set.getSync(i));
    expect(nearestNeighbourAccuracy(all(train), all(test))).toBeGreaterThanOrEqual(0.9);
  });

  it('validates its options, in the constructor and through DATASETS', () => {
    expect(() => new SyntheticShapes({ numClasses: 11 })).toThrow(
      'numClasses must be an integer in [1, 10] (the shape kinds: sphere, cube, cylinder, cone, torus, disc, pyramid, helix, ellipsoid, capsule), got 11.',
    );
    expect(DataError.isInstance(catchError(() => new SyntheticShapes({ numPoints: 0 })))).toBe(
      true,
    );
    const built = DATASETS.build<SyntheticShapes>({
      type: 'SyntheticShapes',
      num_classes: 4,
      samples_per_class: 5,
      num_points: 32,
      split: 'test',
    });
    expect([built.numClasses, built.length, built.numPoints, built.split]).toEqual([
      4,
      20,
      32,
      'test',
    ]);
    const defaults = DATASETS.build<SyntheticShapes>({ type: 'SyntheticShapes' });
    expect([defaults.numClasses, defaults.length, defaults.numPoints, defaults.noise]).toEqual([
      8, 800, 1024, 0.01,
    ]);
    const error = catchError(() =>
      DATASETS.build({
        type: 'SyntheticShapes',
        numClasses: 12,
        numPoints: 10,
        num_points: 10,
        colour: 1,
      }),
    ) as Error & { issues: unknown };
    expect(error.issues).toMatchInlineSnapshot(`
      [
        {
          "code": "custom",
          "message": "'num_points' and 'numPoints' both set 'numPoints': keep one (given: 10)",
          "path": "num_points",
        },
      ]
    `);
    const invalid = catchError(() =>
      DATASETS.build({
        type: 'SyntheticShapes',
        num_classes: 12,
        colour: 1,
        augment: { spin: true },
      }),
    ) as Error & { issues: unknown };
    expect(invalid.issues).toMatchInlineSnapshot(`
      [
        {
          "code": "too_big",
          "message": "Too big: expected number to be <=10 (given: 12)",
          "path": "numClasses",
        },
        {
          "code": "unrecognized_keys",
          "message": "Unrecognized key: "spin"",
          "path": "augment",
        },
        {
          "code": "unrecognized_keys",
          "message": "Unrecognized key: "colour"",
          "path": "",
        },
      ]
    `);
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
