import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import type { TrainerContext } from '../trainer/context.js';
import { HookBase, type HookOptions } from '../trainer/hook.js';
import { hookOptionsShape } from './schema.js';

interface EpochAware {
  setEpoch?(epoch: number): void;
}

/**
 * Before each epoch, tells the train loader, its `sampler` and its `dataset` which epoch it is
 * (`setEpoch(epoch)` on each that has it), so that a `DistributedSampler` reshuffles every epoch
 * (the seed's loop never called it: every epoch had the same order) and augmentations that
 * depend on the epoch follow the run. Our `DataLoader.setEpoch` keeps a resumed mid-epoch
 * position. Priority `NORMAL`; runs on every rank.
 */
export class DistSamplerSeedHook extends HookBase {
  constructor(options: HookOptions = {}) {
    super(options, 'NORMAL');
  }

  override beforeEpoch(trainer: TrainerContext): void {
    const loader = trainer.trainLoader as EpochAware & {
      sampler?: EpochAware;
      dataset?: EpochAware;
    };
    const epoch = trainer.epoch;
    loader.setEpoch?.(epoch);
    if (typeof loader.sampler?.setEpoch === 'function') loader.sampler.setEpoch(epoch);
    if (typeof loader.dataset?.setEpoch === 'function') loader.dataset.setEpoch(epoch);
  }
}

registerOnce(HOOKS, 'DistSamplerSeedHook', DistSamplerSeedHook, {
  schema: z.strictObject(hookOptionsShape),
});
