import { OPTIMIZERS } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainError } from '../src/errors.js';
import { Linear } from '../src/nn/linear.js';
import { Sequential } from '../src/nn/sequential.js';
import { Adam, AdamW } from '../src/optim/adam.js';
import { buildOptimizer } from '../src/optim/build.js';
import type { NamedVariable, Optimizer } from '../src/optim/optimizer.js';
import { RMSprop } from '../src/optim/rmsprop.js';
import { SGD } from '../src/optim/sgd.js';
import { setRandomSeed } from '../src/random/seed.js';
import { BACKEND_HOOK_TIMEOUT, expectClose, useTestBackend, values } from './train1-helpers.js';

beforeAll(useTestBackend, BACKEND_HOOK_TIMEOUT);

type Vector = number[];
const add = (a: Vector, b: Vector) => a.map((x, i) => x + b[i]!);
const scale = (a: Vector, s: number) => a.map((x) => x * s);
const mul = (a: Vector, b: Vector) => a.map((x, i) => x * b[i]!);

// ---- PyTorch's update formulas (torch/optim/{sgd,adam,rmsprop}.py, single-tensor path), in float64 ----

function sgdReference(
  p: Vector,
  grads: Vector[],
  o: {
    lr: number;
    momentum?: number;
    dampening?: number;
    weightDecay?: number;
    nesterov?: boolean;
  },
): Vector {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = o;
  let buf: Vector | undefined;
  for (const grad of grads) {
    let g = weightDecay !== 0 ? add(grad, scale(p, weightDecay)) : grad;
    if (momentum !== 0) {
      buf = buf === undefined ? [...g] : add(scale(buf, momentum), scale(g, 1 - dampening));
      g = nesterov ? add(g, scale(buf, momentum)) : buf;
    }
    p = add(p, scale(g, -lr));
  }
  return p;
}

function adamReference(
  p: Vector,
  grads: Vector[],
  o: {
    lr: number;
    betas?: [number, number];
    eps?: number;
    weightDecay?: number;
    amsgrad?: boolean;
    decoupled?: boolean;
  },
): Vector {
  const {
    lr,
    betas: [b1, b2] = [0.9, 0.999],
    eps = 1e-8,
    weightDecay = 0,
    amsgrad = false,
    decoupled = false,
  } = o;
  let m = p.map(() => 0);
  let v = p.map(() => 0);
  let vMax = p.map(() => 0);
  grads.forEach((grad, index) => {
    const step = index + 1;
    let g = grad;
    if (decoupled) p = scale(p, 1 - lr * weightDecay);
    else if (weightDecay !== 0) g = add(g, scale(p, weightDecay));
    m = add(m, scale(add(g, scale(m, -1)), 1 - b1));
    v = add(scale(v, b2), scale(mul(g, g), 1 - b2));
    const stepSize = lr / (1 - b1 ** step);
    const bc2Sqrt = Math.sqrt(1 - b2 ** step);
    if (amsgrad) vMax = vMax.map((x, i) => Math.max(x, v[i]!));
    const second = amsgrad ? vMax : v;
    p = p.map((x, i) => x - (stepSize * m[i]!) / (Math.sqrt(second[i]!) / bc2Sqrt + eps));
  });
  return p;
}

function rmspropReference(
  p: Vector,
  grads: Vector[],
  o: {
    lr: number;
    alpha?: number;
    eps?: number;
    weightDecay?: number;
    momentum?: number;
    centered?: boolean;
  },
): Vector {
  const { lr, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered = false } = o;
  let square = p.map(() => 0);
  let gradAvg = p.map(() => 0);
  let buf = p.map(() => 0);
  for (const grad of grads) {
    const g = weightDecay !== 0 ? add(grad, scale(p, weightDecay)) : grad;
    square = add(scale(square, alpha), scale(mul(g, g), 1 - alpha));
    let avg: Vector;
    if (centered) {
      gradAvg = add(gradAvg, scale(add(g, scale(gradAvg, -1)), 1 - alpha));
      avg = square.map((s, i) => Math.sqrt(s - gradAvg[i]! ** 2) + eps);
    } else {
      avg = square.map((s) => Math.sqrt(s) + eps);
    }
    if (momentum > 0) {
      buf = buf.map((b, i) => b * momentum + g[i]! / avg[i]!);
      p = add(p, scale(buf, -lr));
    } else {
      p = p.map((x, i) => x - (lr * g[i]!) / avg[i]!);
    }
  }
  return p;
}

// ---- fixtures ----

const START = { 'fc.weight': [0.5, -1.25, 2, 0.75], 'fc.bias': [0.1, -0.3] };
const SHAPES: Record<string, number[]> = { 'fc.weight': [2, 2], 'fc.bias': [2] };
/** Three steps of gradients per parameter, of varied sign and size. */
const GRADS: Record<string, Vector[]> = {
  'fc.weight': [
    [0.3, -0.2, 0.05, 1.5],
    [-0.1, 0.4, 0.0, -0.7],
    [0.25, 0.25, -0.6, 0.9],
  ],
  'fc.bias': [
    [1, -2],
    [0.5, 0.5],
    [-0.25, 3],
  ],
};

function makeParams(): NamedVariable[] {
  return Object.entries(START).map(([name, value]) => [
    name,
    tf.variable(tf.tensor(value, SHAPES[name])),
  ]);
}

function runSteps(optimizer: Optimizer, from: number, to: number): void {
  for (let step = from; step < to; step++) {
    const grads = new Map(
      Object.entries(GRADS).map(([name, list]) => [name, tf.tensor(list[step]!, SHAPES[name])]),
    );
    optimizer.step(grads);
    tf.dispose([...grads.values()]);
  }
}

const cases: Array<{
  name: string;
  build: (params: NamedVariable[]) => Optimizer;
  reference: (p: Vector, g: Vector[]) => Vector;
}> = [
  {
    name: 'SGD',
    build: (params) => new SGD({ params, lr: 0.1 }),
    reference: (p, g) => sgdReference(p, g, { lr: 0.1 }),
  },
  {
    name: 'SGD + momentum + dampening + weight decay',
    build: (params) =>
      new SGD({ params, lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
    reference: (p, g) =>
      sgdReference(p, g, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
  },
  {
    name: 'SGD + Nesterov',
    build: (params) =>
      new SGD({ params, lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 1e-3 }),
    reference: (p, g) =>
      sgdReference(p, g, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 1e-3 }),
  },
  {
    name: 'Adam',
    build: (params) => new Adam({ params, lr: 0.01 }),
    reference: (p, g) => adamReference(p, g, { lr: 0.01 }),
  },
  {
    name: 'Adam + L2 weight decay + amsgrad',
    build: (params) =>
      new Adam({
        params,
        lr: 0.02,
        betas: [0.8, 0.99],
        eps: 1e-6,
        weightDecay: 0.1,
        amsgrad: true,
      }),
    reference: (p, g) =>
      adamReference(p, g, {
        lr: 0.02,
        betas: [0.8, 0.99],
        eps: 1e-6,
        weightDecay: 0.1,
        amsgrad: true,
      }),
  },
  {
    name: 'AdamW (decoupled decay)',
    build: (params) => new AdamW({ params, lr: 0.01, weightDecay: 0.5 }),
    reference: (p, g) => adamReference(p, g, { lr: 0.01, weightDecay: 0.5, decoupled: true }),
  },
  {
    name: 'AdamW + amsgrad, default decay 1e-2',
    build: (params) => new AdamW({ params, lr: 0.01, amsgrad: true }),
    reference: (p, g) =>
      adamReference(p, g, { lr: 0.01, weightDecay: 1e-2, amsgrad: true, decoupled: true }),
  },
  {
    name: 'RMSprop',
    build: (params) => new RMSprop({ params, lr: 0.01 }),
    reference: (p, g) => rmspropReference(p, g, { lr: 0.01 }),
  },
  {
    name: 'RMSprop centred + momentum + weight decay',
    build: (params) =>
      new RMSprop({
        params,
        lr: 0.01,
        alpha: 0.9,
        momentum: 0.5,
        centered: true,
        weightDecay: 0.05,
      }),
    reference: (p, g) =>
      rmspropReference(p, g, {
        lr: 0.01,
        alpha: 0.9,
        momentum: 0.5,
        centered: true,
        weightDecay: 0.05,
      }),
  },
];

describe('optimizer updates equal PyTorch formulas', () => {
  for (const { name, build, reference } of cases) {
    it(`${name}: 3 steps`, () => {
      const params = makeParams();
      const optimizer = build(params);
      runSteps(optimizer, 0, 3);
      for (const [paramName, variable] of params) {
        const expected = reference(START[paramName as keyof typeof START], GRADS[paramName]!);
        expectClose(values(variable), expected, 2e-6);
      }
      expect(optimizer.iterations).toBe(3);
    });

    it(`${name}: stateDict round trip continues identically`, () => {
      const straight = makeParams();
      const a = build(straight);
      runSteps(a, 0, 3);
      const resumed = makeParams();
      const b = build(resumed);
      runSteps(b, 0, 1);
      // Round-trip the JSON part, copy the slots: as a checkpoint would.
      const { slots, ...json } = b.stateDict();
      const copies = new Map([...slots].map(([key, tensor]) => [key, tensor.clone()]));
      const restoredParams = makeParams();
      for (const [index, [, variable]] of restoredParams.entries())
        variable.assign(resumed[index]![1]);
      const c = build(restoredParams);
      c.loadStateDict({ ...JSON.parse(JSON.stringify(json)), slots: copies });
      tf.dispose([...copies.values()]);
      runSteps(c, 1, 3);
      for (const [index, [, variable]] of straight.entries()) {
        expect(values(restoredParams[index]![1])).toEqual(values(variable));
      }
      expect(c.iterations).toBe(3);
    });
  }

  it('slots are named <param>.<slot>; a missing gradient skips its parameter', () => {
    const params = makeParams();
    const adam = new Adam({ params, lr: 0.1, amsgrad: true });
    adam.step({ [params[0]![1].name]: tf.ones([2, 2]) });
    const state = adam.stateDict();
    expect([...state.slots.keys()]).toEqual([
      'fc.weight.exp_avg',
      'fc.weight.exp_avg_sq',
      'fc.weight.max_exp_avg_sq',
    ]);
    expect(state.steps).toEqual({ 'fc.weight': 1 });
    expect(values(params[1]![1])).toEqual(values(tf.tensor(START['fc.bias'])));
  });

  it('a step creates no lasting tensors beyond the slots', () => {
    const params = makeParams();
    const optimizer = new SGD({ params, lr: 0.1, momentum: 0.9 });
    runSteps(optimizer, 0, 1);
    const before = tf.memory().numTensors;
    runSteps(optimizer, 1, 3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('minimize() computes the gradients, steps and frees them', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const optimizer = new SGD({ params: [['w', w]], lr: 0.25 });
    const loss = optimizer.minimize(() => tf.sum(tf.square(w)));
    expect(values(loss)).toEqual([5]);
    expect(values(w)).toEqual([0.5, 1]);
  });
});

describe('buildOptimizer, learning rates and errors', () => {
  const model = () => {
    setRandomSeed(0);
    return new Sequential({
      layers: [
        new Linear({ inFeatures: 2, outFeatures: 2 }),
        new Linear({ inFeatures: 2, outFeatures: 1 }),
      ],
    });
  };

  it('builds from a config with per-prefix multipliers, and never writes into the config', () => {
    const config = Object.freeze({
      type: 'SGD',
      lr: 0.1,
      momentum: 0.9,
      weightDecay: 1e-4,
      paramGroups: Object.freeze([Object.freeze({ prefix: '1.', lrMult: 10, decayMult: 0 })]),
    });
    const snapshot = JSON.stringify(config);
    const optimizer = buildOptimizer<SGD>(model(), config);
    expect(JSON.stringify(config)).toBe(snapshot);
    expect(optimizer).toBeInstanceOf(SGD);
    expect(
      optimizer.paramGroups.map((g) => [g.params.map(([n]) => n), g.lr, g.weightDecay, g.momentum]),
    ).toEqual([
      [['0.weight', '0.bias'], 0.1, 1e-4, 0.9],
      [['1.weight', '1.bias'], 1, 0, 0.9],
    ]);
    expect(optimizer.getLr()).toBe(0.1);
    expect(optimizer.getLrs()).toEqual([0.1, 1]);
    optimizer.setLr([0.2, 2]);
    expect(optimizer.getLrs()).toEqual([0.2, 2]);
    optimizer.setLr(0.3);
    expect(optimizer.getLrs()).toEqual([0.3, 0.3]);
    expect(() => optimizer.setLr([1])).toThrow(
      'setLr() got 1 learning rates for 2 parameter groups.',
    );
  });

  it('all four are registered with validated options', () => {
    expect(['SGD', 'Adam', 'AdamW', 'RMSprop'].every((name) => OPTIMIZERS.has(name))).toBe(true);
    expect(() => buildOptimizer(model(), { type: 'Adam', lr: -1 })).toThrow(/lr/);
    expect(() => buildOptimizer(model(), { type: 'Adam', learningRate: 1 })).toThrow(
      /learningRate/,
    );
    expect(() => buildOptimizer(model(), { type: 'SGD', lr: 0.1, nesterov: true })).toThrow(
      'Nesterov momentum requires momentum > 0 and dampening = 0.',
    );
  });

  it('a prefix that matches nothing is an error listing the names that exist', () => {
    try {
      buildOptimizer(model(), { type: 'SGD', paramGroups: [{ prefix: 'head.', lrMult: 10 }] });
      expect.unreachable();
    } catch (error) {
      expect(TrainError.isInstance(error) && error.code).toBe('OPTIMIZER_INVALID');
      expect((error as Error).message).toMatchInlineSnapshot(
        `"paramGroups: no parameter starts with 'head.' (or an earlier rule took them all). Parameter names start with: 0., 1.."`,
      );
    }
  });

  it('a state that does not fit is refused with every problem, changing nothing', () => {
    const a = buildOptimizer(model(), { type: 'Adam' });
    const params = makeParams();
    const b = new Adam({ params, lr: 0.1 });
    runSteps(b, 0, 1);
    const state = b.stateDict();
    expect(() => a.loadStateDict(state)).toThrow(
      /group 0 parameters differ[\s\S]*unexpected slot fc.weight.exp_avg/,
    );
    expect(() => new SGD({ params, lr: 1 }).loadStateDict(state)).toThrow(
      /the state is for Adam, this optimizer is SGD/,
    );
    expect(() => new Adam({ params: [['w', tf.variable(tf.zeros([1]), false)]] })).toThrow(
      /not trainable/,
    );
  });
});
