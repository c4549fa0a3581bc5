import { ArgumentValidationError, buildModel, MODELS } from '@gorilla-ts/registry';
import { describe, expect, it } from 'vitest';
import { PointNetCls, PointNetError, pointNetClsSchema } from '../src/index.js';

/** The seed's model config (`seed-plain-train.md`), as its YAML parses. */
const SEED_MODEL_CONFIG = {
  type: 'PointNetCls',
  in_channels: 3,
  feat_size: 1024,
  num_classes: 40,
  dropout: 0.4,
  classifier_layer_dims: [512, 256],
  feat_layer_dims: [64, 128],
};

describe('PointNetCls from a config', () => {
  it('is registered in MODELS on import', () => {
    expect(MODELS.has('PointNetCls')).toBe(true);
    expect(MODELS.get('PointNetCls').factory).toBe(PointNetCls);
  });

  it("builds the seed's snake_case config unchanged", () => {
    const model = buildModel<PointNetCls>(SEED_MODEL_CONFIG);
    expect(model).toBeInstanceOf(PointNetCls);
    expect(model.options).toMatchObject({
      inChannels: 3,
      featSize: 1024,
      numClasses: 40,
      dropout: 0.4,
      classifierLayerDims: [512, 256],
      featLayerDims: [64, 128],
      batchnorm: true,
      inputTransform: false,
      featureTransform: false,
    });
    model.dispose();
  });

  it('accepts camelCase keys and the T-Net options in either spelling', () => {
    const camel = buildModel<PointNetCls>({
      type: 'PointNetCls',
      numClasses: 10,
      featureTransform: true,
    });
    const snake = buildModel<PointNetCls>({
      type: 'PointNetCls',
      num_classes: 10,
      input_transform: true,
    });
    expect(camel.options.featureTransform).toBe(true);
    expect(camel.options.numClasses).toBe(10);
    expect(snake.options.inputTransform).toBe(true);
    camel.dispose();
    snake.dispose();
  });

  it('reports every bad key under its spelling, with its path and code', () => {
    const issues = validationIssues({
      type: 'PointNetCls',
      num_classes: 0,
      dropout: 1.5,
      colour: 'red',
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'num_classes', code: 'too_small' },
        { path: 'dropout', code: 'too_big' },
        { path: '', code: 'unrecognized_keys' },
      ]),
    );
    expect(issues).toHaveLength(3);
  });

  it('refuses one option given in both spellings', () => {
    const issues = validationIssues({ type: 'PointNetCls', num_classes: 10, numClasses: 10 });
    expect(issues).toEqual([{ path: 'num_classes', code: 'custom' }]);
  });

  it('refuses a feature transform without a first per-point layer to transform', () => {
    const result = pointNetClsSchema.safeParse({ feat_layer_dims: [], feature_transform: true });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['feat_layer_dims']);
  });

  it('validates options given to the constructor directly', () => {
    expect(() => new PointNetCls({ classifierLayerDims: [] })).toThrowError(
      expect.objectContaining({ code: 'POINTNET_INVALID_OPTIONS' }),
    );
    try {
      new PointNetCls({ numClasses: -1 });
    } catch (error) {
      expect(PointNetError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/numClasses/);
    }
  });
});

function validationIssues(config: Record<string, unknown>): Array<{ path: string; code: string }> {
  try {
    buildModel(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ArgumentValidationError);
    return (error as ArgumentValidationError).issues.map(({ path, code }) => ({ path, code }));
  }
  throw new Error('expected the build to fail');
}
