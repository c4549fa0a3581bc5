import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLogger, Trainer, type TrainLoader } from '@gorilla-ts/train';
import type * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from 'vitest';
import { PointNetCls } from '../src/index.js';
import { cyclicLabels, distinctClouds } from './helpers.js';

type Batch = { points: tf.Tensor3D; labels: tf.Tensor1D };

const work = mkdtempSync(join(tmpdir(), 'pointnet-trainer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Four batches of 4 distinct clouds (3 classes), fresh tensors on every pass. */
function loader(): TrainLoader<Batch> {
  return {
    length: 4,
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < 4; i++) {
        yield { points: distinctClouds(4, 32), labels: cyclicLabels(4, 3) };
      }
    },
  };
}

const logger = getLogger({ name: 'pointnet-trainer-test', logFile: join(work, 'train.log') });

describe('Trainer with PointNetCls and the default forward', () => {
  test('trains with { type: CrossEntropyLoss } and no forward; the T-Net term is in the loss', async () => {
    const model = new PointNetCls({
      numClasses: 3,
      featLayerDims: [16, 32],
      featSize: 64,
      classifierLayerDims: [32],
      inputTransform: true,
      featureTransform: true,
    });
    const terms: Array<Record<string, number>> = [];
    const losses: number[] = [];
    const trainer = new Trainer({
      model,
      optimizer: { type: 'Adam', lr: 1e-3 },
      loss: { type: 'CrossEntropyLoss' },
      trainLoader: loader(),
      valLoader: loader(),
      maxEpochs: 2,
      workDir: join(work, 'tnet'),
      logger,
      defaultHooks: { logger: false, tensorboard: false, checkpoint: false },
      hooks: [
        {
          afterStep: (t) => {
            terms.push(t.stepResult!.terms);
            losses.push(t.stepResult!.loss);
          },
        },
      ],
    });
    const result = await trainer.fit();
    expect(result.status).toBe('finished');
    expect(result.iterations).toBe(8);
    expect(result.metrics['val/samples']).toBe(16);
    expect(result.metrics['val/acc']).toBeGreaterThanOrEqual(0);
    expect(terms).toHaveLength(8);
    for (const [i, step] of terms.entries()) {
      // The regularization is a term of the loss, and the loss is the sum of its terms.
      expect(step.regularization).toBeGreaterThanOrEqual(0);
      expect(losses[i]).toBeCloseTo(step.ce! + step.regularization!, 5);
    }
    // The T-Nets start at the identity (term 0) and move away from it as they train.
    expect(terms.at(-1)!.regularization).toBeGreaterThan(0);
  });

  test('a model without T-Nets trains on the same call (tensor logits only)', async () => {
    const trainer = new Trainer({
      model: new PointNetCls({
        numClasses: 3,
        featLayerDims: [16],
        featSize: 32,
        classifierLayerDims: [16],
      }),
      optimizer: { type: 'SGD', lr: 0.01 },
      loss: { type: 'CrossEntropyLoss' },
      trainLoader: loader(),
      maxEpochs: 1,
      workDir: join(work, 'vanilla'),
      logger,
      defaultHooks: { logger: false, tensorboard: false },
    });
    const result = await trainer.fit();
    expect(result.status).toBe('finished');
    expect(trainer.stepResult!.terms.regularization).toBeUndefined();
    expect(Number.isFinite(trainer.stepResult!.loss)).toBe(true);
  });
});
