import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import { convertSeconds } from '../timing/eta.js';
import type { TrainerContext } from '../trainer/context.js';
import { HookBase, type HookOptions } from '../trainer/hook.js';
import { hookOptionsShape } from './schema.js';

/**
 * Times the loop with the trainer's clock: records `iter_time` (seconds per iteration, data
 * loading included) and `data_time` (seconds spent waiting for batches) in `trainer.metrics` after every
 * iteration, and logs the total training time at the end. Priority `VERY_HIGH`, so that other
 * hooks' work is not counted in the step; runs on every rank.
 */
export class IterationTimerHook extends HookBase {
  #stepStart = 0;
  #runStart = 0;
  #firstIter = 0;

  constructor(options: HookOptions = {}) {
    super(options, 'VERY_HIGH');
  }

  override beforeRun(trainer: TrainerContext): void {
    this.#runStart = trainer.now();
    this.#firstIter = trainer.iter;
  }

  override beforeStep(trainer: TrainerContext): void {
    this.#stepStart = trainer.now();
  }

  override afterStep(trainer: TrainerContext): void {
    trainer.metrics.put('iter_time', trainer.now() - this.#stepStart, trainer.iter);
    trainer.metrics.put('data_time', trainer.stepResult?.dataTime ?? 0, trainer.iter);
  }

  override afterRun(trainer: TrainerContext): void {
    const iterations = trainer.iter - this.#firstIter;
    if (iterations <= 0) return;
    const total = trainer.now() - this.#runStart;
    trainer.logger.info(
      `Total training time: ${convertSeconds(total)} (${(total / iterations).toFixed(4)} s/it over ${iterations} iterations)`,
    );
  }
}

registerOnce(HOOKS, 'IterationTimerHook', IterationTimerHook, {
  schema: z.strictObject(hookOptionsShape),
});
