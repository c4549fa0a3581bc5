import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATASETS } from '@gorilla-ts/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRng,
  type DataError,
  farthestPointSample,
  ModelNetNormalResampled,
  normalizeUnitSphere,
  parsePointRows,
} from '../src/datasets/index.js';
import { writeTextTree } from './fixtures/modelnet-trees.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'modelnet-text-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bytes = (text: string) => new TextEncoder().encode(text);

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    const e = error as DataError;
    return `${e.code}: ${e.message}`.replaceAll(tmp, '<tmp>');
  }
  throw new Error('expected an error');
}

/** The textbook loop, as the reference. */
function plainFps(points: Float32Array, channels: number, count: number): number[] {
  const n = points.length / channels;
  const distances = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
  const picked: number[] = [];
  let current = 0;
  for (let k = 0; k < count; k++) {
    picked.push(current);
    const center = current;
    let best = -1;
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let c = 0; c < 3; c++)
        d += (points[i * channels + c]! - points[center * channels + c]!) ** 2;
      distances[i] = Math.min(distances[i]!, d);
      if (distances[i]! > best) {
        best = distances[i]!;
        current = i;
      }
    }
  }
  return picked;
}

describe('parsePointRows', () => {
  it('reads comma and blank separated rows, exponents, CRLF and blank lines', () => {
    const rows = parsePointRows(bytes('1,2,3\r\n-0.5, 1e-3 ,+2.5E2\n\n4\t5 6\n'));
    expect(rows.rows).toBe(3);
    expect(rows.columns).toBe(3);
    expect(Array.from(rows.values)).toEqual([1, 2, 3, -0.5, Math.fround(0.001), 250, 4, 5, 6]);
  });

  it('stops after maxRows and matches Number() on typical values', () => {
    const rng = createRng(3);
    const values = Array.from({ length: 600 }, () => (rng.normal() * 10 ** rng.int(4)).toFixed(6));
    const text = Array.from({ length: 100 }, (_, r) =>
      values.slice(r * 6, r * 6 + 6).join(','),
    ).join('\n');
    const all = parsePointRows(bytes(text));
    expect(all.rows).toBe(100);
    expect(Array.from(all.values)).toEqual(values.map((value) => Math.fround(Number(value))));
    const first = parsePointRows(bytes(text), 10);
    expect(first.rows).toBe(10);
    expect(first.values.length).toBe(60);
  });

  it('reports the line of a bad token or a ragged row', () => {
    expect(() => parsePointRows(bytes('1,2,3\n4,x,6\n'))).toThrow("line 2: 'x' is not a number");
    expect(() => parsePointRows(bytes('1,2,3\n4,5\n'))).toThrow('line 2: 2 values, expected 3');
    expect(() => parsePointRows(bytes('1,2,3\n4,5,6,7\n'))).toThrow('line 2: more than 3 values');
  });
});

describe('farthestPointSample', () => {
  it('matches the textbook loop exactly on surfaces and random clouds', () => {
    const rng = createRng(11);
    for (const [n, count] of [
      [10000, 1024],
      [3000, 512],
      [50, 50],
      [7, 3],
    ] as const) {
      const points = new Float32Array(n * 6);
      for (let i = 0; i < n; i++) {
        const x = rng.normal();
        const y = rng.normal() * 0.3;
        const z = rng.normal();
        const length = i % 2 === 0 ? Math.hypot(x, y, z) : 1; // half on a surface
        points.set([x / length, y / length, z / length, 0, 1, 0], i * 6);
      }
      expect(Array.from(farthestPointSample(points, 6, count))).toEqual(plainFps(points, 6, count));
    }
  });

  it('spreads the picks: the picked set covers the cloud better than the first N', () => {
    // A dense clump plus a few far points: FPS must reach the far points first.
    const points = new Float32Array(1000 * 3);
    for (let i = 0; i < 996; i++) points.set([(i % 10) * 1e-3, 0, 0], i * 3);
    points.set([5, 0, 0, -5, 0, 0, 0, 5, 0, 0, -5, 0], 996 * 3);
    const picked = Array.from(farthestPointSample(points, 3, 5));
    expect(picked[0]).toBe(0);
    expect(picked.slice(1).sort()).toEqual([996, 997, 998, 999]);
  });

  it('handles duplicates and rejects impossible requests', () => {
    const same = new Float32Array(30).fill(1);
    expect(Array.from(farthestPointSample(same, 3, 3))).toEqual([0, 0, 0]);
    expect(() => farthestPointSample(same, 3, 11)).toThrow(RangeError);
    expect(farthestPointSample(same, 3, 0).length).toBe(0);
  });
});

describe('normalizeUnitSphere', () => {
  it('centres xyz at the mean and puts the farthest point on the unit sphere, normals untouched', () => {
    const points = new Float32Array([2, 0, 0, 0, 1, 0, 4, 0, 0, 1, 0, 0, 3, 2, 0, 0, 0, 1]);
    normalizeUnitSphere(points, 6);
    expect(points[0]! + points[6]! + points[12]!).toBeCloseTo(0, 6);
    const norms = [0, 6, 12].map((o) => Math.hypot(points[o]!, points[o + 1]!, points[o + 2]!));
    expect(Math.max(...norms)).toBeCloseTo(1, 6);
    expect(Array.from(points.subarray(3, 6))).toEqual([0, 1, 0]);
  });
});

describe('ModelNetNormalResampled on a generated tree', () => {
  it('lists the split, labels by class name, takes the first N rows and normalises', () => {
    const root = join(tmp, 'first');
    writeTextTree(root, { points: 64 });
    const train = new ModelNetNormalResampled({ dataRoot: root, split: 'train', numPoints: 16 });
    expect(train.length).toBe(5);
    expect(train.ids).toEqual([
      'airplane_0001',
      'airplane_0002',
      'airplane_0003',
      'night_stand_0001',
      'night_stand_0002',
    ]);
    expect(train.classNames).toEqual(['airplane', 'night_stand']);
    expect(train.numCategory).toBe(40);
    expect([0, 1, 2, 3, 4].map((i) => train.getSync(i).label)).toEqual([0, 0, 0, 1, 1]);
    const { points } = train.getSync(3);
    expect(points.length).toBe(16 * 3);
    // The first 16 rows of the file, centred and scaled.
    const rows = parsePointRows(readFileSync(train.pathOf(3)), 16);
    const raw = new Float32Array(16 * 3);
    for (let p = 0; p < 16; p++) raw.set(rows.values.subarray(p * 6, p * 6 + 3), p * 3);
    expect(Array.from(points)).toEqual(Array.from(normalizeUnitSphere(raw, 3)));
    const test = new ModelNetNormalResampled({ dataRoot: root, split: 'test', numPoints: 16 });
    expect(test.ids).toEqual(['airplane_0004', 'airplane_0005', 'night_stand_0003']);
  });

  it('samples by FPS, keeps normals, and reads modelnet10 files when asked', () => {
    const root = join(tmp, 'fps');
    writeTextTree(root, { points: 200 });
    writeTextTree(root, { prefix: 'modelnet10', classes: { night_stand: [2, 1] }, points: 200 });
    const fps = new ModelNetNormalResampled({
      dataRoot: root,
      numPoints: 32,
      sampling: 'fps',
      useNormals: true,
    });
    expect(fps.channels).toBe(6);
    const rows = parsePointRows(readFileSync(fps.pathOf(0)));
    const picked = farthestPointSample(rows.values, 6, 32);
    const { points } = fps.getSync(0);
    // Normals are the file's, unchanged; xyz is normalised (so compare normals).
    for (let k = 0; k < 32; k++) {
      for (let c = 3; c < 6; c++) expect(points[k * 6 + c]).toBe(rows.values[picked[k]! * 6 + c]);
    }
    let maxNorm = 0;
    for (let k = 0; k < 32; k++)
      maxNorm = Math.max(
        maxNorm,
        Math.hypot(points[k * 6]!, points[k * 6 + 1]!, points[k * 6 + 2]!),
      );
    expect(maxNorm).toBeCloseTo(1, 5);
    const ten = new ModelNetNormalResampled({ dataRoot: root, numCategory: 10, numPoints: 8 });
    expect(ten.classNames).toEqual(['night_stand']);
    expect(ten.length).toBe(2);
  });

  it('caches sampled shapes: written once complete, loaded by the next instance', () => {
    const root = join(tmp, 'cache');
    writeTextTree(root, { points: 100 });
    const cacheDir = join(tmp, 'cache-out');
    const options = { dataRoot: root, numPoints: 20, sampling: 'fps' as const, cacheDir };
    const first = new ModelNetNormalResampled(options);
    const expected = Array.from({ length: first.length }, (_, i) => first.getSync(i).points);
    expect(first.cached).toBe(true);
    expect(existsSync(first.cachePath!)).toBe(true);
    // Remove the text files: the second instance must read the cache only.
    rmSync(join(root, 'airplane'), { recursive: true });
    const second = new ModelNetNormalResampled(options);
    expect(second.cached).toBe(true);
    for (let i = 0; i < second.length; i++) expect(second.getSync(i).points).toEqual(expected[i]);
    // Another point count is another cache, so it reads the (now missing) files.
    // The listing is checked when the data set is built, not when an epoch reaches a file.
    expect(messageOf(() => new ModelNetNormalResampled({ ...options, numPoints: 10 }))).toBe(
      'DATA_NOT_FOUND: 3 of 5 shape files listed in <tmp>/cache/modelnet40_train.txt are missing: ' +
        '<tmp>/cache/airplane/airplane_0001.txt, <tmp>/cache/airplane/airplane_0002.txt, ' +
        "<tmp>/cache/airplane/airplane_0003.txt. Expected gorilla3d's modelnet40_normal_resampled " +
        'layout: modelnet40_shape_names.txt (or modelnet10_...), modelnet40_train.txt / ' +
        'modelnet40_test.txt listing ids like airplane_0001, and one file <class>/<id>.txt per ' +
        'shape with rows x,y,z,nx,ny,nz.',
    );
  });

  it('prepare() fills the cache ahead of time and reports progress', async () => {
    const root = join(tmp, 'prepare');
    writeTextTree(root, { points: 40 });
    const set = new ModelNetNormalResampled({
      dataRoot: root,
      numPoints: 8,
      cacheDir: join(tmp, 'prepare-out'),
    });
    const seen: number[] = [];
    await set.prepare((done) => seen.push(done));
    expect(set.cached).toBe(true);
    expect(seen.at(-1)).toBe(5);
  });

  it('builds through DATASETS, with the seed (gorilla3d) option names', () => {
    const root = join(tmp, 'registry');
    writeTextTree(root, { points: 40 });
    const set = DATASETS.build<ModelNetNormalResampled>({
      type: 'ModelNetNormalResampled',
      root,
      num_point: 8,
      use_uniform_sample: true,
      use_normals: true,
      task: 'test',
    });
    expect([set.split, set.numPoints, set.sampling, set.channels]).toEqual(['test', 8, 'fps', 6]);
  });

  it('gives one clear error for a missing tree, a missing file, a bad class or a short file', () => {
    expect(messageOf(() => new ModelNetNormalResampled({ dataRoot: join(tmp, 'none') }))).toMatch(
      /^DATA_NOT_FOUND: No data directory at <tmp>\/none .*Run `pnpm --filter modelnet-demo download`/,
    );
    const root = join(tmp, 'bad');
    writeTextTree(root, { points: 10 });
    expect(messageOf(() => new ModelNetNormalResampled({ dataRoot: root }).getSync(0))).toBe(
      'DATA_INVALID_ARGUMENT: <tmp>/bad/airplane/airplane_0001.txt holds 10 points, fewer than numPoints 1024.',
    );
    writeFileSync(join(root, 'airplane', 'airplane_0002.txt'), '1,2,3\n4,5,oops\n');
    expect(
      messageOf(() => new ModelNetNormalResampled({ dataRoot: root, numPoints: 2 }).getSync(1)),
    ).toBe("DATA_MALFORMED: <tmp>/bad/airplane/airplane_0002.txt: line 2: 'oops' is not a number.");
    writeFileSync(join(root, 'modelnet40_train.txt'), 'airplane_0001\nsofa_0001\n');
    expect(messageOf(() => new ModelNetNormalResampled({ dataRoot: root }))).toBe(
      "DATA_MALFORMED: <tmp>/bad/modelnet40_train.txt lists 'sofa_0001', whose class 'sofa' is not in modelnet40_shape_names.txt.",
    );
    rmSync(join(root, 'modelnet40_test.txt'));
    expect(messageOf(() => new ModelNetNormalResampled({ dataRoot: root, split: 'test' }))).toMatch(
      /^DATA_NOT_FOUND: Missing test split list: <tmp>\/bad\/modelnet40_test.txt\. Expected gorilla3d's/,
    );
  });
});
