import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropyLoss } from '../src/loss/cross-entropy.js';
import { smoothL1Loss } from '../src/loss/smooth-l1.js';
import { BatchNorm1d } from '../src/nn/batch-norm.js';
import { Adam, AdamW } from '../src/optim/adam.js';
import type { NamedVariable, Optimizer } from '../src/optim/optimizer.js';
import { RMSprop } from '../src/optim/rmsprop.js';
import { SGD } from '../src/optim/sgd.js';
import { RandomGenerator } from '../src/random/generator.js';
import { buildLrScheduler, type SchedulerConfig } from '../src/scheduler/build.js';
import { ReduceLROnPlateau } from '../src/scheduler/plateau.js';
import { expectClose, fixture, useTestBackend, values } from './train1-helpers.js';

/** The Python with torch: `GORILLA_TORCH_PYTHON`, else `python3`. */
const PYTHON = process.env.GORILLA_TORCH_PYTHON ?? 'python3';
function torchAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const missing = !torchAvailable();
const reason = missing
  ? ` (skipped: ${PYTHON} cannot import torch; set GORILLA_TORCH_PYTHON to a Python with torch)`
  : '';

// Inputs, from a fixed generator.
const rng = new RandomGenerator(2024);
const normals = (n: number, scale = 1, shift = 0) =>
  Array.from({ length: n }, () => shift + scale * rng.normal());
const rows = (r: number, c: number, scale = 1, shift = 0) =>
  Array.from({ length: r }, () => normals(c, scale, shift));
const input = {
  p0: normals(6),
  grads: rows(5, 6),
  logits: rows(7, 4),
  labels: [0, 3, -100, 2, 1, 1, 3],
  bn_x1: rows(5, 3),
  bn_x2: rows(4, 3, 3, 1),
  metrics: [1.0, 0.9, 0.95, 0.95, 0.95, 0.94, 0.96, 0.97, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6],
};

type Reference = {
  optim: Record<string, number[]>;
  sched: Record<string, { lrs: number[]; moms?: number[] }>;
  loss: Record<string, number[]>;
  bn: Record<string, number[]>;
};

describe.skipIf(missing)(`the same numbers as PyTorch itself${reason}`, () => {
  let reference: Reference;
  beforeAll(async () => {
    await useTestBackend();
    reference = JSON.parse(
      execFileSync(PYTHON, [fixture('torch_reference.py')], {
        input: JSON.stringify(input),
        encoding: 'utf8',
      }),
    );
  }, 120_000);

  it('optimizers: 5 steps of SGD, Nesterov, Adam (amsgrad, L2), AdamW, RMSprop (centred, momentum)', () => {
    const cases: Record<string, (params: NamedVariable[]) => Optimizer> = {
      sgd: (params) =>
        new SGD({ params, lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
      nesterov: (params) =>
        new SGD({ params, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
      adam: (params) =>
        new Adam({ params, lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.1, amsgrad: true }),
      adamw: (params) => new AdamW({ params, lr: 0.01, weightDecay: 0.3 }),
      rmsprop: (params) =>
        new RMSprop({
          params,
          lr: 0.01,
          alpha: 0.9,
          momentum: 0.5,
          centered: true,
          weightDecay: 0.05,
        }),
    };
    for (const [name, make] of Object.entries(cases)) {
      const p = tf.variable(tf.tensor1d(input.p0));
      const optimizer = make([['p', p]]);
      for (const g of input.grads) optimizer.step(new Map([['p', tf.tensor1d(g)]]));
      expectClose(values(p), reference.optim[name]!, 2e-6);
    }
  });

  it('schedulers: 30 steps each, rates (and OneCycle momenta) within 1e-12', () => {
    const configs: Record<string, Omit<SchedulerConfig, 'optimizer'>> = {
      step: { type: 'StepLR', stepSize: 4, gamma: 0.5 },
      multistep: { type: 'MultiStepLR', milestones: [3, 7, 7, 12], gamma: 0.3 },
      exp: { type: 'ExponentialLR', gamma: 0.9 },
      cosine: { type: 'CosineAnnealingLR', tMax: 8, etaMin: 0.01 },
      linear: { type: 'LinearLR', startFactor: 0.2, endFactor: 0.9, totalIters: 6 },
      constant: { type: 'ConstantLR', factor: 0.25, totalIters: 4 },
      onecycle: { type: 'OneCycleLR', maxLr: 1, totalSteps: 30, pctStart: 0.2, threePhase: true },
      onecycle2: { type: 'OneCycleLR', maxLr: 0.5, totalSteps: 30, annealStrategy: 'linear' },
      sequential: {
        type: 'SequentialLR',
        schedulers: [
          { type: 'LinearLR', startFactor: 0.1, totalIters: 5 },
          { type: 'CosineAnnealingLR', tMax: 10 },
        ],
        milestones: [5],
      },
    };
    for (const [name, config] of Object.entries(configs)) {
      const optimizer = new SGD({
        params: [['p', tf.variable(tf.zeros([1]))]],
        lr: 0.1,
        momentum: 0.9,
      });
      const scheduler = buildLrScheduler(optimizer, config as SchedulerConfig);
      const lrs = [optimizer.getLr()];
      const moms = [optimizer.paramGroups[0]!.momentum];
      for (let i = 0; i < 29; i++) {
        scheduler.step();
        lrs.push(optimizer.getLr());
        moms.push(optimizer.paramGroups[0]!.momentum);
      }
      expectClose(lrs, reference.sched[name]!.lrs, 1e-12);
      expectClose(moms, reference.sched[name]!.moms!, 1e-12);
    }
    const optimizer = new SGD({ params: [['p', tf.variable(tf.zeros([1]))]], lr: 0.1 });
    const plateau = new ReduceLROnPlateau({
      optimizer,
      patience: 1,
      factor: 0.5,
      cooldown: 1,
      threshold: 0.01,
      minLr: 0.004,
    });
    const lrs = input.metrics.map((metric) => {
      plateau.step(metric);
      return optimizer.getLr();
    });
    expectClose(lrs, reference.sched.plateau!.lrs, 1e-12);
  });

  it('losses: cross-entropy with weights, label smoothing, ignore index and reductions; smooth L1', () => {
    const logits = tf.tensor2d(input.logits);
    const labels = tf.tensor1d(input.labels, 'int32');
    const weight = [1, 2, 0.5, 1.5];
    const options = {
      plain: {},
      w: { weight },
      ls: { labelSmoothing: 0.2 },
      wls: { weight, labelSmoothing: 0.2 },
      wlssum: { weight, labelSmoothing: 0.2, reduction: 'sum' as const },
      none: { labelSmoothing: 0.2, reduction: 'none' as const },
    };
    for (const [name, option] of Object.entries(options)) {
      expectClose(
        values(crossEntropyLoss(option)({ logits, labels })[0]),
        reference.loss[name]!,
        2e-6,
      );
    }
    expectClose(
      values(smoothL1Loss({ beta: 0.5 })({ logits, labels: tf.onesLike(logits) })[0]),
      reference.loss.sl1!,
      2e-6,
    );
  });

  it('BatchNorm1d: training output, running statistics after two batches, evaluation output', () => {
    const bn = new BatchNorm1d({ numFeatures: 3 });
    const y1 = bn.forward(tf.tensor2d(input.bn_x1));
    bn.forward(tf.tensor2d(input.bn_x2));
    expectClose(values(y1), reference.bn.y1!, 2e-6);
    expectClose(values(bn.runningMean!), reference.bn.rm!, 2e-6);
    expectClose(values(bn.runningVar!), reference.bn.rv!, 2e-6);
    bn.eval();
    expectClose(values(bn.forward(tf.tensor2d(input.bn_x1))), reference.bn.eval!, 2e-6);
    expect(values(bn.numBatchesTracked!)).toEqual([2]);
  });
});
