import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import type { TrainerContext } from '../trainer/context.js';
import { HookBase, type HookOptions } from '../trainer/hook.js';
import { isPeriodEnd } from '../trainer/period.js';
import { hookOptionsShape, interval } from './schema.js';

/** Options of {@link EvalHook}. */
export interface EvalHookOptions extends HookOptions {
  /** Evaluate every this many epochs (or iterations, with `byEpoch: false`), and at the end. `0` disables. Defaults to `1`. */
  interval?: number;
  /** Count `interval` in epochs; `false`: in iterations. Defaults to `true`. */
  byEpoch?: boolean;
  /** The batches to evaluate. Defaults to the trainer's `valLoader`. */
  loader?: AsyncIterable<unknown>;
}

/**
 * Runs {@link TrainerContext.evaluate} periodically during training (the metrics go to
 * `trainer.metrics` as `val/<name>` and to the `afterEval` hooks: logging, best checkpoint,
 * early stopping, plateau scheduling). For a distributed run, give it a loader over an
 * `InferenceSampler`, so each sample is evaluated once (`Trainer.fromConfig` does). Priority
 * `ABOVE_NORMAL` (after BatchNorm sync, before the scheduler, logger and checkpoint hooks); runs
 * on every rank, which all take part in gathering the results.
 */
export class EvalHook extends HookBase {
  readonly interval: number;
  readonly byEpoch: boolean;
  readonly #loader: AsyncIterable<unknown> | undefined;

  constructor(options: EvalHookOptions = {}) {
    super(options, 'ABOVE_NORMAL');
    this.interval = options.interval ?? 1;
    this.byEpoch = options.byEpoch ?? true;
    this.#loader = options.loader;
  }

  override async afterStep(trainer: TrainerContext): Promise<void> {
    if (trainer.atEpochEnd) return; // evaluated in afterEpoch, after the epoch's other hooks
    const due = this.byEpoch
      ? trainer.isLastIter && this.interval > 0
      : isPeriodEnd(trainer.iter + 1, this.interval, trainer.maxIter);
    if (due) await this.#evaluate(trainer);
  }

  override async afterEpoch(trainer: TrainerContext): Promise<void> {
    const due = this.byEpoch
      ? isPeriodEnd(trainer.epoch + 1, this.interval, trainer.maxEpochs) ||
        (this.interval > 0 && trainer.isLastIter)
      : isPeriodEnd(trainer.iter + 1, this.interval, trainer.maxIter);
    if (due) await this.#evaluate(trainer);
  }

  async #evaluate(trainer: TrainerContext): Promise<void> {
    await trainer.evaluate(this.#loader ?? trainer.valLoader);
  }
}

registerOnce(HOOKS, 'EvalHook', EvalHook, {
  schema: z.strictObject({
    ...hookOptionsShape,
    interval,
    byEpoch: z.boolean().optional(),
    loader: z
      .custom<AsyncIterable<unknown>>(
        (value) => typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function',
      )
      .optional(),
  }),
});
