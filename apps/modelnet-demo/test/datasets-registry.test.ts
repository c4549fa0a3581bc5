import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATASETS, Registry } from '@gorilla-ts/registry';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataError,
  ensureH5,
  ModelNetH5,
  ModelNetNormalResampled,
  registerDatasets,
  SyntheticShapes,
  snakeToCamel,
} from '../src/datasets/index.js';
import { writeH5Tree } from './fixtures/modelnet-trees.js';

const tmp = mkdtempSync(join(tmpdir(), 'modelnet-registry-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('DATASETS registration', () => {
  it('registers the three data sets with schemas on import, idempotently', () => {
    for (const name of ['ModelNetH5', 'ModelNetNormalResampled', 'SyntheticShapes']) {
      expect(DATASETS.get(name).schema).toBeDefined();
    }
    expect(DATASETS.get('ModelNetH5').factory).toBe(ModelNetH5);
    expect(DATASETS.get('ModelNetNormalResampled').factory).toBe(ModelNetNormalResampled);
    expect(() => registerDatasets()).not.toThrow();
    const own = new Registry<unknown>('datasets');
    registerDatasets(own);
    expect([...own.keys()]).toEqual(['ModelNetH5', 'ModelNetNormalResampled', 'SyntheticShapes']);
    expect(own.build({ type: 'SyntheticShapes', samplesPerClass: 1 })).toBeInstanceOf(
      SyntheticShapes,
    );
  });

  it('maps snake_case keys to camelCase', () => {
    expect(
      ['data_root', 'num_points', 'use_normals', 'max_ratio', 'numPoints', 'seed'].map(
        snakeToCamel,
      ),
    ).toEqual(['dataRoot', 'numPoints', 'useNormals', 'maxRatio', 'numPoints', 'seed']);
  });

  // This file must not call ensureH5() before this test: it checks the message when it was not.
  it('building ModelNetH5 before ensureH5() says what to do; after it, build is synchronous', async () => {
    const root = join(tmp, 'h5');
    let error: unknown;
    try {
      DATASETS.build({ type: 'ModelNetH5', dataRoot: root });
    } catch (caught) {
      error = caught;
    }
    expect(DataError.isInstance(error)).toBe(true);
    expect((error as DataError).code).toBe('DATA_H5_NOT_READY');
    expect((error as Error).message).toMatchInlineSnapshot(
      `"datasets.ModelNetH5: The HDF5 reader is not initialised: \`await ensureH5()\` before building a ModelNetH5 data set (or use \`await ModelNetH5.load(options)\`)."`,
    );
    await ensureH5();
    await writeH5Tree(root);
    expect(DATASETS.build<ModelNetH5>({ type: 'ModelNetH5', dataRoot: root }).length).toBe(9);
  });
});
