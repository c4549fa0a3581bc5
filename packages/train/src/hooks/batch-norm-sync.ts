import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import { syncBuffers } from '../parallel/data-parallel.js';
import type { TrainerContext } from '../trainer/context.js';
import { HookBase, type HookOptions } from '../trainer/hook.js';
import { hookOptionsShape } from './schema.js';

/**
 * Averages the model's floating-point buffers (BatchNorm running mean and variance) over the
 * ranks (`allReduce` mean) after every epoch and before every evaluation, so that every rank
 * evaluates and checkpoints the same statistics. Nothing to do with one process. Priority `HIGH`
 * (before evaluation and checkpoints); runs on every rank, which all sync together.
 */
export class BatchNormSyncHook extends HookBase {
  #syncedAt: number | undefined;

  constructor(options: HookOptions = {}) {
    super(options, 'HIGH');
  }

  override async afterEpoch(trainer: TrainerContext): Promise<void> {
    await this.#sync(trainer);
  }

  override async beforeEval(trainer: TrainerContext): Promise<void> {
    await this.#sync(trainer);
  }

  async #sync(trainer: TrainerContext): Promise<void> {
    if (trainer.worldSize === 1 || this.#syncedAt === trainer.completedIters) return;
    await syncBuffers(trainer.model);
    this.#syncedAt = trainer.completedIters;
  }
}

registerOnce(HOOKS, 'BatchNormSyncHook', BatchNormSyncHook, {
  schema: z.strictObject(hookOptionsShape),
});
