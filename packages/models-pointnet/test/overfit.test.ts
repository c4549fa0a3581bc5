import { Adam, crossEntropyLoss, setRandomSeed } from '@gorilla-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PointNetCls, type PointNetClsOptions, withRegularization } from '../src/index.js';
import { cyclicLabels, distinctClouds } from './helpers.js';

/** Evaluation-mode accuracy (running BatchNorm statistics, no dropout). */
function accuracy(model: PointNetCls, points: tf.Tensor, labels: tf.Tensor1D): number {
  model.eval();
  const correct = tf.tidy(() => {
    const predicted = tf.argMax(model.forward(points).logits, 1);
    return tf.sum(tf.cast(tf.equal(predicted, labels), 'float32')).dataSync()[0]!;
  });
  model.train();
  return correct / labels.size;
}

/**
 * Trains with Adam (lr 1e-3) on one batch of 32 samples and returns the first step (a multiple of
 * 10) at which the evaluation-mode accuracy reaches 100 %, or undefined within `maxSteps`.
 */
function stepsToMemorise(
  options: PointNetClsOptions,
  points: number,
  maxSteps = 200,
): number | undefined {
  setRandomSeed(0);
  const model = new PointNetCls(options);
  const batch = distinctClouds(32, points);
  const labels = cyclicLabels(32, model.options.numClasses);
  const optimizer = new Adam({ params: model.namedParameters(), lr: 1e-3 });
  const criterion = withRegularization(crossEntropyLoss());
  let reached: number | undefined;
  model.train();
  try {
    for (let step = 1; step <= maxSteps && reached === undefined; step += 1) {
      optimizer
        .minimize(() => criterion({ ...model.forward(batch), labels })[0] as tf.Scalar)
        .dispose();
      if (step % 10 === 0 && accuracy(model, batch, labels) === 1) reached = step;
    }
  } finally {
    console.info(
      `PointNetCls ${JSON.stringify(options)}, 32 × ${points} points: 100 % after ${reached ?? `> ${maxSteps}`} steps`,
    );
    optimizer.dispose();
    model.dispose();
    tf.dispose([batch, labels]);
  }
  return reached;
}

const SLOW = process.env.GORILLA_SLOW_TESTS === '1';

describe('PointNetCls overfits one batch of 32 samples to 100 % within 200 steps', () => {
  // The default architecture (811,048 parameters) with 256 points per sample: a quarter of the
  // seed's 1,024, to keep this under a minute on 2 CPU cores. The per-point widths, dropout and
  // BatchNorm are the defaults; only the point count differs.
  it('default architecture, 32 × 256 points', () => {
    const steps = stepsToMemorise({}, 256);
    expect(steps).toBeDefined();
    expect(steps).toBeLessThanOrEqual(200);
  });

  it.runIf(SLOW)(
    'default architecture, 32 × 1,024 points (GORILLA_SLOW_TESTS=1)',
    () => {
      expect(stepsToMemorise({}, 1024)).toBeLessThanOrEqual(200);
    },
    600_000,
  );

  it.runIf(SLOW)(
    'full PointNet (both T-Nets), 32 × 1,024 points (GORILLA_SLOW_TESTS=1)',
    () => {
      expect(
        stepsToMemorise({ inputTransform: true, featureTransform: true }, 1024),
      ).toBeLessThanOrEqual(200);
    },
    600_000,
  );
});
