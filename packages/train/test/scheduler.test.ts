import { SCHEDULERS } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainError } from '../src/errors.js';
import { Adam } from '../src/optim/adam.js';
import type { NamedVariable, Optimizer } from '../src/optim/optimizer.js';
import { SGD } from '../src/optim/sgd.js';
import { buildLrScheduler, type SchedulerConfig } from '../src/scheduler/build.js';
import { ReduceLROnPlateau } from '../src/scheduler/plateau.js';
import type { LrScheduler } from '../src/scheduler/scheduler.js';
import { BACKEND_HOOK_TIMEOUT, useTestBackend } from './train1-helpers.js';

beforeAll(useTestBackend, BACKEND_HOOK_TIMEOUT);

const params = (): NamedVariable[] => [['w', tf.variable(tf.zeros([1]))]];
/** An SGD optimizer with one group per base lr. */
function sgd(...lrs: number[]): SGD {
  return new SGD({
    params: lrs.map((lr, i) => ({ params: [[`g${i}`, tf.variable(tf.zeros([1]))] as const], lr })),
    momentum: 0.9,
  });
}

/** The rates of the first group after construction and after each of `steps` steps. */
function trace(scheduler: LrScheduler, steps: number, group = 0): number[] {
  const lrs = [scheduler.optimizer.getLrs()[group]!];
  for (let i = 0; i < steps; i++) {
    scheduler.step();
    lrs.push(scheduler.optimizer.getLrs()[group]!);
  }
  return lrs;
}

function expectSequence(actual: number[], expected: number[], tolerance = 1e-9): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, t) => {
    if (!(Math.abs(value - expected[t]!) <= tolerance))
      throw new Error(`t=${t}: got ${value}, expected ${expected[t]}`);
  });
}

const range = (n: number) => [...Array(n).keys()];
const bisectRight = (sorted: number[], x: number) => sorted.filter((m) => m <= x).length;
const warmupFactor = (t: number, iters: number, factor: number, method = 'linear') =>
  t >= iters || iters === 0
    ? 1
    : method === 'constant'
      ? factor
      : factor * (1 - t / iters) + t / iters;

describe("closed forms equal PyTorch's (torch.optim.lr_scheduler._get_closed_form_lr)", () => {
  const build = (config: SchedulerConfig, optimizer: Optimizer = sgd(0.1)) =>
    buildLrScheduler(optimizer, config);

  it('StepLR: base * gamma^floor(t / stepSize)', () => {
    expectSequence(
      trace(build({ type: 'StepLR', stepSize: 3, gamma: 0.5 }), 10),
      range(11).map((t) => 0.1 * 0.5 ** Math.floor(t / 3)),
    );
  });

  it('MultiStepLR: base * gamma^bisect_right(milestones, t), a repeated milestone counting twice', () => {
    const milestones = [2, 5, 5, 8];
    expectSequence(
      trace(build({ type: 'MultiStepLR', milestones: [5, 2, 8, 5], gamma: 0.1 }), 10),
      range(11).map((t) => 0.1 * 0.1 ** bisectRight(milestones, t)),
    );
  });

  it('ExponentialLR: base * gamma^t', () => {
    expectSequence(
      trace(build({ type: 'ExponentialLR', gamma: 0.9 }), 12),
      range(13).map((t) => 0.1 * 0.9 ** t),
    );
  });

  it('CosineAnnealingLR: etaMin + (base - etaMin)(1 + cos(pi t / tMax)) / 2, beyond tMax too', () => {
    expectSequence(
      trace(build({ type: 'CosineAnnealingLR', tMax: 10, etaMin: 0.001 }), 25),
      range(26).map((t) => 0.001 + ((0.1 - 0.001) * (1 + Math.cos((Math.PI * t) / 10))) / 2),
    );
  });

  it('LinearLR and ConstantLR', () => {
    expectSequence(
      trace(build({ type: 'LinearLR', startFactor: 0.25, endFactor: 1, totalIters: 4 }), 7),
      range(8).map((t) => 0.1 * (0.25 + (0.75 * Math.min(4, t)) / 4)),
    );
    expectSequence(
      trace(build({ type: 'ConstantLR', factor: 0.5, totalIters: 3 }), 5),
      range(6).map((t) => 0.1 * (t < 3 ? 0.5 : 1)),
    );
  });

  it('OneCycleLR: two and three phases, cos and linear, with the momentum cycled the other way', () => {
    const reference = (
      t: number,
      o: { maxLr: number; total: number; pct: number; three: boolean; cos: boolean },
    ) => {
      const initial = o.maxLr / 25;
      const min = initial / 1e4;
      const phases = o.three
        ? [
            [o.pct * o.total - 1, initial, o.maxLr, 0.95, 0.85],
            [2 * o.pct * o.total - 2, o.maxLr, initial, 0.85, 0.95],
            [o.total - 1, initial, min, 0.95, 0.95],
          ]
        : [
            [o.pct * o.total - 1, initial, o.maxLr, 0.95, 0.85],
            [o.total - 1, o.maxLr, min, 0.85, 0.95],
          ];
      const anneal = (a: number, b: number, pct: number) =>
        o.cos ? b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1) : (b - a) * pct + a;
      let start = 0;
      for (const [index, [end, lrA, lrB, mA, mB]] of phases.entries()) {
        if (t <= end! || index === phases.length - 1) {
          const pct = (t - start) / (end! - start);
          return [anneal(lrA!, lrB!, pct), anneal(mA!, mB!, pct)];
        }
        start = end!;
      }
      throw new Error('unreachable');
    };
    for (const [three, cos] of [
      [false, true],
      [true, true],
      [false, false],
    ] as const) {
      const optimizer = sgd(0.5);
      const scheduler = build(
        {
          type: 'OneCycleLR',
          maxLr: 1,
          totalSteps: 20,
          pctStart: 0.25,
          threePhase: three,
          annealStrategy: cos ? 'cos' : 'linear',
          by: 'iteration',
        },
        optimizer,
      );
      expect(scheduler.by).toBe('iteration');
      const lrs: number[] = [];
      const momenta: number[] = [];
      for (let t = 0; t <= 20; t++) {
        if (t > 0) scheduler.step();
        lrs.push(optimizer.getLr());
        momenta.push(optimizer.paramGroups[0]!.momentum);
      }
      expectSequence(
        lrs,
        range(21).map((t) => reference(t, { maxLr: 1, total: 20, pct: 0.25, three, cos })[0]!),
      );
      expectSequence(
        momenta,
        range(21).map((t) => reference(t, { maxLr: 1, total: 20, pct: 0.25, three, cos })[1]!),
      );
    }
    expect(trace(build({ type: 'OneCycleLR', maxLr: 1, totalSteps: 10 }), 0)[0]).toBeCloseTo(
      0.04,
      12,
    );
    const adam = new Adam({ params: params() });
    build({ type: 'OneCycleLR', maxLr: 0.01, epochs: 2, stepsPerEpoch: 5 }, adam);
    expect(adam.paramGroups[0]!.betas).toEqual([0.95, 0.999]);
  });

  it('a `warmup` option multiplies any schedule by gorilla’s warm-up factor', () => {
    expectSequence(
      trace(build({ type: 'CosineAnnealingLR', tMax: 10, warmup: { iters: 3, factor: 0.1 } }), 12),
      range(13).map(
        (t) => warmupFactor(t, 3, 0.1) * ((0.1 * (1 + Math.cos((Math.PI * t) / 10))) / 2),
      ),
    );
    expectSequence(
      trace(
        build({
          type: 'StepLR',
          stepSize: 4,
          warmup: { iters: 2, factor: 0.5, method: 'constant' },
        }),
        6,
      ),
      range(7).map((t) => (t < 2 ? 0.5 : 1) * 0.1 * 0.1 ** Math.floor(t / 4)),
    );
  });

  it('SequentialLR: a LinearLR warm-up then a cosine counting from its milestone', () => {
    const config = {
      type: 'SequentialLR',
      schedulers: [
        { type: 'LinearLR', startFactor: 0.1, totalIters: 3 },
        { type: 'CosineAnnealingLR', tMax: 5 },
      ],
      milestones: [3],
    };
    const snapshot = JSON.stringify(config);
    expectSequence(
      trace(build(config), 9),
      range(10).map((t) =>
        t < 3 ? 0.1 * (0.1 + (0.9 * t) / 3) : (0.1 * (1 + Math.cos((Math.PI * (t - 3)) / 5))) / 2,
      ),
    );
    expect(JSON.stringify(config)).toBe(snapshot);
    expect(() => build({ ...config, milestones: [] })).toThrow(
      'SequentialLR: expected 1 milestones for 2 schedulers, got 0.',
    );
  });

  it('every group follows its own base rate', () => {
    const optimizer = sgd(0.1, 1);
    const scheduler = build({ type: 'ExponentialLR', gamma: 0.5 }, optimizer);
    scheduler.step();
    expect(scheduler.getLr()).toEqual([0.05, 0.5]);
    expect(optimizer.paramGroups.map((g) => g.initialLr)).toEqual([0.1, 1]);
  });
});

describe("gorilla's schedulers, without its bugs", () => {
  it('WarmupMultiStepLR reproduces the reference values (ms [3,5], wi 2, wf .1, base .1)', () => {
    const scheduler = buildLrScheduler(sgd(0.1), {
      type: 'WarmupMultiStepLR',
      milestones: [3, 5],
      warmupIters: 2,
      warmupFactor: 0.1,
    });
    const lrs = trace(scheduler, 5);
    [0.01, 0.055, 0.1, 0.01, 0.01, 0.001].forEach((value, t) => {
      expect(lrs[t]).toBeCloseTo(value, 12);
    });
    expectSequence(
      lrs,
      range(6).map((t) => 0.1 * warmupFactor(t, 2, 0.1) * 0.1 ** bisectRight([3, 5], t)),
    );
    expect(() =>
      buildLrScheduler(sgd(0.1), { type: 'WarmupMultiStepLR', milestones: [5, 3] }),
    ).toThrow('milestones must be increasing');
  });

  it('WarmupCosineLR reproduces the reference values, and clamps after maxIters', () => {
    const plain = trace(
      buildLrScheduler(sgd(1), {
        type: 'WarmupCosineLR',
        maxIters: 5,
        warmupIters: 2,
        warmupFactor: 0.1,
      }),
      7,
    );
    [0.1, 0.4975, 0.6545, 0.3455, 0.0955, 0].forEach((value, t) => {
      expect(plain[t]).toBeCloseTo(value, 4);
    });
    expectSequence(
      plain.slice(0, 6),
      range(6).map((t) => warmupFactor(t, 2, 0.1) * 0.5 * (1 + Math.cos((Math.PI * t) / 5))),
    );
    expect(plain.slice(5)).toEqual([plain[5], plain[5], plain[5]]);
    const after = trace(
      buildLrScheduler(sgd(1), {
        type: 'WarmupCosineLR',
        maxIters: 5,
        warmupIters: 2,
        warmupFactor: 0.1,
        startCosAfterWarmup: true,
      }),
      5,
    );
    [0.1, 0.55, 1, 0.75, 0.25, 0].forEach((value, t) => {
      expect(after[t]).toBeCloseTo(value, 12);
    });
    const quarter = trace(
      buildLrScheduler(sgd(1), {
        type: 'WarmupCosineLR',
        maxIters: 4,
        warmupIters: 0,
        cycleFactor: 0.5,
      }),
      4,
    );
    expectSequence(
      quarter,
      range(5).map((t) => Math.cos((Math.PI * 0.5 * t) / 4)),
    );
  });

  it('PolyLR and WarmupPolyLR: the reference values, constant ending, no math domain error after maxIters', () => {
    const poly = trace(buildLrScheduler(sgd(1), { type: 'PolyLR', maxIters: 5, power: 1 }), 8);
    expectSequence(poly, [1, 0.8, 0.6, 0.4, 0.2, 0, 0, 0, 0], 1e-12);
    const fractional = trace(
      buildLrScheduler(sgd(1), { type: 'PolyLR', maxIters: 5, power: 0.9 }),
      8,
    );
    expect(fractional.every(Number.isFinite)).toBe(true);
    expectSequence(
      fractional,
      range(9).map((t) => (1 - Math.min(t, 5) / 5) ** 0.9),
    );
    const ending = trace(
      buildLrScheduler(sgd(1), { type: 'PolyLR', maxIters: 10, power: 2, constantEnding: 0.1 }),
      12,
    );
    expectSequence(
      ending,
      range(13).map((t) => Math.max((1 - Math.min(t, 10) / 10) ** 2, 0.1)),
    );
    const warm = trace(
      buildLrScheduler(sgd(0.5), {
        type: 'WarmupPolyLR',
        maxIters: 8,
        warmupIters: 3,
        warmupFactor: 0.2,
        power: 0.9,
      }),
      10,
    );
    expectSequence(
      warm,
      range(11).map(
        (t) => 0.5 * warmupFactor(Math.min(t, 8), 3, 0.2) * (1 - Math.min(t, 8) / 8) ** 0.9,
      ),
    );
  });

  it('all are registered; the config is never written to', () => {
    for (const name of [
      'StepLR',
      'MultiStepLR',
      'ExponentialLR',
      'CosineAnnealingLR',
      'PolyLR',
      'OneCycleLR',
      'LinearLR',
      'ConstantLR',
      'SequentialLR',
      'ReduceLROnPlateau',
      'WarmupMultiStepLR',
      'WarmupCosineLR',
      'WarmupPolyLR',
    ]) {
      expect(SCHEDULERS.has(name), name).toBe(true);
    }
    const config = Object.freeze({ type: 'StepLR', stepSize: 2 });
    const scheduler = buildLrScheduler(sgd(0.1), config);
    expect(config).toEqual({ type: 'StepLR', stepSize: 2 });
    expect(scheduler.by).toBe('epoch');
    expect(() => buildLrScheduler(sgd(0.1), { type: 'StepLR', stepSize: 0 })).toThrow(/stepSize/);
    expect(() =>
      buildLrScheduler(sgd(0.1), { type: 'StepLR', stepSize: 2, by: 'batch' as never }),
    ).toThrow(/by/);
  });
});

describe('ReduceLROnPlateau', () => {
  it('reduces after patience bad steps, then cools down (PyTorch semantics)', () => {
    const optimizer = sgd(1);
    const scheduler = buildLrScheduler(optimizer, {
      type: 'ReduceLROnPlateau',
      patience: 1,
      factor: 0.5,
      cooldown: 1,
      threshold: 0,
      thresholdMode: 'abs',
      minLr: 0.3,
    });
    const lrs = [10, 9, 9, 9, 9, 8, 8, 8].map((metric) => {
      scheduler.step(metric);
      return optimizer.getLr();
    });
    expect(lrs).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.3]);
    expect(() => scheduler.step()).toThrow(/needs the metric/);
  });

  it('relative thresholds and max mode', () => {
    const optimizer = sgd(1);
    const scheduler = new ReduceLROnPlateau({
      optimizer,
      mode: 'max',
      patience: 0,
      threshold: 0.1,
    });
    scheduler.step(1); // best 1
    scheduler.step(1.05); // not > 1.1: reduce
    expect(optimizer.getLr()).toBeCloseTo(0.1, 12);
    scheduler.step(2); // better
    expect(optimizer.getLr()).toBeCloseTo(0.1, 12);
  });

  it('its counters survive a state dict round trip (JSON)', () => {
    const a = new ReduceLROnPlateau({ optimizer: sgd(1), patience: 2 });
    const b = new ReduceLROnPlateau({ optimizer: sgd(1), patience: 2 });
    for (const metric of [5, 6]) a.step(metric);
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    for (const metric of [6, 7]) {
      a.step(metric);
      b.step(metric);
    }
    expect(b.optimizer.getLr()).toBe(a.optimizer.getLr());
    expect(b.stateDict()).toEqual(a.stateDict());
    expect(b.optimizer.getLr()).toBeCloseTo(0.1, 12);
  });
});

describe('scheduler state', () => {
  it('OneCycleLR restores its rate and momentum from a state', () => {
    const config = { type: 'OneCycleLR', maxLr: 1, totalSteps: 20 };
    const a = buildLrScheduler(sgd(0.1), config);
    for (let i = 0; i < 7; i++) a.step();
    const optimizer = sgd(0.1);
    const b = buildLrScheduler(optimizer, config);
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(optimizer.getLr()).toBe(a.optimizer.getLr());
    expect(optimizer.paramGroups[0]!.momentum).toBe((a.optimizer as SGD).paramGroups[0]!.momentum);
    a.step();
    b.step();
    expect(optimizer.getLr()).toBe(a.optimizer.getLr());
  });

  it('a JSON round trip continues exactly where it stopped', () => {
    const config = {
      type: 'WarmupCosineLR',
      maxIters: 20,
      warmupIters: 4,
      by: 'iteration' as const,
    };
    const straight = buildLrScheduler(sgd(0.1), config);
    const straightLrs = trace(straight, 12);
    const first = buildLrScheduler(sgd(0.1), config);
    trace(first, 5);
    const state = JSON.parse(JSON.stringify(first.stateDict()));
    expect(state).toMatchObject({ type: 'WarmupCosineLR', lastEpoch: 5, baseLrs: [0.1] });
    const second = buildLrScheduler(sgd(0.1), config);
    second.loadStateDict(state);
    expect(second.lastEpoch).toBe(5);
    expect([second.getLr()[0], ...trace(second, 7).slice(1)]).toEqual(straightLrs.slice(5));
  });

  it('a state of another scheduler is refused', () => {
    const scheduler = buildLrScheduler(sgd(0.1), { type: 'StepLR', stepSize: 2 });
    try {
      scheduler.loadStateDict(
        buildLrScheduler(sgd(0.1), { type: 'ExponentialLR', gamma: 0.5 }).stateDict(),
      );
      expect.unreachable();
    } catch (error) {
      expect(TrainError.isInstance(error) && error.code).toBe('SCHEDULER_STATE_INVALID');
      expect((error as Error).message).toBe(
        'Cannot load the StepLR state: it is the state of ExponentialLR, this scheduler is StepLR.',
      );
    }
  });
});
