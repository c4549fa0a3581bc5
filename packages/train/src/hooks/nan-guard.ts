import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import type { TrainerContext } from '../trainer/context.js';
import { NonFiniteLossError } from '../trainer/errors.js';
import { HookBase, type HookOptions } from '../trainer/hook.js';
import { hookOptionsShape } from './schema.js';

/**
 * Stops training at the first iteration whose loss is NaN or infinite, with a
 * {@link NonFiniteLossError} (logged, then thrown) naming the iteration and the last good
 * checkpoint. Priority `HIGHEST`: it runs before any other `afterStep` hook, so nothing is
 * saved and no scheduler steps after the bad iteration. Runs on every rank (the loss it checks
 * is the mean over the ranks, so all stop together).
 */
export class NanGuardHook extends HookBase {
  constructor(options: HookOptions = {}) {
    super(options, 'HIGHEST');
  }

  override afterStep(trainer: TrainerContext): void {
    const loss = trainer.stepResult?.loss;
    if (loss === undefined || Number.isFinite(loss)) return;
    const error = new NonFiniteLossError({
      loss,
      iteration: trainer.iter + 1,
      epoch: trainer.epoch + 1,
      lastCheckpoint: trainer.lastCheckpoint,
    });
    trainer.logger.error(error.message);
    throw error;
  }
}

registerOnce(HOOKS, 'NanGuardHook', NanGuardHook, { schema: z.strictObject(hookOptionsShape) });
