import { parameterCount, setRandomSeed } from '@gorilla-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { PointNetCls } from '../src/index.js';
import { maxAbs, randomPoints } from './helpers.js';

/** Parameters of a PyTorch Conv1d(k=1)/Linear `in → out` with bias, plus its BatchNorm1d (weight, bias). */
function layer(inputs: number, outputs: number, batchnorm: boolean): number {
  return inputs * outputs + outputs + (batchnorm ? 2 * outputs : 0);
}

/** Parameters of a chain of layers through `dims`. */
function chain(dims: number[], batchnorm: boolean): number {
  let total = 0;
  for (let i = 0; i + 1 < dims.length; i += 1) total += layer(dims[i]!, dims[i + 1]!, batchnorm);
  return total;
}

/** The paper's T-Net for a k×k transform: k→64→128→1024, 1024→512→256 with BN, 256→k² without. */
function tNet(k: number): number {
  return chain([k, 64, 128, 1024], true) + chain([1024, 512, 256], true) + layer(256, k * k, false);
}

/** gorilla3d's PointNetCls: the per-point chain, the hidden FC chain, the last FC. */
function pointNet(inChannels: number, numClasses: number): number {
  return (
    chain([inChannels, 64, 128, 1024], true) +
    chain([1024, 512, 256], true) +
    layer(256, numClasses, false)
  );
}

describe('PointNetCls parameters', () => {
  const models: PointNetCls[] = [];
  const make = (options: ConstructorParameters<typeof PointNetCls>[0] = {}) => {
    const model = new PointNetCls(options);
    models.push(model);
    return model;
  };
  afterEach(() => {
    for (const model of models.splice(0)) model.dispose();
  });

  it("has PyTorch's 811,048 parameters for the default (vanilla, 40 classes)", () => {
    expect(pointNet(3, 40)).toBe(811_048);
    expect(parameterCount(make()).get('')).toBe(811_048);
  });

  it('counts the full PointNet (both T-Nets) as the formula says', () => {
    const expected = pointNet(3, 40) + tNet(3) + tNet(64);
    expect([tNet(3), tNet(64), expected]).toEqual([803_081, 1_857_344, 3_471_473]);
    const counts = parameterCount(make({ inputTransform: true, featureTransform: true }));
    expect(counts.get('')).toBe(expected);
    expect(counts.get('feature_extractor.input_transform')).toBe(tNet(3));
    expect(counts.get('feature_extractor.feature_transform')).toBe(tNet(64));
  });

  it('counts other widths and no BatchNorm by the same formula', () => {
    const options = {
      inChannels: 6,
      numClasses: 10,
      featSize: 256,
      featLayerDims: [32],
      classifierLayerDims: [128],
    };
    const expected = chain([6, 32, 256], true) + chain([256, 128], true) + layer(128, 10, false);
    expect(parameterCount(make(options)).get('')).toBe(expected);
    const plain = chain([6, 32, 256], false) + chain([256, 128], false) + layer(128, 10, false);
    expect(parameterCount(make({ ...options, batchnorm: false })).get('')).toBe(plain);
  });

  it("names and shapes the state as gorilla3d's PyTorch model does", () => {
    const model = make();
    const shapes = Object.fromEntries(
      [...model.stateDict()].map(([name, variable]) => [name, variable.shape]),
    );
    expect(shapes).toMatchInlineSnapshot(`
      {
        "bn_layers.0.bias": [
          512,
        ],
        "bn_layers.0.num_batches_tracked": [],
        "bn_layers.0.running_mean": [
          512,
        ],
        "bn_layers.0.running_var": [
          512,
        ],
        "bn_layers.0.weight": [
          512,
        ],
        "bn_layers.1.bias": [
          256,
        ],
        "bn_layers.1.num_batches_tracked": [],
        "bn_layers.1.running_mean": [
          256,
        ],
        "bn_layers.1.running_var": [
          256,
        ],
        "bn_layers.1.weight": [
          256,
        ],
        "feature_extractor.bn_layers.0.bias": [
          64,
        ],
        "feature_extractor.bn_layers.0.num_batches_tracked": [],
        "feature_extractor.bn_layers.0.running_mean": [
          64,
        ],
        "feature_extractor.bn_layers.0.running_var": [
          64,
        ],
        "feature_extractor.bn_layers.0.weight": [
          64,
        ],
        "feature_extractor.bn_layers.1.bias": [
          128,
        ],
        "feature_extractor.bn_layers.1.num_batches_tracked": [],
        "feature_extractor.bn_layers.1.running_mean": [
          128,
        ],
        "feature_extractor.bn_layers.1.running_var": [
          128,
        ],
        "feature_extractor.bn_layers.1.weight": [
          128,
        ],
        "feature_extractor.bn_layers.2.bias": [
          1024,
        ],
        "feature_extractor.bn_layers.2.num_batches_tracked": [],
        "feature_extractor.bn_layers.2.running_mean": [
          1024,
        ],
        "feature_extractor.bn_layers.2.running_var": [
          1024,
        ],
        "feature_extractor.bn_layers.2.weight": [
          1024,
        ],
        "feature_extractor.conv_layers.0.bias": [
          64,
        ],
        "feature_extractor.conv_layers.0.weight": [
          64,
          3,
          1,
        ],
        "feature_extractor.conv_layers.1.bias": [
          128,
        ],
        "feature_extractor.conv_layers.1.weight": [
          128,
          64,
          1,
        ],
        "feature_extractor.conv_layers.2.bias": [
          1024,
        ],
        "feature_extractor.conv_layers.2.weight": [
          1024,
          128,
          1,
        ],
        "last_linear_layer.bias": [
          40,
        ],
        "last_linear_layer.weight": [
          40,
          256,
        ],
        "linear_layers.0.bias": [
          512,
        ],
        "linear_layers.0.weight": [
          512,
          1024,
        ],
        "linear_layers.1.bias": [
          256,
        ],
        "linear_layers.1.weight": [
          256,
          512,
        ],
      }
    `);
  });

  it('keeps the BatchNorm statistics as buffers, outside the parameters', () => {
    const model = make();
    const buffers = model.namedBuffers().map(([name]) => name);
    expect(buffers).toContain('feature_extractor.bn_layers.0.num_batches_tracked');
    expect(buffers.filter((name) => name.endsWith('.running_mean'))).toHaveLength(5);
    const parameters = model.namedParameters().map(([name]) => name);
    expect(
      parameters.some((name) => name.includes('running_') || name.includes('num_batches')),
    ).toBe(false);
  });

  it('names the T-Nets under the feature extractor', () => {
    const names = make({ inputTransform: true, featureTransform: true })
      .namedParameters()
      .map(([name]) => name)
      .filter((name) => name.includes('_transform.'));
    expect(names.filter((name) => name.startsWith('feature_extractor.input_transform.'))).toEqual([
      'feature_extractor.input_transform.conv_layers.0.weight',
      'feature_extractor.input_transform.conv_layers.0.bias',
      'feature_extractor.input_transform.conv_layers.1.weight',
      'feature_extractor.input_transform.conv_layers.1.bias',
      'feature_extractor.input_transform.conv_layers.2.weight',
      'feature_extractor.input_transform.conv_layers.2.bias',
      'feature_extractor.input_transform.bn_layers.0.weight',
      'feature_extractor.input_transform.bn_layers.0.bias',
      'feature_extractor.input_transform.bn_layers.1.weight',
      'feature_extractor.input_transform.bn_layers.1.bias',
      'feature_extractor.input_transform.bn_layers.2.weight',
      'feature_extractor.input_transform.bn_layers.2.bias',
      'feature_extractor.input_transform.linear_layers.0.weight',
      'feature_extractor.input_transform.linear_layers.0.bias',
      'feature_extractor.input_transform.linear_layers.1.weight',
      'feature_extractor.input_transform.linear_layers.1.bias',
      'feature_extractor.input_transform.linear_bn_layers.0.weight',
      'feature_extractor.input_transform.linear_bn_layers.0.bias',
      'feature_extractor.input_transform.linear_bn_layers.1.weight',
      'feature_extractor.input_transform.linear_bn_layers.1.bias',
      'feature_extractor.input_transform.last_linear_layer.weight',
      'feature_extractor.input_transform.last_linear_layer.bias',
    ]);
    expect(
      names.filter((name) => name.startsWith('feature_extractor.feature_transform.')),
    ).toHaveLength(22);
  });

  it('initialises reproducibly from setRandomSeed', () => {
    setRandomSeed(7);
    const a = make();
    setRandomSeed(7);
    const b = make();
    const c = make();
    const weight = (model: PointNetCls) =>
      model.stateDict().get('feature_extractor.conv_layers.2.weight')!;
    expect(maxAbs(tf.sub(weight(a), weight(b)))).toBe(0);
    expect(maxAbs(tf.sub(weight(a), weight(c)))).toBeGreaterThan(0);
  });

  it('round-trips through its state dict (logits equal after loading into a new model)', () => {
    const source = make({ numClasses: 10 });
    const points = randomPoints(4, 128, 1);
    tf.tidy(() => source.train().forward(points)); // moves the running statistics off their init
    const target = make({ numClasses: 10 });
    target.loadStateDict(source.stateDict());
    source.eval();
    target.eval();
    const difference = tf.tidy(() =>
      maxAbs(tf.sub(source.forward(points).logits, target.forward(points).logits)),
    );
    expect(difference).toBe(0);
    points.dispose();
  });
});
