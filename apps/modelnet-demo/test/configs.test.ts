import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Config, ConfigValidationError, validateConfig } from '@gorilla-ts/config';
import { pointNetClsSchema } from '@gorilla-ts/models-pointnet';
import { describe, expect, it } from 'vitest';
import { appConfigSchema } from '../src/config-schema.js';
import { modelNetH5Schema, syntheticShapesSchema } from '../src/datasets/index.js';
import { APP_DIR } from '../src/paths.js';

const configs = (name: string) => join(APP_DIR, 'configs', name);

describe('configs', () => {
  it.each(['default.yaml', 'modelnet40.yaml', 'modelnet10.yaml'])(
    '%s validates, with model and data options their builders accept',
    async (name) => {
      const config = validateConfig(await Config.fromFile(configs(name)), appConfigSchema);
      const { type: modelType, ...model } = config.model;
      expect(modelType).toBe('PointNetCls');
      const options = pointNetClsSchema.parse(model);
      const { type: dataType, ...dataset } = config.dataset;
      const data = (
        dataType === 'SyntheticShapes' ? syntheticShapesSchema : modelNetH5Schema
      ).parse({ ...dataset, split: 'train' }) as { numClasses?: number; numPoints: number };
      expect(config.lr_scheduler.type).toBe('StepLR');
      if (dataType === 'SyntheticShapes') expect(options.numClasses).toBe(data.numClasses);
      expect(config.epochs).toBeGreaterThan(0);
    },
  );

  it('keeps the seed recipe for ModelNet and resolves the data folders from the config file', async () => {
    const m40 = validateConfig(await Config.fromFile(configs('modelnet40.yaml')), appConfigSchema);
    expect(m40).toMatchObject({
      model: { num_classes: 40, feat_size: 1024, dropout: 0.4 },
      optimizer: { type: 'Adam', lr: 0.001, weightDecay: 0.0001 },
      lr_scheduler: { type: 'StepLR', stepSize: 20, gamma: 0.7 },
      dataloader: { batch_size: 32 },
      dataset: { type: 'ModelNetH5', numPoints: 1024, augment: { scale: [0.8, 1.25], shift: 0.1 } },
      epochs: 200,
    });
    expect(resolve(m40.dataset.dataRoot as string)).toBe(
      join(APP_DIR, 'data', 'modelnet40_ply_hdf5_2048'),
    );
    const m10 = validateConfig(await Config.fromFile(configs('modelnet10.yaml')), appConfigSchema);
    expect(m10.model.num_classes).toBe(10);
    // ../shared beside the repository root.
    expect(resolve(m10.dataset.dataRoot as string)).toBe(
      resolve(APP_DIR, '../../../shared/data/modelnet10_ply_hdf5_1024'),
    );
  });

  it('reports every problem of a config with its key and file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelnet-config-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, `_base_: ${configs('default.yaml')}\nepoch: 3\nepochs: -1\n`);
      const cfg = await Config.fromFile(file);
      const error = (() => {
        try {
          validateConfig(cfg, appConfigSchema);
        } catch (e) {
          return e;
        }
      })();
      expect(ConfigValidationError.isInstance(error)).toBe(true);
      const issues = (error as ConfigValidationError).issues.map((issue) => issue.path.join('.'));
      expect(issues.sort()).toEqual(['epoch', 'epochs']);
      expect((error as Error).message).toContain('bad.yaml: epoch: unknown key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has the data folders ignored by git', () => {
    expect(existsSync(join(APP_DIR, '.gitignore'))).toBe(true);
  });
});
