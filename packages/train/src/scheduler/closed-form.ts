import { SCHEDULERS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { SchedulerError } from '../errors.js';
import { registerOnce } from '../nn/register.js';
import {
  baseSchema,
  LrScheduler,
  type SchedulerBaseOptions,
  type WarmupSchedulerOptions,
  warmupSchema,
} from './scheduler.js';

/** Options of {@link StepLR}. */
export interface StepLROptions extends WarmupSchedulerOptions {
  /** Steps between decays. */
  stepSize: number;
  /** Decay factor. Defaults to `0.1`. */
  gamma?: number;
}

/** `base * gamma^floor(t / stepSize)` (PyTorch's StepLR; gorilla's compounding `lr_multi` bug is not copied). */
export class StepLR extends LrScheduler {
  readonly type = 'StepLR';
  constructor(options: StepLROptions) {
    const { stepSize, gamma = 0.1 } = options;
    positiveInteger('StepLR', 'stepSize', stepSize);
    super(options, (t, base) => base * gamma ** Math.floor(t / stepSize));
  }
}

/** Options of {@link MultiStepLR}. */
export interface MultiStepLROptions extends WarmupSchedulerOptions {
  /** Steps at which the rate is multiplied by `gamma` (a repeated milestone decays twice). */
  milestones: readonly number[];
  /** Decay factor. Defaults to `0.1`. */
  gamma?: number;
}

/** `base * gamma^(number of milestones <= t)` (PyTorch's MultiStepLR). */
export class MultiStepLR extends LrScheduler {
  readonly type = 'MultiStepLR';
  constructor(options: MultiStepLROptions) {
    const { gamma = 0.1 } = options;
    const milestones = [...options.milestones].sort((a, b) => a - b);
    super(options, (t, base) => base * gamma ** bisectRight(milestones, t));
  }
}

/** Options of {@link ExponentialLR}. */
export interface ExponentialLROptions extends WarmupSchedulerOptions {
  /** Decay factor per step. */
  gamma: number;
}

/** `base * gamma^t` (PyTorch's ExponentialLR). */
export class ExponentialLR extends LrScheduler {
  readonly type = 'ExponentialLR';
  constructor(options: ExponentialLROptions) {
    const { gamma } = options;
    super(options, (t, base) => base * gamma ** t);
  }
}

/** Options of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLROptions extends WarmupSchedulerOptions {
  /** Steps of a half period. */
  tMax: number;
  /** The minimum rate. Defaults to `0`. */
  etaMin?: number;
}

/** `etaMin + (base - etaMin) (1 + cos(pi t / tMax)) / 2` (PyTorch's CosineAnnealingLR closed form). */
export class CosineAnnealingLR extends LrScheduler {
  readonly type = 'CosineAnnealingLR';
  constructor(options: CosineAnnealingLROptions) {
    const { tMax, etaMin = 0 } = options;
    positiveInteger('CosineAnnealingLR', 'tMax', tMax);
    super(
      options,
      (t, base) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2,
    );
  }
}

/** Options of {@link PolyLR}. */
export interface PolyLROptions extends WarmupSchedulerOptions {
  /** Steps until the rate reaches 0 (or `constantEnding`). */
  maxIters: number;
  /** Exponent of the decay. Defaults to `0.9`. */
  power?: number;
  /** The rate never falls below `base * constantEnding` when this is > 0. Defaults to `0`. */
  constantEnding?: number;
}

/**
 * gorilla's PolyLR: `base * (1 - t/maxIters)^power`, or `base * constantEnding` once that factor
 * falls below `constantEnding > 0`. After `maxIters`, `t` is clamped (the original raised a math
 * domain error).
 */
export class PolyLR extends LrScheduler {
  readonly type = 'PolyLR';
  constructor(options: PolyLROptions) {
    const { maxIters, power = 0.9, constantEnding = 0 } = options;
    positiveInteger('PolyLR', 'maxIters', maxIters);
    super(options, (t, base) => {
      const factor = (1 - Math.min(t, maxIters) / maxIters) ** power;
      return constantEnding > 0 && factor < constantEnding ? base * constantEnding : base * factor;
    });
  }
}

/** Options of {@link LinearLR}. */
export interface LinearLROptions extends SchedulerBaseOptions {
  /** Factor at step 0. Defaults to `1/3`. */
  startFactor?: number;
  /** Factor from `totalIters` on. Defaults to `1`. */
  endFactor?: number;
  /** Steps of the ramp. Defaults to `5`. */
  totalIters?: number;
}

/** `base * (start + (end - start) min(t, totalIters) / totalIters)` (PyTorch's LinearLR): a warm-up. */
export class LinearLR extends LrScheduler {
  readonly type = 'LinearLR';
  constructor(options: LinearLROptions) {
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = options;
    positiveInteger('LinearLR', 'totalIters', totalIters);
    super(
      options,
      (t, base) =>
        base * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, t)) / totalIters),
    );
  }
}

/** Options of {@link ConstantLR}. */
export interface ConstantLROptions extends SchedulerBaseOptions {
  /** Factor before `totalIters`. Defaults to `1/3`. */
  factor?: number;
  /** Steps at the reduced rate. Defaults to `5`. */
  totalIters?: number;
}

/** `base * factor` before `totalIters`, then `base` (PyTorch's ConstantLR): a constant warm-up. */
export class ConstantLR extends LrScheduler {
  readonly type = 'ConstantLR';
  constructor(options: ConstantLROptions) {
    const { factor = 1 / 3, totalIters = 5 } = options;
    super(options, (t, base) => base * (t < totalIters ? factor : 1));
  }
}

/** The number of sorted `values` that are <= `x` (Python's `bisect_right`). */
export function bisectRight(values: readonly number[], x: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (x < values[middle]!) high = middle;
    else low = middle + 1;
  }
  return low;
}

function positiveInteger(type: string, key: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new SchedulerError(
      'SCHEDULER_INVALID',
      `${type}: ${key} must be a positive integer, got ${value}.`,
    );
  }
}

const warmup = { ...baseSchema, warmup: warmupSchema.optional() };
const positiveInt = z.number().int().positive();

registerOnce(SCHEDULERS, 'StepLR', StepLR, {
  schema: z.strictObject({
    ...warmup,
    stepSize: positiveInt,
    gamma: z.number().positive().optional(),
  }),
});
registerOnce(SCHEDULERS, 'MultiStepLR', MultiStepLR, {
  schema: z.strictObject({
    ...warmup,
    milestones: z.array(z.number().int().nonnegative()),
    gamma: z.number().positive().optional(),
  }),
});
registerOnce(SCHEDULERS, 'ExponentialLR', ExponentialLR, {
  schema: z.strictObject({ ...warmup, gamma: z.number().positive() }),
});
registerOnce(SCHEDULERS, 'CosineAnnealingLR', CosineAnnealingLR, {
  schema: z.strictObject({
    ...warmup,
    tMax: positiveInt,
    etaMin: z.number().nonnegative().optional(),
  }),
});
registerOnce(SCHEDULERS, 'PolyLR', PolyLR, {
  schema: z.strictObject({
    ...warmup,
    maxIters: positiveInt,
    power: z.number().nonnegative().optional(),
    constantEnding: z.number().min(0).max(1).optional(),
  }),
});
registerOnce(SCHEDULERS, 'LinearLR', LinearLR, {
  schema: z.strictObject({
    ...baseSchema,
    startFactor: z.number().gt(0).max(1).optional(),
    endFactor: z.number().min(0).max(1).optional(),
    totalIters: positiveInt.optional(),
  }),
});
registerOnce(SCHEDULERS, 'ConstantLR', ConstantLR, {
  schema: z.strictObject({
    ...baseSchema,
    factor: z.number().min(0).max(1).optional(),
    totalIters: z.number().int().nonnegative().optional(),
  }),
});
