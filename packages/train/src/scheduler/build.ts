import { SCHEDULERS } from '@gorilla-ts/registry';
// The built-in schedulers register themselves on import; importing them here makes
// buildLrScheduler() see them however this module was reached.
import './closed-form.js';
import './one-cycle.js';
import './plateau.js';
import './sequential.js';
import './warmup.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LrScheduler } from './scheduler.js';

/** The scheduler section of a config: `type` names an entry of `SCHEDULERS`, the rest are its options. */
export interface SchedulerConfig {
  /** `StepLR`, `CosineAnnealingLR`, `WarmupCosineLR`, ... */
  type: string;
  /** `epoch` (the default) or `iteration`: when the loop calls `step()`. */
  by?: 'epoch' | 'iteration';
  [option: string]: unknown;
}

/**
 * Builds a learning-rate scheduler for `optimizer` from a config
 * (`{ type: 'MultiStepLR', milestones: [30, 60], gamma: 0.1 }`). The config is never written to
 * (gorilla stored the optimizer in it).
 *
 * @throws the registry's errors for an unknown type or invalid options; {@link SchedulerError}.
 */
export function buildLrScheduler<S extends LrScheduler = LrScheduler>(
  optimizer: Optimizer,
  config: SchedulerConfig,
): S {
  return SCHEDULERS.build<S>({ ...config, optimizer });
}
