import { type BuildConfig, SCHEDULERS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { SchedulerError } from '../errors.js';
import { registerOnce } from '../nn/register.js';
import { bisectRight } from './closed-form.js';
import { baseSchema, LrScheduler, type SchedulerBaseOptions } from './scheduler.js';

/** Options of {@link SequentialLR}. */
export interface SequentialLROptions extends SchedulerBaseOptions {
  /**
   * The schedules, in order: built schedulers on the same optimizer, or configs
   * (`{ type: 'LinearLR', startFactor: 0.01, totalIters: 5 }`) built with `SCHEDULERS`.
   */
  schedulers: ReadonlyArray<LrScheduler | BuildConfig>;
  /** Increasing steps at which the next schedule takes over; one fewer than `schedulers`. */
  milestones: readonly number[];
}

/**
 * PyTorch's SequentialLR: schedule `i` runs from `milestones[i-1]`, counting its own steps from
 * 0 there. The usual use is a warm-up followed by a decay:
 * `{ type: 'SequentialLR', schedulers: [{ type: 'LinearLR', startFactor: 0.01, totalIters: 5 },
 * { type: 'CosineAnnealingLR', tMax: 95 }], milestones: [5] }`.
 */
export class SequentialLR extends LrScheduler {
  readonly type = 'SequentialLR';
  /** The schedules, in order. */
  readonly schedulers: readonly LrScheduler[];

  constructor(options: SequentialLROptions) {
    const { optimizer, milestones } = options;
    const schedulers = options.schedulers.map((item) =>
      item instanceof LrScheduler ? item : SCHEDULERS.build<LrScheduler>({ ...item, optimizer }),
    );
    if (schedulers.length === 0 || milestones.length !== schedulers.length - 1) {
      throw new SchedulerError(
        'SCHEDULER_INVALID',
        `SequentialLR: expected ${Math.max(0, schedulers.length - 1)} milestones for ${schedulers.length} schedulers, got ${milestones.length}.`,
      );
    }
    if (milestones.some((value, index) => index > 0 && value <= milestones[index - 1]!)) {
      throw new SchedulerError(
        'SCHEDULER_INVALID',
        `SequentialLR: milestones must be increasing, got [${milestones.join(', ')}].`,
      );
    }
    for (const scheduler of schedulers) {
      if (scheduler.optimizer !== optimizer) {
        throw new SchedulerError(
          'SCHEDULER_INVALID',
          `SequentialLR: the ${scheduler.type} scheduler is bound to another optimizer.`,
        );
      }
    }
    const bounds = [...milestones];
    super(options, (t, _base, group) => {
      const index = bisectRight(bounds, t);
      const start = index === 0 ? 0 : bounds[index - 1]!;
      return schedulers[index]!.lrAt(t - start)[group]!;
    });
    this.schedulers = schedulers;
  }
}

registerOnce(SCHEDULERS, 'SequentialLR', SequentialLR, {
  schema: z.strictObject({
    ...baseSchema,
    schedulers: z
      .array(
        z.union([
          z.custom<LrScheduler>((value) => value instanceof LrScheduler),
          z.looseObject({ type: z.unknown() }),
        ]),
      )
      .min(1),
    milestones: z.array(z.number().int().positive()),
  }),
});
