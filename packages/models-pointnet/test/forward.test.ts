import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  orthogonalityLoss,
  PointNetCls,
  type PointNetClsOptions,
  withRegularization,
} from '../src/index.js';
import { maxAbs, randomPoints } from './helpers.js';

describe('PointNetCls forward', () => {
  const models: PointNetCls[] = [];
  const make = (options: PointNetClsOptions = {}) => {
    const model = new PointNetCls(options);
    models.push(model);
    return model;
  };
  afterEach(() => {
    for (const model of models.splice(0)) model.dispose();
  });

  it.each([
    ['vanilla', {}],
    ['full', { inputTransform: true, featureTransform: true }],
  ] as const)(
    'maps [B, N, 3] to logits [B, 40] (%s), in training and evaluation mode',
    (_, options) => {
      const model = make(options);
      const points = randomPoints(4, 256, 1);
      for (const training of [true, false]) {
        model.train(training);
        const shapes = tf.tidy(() => {
          const output = model.forward(points);
          return [
            output.logits.shape,
            output.inputTransform?.shape,
            output.featureTransform?.shape,
          ];
        });
        expect(shapes[0]).toEqual([4, 40]);
        if ('inputTransform' in options)
          expect(shapes.slice(1)).toEqual([
            [4, 3, 3],
            [4, 64, 64],
          ]);
      }
      points.dispose();
    },
  );

  it('takes [B, C, N] with transposedInput and gives the same logits', () => {
    const a = make({ numClasses: 7 });
    const b = make({ numClasses: 7, transposedInput: true });
    b.loadStateDict(a.stateDict());
    a.eval();
    b.eval();
    const points = randomPoints(3, 100, 2);
    const difference = tf.tidy(() =>
      maxAbs(tf.sub(a.forward(points).logits, b.forward(tf.transpose(points, [0, 2, 1])).logits)),
    );
    expect(difference).toBeLessThan(1e-5);
    points.dispose();
  });

  it.each([
    ['vanilla', {}],
    ['full', { inputTransform: true, featureTransform: true }],
  ] as const)('is invariant to the order of the points in evaluation mode (%s)', (_, options) => {
    const model = make(options);
    const points = randomPoints(4, 512, 3);
    tf.tidy(() => model.train().forward(points)); // non-trivial running statistics
    model.eval();
    const order = tf.util.createShuffledIndices(512);
    const shuffled = tf.gather(points, tf.tensor1d(Array.from(order), 'int32'), 1);
    const [difference, scale] = tf.tidy(() => {
      const logits = model.forward(points).logits;
      return [maxAbs(tf.sub(logits, model.forward(shuffled).logits)), maxAbs(logits)];
    });
    expect(scale).toBeGreaterThan(1e-3);
    expect(difference).toBeLessThan(1e-5);
    tf.dispose([points, shuffled]);
  });

  it('starts both T-Nets at the identity, so the regularization starts at zero', () => {
    const model = make({ inputTransform: true, featureTransform: true });
    const points = randomPoints(2, 64, 4);
    const [input, feature, regularization] = tf.tidy(() => {
      const output = model.eval().forward(points);
      return [
        maxAbs(tf.sub(output.inputTransform!, tf.eye(3))),
        maxAbs(tf.sub(output.featureTransform!, tf.eye(64))),
        output.regularization!.dataSync()[0],
      ];
    });
    expect([input, feature, regularization]).toEqual([0, 0, 0]);
    points.dispose();
  });

  it('computes the orthogonality term as weight · mean ‖I − A Aᵀ‖²_F', () => {
    // A = [[2, 0], [0, 1]]: I - A Aᵀ = diag(-3, 0), ‖·‖² = 9; A = I: 0. Mean 4.5, times 0.001.
    const transforms = tf.tensor3d([2, 0, 0, 1, 1, 0, 0, 1], [2, 2, 2]);
    expect(orthogonalityLoss(transforms).dataSync()[0]).toBeCloseTo(0.0045, 8);
    expect(orthogonalityLoss(transforms, 1).dataSync()[0]).toBeCloseTo(4.5, 6);
    transforms.dispose();
  });

  it('spreads into the criterion convention; withRegularization adds the term', () => {
    const model = make({ numClasses: 4, featureTransform: true, regularizationWeight: 10 });
    const labels = tf.tensor1d([0, 1], 'int32');
    const points = randomPoints(2, 32, 5);
    const criterion = (input: {
      logits: tf.Tensor;
      labels: tf.Tensor;
    }): [tf.Tensor, Record<string, tf.Tensor>] => {
      const loss = tf.losses.softmaxCrossEntropy(
        tf.oneHot(input.labels as tf.Tensor1D, 4),
        input.logits,
      );
      return [loss, { ce: loss }];
    };
    tf.tidy(() => {
      model.train();
      const output = model.forward(points);
      // Move the feature transform off the identity so the term is non-zero.
      const regularization = orthogonalityLoss(
        tf.mul(output.featureTransform!, 1.1) as tf.Tensor3D,
        10,
      );
      const [loss, terms] = withRegularization(criterion)({ ...output, regularization, labels });
      const [plain] = criterion({ logits: output.logits, labels });
      expect(Object.keys(terms)).toEqual(['ce', 'regularization']);
      expect(loss.dataSync()[0]).toBeCloseTo(
        plain.dataSync()[0]! + regularization.dataSync()[0]!,
        4,
      );
      const [vanillaLoss, vanillaTerms] = withRegularization(criterion)({
        logits: output.logits,
        labels,
      });
      expect(vanillaLoss.dataSync()[0]).toBe(plain.dataSync()[0]);
      expect(Object.keys(vanillaTerms)).toEqual(['ce']);
    });
    tf.dispose([labels, points]);
  });

  it('refuses wrong shapes and a single sample in training mode, with a code', () => {
    const model = make();
    const wrong = [tf.zeros([2, 16, 4]), tf.zeros([16, 3]), tf.zeros([2, 3, 16])];
    for (const points of wrong) {
      expect(() => model.forward(points)).toThrowError(
        expect.objectContaining({ code: 'POINTNET_INVALID_INPUT' }),
      );
    }
    const single = tf.zeros([1, 16, 3]);
    expect(() => model.train().forward(single)).toThrowError(/at least 2 samples/);
    expect(tf.tidy(() => model.eval().forward(single).logits.shape)).toEqual([1, 40]);
    tf.dispose([...wrong, single]);
  });

  it('leaks no tensors across training steps', () => {
    const model = make({ numClasses: 5, inputTransform: true, featureTransform: true });
    const points = randomPoints(4, 64, 6);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 5);
    const optimizer = tf.train.sgd(0.01);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        const output = model.forward(points);
        return tf.add(
          tf.losses.softmaxCrossEntropy(labels, output.logits),
          output.regularization!,
        ) as tf.Scalar;
      }, model.parameters());
      optimizer.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    };
    model.train();
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([points, labels]);
    optimizer.dispose();
  });
});
