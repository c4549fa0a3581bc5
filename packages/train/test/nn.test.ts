import { join } from 'node:path';
import { MODULES } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/init-backend.js';
import { TrainError } from '../src/errors.js';
import { ReLU } from '../src/nn/activation.js';
import { BatchNorm1d } from '../src/nn/batch-norm.js';
import { Dropout } from '../src/nn/dropout.js';
import { Linear } from '../src/nn/linear.js';
import { Sequential } from '../src/nn/sequential.js';
import { setRandomSeed } from '../src/random/seed.js';
import {
  BACKEND_HOOK_TIMEOUT,
  expectClose,
  fixture,
  installed,
  runNodeScript,
  tempDir,
  useTestBackend,
  values,
} from './train1-helpers.js';

beforeAll(useTestBackend, BACKEND_HOOK_TIMEOUT);

describe('Linear', () => {
  it('has PyTorch names, shapes and init bounds, and maps the last axis of any rank', () => {
    setRandomSeed(0);
    const layer = new Linear({ inFeatures: 4, outFeatures: 3 });
    expect(layer.namedParameters().map(([name, v]) => [name, v.shape])).toEqual([
      ['weight', [3, 4]],
      ['bias', [3]],
    ]);
    for (const value of [...values(layer.weight), ...values(layer.bias!)])
      expect(Math.abs(value)).toBeLessThanOrEqual(0.5);
    const x = tf.tensor3d(
      [...Array(24).keys()].map((i) => i / 10),
      [2, 3, 4],
    );
    const y = layer.forward(x);
    expect(y.shape).toEqual([2, 3, 3]);
    // Row by row: y = x W^T + b.
    const w = layer.weight.arraySync() as number[][];
    const b = values(layer.bias!);
    const xs = x.arraySync() as number[][][];
    const expected = xs
      .flat()
      .flatMap((row) => w.map((wr, o) => wr.reduce((s, wv, i) => s + wv * row[i]!, b[o]!)));
    expectClose(values(y), expected, 1e-5);
    expect(() => layer.forward(tf.zeros([2, 5]))).toThrow(
      'Linear: expected an input [..., 4] of rank >= 2, got [2, 5].',
    );
    expect(
      new Linear({ inFeatures: 2, outFeatures: 2, bias: false }).namedParameters().map(([n]) => n),
    ).toEqual(['weight']);
  });

  it('the same seed gives the same initial weights', () => {
    setRandomSeed(9);
    const a = values(new Linear({ inFeatures: 3, outFeatures: 2 }).weight);
    setRandomSeed(9);
    expect(values(new Linear({ inFeatures: 3, outFeatures: 2 }).weight)).toEqual(a);
  });

  it('its custom wasm gradient equals the stock gradient', async () => {
    setRandomSeed(1);
    const layer = new Linear({ inFeatures: 6, outFeatures: 5 });
    const x = tf.randomNormal([4, 3, 6], 0, 1, 'float32', 2);
    const gradsOn = async (backend: string) => {
      await initBackend({ backend, logger: () => {} });
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(layer.forward(x))),
        layer.parameters(),
      );
      return [values(value), ...layer.parameters().map((p) => values(grads[p.name]!))];
    };
    const stock = await gradsOn('cpu');
    const custom = await gradsOn('wasm');
    for (const [index, expected] of stock.entries()) expectClose(custom[index]!, expected, 1e-5);
    await useTestBackend();
  });
});

describe('BatchNorm1d', () => {
  it('normalises with batch statistics and updates the running ones as PyTorch (momentum 0.1, unbiased var)', () => {
    const bn = new BatchNorm1d({ numFeatures: 2 });
    expect(bn.namedBuffers().map(([name]) => name)).toEqual([
      'running_mean',
      'running_var',
      'num_batches_tracked',
    ]);
    const rows = [
      [1, 10],
      [2, 20],
      [4, 40],
      [5, 70],
    ];
    const y = bn.forward(tf.tensor2d(rows));
    const column = (c: number) => rows.map((r) => r[c]!);
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const biased = (v: number[]) => mean(v.map((x) => (x - mean(v)) ** 2));
    const expected = rows.flatMap((row) =>
      row.map((x, c) => (x - mean(column(c))) / Math.sqrt(biased(column(c)) + 1e-5)),
    );
    expectClose(values(y), expected, 1e-5);
    expectClose(values(bn.runningMean!), [0.1 * 3, 0.1 * 35], 1e-6);
    expectClose(
      values(bn.runningVar!),
      [0.9 + (0.1 * biased(column(0)) * 4) / 3, 0.9 + (0.1 * biased(column(1)) * 4) / 3],
      1e-6,
    );
    expect(values(bn.numBatchesTracked!)).toEqual([1]);
    bn.eval();
    const z = bn.forward(tf.tensor2d([[3, 35]]));
    expectClose(
      values(z),
      [
        (3 - 0.3) / Math.sqrt(values(bn.runningVar!)[0]! + 1e-5),
        (35 - 3.5) / Math.sqrt(values(bn.runningVar!)[1]! + 1e-5),
      ],
      1e-5,
    );
    expect(values(bn.numBatchesTracked!)).toEqual([1]);
  });

  it('normalises over every axis but the last for [B, N, C]; momentum null averages cumulatively', () => {
    const bn = new BatchNorm1d({ numFeatures: 1, momentum: null });
    bn.forward(tf.tensor3d([1, 3, 5, 7], [2, 2, 1]));
    bn.forward(tf.tensor3d([2, 2, 2, 2], [2, 2, 1]));
    expectClose(values(bn.runningMean!), [(4 + 2) / 2], 1e-6);
    expectClose(values(bn.runningVar!), [(20 / 3 + 0) / 2], 1e-6);
    expect(() => new BatchNorm1d({ numFeatures: 3 }).forward(tf.zeros([1, 3]))).toThrow(
      /more than 1 value per channel/,
    );
  });
});

describe('Dropout, ReLU, Sequential', () => {
  it('Dropout zeroes with probability p, scales by 1/(1-p), repeats under a seed, and is the identity in eval', () => {
    const dropout = new Dropout({ p: 0.25 });
    const x = tf.ones([4000]);
    setRandomSeed(5);
    const first = values(dropout.forward(x));
    setRandomSeed(5);
    expect(values(dropout.forward(x))).toEqual(first);
    const kept = first.filter((v) => v !== 0);
    for (const v of kept) expect(v).toBeCloseTo(1 / 0.75, 6);
    expect(kept.length / 4000).toBeGreaterThan(0.72);
    expect(kept.length / 4000).toBeLessThan(0.78);
    dropout.eval();
    expect(dropout.forward(x)).toBe(x);
    expect(() => new Dropout({ p: 2 })).toThrow(RangeError);
  });

  it('Sequential names its children 0, 1, ... and builds configs through MODULES', () => {
    setRandomSeed(0);
    const model = MODULES.build<Sequential>({
      type: 'Sequential',
      layers: [
        { type: 'Linear', inFeatures: 3, outFeatures: 8 },
        { type: 'BatchNorm1d', numFeatures: 8 },
        { type: 'ReLU' },
        { type: 'Dropout', p: 0.1 },
        new Linear({ inFeatures: 8, outFeatures: 2 }),
      ],
    });
    expect([...model.stateDict().keys()]).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '4.weight',
      '4.bias',
      '1.running_mean',
      '1.running_var',
      '1.num_batches_tracked',
    ]);
    expect(model.forward(tf.ones([5, 3])).shape).toEqual([5, 2]);
    expect(model.eval().layers.every((layer) => !layer.training)).toBe(true);
    expect(new ReLU().forward(tf.tensor1d([-1, 2])).dataSync()).toEqual(new Float32Array([0, 2]));
    expect(() => MODULES.build({ type: 'Linear', inFeatures: 0, outFeatures: 2 })).toThrow(
      /inFeatures/,
    );
  });

  it('loading a mismatched state lists every problem in a StateMismatchError', () => {
    const model = new Sequential({ layers: [new Linear({ inFeatures: 2, outFeatures: 3 })] });
    try {
      model.loadStateDict({ '0.weight': tf.zeros([2, 2]), extra: tf.zeros([1]) });
      expect.unreachable();
    } catch (error) {
      expect(TrainError.isInstance(error) && error.code).toBe('STATE_MISMATCH');
      expect(error).toMatchObject({
        missing: ['0.bias'],
        unexpected: ['extra'],
        wrongShape: ['0.weight: expected [3, 2], got [2, 2]'],
      });
    }
  });
});

interface ForwardBackward {
  backend: string;
  loss: number;
  logits: number[];
  evalLogits: number[];
  grads: Record<string, number[]>;
  buffers: Record<string, number[]>;
}

describe('the same model on every backend', () => {
  const temp = tempDir();
  afterAll(temp.remove);
  const noNative = !installed('@tensorflow/tfjs-node');
  const run = (backend: string) =>
    runNodeScript<ForwardBackward>(
      fixture('forward-backward.mjs'),
      ['--backend', backend],
      join(temp.dir, `${backend}.json`),
    );
  const compare = (a: ForwardBackward, b: ForwardBackward) => {
    expectClose([a.loss], [b.loss], 1e-4);
    expectClose(a.logits, b.logits, 1e-4);
    expectClose(a.evalLogits, b.evalLogits, 1e-4);
    expect(Object.keys(a.grads)).toEqual(Object.keys(b.grads));
    for (const name of Object.keys(b.grads)) expectClose(a.grads[name]!, b.grads[name]!, 1e-4);
    for (const name of Object.keys(b.buffers))
      expectClose(a.buffers[name]!, b.buffers[name]!, 1e-4);
  };

  it('forward and backward agree within 1e-4 between wasm and cpu', async () => {
    const [wasm, cpu] = await Promise.all([run('wasm'), run('cpu')]);
    expect([wasm.backend, cpu.backend]).toEqual(['wasm', 'cpu']);
    compare(wasm, cpu);
  }, 60_000);

  it.skipIf(noNative)(
    `forward and backward agree within 1e-4 between tensorflow and wasm${noNative ? ' (skipped: @tensorflow/tfjs-node is not installed)' : ''}`,
    async () => {
      const [native, wasm] = await Promise.all([run('tensorflow'), run('wasm')]);
      expect(native.backend).toBe('tensorflow');
      compare(native, wasm);
    },
    60_000,
  );
});
