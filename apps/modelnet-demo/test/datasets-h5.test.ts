import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATASETS } from '@gorilla-ts/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError, ensureH5, ModelNetH5 } from '../src/datasets/index.js';
import { fixtureValue, writeH5Tree } from './fixtures/modelnet-trees.js';

const MODELNET10 = new URL('../../../../shared/data/modelnet10_ply_hdf5_1024', import.meta.url)
  .pathname;
const NO_MODELNET10 = `needs the shared ModelNet10 copy at ${MODELNET10}`;

let tmp: string;
// h5wasm's WebAssembly start-up: measured 3.8 s with two CPU burners beside the suite.
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'modelnet-h5-'));
  await ensureH5();
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The message with the temp dir replaced, for snapshots. */
function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    const e = error as DataError;
    return `${e.code}: ${e.message}`.replaceAll(tmp, '<tmp>');
  }
  throw new Error('expected an error');
}

describe('ModelNetH5 on files written by the test', () => {
  it('reads every file of a split in list order, with labels and class names', async () => {
    const root = join(tmp, 'basic');
    await writeH5Tree(root, { train: [5, 4], test: [3], points: 16 });
    const train = new ModelNetH5({ dataRoot: root, split: 'train' });
    expect(train.length).toBe(9);
    expect(train.numPoints).toBe(16);
    expect(train.channels).toBe(3);
    expect(train.classNames).toEqual(['airplane', 'bathtub', 'bed']);
    expect(train.numClasses).toBe(3);
    expect(train.files.map((file) => file.replace(root, ''))).toEqual([
      '/ply_data_train0.h5',
      '/ply_data_train1.h5',
    ]);
    for (const shape of [0, 4, 5, 8]) {
      const sample = train.getSync(shape);
      expect(sample.label).toBe(shape % 3);
      expect(sample.points).toBeInstanceOf(Float32Array);
      expect(sample.points.length).toBe(16 * 3);
      expect(sample.points[0]).toBeCloseTo(fixtureValue(shape, 0, 0), 5);
      expect(sample.points[15 * 3 + 2]).toBeCloseTo(fixtureValue(shape, 15, 2), 5);
    }
    const test = await ModelNetH5.load({ dataRoot: root, split: 'test' });
    expect(test.length).toBe(3);
    expect(test.get(2)).toEqual(test.getSync(2));
  });

  it('takes the first numPoints points, and refuses more than stored', async () => {
    const root = join(tmp, 'points');
    await writeH5Tree(root, { points: 16 });
    const fewer = new ModelNetH5({ dataRoot: root, split: 'train', numPoints: 5 });
    expect(fewer.numPoints).toBe(5);
    expect(fewer.storedPoints).toBe(16);
    const sample = fewer.getSync(7);
    expect(sample.points.length).toBe(15);
    expect(sample.points[4 * 3 + 1]).toBeCloseTo(fixtureValue(7, 4, 1), 5);
    expect(
      messageOf(() => new ModelNetH5({ dataRoot: root, numPoints: 17 })),
    ).toMatchInlineSnapshot(
      `"DATA_INVALID_ARGUMENT: numPoints 17 is not available: the files in <tmp>/points store 16 points per shape. Use numPoints <= 16."`,
    );
  });

  it('appends normals from a normal dataset or from 6-channel data', async () => {
    for (const packedNormals of [false, true]) {
      const root = join(tmp, `normals-${packedNormals}`);
      await writeH5Tree(root, { normals: true, packedNormals, points: 8 });
      const set = new ModelNetH5({ dataRoot: root, split: 'test', useNormals: true, numPoints: 4 });
      expect(set.channels).toBe(6);
      const { points } = set.getSync(1);
      expect(points.length).toBe(24);
      for (let c = 0; c < 6; c++) expect(points[3 * 6 + c]).toBeCloseTo(fixtureValue(1, 3, c), 5);
      const plain = new ModelNetH5({ dataRoot: root, split: 'test' });
      expect(plain.channels).toBe(3);
      expect(plain.getSync(1).points[3 * 3 + 2]).toBeCloseTo(fixtureValue(1, 3, 2), 5);
    }
  });

  it('reads a slice with limit, across file boundaries', async () => {
    const root = join(tmp, 'limit');
    await writeH5Tree(root, { train: [5, 4] });
    const slice = new ModelNetH5({ dataRoot: root, limit: 7 });
    expect(slice.length).toBe(7);
    expect(slice.getSync(6).points[0]).toBeCloseTo(fixtureValue(6, 0, 0), 5);
    expect(Array.from(slice.labels)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(() => slice.getSync(7)).toThrow(RangeError);
  });

  it('returns a fresh array per get(): changing it does not change the data set', async () => {
    const root = join(tmp, 'fresh');
    await writeH5Tree(root);
    const set = new ModelNetH5({ dataRoot: root });
    set.getSync(0).points.fill(42);
    expect(set.getSync(0).points[0]).toBeCloseTo(fixtureValue(0, 0, 0), 5);
  });

  it('builds through DATASETS with camelCase, snake_case and seed keys', async () => {
    const root = join(tmp, 'registry');
    await writeH5Tree(root, { points: 8 });
    const camel = DATASETS.build<ModelNetH5>({ type: 'ModelNetH5', dataRoot: root, numPoints: 4 });
    const snake = DATASETS.build<ModelNetH5>({
      type: 'ModelNetH5',
      data_root: root,
      num_points: 4,
      use_normals: false,
      split: 'test',
    });
    const seed = DATASETS.build<ModelNetH5>({
      type: 'ModelNetH5',
      root,
      num_point: 4,
      task: 'test',
    });
    expect(camel).toBeInstanceOf(ModelNetH5);
    expect([camel.split, camel.numPoints, camel.length]).toEqual(['train', 4, 9]);
    expect([snake.split, snake.numPoints, snake.length]).toEqual(['test', 4, 3]);
    expect([seed.split, seed.numPoints]).toEqual(['test', 4]);
  });
});

describe('ModelNetH5: missing or malformed data gives one clear error', () => {
  it('names the missing directory, the layout and the download command', () => {
    const error = (() => {
      try {
        new ModelNetH5({ dataRoot: join(tmp, 'nowhere') });
      } catch (e) {
        return e;
      }
    })();
    expect(DataError.isInstance(error)).toBe(true);
    expect((error as DataError).code).toBe('DATA_NOT_FOUND');
    expect((error as DataError).path).toBe(join(tmp, 'nowhere'));
    expect(
      messageOf(() => new ModelNetH5({ dataRoot: join(tmp, 'nowhere') })),
    ).toMatchInlineSnapshot(
      `"DATA_NOT_FOUND: No data directory at <tmp>/nowhere (dataRoot: '<tmp>/nowhere'). Expected the official PointNet HDF5 layout (modelnet40_ply_hdf5_2048): shape_names.txt, train_files.txt and test_files.txt listing .h5 files (found by file name in the same folder), each .h5 holding 'data' float32 [N, P, 3] and 'label' [N, 1] (optionally 'normal' [N, P, 3]). Run \`pnpm --filter modelnet-demo download\` to fetch ModelNet40, or point \`dataRoot\` at a copy (the default config needs no data: it trains on SyntheticShapes)."`,
    );
  });

  it('names a missing list file and a missing .h5 file', async () => {
    const root = join(tmp, 'broken');
    await writeH5Tree(root);
    rmSync(join(root, 'test_files.txt'));
    expect(messageOf(() => new ModelNetH5({ dataRoot: root, split: 'test' }))).toMatch(
      /^DATA_NOT_FOUND: Missing test file list: <tmp>\/broken\/test_files.txt\. Expected /,
    );
    rmSync(join(root, 'ply_data_train1.h5'));
    expect(messageOf(() => new ModelNetH5({ dataRoot: root }))).toMatch(
      /^DATA_NOT_FOUND: <tmp>\/broken\/train_files.txt lists 'data\/modelnet_fixture\/ply_data_train1.h5', but <tmp>\/broken\/ply_data_train1.h5 does not exist\./,
    );
  });

  it('rejects files that are not HDF5, lack a dataset, or hold bad labels', async () => {
    const root = join(tmp, 'malformed');
    await writeH5Tree(root, { classes: ['a', 'b', 'c'] });
    writeFileSync(join(root, 'ply_data_test0.h5'), 'not an hdf5 file');
    expect(messageOf(() => new ModelNetH5({ dataRoot: root, split: 'test' }))).toBe(
      'DATA_MALFORMED: <tmp>/malformed/ply_data_test0.h5 is not an HDF5 file (no HDF5 signature).',
    );
    writeFileSync(join(root, 'shape_names.txt'), 'a\nb\n');
    expect(messageOf(() => new ModelNetH5({ dataRoot: root }))).toBe(
      'DATA_MALFORMED: Label 2 of shape 2 in <tmp>/malformed/ply_data_train0.h5 is not a class index: shape_names.txt lists 2 classes.',
    );
    const h5 = await ensureH5();
    const file = new h5.File(join(root, 'ply_data_train1.h5'), 'w');
    file.create_dataset({ name: 'points', data: new Float32Array(3), shape: [1, 1, 3] });
    file.close();
    writeFileSync(join(root, 'shape_names.txt'), 'a\nb\nc\n');
    expect(messageOf(() => new ModelNetH5({ dataRoot: root }))).toMatch(
      /^DATA_MALFORMED: <tmp>\/malformed\/ply_data_train1.h5 has no 'data' dataset \(it has: points\)/,
    );
  });

  it('says when normals are asked of files without them', async () => {
    const root = join(tmp, 'no-normals');
    await writeH5Tree(root);
    expect(messageOf(() => new ModelNetH5({ dataRoot: root, useNormals: true }))).toBe(
      "DATA_INVALID_ARGUMENT: useNormals is set, but <tmp>/no-normals/ply_data_train0.h5 has no 'normal' dataset (it has: data, label). Set useNormals: false for this copy.",
    );
  });
});

describe('ModelNetH5 on the shared ModelNet10 (1,024 points)', () => {
  it.skipIf(!existsSync(MODELNET10))(`loads both splits (${NO_MODELNET10})`, () => {
    const train = new ModelNetH5({ dataRoot: MODELNET10, split: 'train' });
    const test = new ModelNetH5({ dataRoot: MODELNET10, split: 'test', numPoints: 512 });
    expect([train.length, test.length]).toEqual([3991, 908]);
    expect(train.classNames).toEqual([
      'bathtub',
      'bed',
      'chair',
      'desk',
      'dresser',
      'monitor',
      'night_stand',
      'sofa',
      'table',
      'toilet',
    ]);
    expect(train.numPoints).toBe(1024);
    const counts = new Array(10).fill(0);
    for (const label of train.labels) counts[label]++;
    expect(counts.every((count) => count > 50)).toBe(true);
    // Centred, inside the unit sphere.
    const { points } = test.getSync(100);
    expect(points.length).toBe(512 * 3);
    let maxNorm = 0;
    for (let o = 0; o < points.length; o += 3) {
      maxNorm = Math.max(maxNorm, Math.hypot(points[o]!, points[o + 1]!, points[o + 2]!));
    }
    expect(maxNorm).toBeLessThanOrEqual(1.0001);
    expect(maxNorm).toBeGreaterThan(0.5);
  });
});
