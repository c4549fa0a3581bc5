import { SCHEDULERS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { SchedulerError } from '../errors.js';
import { registerOnce } from '../nn/register.js';
import { bisectRight } from './closed-form.js';
import { baseSchema, LrScheduler, type SchedulerBaseOptions, warmupFactorAt } from './scheduler.js';

/** The warm-up options of gorilla's Warmup* schedulers. */
export interface GorillaWarmupOptions {
  /** The warm-up factor at step 0. Defaults to `0.001`. */
  warmupFactor?: number;
  /** Steps of warm-up. Defaults to `1000`. */
  warmupIters?: number;
  /** `linear` or `constant`. Defaults to `linear`. */
  warmupMethod?: 'linear' | 'constant';
}

/** Options of {@link WarmupMultiStepLR}. */
export interface WarmupMultiStepLROptions extends SchedulerBaseOptions, GorillaWarmupOptions {
  /** Increasing steps at which the rate is multiplied by `gamma`. */
  milestones: readonly number[];
  /** Decay factor. Defaults to `0.1`. */
  gamma?: number;
}

/** gorilla's WarmupMultiStepLR: `base * warmup(t) * gamma^(number of milestones <= t)`. */
export class WarmupMultiStepLR extends LrScheduler {
  readonly type = 'WarmupMultiStepLR';
  constructor(options: WarmupMultiStepLROptions) {
    const { milestones, gamma = 0.1 } = options;
    if (milestones.some((value, index) => index > 0 && value < milestones[index - 1]!)) {
      throw new SchedulerError(
        'SCHEDULER_INVALID',
        `WarmupMultiStepLR: milestones must be increasing, got [${milestones.join(', ')}].`,
      );
    }
    const warmup = gorillaWarmup(options);
    const sorted = [...milestones];
    super(options, (t, base) => base * warmupFactorAt(t, warmup) * gamma ** bisectRight(sorted, t));
  }
}

/** Options of {@link WarmupCosineLR}. */
export interface WarmupCosineLROptions extends SchedulerBaseOptions, GorillaWarmupOptions {
  /** Steps of the whole schedule. */
  maxIters: number;
  /** Fraction of a cosine period over `maxIters`; above 0.5 the cosine is rescaled to [0, 1]. Defaults to `1`. */
  cycleFactor?: number;
  /** Start the cosine after the warm-up instead of multiplying it by the warm-up factor. Defaults to `false`. */
  startCosAfterWarmup?: boolean;
}

/**
 * gorilla's WarmupCosineLR. By default `base * warmup(t) * c(t)` with
 * `c = cos(pi cycleFactor t / maxIters)`, rescaled to `(1 + c) / 2` when `cycleFactor > 0.5`.
 * With `startCosAfterWarmup`, `base * warmup(t)` up to `warmupIters`, then the cosine over the
 * remaining `maxIters - warmupIters` steps. After `maxIters`, `t` is clamped (the rate stays at its
 * final value instead of rising again).
 */
export class WarmupCosineLR extends LrScheduler {
  readonly type = 'WarmupCosineLR';
  constructor(options: WarmupCosineLROptions) {
    const { maxIters, cycleFactor = 1, startCosAfterWarmup = false } = options;
    positive('WarmupCosineLR', 'maxIters', maxIters);
    const warmup = gorillaWarmup(options);
    const cosine = (progress: number): number => {
      const c = Math.cos(Math.PI * cycleFactor * progress);
      return cycleFactor > 0.5 ? 0.5 * (1 + c) : c;
    };
    super(options, (step, base) => {
      const t = Math.min(step, maxIters);
      if (!startCosAfterWarmup) return base * warmupFactorAt(t, warmup) * cosine(t / maxIters);
      if (t <= warmup.iters) return base * warmupFactorAt(t, warmup);
      return base * cosine((t - warmup.iters) / Math.max(1, maxIters - warmup.iters));
    });
  }
}

/** Options of {@link WarmupPolyLR}. */
export interface WarmupPolyLROptions extends SchedulerBaseOptions, GorillaWarmupOptions {
  /** Steps until the rate reaches 0 (or `constantEnding`). */
  maxIters: number;
  /** Exponent of the decay. Defaults to `0.9`. */
  power?: number;
  /** The rate never falls below `base * constantEnding` when this is > 0. Defaults to `0`. */
  constantEnding?: number;
}

/**
 * gorilla's WarmupPolyLR: `base * warmup(t) * (1 - t/maxIters)^power`, or `base * constantEnding`
 * once the decay factor falls below `constantEnding > 0`. After `maxIters`, `t` is clamped (the
 * original raised a math domain error).
 */
export class WarmupPolyLR extends LrScheduler {
  readonly type = 'WarmupPolyLR';
  constructor(options: WarmupPolyLROptions) {
    const { maxIters, power = 0.9, constantEnding = 0 } = options;
    positive('WarmupPolyLR', 'maxIters', maxIters);
    const warmup = gorillaWarmup(options);
    super(options, (step, base) => {
      const t = Math.min(step, maxIters);
      const factor = warmupFactorAt(t, warmup);
      const decay = (1 - t / maxIters) ** power;
      if ((constantEnding > 0 || factor === 1) && decay < constantEnding)
        return base * constantEnding;
      return base * factor * decay;
    });
  }
}

function gorillaWarmup(options: GorillaWarmupOptions) {
  return {
    method: options.warmupMethod ?? 'linear',
    iters: options.warmupIters ?? 1000,
    factor: options.warmupFactor ?? 0.001,
  } as const;
}

function positive(type: string, key: string, value: number): void {
  if (!(value > 0)) {
    throw new SchedulerError(
      'SCHEDULER_INVALID',
      `${type}: ${key} must be positive, got ${value}.`,
    );
  }
}

const gorillaWarmupSchema = {
  ...baseSchema,
  warmupFactor: z.number().nonnegative().optional(),
  warmupIters: z.number().int().nonnegative().optional(),
  warmupMethod: z.enum(['linear', 'constant']).optional(),
};

registerOnce(SCHEDULERS, 'WarmupMultiStepLR', WarmupMultiStepLR, {
  schema: z.strictObject({
    ...gorillaWarmupSchema,
    milestones: z.array(z.number().int().nonnegative()),
    gamma: z.number().positive().optional(),
  }),
});
registerOnce(SCHEDULERS, 'WarmupCosineLR', WarmupCosineLR, {
  schema: z.strictObject({
    ...gorillaWarmupSchema,
    maxIters: z.number().int().positive(),
    cycleFactor: z.number().positive().optional(),
    startCosAfterWarmup: z.boolean().optional(),
  }),
});
registerOnce(SCHEDULERS, 'WarmupPolyLR', WarmupPolyLR, {
  schema: z.strictObject({
    ...gorillaWarmupSchema,
    maxIters: z.number().int().positive(),
    power: z.number().nonnegative().optional(),
    constantEnding: z.number().min(0).max(1).optional(),
  }),
});
