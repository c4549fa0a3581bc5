import type { BuildConfig } from '@gorilla-ts/registry';
import { BatchNormSyncHook } from '../hooks/batch-norm-sync.js';
import { CheckpointHook, type CheckpointHookOptions } from '../hooks/checkpoint.js';
import { DistSamplerSeedHook } from '../hooks/dist-sampler-seed.js';
import { EvalHook, type EvalHookOptions } from '../hooks/eval.js';
import { IterationTimerHook } from '../hooks/iteration-timer.js';
import { LoggerHook, type LoggerHookOptions } from '../hooks/logger.js';
import { LrSchedulerHook, type LrSchedulerHookOptions } from '../hooks/lr-scheduler.js';
import { NanGuardHook } from '../hooks/nan-guard.js';
import { TensorBoardHook, type TensorBoardHookOptions } from '../hooks/tensorboard.js';
import { toHook } from './callbacks.js';
import { TrainerError } from './errors.js';
import type { Hook, HookOptions } from './hook.js';

/**
 * The built-in hooks a trainer adds by itself, by key: each takes that hook's options, a hook
 * (or `HOOKS` config with a `type`) to use instead, or `false` to leave it out.
 */
export interface DefaultHooksConfig {
  /** {@link NanGuardHook}. */
  nanGuard?: HookOptions | Hook | BuildConfig | false;
  /** {@link IterationTimerHook}. */
  timer?: HookOptions | Hook | BuildConfig | false;
  /** {@link DistSamplerSeedHook}. */
  samplerSeed?: HookOptions | Hook | BuildConfig | false;
  /** {@link BatchNormSyncHook}. */
  bnSync?: HookOptions | Hook | BuildConfig | false;
  /** {@link EvalHook}; added only when the trainer has a `valLoader`, unless configured. */
  eval?: EvalHookOptions | Hook | BuildConfig | false;
  /** {@link LrSchedulerHook}; added only when the trainer has a scheduler. */
  scheduler?: LrSchedulerHookOptions | Hook | BuildConfig | false;
  /** {@link LoggerHook}. */
  logger?: LoggerHookOptions | Hook | BuildConfig | false;
  /** {@link TensorBoardHook}. */
  tensorboard?: TensorBoardHookOptions | Hook | BuildConfig | false;
  /** {@link CheckpointHook}. */
  checkpoint?: CheckpointHookOptions | Hook | BuildConfig | false;
}

type Key = keyof DefaultHooksConfig;
// biome-ignore lint/suspicious/noExplicitAny: each class takes its own options type
const CLASSES: Record<Key, new (options: any) => Hook> = {
  nanGuard: NanGuardHook,
  timer: IterationTimerHook,
  samplerSeed: DistSamplerSeedHook,
  bnSync: BatchNormSyncHook,
  eval: EvalHook,
  scheduler: LrSchedulerHook,
  logger: LoggerHook,
  tensorboard: TensorBoardHook,
  checkpoint: CheckpointHook,
};

/** The default hooks for `config`; `eval` and `scheduler` only where they apply. @internal */
export function buildDefaultHooks(
  config: DefaultHooksConfig | false,
  applies: { scheduler: boolean; valLoader: boolean },
): Hook[] {
  if (config === false) return [];
  const unknown = Object.keys(config).filter((key) => !(key in CLASSES));
  if (unknown.length > 0) {
    throw TrainerError.fromIssues(
      'TRAINER_INVALID',
      'Invalid defaultHooks',
      unknown.map((key) => ({
        path: `defaultHooks.${key}`,
        message: `unknown hook key; expected one of ${Object.keys(CLASSES).join(', ')}`,
      })),
    );
  }
  const hooks: Hook[] = [];
  for (const key of Object.keys(CLASSES) as Key[]) {
    const value = config[key];
    if (value === false) continue;
    if (
      value === undefined &&
      ((key === 'eval' && !applies.valLoader) || (key === 'scheduler' && !applies.scheduler))
    )
      continue;
    if (typeof value === 'object' && value !== null && ('type' in value || 'afterStep' in value)) {
      hooks.push(toHook(value as Hook | BuildConfig, hooks.length));
    } else {
      hooks.push(new CLASSES[key](value ?? {}));
    }
  }
  return hooks;
}
