import { type BackendName, initBackend, setRandomSeed } from '@gorilla-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PointNetCls, type PointNetClsOptions } from '../src/index.js';
import {
  backendAvailable,
  cyclicLabels,
  distinctClouds,
  gradientsByName,
  lossOf,
  maxAbs,
  randomPoints,
  SMALL,
} from './helpers.js';

const BACKENDS: BackendName[] = ['tensorflow', 'wasm', 'cpu'];
const available = await Promise.all(BACKENDS.map(backendAvailable));
const INSTALLED = BACKENDS.filter((_, index) => available[index]);

/** The conv biases that feed a BatchNorm: in training mode BatchNorm removes them exactly. */
function feedsBatchNorm(name: string): boolean {
  return /conv_layers\.\d+\.bias$/.test(name);
}

const VARIANTS: Array<[string, PointNetClsOptions]> = [
  ['vanilla', {}],
  ['full', { inputTransform: true, featureTransform: true }],
  ['no BatchNorm', { batchnorm: false, inputTransform: true, featureTransform: true }],
];

describe.each(INSTALLED)('gradients on %s', (backend) => {
  let previous: string;
  beforeAll(async () => {
    previous = tf.getBackend();
    await initBackend({ backend, logger: () => {} });
  });
  afterAll(async () => {
    await tf.setBackend(previous);
  });

  it.each(VARIANTS)('reach every trainable variable (%s)', (_, options) => {
    setRandomSeed(1);
    const model = new PointNetCls({ ...SMALL, ...options });
    const points = randomPoints(4, 64, 11);
    const labels = cyclicLabels(4, 5);
    if (options.inputTransform) {
      // A T-Net starts at exactly the identity (last layer: zero weight, identity bias, as in the
      // paper's code), so its inner layers get their first gradient only after one update.
      const before = gradientsByName(model, points, labels);
      const inner = 'feature_extractor.input_transform.conv_layers.0.weight';
      expect(maxAbs(before.get(inner)!)).toBe(0);
      expect(
        maxAbs(before.get('feature_extractor.input_transform.last_linear_layer.weight')!),
      ).toBeGreaterThan(0);
      for (const [name, variable] of model.namedParameters()) {
        variable.assign(tf.tidy(() => tf.sub(variable, tf.mul(before.get(name)!, 0.1))));
      }
      tf.dispose([...before.values()]);
    }
    for (const mode of ['train', 'eval'] as const) {
      model.train(mode === 'train');
      const grads = gradientsByName(model, points, labels);
      const names = model.namedParameters().map(([name]) => name);
      expect([...grads.keys()]).toEqual(names);
      for (const [name, grad] of grads) {
        const size = maxAbs(grad);
        expect(Number.isFinite(size), `${mode} ${name}`).toBe(true);
        if (mode === 'train' && options.batchnorm !== false && feedsBatchNorm(name)) {
          // d(loss)/d(bias) = sum over the batch of BatchNorm's input gradient, which is zero:
          // exactly zero here; rounding noise (~1e-9) in PyTorch and in tfjs's stock gradient.
          expect(size, `${mode} ${name}`).toBe(0);
        } else {
          expect(size, `${mode} ${name}`).toBeGreaterThan(0);
        }
      }
      tf.dispose([...grads.values()]);
    }
    tf.dispose([points, labels]);
    model.dispose();
  });

  it.each(VARIANTS)("equal tfjs's stock gradients of the plain formulation (%s)", (_, options) => {
    setRandomSeed(2);
    const fused = new PointNetCls({ ...SMALL, ...options });
    const reference = new PointNetCls({ ...SMALL, ...options, formulation: 'autodiff' });
    reference.loadStateDict(fused.stateDict());
    const points = randomPoints(4, 64, 12);
    const labels = cyclicLabels(4, 5);
    for (const mode of ['train', 'eval'] as const) {
      fused.train(mode === 'train');
      reference.train(mode === 'train');
      const expected = gradientsByName(reference, points, labels);
      const actual = gradientsByName(fused, points, labels);
      for (const [name, grad] of expected) {
        const scale = maxAbs(grad);
        const error = maxAbs(tf.sub(actual.get(name)!, grad));
        if (mode === 'train' && options.batchnorm !== false && feedsBatchNorm(name)) {
          expect(scale, `${mode} ${name}: the stock gradient is rounding noise`).toBeLessThan(1e-5);
        } else {
          expect(error, `${mode} ${name}`).toBeLessThanOrEqual(1e-3 * scale + 1e-6);
        }
      }
      tf.dispose([...expected.values(), ...actual.values()]);
    }
    // Both updated their running statistics identically during the training-mode pass.
    const running = reference.stateDict();
    for (const [name, buffer] of fused.namedBuffers()) {
      expect(maxAbs(tf.sub(buffer, running.get(name)!)), name).toBeLessThan(1e-4);
    }
    tf.dispose([points, labels]);
    fused.dispose();
    reference.dispose();
  });

  it('trains: Adam steps lower the loss', () => {
    setRandomSeed(3);
    const model = new PointNetCls(SMALL);
    const points = distinctClouds(5, 64);
    const labels = cyclicLabels(5, 5);
    const optimizer = tf.train.adam(1e-2);
    const losses: number[] = [];
    for (let step = 0; step < 30; step += 1) {
      const loss = optimizer.minimize(
        () => lossOf(model, points, labels),
        true,
        model.parameters(),
      )!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(0.5 * losses[0]!);
    tf.dispose([points, labels]);
    optimizer.dispose();
    model.dispose();
  });

  it('gives the input points a gradient when asked', () => {
    const model = new PointNetCls(SMALL);
    model.inputGradient = true;
    const points = randomPoints(2, 32, 13);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(model.forward(x).logits))(points);
    expect(grad.shape).toEqual([2, 32, 3]);
    expect(maxAbs(grad)).toBeGreaterThan(0);
    tf.dispose([points, grad]);
    model.dispose();
  });
});

it('runs on every backend it claims: tensorflow when installed, wasm and cpu always', () => {
  expect(INSTALLED).toEqual(expect.arrayContaining(['wasm', 'cpu']));
});

it('stays exact for points far from the origin (centred statistics, no cancellation)', () => {
  setRandomSeed(4);
  const fused = new PointNetCls(SMALL);
  const reference = new PointNetCls({ ...SMALL, formulation: 'autodiff' });
  reference.loadStateDict(fused.stateDict());
  const points = tf.tidy(() => tf.add(randomPoints(4, 64, 15), tf.tensor1d([100, -50, 30])));
  const labels = cyclicLabels(4, 5);
  const expected = gradientsByName(reference, points, labels);
  const actual = gradientsByName(fused, points, labels);
  for (const [name, grad] of expected) {
    if (feedsBatchNorm(name)) continue;
    const scale = maxAbs(grad);
    expect(maxAbs(tf.sub(actual.get(name)!, grad)), name).toBeLessThanOrEqual(1e-3 * scale + 1e-6);
  }
  tf.dispose([points, labels, ...expected.values(), ...actual.values()]);
  fused.dispose();
  reference.dispose();
});
