import { LOSSES } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainError } from '../src/errors.js';
import type { Criterion } from '../src/loss/criterion.js';
import { crossEntropyLoss } from '../src/loss/cross-entropy.js';
import { focalLoss } from '../src/loss/focal.js';
import { smoothL1Loss } from '../src/loss/smooth-l1.js';
import { BACKEND_HOOK_TIMEOUT, expectClose, useTestBackend, values } from './train1-helpers.js';

beforeAll(useTestBackend, BACKEND_HOOK_TIMEOUT);

// Four rows, three classes; the third row is ignored (label -100).
const logits = () =>
  tf.tensor2d([
    [1, 2, 3],
    [1, 1, 1],
    [0.5, -1, 2],
    [3, 0, -2],
  ]);
const labels = () => tf.tensor1d([2, 0, -100, 1], 'int32');

/** -log softmax(row)[label], by hand. */
const nll = (row: number[], label: number) =>
  Math.log(row.reduce((sum, x) => sum + Math.exp(x), 0)) - row[label]!;

describe('CrossEntropyLoss (PyTorch semantics)', () => {
  const rows = [
    [1, 2, 3],
    [1, 1, 1],
    [0.5, -1, 2],
    [3, 0, -2],
  ];
  const terms = [nll(rows[0]!, 2), nll(rows[1]!, 0), 0, nll(rows[3]!, 1)];

  it('mean over the elements not ignored, and the seed convention [loss, lossOut]', () => {
    const criterion = crossEntropyLoss();
    const [loss, lossOut] = criterion({ logits: logits(), labels: labels() });
    expect(loss.shape).toEqual([]);
    expectClose(values(loss), [(terms[0]! + terms[1]! + terms[3]!) / 3]);
    expectClose(values(loss), [1.520401162829879]);
    expect(Object.keys(lossOut)).toEqual(['ce']);
    expect(lossOut.ce).toBe(loss);
    expect(criterion.type).toBe('CrossEntropyLoss');
    expect(criterion.options).toEqual({ ignoreIndex: -100, reduction: 'mean', labelSmoothing: 0 });
  });

  it('class weights give the weighted mean (divided by the sum of the targets’ weights)', () => {
    const [loss] = crossEntropyLoss({ weight: [1, 2, 0.5] })({
      logits: logits(),
      labels: labels(),
    });
    expectClose(values(loss), [(0.5 * terms[0]! + 1 * terms[1]! + 2 * terms[3]!) / (0.5 + 1 + 2)]);
    expectClose(values(loss), [2.1178244976127414]);
  });

  it('sum and none reductions', () => {
    const [sum] = crossEntropyLoss({ reduction: 'sum' })({ logits: logits(), labels: labels() });
    expectClose(values(sum), [4.561203488489637]);
    const [none] = crossEntropyLoss({ reduction: 'none', labelSmoothing: 0.1 })({
      logits: logits(),
      labels: labels(),
    });
    expect(none.shape).toEqual([4]);
    expectClose(values(none), [0.50760596, 1.09861229, 0, 3.0216519], 1e-6);
  });

  it('label smoothing, with and without class weights', () => {
    const [plain] = crossEntropyLoss({ labelSmoothing: 0.1 })({
      logits: logits(),
      labels: labels(),
    });
    expectClose(values(plain), [1.5426233850521012]);
    const [weighted] = crossEntropyLoss({ labelSmoothing: 0.1, weight: [1, 2, 0.5] })({
      logits: logits(),
      labels: labels(),
    });
    expectClose(values(weighted), [2.077129783182074]);
  });

  it('takes logits [B, N, C] with labels [B, N], and is differentiable', () => {
    const x = tf.variable(tf.reshape(logits(), [2, 2, 3]));
    const { value, grads } = tf.variableGrads(
      () =>
        crossEntropyLoss()({
          logits: x,
          labels: tf.tensor2d(
            [
              [2, 0],
              [-100, 1],
            ],
            [2, 2],
            'int32',
          ),
        })[0] as tf.Scalar,
      [x],
    );
    expectClose(values(value), [1.520401162829879]);
    // d/dlogits = (softmax - onehot) / 3 for the kept rows, 0 for the ignored one.
    const g = values(grads[x.name]!);
    expectClose(g.slice(6, 9), [0, 0, 0]);
    const softmax = rows[1]!.map(() => 1 / 3);
    expectClose(
      g.slice(3, 6),
      softmax.map((p, c) => (p - (c === 0 ? 1 : 0)) / 3),
    );
  });

  it('checks its inputs', () => {
    expect(() =>
      crossEntropyLoss()({ logits: logits(), labels: tf.tensor1d([0, 1], 'int32') }),
    ).toThrow(
      'CrossEntropyLoss: labels [2] must match logits [4, 3] without its last (class) axis.',
    );
    try {
      crossEntropyLoss({ weight: [1, 2] })({ logits: logits(), labels: labels() });
      expect.unreachable();
    } catch (error) {
      expect(TrainError.isInstance(error) && error.code).toBe('LOSS_INVALID_INPUT');
    }
  });
});

describe('SmoothL1Loss and FocalLoss', () => {
  it('SmoothL1Loss: quadratic below beta, linear above; beta 0 is L1', () => {
    const pred = tf.tensor1d([0, 1, 3, -2.5]);
    const target = tf.tensor1d([0.5, -1, 3, 0]);
    const [none, lossOut] = smoothL1Loss({ reduction: 'none' })({ logits: pred, labels: target });
    expect(values(none)).toEqual([0.125, 1.5, 0, 2]);
    expect(Object.keys(lossOut)).toEqual(['smooth_l1']);
    expectClose(values(smoothL1Loss({ beta: 0.5 })({ logits: pred, labels: target })[0]), [1.0625]);
    expectClose(
      values(smoothL1Loss({ beta: 0, reduction: 'sum' })({ logits: pred, labels: target })[0]),
      [0.5 + 2 + 0 + 2.5],
    );
  });

  it('FocalLoss (softmax): -alpha_t (1 - p_t)^gamma log p_t over the elements not ignored', () => {
    const [loss, lossOut] = focalLoss({ gamma: 2, alpha: [0.25, 0.5, 0.75] })({
      logits: logits(),
      labels: labels(),
    });
    expectClose(values(loss), [0.5144165441333618], 1e-6);
    expect(Object.keys(lossOut)).toEqual(['focal']);
    // gamma 0 and no alpha: the cross-entropy.
    expectClose(
      values(focalLoss({ gamma: 0 })({ logits: logits(), labels: labels() })[0]),
      [1.520401162829879],
    );
  });

  it('FocalLoss (sigmoid): torchvision’s sigmoid_focal_loss', () => {
    const [loss] = focalLoss({ mode: 'sigmoid', gamma: 2, alpha: 0.25 })({
      logits: tf.tensor2d([
        [0.5, -1],
        [2, -3],
      ]),
      labels: tf.tensor2d([
        [1, 0],
        [0, 1],
      ]),
    });
    expectClose(values(loss), [0.4907539151457746], 1e-6);
  });

  it('all three are registered in LOSSES with validated options', () => {
    const criterion = LOSSES.build<Criterion>({ type: 'CrossEntropyLoss', labelSmoothing: 0.1 });
    expectClose(values(criterion({ logits: logits(), labels: labels() })[0]), [1.5426233850521012]);
    expect(LOSSES.has('SmoothL1Loss') && LOSSES.has('FocalLoss')).toBe(true);
    // gorilla configs are snake_case: both spellings reach the option, never both at once.
    const snake = LOSSES.build<Criterion>({ type: 'CrossEntropyLoss', label_smoothing: 0.1 });
    expectClose(values(snake({ logits: logits(), labels: labels() })[0]), [1.5426233850521012]);
    expect(() =>
      LOSSES.build({ type: 'CrossEntropyLoss', label_smoothing: 0.1, labelSmoothing: 0.1 }),
    ).toThrow(/label_smoothing/);
    expect(() => LOSSES.build({ type: 'CrossEntropyLoss', label_smoothin: 0.1 })).toThrow(
      /label_smoothin/,
    );
  });
});
