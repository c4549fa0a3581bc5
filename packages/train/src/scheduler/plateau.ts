import { SCHEDULERS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { SchedulerError } from '../errors.js';
import { registerOnce } from '../nn/register.js';
import type { JsonValue } from '../optim/optimizer.js';
import {
  baseSchema,
  LrScheduler,
  type SchedulerBaseOptions,
  type SchedulerState,
} from './scheduler.js';

/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauOptions extends SchedulerBaseOptions {
  /** `min`: lower metrics are better (a loss); `max`: higher are better (an accuracy). Defaults to `min`. */
  mode?: 'min' | 'max';
  /** Multiplies the rate on a plateau. Defaults to `0.1`. */
  factor?: number;
  /** Steps without improvement tolerated before reducing. Defaults to `10`. */
  patience?: number;
  /** The least change that counts as an improvement. Defaults to `1e-4`. */
  threshold?: number;
  /** `rel`: relative to the best (`best * (1 -/+ threshold)`); `abs`: absolute. Defaults to `rel`. */
  thresholdMode?: 'rel' | 'abs';
  /** Steps to wait after a reduction before counting again. Defaults to `0`. */
  cooldown?: number;
  /** The lowest rate, one number or one per group. Defaults to `0`. */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped. Defaults to `1e-8`. */
  eps?: number;
}

/**
 * PyTorch's ReduceLROnPlateau: `step(metric)` after each evaluation; when the metric has not
 * improved for more than `patience` steps, each group's rate becomes
 * `max(lr * factor, minLr)`. Not a closed form: its counters are in the state dict.
 */
export class ReduceLROnPlateau extends LrScheduler {
  readonly type = 'ReduceLROnPlateau';
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  /** The best metric so far. */
  best: number;
  /** Steps since the last improvement. */
  numBadEpochs = 0;
  /** Steps of cooldown left. */
  cooldownCounter = 0;

  constructor(options: ReduceLROnPlateauOptions) {
    super(options);
    const {
      mode = 'min',
      factor = 0.1,
      patience = 10,
      threshold = 1e-4,
      thresholdMode = 'rel',
    } = options;
    if (!(factor < 1))
      throw new SchedulerError(
        'SCHEDULER_INVALID',
        `ReduceLROnPlateau: factor must be < 1, got ${factor}.`,
      );
    this.mode = mode;
    this.factor = factor;
    this.patience = patience;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    const groups = this.optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    this.minLrs =
      typeof minLr === 'number' ? Array.from({ length: groups }, () => minLr) : [...minLr];
    if (this.minLrs.length !== groups) {
      throw new SchedulerError(
        'SCHEDULER_INVALID',
        `ReduceLROnPlateau: minLr has ${this.minLrs.length} values for ${groups} parameter groups.`,
      );
    }
    this.best = mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /**
   * Records one evaluation's metric and reduces the rates on a plateau.
   *
   * @throws {@link SchedulerError} without a finite-or-NaN number metric.
   */
  override step(metric?: number): void {
    if (typeof metric !== 'number') {
      throw new SchedulerError(
        'SCHEDULER_INVALID',
        'ReduceLROnPlateau.step(metric) needs the metric to watch (e.g. the validation loss).',
      );
    }
    this.lastEpoch += 1;
    if (this.#isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      const lrs = this.optimizer.getLrs().map((old, index) => {
        const reduced = Math.max(old * this.factor, this.minLrs[index]!);
        return old - reduced > this.eps ? reduced : old;
      });
      this.setLrs(lrs);
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    } else {
      this.setLrs(this.optimizer.getLrs());
    }
  }

  #isBetter(value: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min') {
      return this.thresholdMode === 'rel'
        ? value < best * (1 - threshold)
        : value < best - threshold;
    }
    return this.thresholdMode === 'rel' ? value > best * (threshold + 1) : value > best + threshold;
  }

  protected override extraState(): Record<string, JsonValue> {
    // JSON has no Infinity: before the first metric, `best` is stored as null.
    return {
      best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
    };
  }

  protected override loadExtraState(state: SchedulerState): void {
    const { best, numBadEpochs, cooldownCounter } = state;
    this.best =
      typeof best === 'number'
        ? best
        : this.mode === 'min'
          ? Number.POSITIVE_INFINITY
          : Number.NEGATIVE_INFINITY;
    this.numBadEpochs = typeof numBadEpochs === 'number' ? numBadEpochs : 0;
    this.cooldownCounter = typeof cooldownCounter === 'number' ? cooldownCounter : 0;
  }
}

registerOnce(SCHEDULERS, 'ReduceLROnPlateau', ReduceLROnPlateau, {
  schema: z.strictObject({
    ...baseSchema,
    mode: z.enum(['min', 'max']).optional(),
    factor: z.number().positive().lt(1).optional(),
    patience: z.number().int().nonnegative().optional(),
    threshold: z.number().nonnegative().optional(),
    thresholdMode: z.enum(['rel', 'abs']).optional(),
    cooldown: z.number().int().nonnegative().optional(),
    minLr: z.union([z.number().nonnegative(), z.array(z.number().nonnegative())]).optional(),
    eps: z.number().nonnegative().optional(),
  }),
});
