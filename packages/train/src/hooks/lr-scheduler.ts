import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import { ReduceLROnPlateau } from '../scheduler/plateau.js';
import type { TrainerContext } from '../trainer/context.js';
import { TrainerError } from '../trainer/errors.js';
import { HookBase, type HookOptions, type Metrics } from '../trainer/hook.js';
import { hookOptionsShape } from './schema.js';

/** Options of {@link LrSchedulerHook}. */
export interface LrSchedulerHookOptions extends HookOptions {
  /** The metric a `ReduceLROnPlateau` watches. Defaults to `val/loss`. */
  monitor?: string;
}

/**
 * Steps the trainer's learning-rate scheduler: after every iteration when its `by` is
 * `iteration` (an iteration is one optimizer step, so with gradient accumulation it counts
 * steps, not batches), after every epoch when `epoch`. A `ReduceLROnPlateau` steps after each
 * evaluation during training, with the `monitor` metric. Priority `NORMAL` (after evaluation,
 * before checkpoints, so a checkpoint holds the stepped scheduler); runs on every rank.
 */
export class LrSchedulerHook extends HookBase {
  readonly monitor: string;

  constructor(options: LrSchedulerHookOptions = {}) {
    super(options, 'NORMAL');
    this.monitor = options.monitor ?? 'val/loss';
  }

  override afterStep(trainer: TrainerContext): void {
    const scheduler = trainer.scheduler;
    if (scheduler?.by === 'iteration' && !(scheduler instanceof ReduceLROnPlateau))
      scheduler.step();
  }

  override afterEpoch(trainer: TrainerContext): void {
    const scheduler = trainer.scheduler;
    if (scheduler?.by === 'epoch' && !(scheduler instanceof ReduceLROnPlateau)) scheduler.step();
  }

  override afterEval(trainer: TrainerContext, metrics: Metrics): void {
    const scheduler = trainer.scheduler;
    if (!(scheduler instanceof ReduceLROnPlateau) || !trainer.running) return;
    const value = metrics[this.monitor];
    if (value === undefined) {
      throw new TrainerError(
        'TRAINER_INVALID',
        `LrSchedulerHook: ReduceLROnPlateau watches '${this.monitor}', but the evaluation gave ${Object.keys(metrics).join(', ') || 'no metrics'}. Set the hook's \`monitor\`.`,
      );
    }
    scheduler.step(value);
  }
}

registerOnce(HOOKS, 'LrSchedulerHook', LrSchedulerHook, {
  schema: z.strictObject({ ...hookOptionsShape, monitor: z.string().optional() }),
});
