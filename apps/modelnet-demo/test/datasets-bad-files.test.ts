/**
 * Data files that are broken or poisoned: a `nan` row in a point text file, a NaN in an HDF5
 * `data` set, an HDF5 file cut short (as by an interrupted download). Each is refused with one
 * error naming the file and where, and HDF5's C diagnostics never reach the terminal.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError, ensureH5, ModelNetH5, ModelNetNormalResampled } from '../src/datasets/index.js';
import { APP_DIR } from '../src/paths.js';
import { writeH5Tree, writeTextTree } from './fixtures/modelnet-trees.js';

let tmp: string;
// h5wasm's WebAssembly start-up: ~1 s idle, up to ~5 s measured with two CPU burners beside it.
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'modelnet-bad-'));
  await ensureH5();
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function errorOf(run: () => unknown): DataError {
  try {
    run();
  } catch (error) {
    if (DataError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a DataError');
}

describe('non-finite coordinates', () => {
  it('a nan or inf row of a point text file is refused with the file and line', () => {
    const root = join(tmp, 'text');
    const files = writeTextTree(root, { classes: { airplane: [2, 1] }, points: 32 });
    const lines = readFileSync(files[1]!, 'utf8').split('\n');
    lines[6] = 'nan,nan,nan,0,0,1';
    writeFileSync(files[1]!, lines.join('\n'));
    const error = errorOf(() =>
      new ModelNetNormalResampled({ dataRoot: root, numPoints: 16, sampling: 'fps' }).get(1),
    );
    expect(error.code).toBe('DATA_MALFORMED');
    expect(error.message).toBe(
      `${files[1]}: line 7, value 1: 'nan' is not a finite number (points must have finite coordinates).`,
    );
    lines[6] = '1,2,-inf,0,0,1';
    writeFileSync(files[1]!, lines.join('\n'));
    expect(
      errorOf(() =>
        new ModelNetNormalResampled({ dataRoot: root, numPoints: 16, sampling: 'fps' }).get(1),
      ).message,
    ).toContain("line 7, value 3: '-inf' is not a finite number");
  });

  it('a NaN in an HDF5 data set is refused with the file, the data set and the index', async () => {
    const root = join(tmp, 'h5-nan');
    await writeH5Tree(root, { points: 8 });
    const h5 = await ensureH5();
    const data = new Float32Array(4 * 8 * 3).fill(0.5);
    data[(1 * 8 + 5) * 3 + 2] = Number.NaN;
    const file = new h5.File(join(root, 'ply_data_train1.h5'), 'w');
    file.create_dataset({ name: 'data', data, shape: [4, 8, 3], dtype: '<f' });
    file.create_dataset({ name: 'label', data: new Uint8Array(4), shape: [4, 1], dtype: '<B' });
    file.close();
    const error = errorOf(() => new ModelNetH5({ dataRoot: root }));
    expect(error.message).toBe(
      `${join(root, 'ply_data_train1.h5')}: 'data' holds a non-finite value (NaN) at [1, 5, 2]; point clouds must have finite coordinates.`,
    );
  });
});

describe('a truncated HDF5 file', () => {
  it('says "truncated: N of M bytes" from the size its superblock records', async () => {
    const root = join(tmp, 'h5-cut');
    await writeH5Tree(root, { points: 64, train: [40] });
    const path = join(root, 'ply_data_train0.h5');
    const size = statSync(path).size;
    truncateSync(path, Math.floor(size / 2));
    const error = errorOf(() => new ModelNetH5({ dataRoot: root }));
    expect(error.code).toBe('DATA_MALFORMED');
    expect(error.message).toBe(
      `${path}: truncated: ${Math.floor(size / 2)} of ${size} bytes. Download or copy it again.`,
    );
  });

  it('the real CLI reports it in one line, without HDF5 C diagnostics or a stack (exit 2)', async () => {
    const cut = join(tmp, 'h5-cli-cut');
    await writeH5Tree(cut, { classes: ['a', 'b'], points: 64, train: [40], test: [8] });
    const path = join(cut, 'ply_data_train0.h5');
    truncateSync(path, statSync(path).size - 100);
    // A damaged file of full size: HDF5 itself fails on it and prints its diagnostics.
    const bad = join(tmp, 'h5-cli-damaged');
    await writeH5Tree(bad, { classes: ['a', 'b'], points: 64, train: [40], test: [8] });
    const damaged = join(bad, 'ply_data_train0.h5');
    const bytes = readFileSync(damaged);
    bytes.fill(0x55, 200, bytes.length - 8);
    writeFileSync(damaged, bytes);
    const cli = join(APP_DIR, 'dist', 'cli.js');
    for (const [root, expected] of [
      [cut, `${path}: truncated: ${statSync(path).size} of ${statSync(path).size + 100} bytes.`],
      [bad, `${damaged}: `],
    ] as const) {
      const run = spawnSync(
        process.execPath,
        [
          cli,
          'train',
          '--config',
          join(APP_DIR, 'configs', 'modelnet10.yaml'),
          `dataset.dataRoot=${root}`,
          'model.num_classes=2',
        ],
        { cwd: tmp, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', GORILLA_DEBUG: '' } },
      );
      const errors = run.stderr.split('\n').filter((line) => line.startsWith('error:'));
      expect(errors, run.stderr).toHaveLength(1);
      expect(errors[0]).toContain(expected);
      expect(run.stderr).not.toMatch(/HDF5-DIAG|#\d{3}: /);
      expect(run.stderr).not.toMatch(/^\s+at .+[:(]/m);
      expect(run.status).toBe(2);
    }
  }, 300_000);
});
