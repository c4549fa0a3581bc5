import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import type { JsonValue } from '../optim/optimizer.js';
import type { TrainerContext } from '../trainer/context.js';
import { TrainerError } from '../trainer/errors.js';
import { HookBase, type HookOptions, type Metrics } from '../trainer/hook.js';
import { hookOptionsShape } from './schema.js';

/** Options of {@link EarlyStoppingHook} (after tfjs's `EarlyStoppingCallbackArgs`). */
export interface EarlyStoppingHookOptions extends HookOptions {
  /** The metric to watch. Defaults to `val/loss`. */
  monitor?: string;
  /** `min`, `max`, or `auto` (`min` for names with `loss`, else `max`). Defaults to `auto`. */
  mode?: 'auto' | 'min' | 'max';
  /** Evaluations without improvement before stopping. Defaults to `5`. */
  patience?: number;
  /** The least change that counts as an improvement. Defaults to `0`. */
  minDelta?: number;
  /** A value the metric must beat to count as improving at all. Defaults to none. */
  baseline?: number;
}

/**
 * Stops training (after the current epoch's hooks, so the last checkpoint is still written) when
 * the monitored evaluation metric has not improved for `patience` evaluations. Its counters are
 * in checkpoints. Priority `LOW` (after evaluation); runs on every rank (they all see the same
 * gathered metrics, so they stop together).
 */
export class EarlyStoppingHook extends HookBase {
  readonly monitor: string;
  readonly patience: number;
  readonly minDelta: number;
  readonly mode: 'min' | 'max';
  #best: number | undefined;
  #wait = 0;

  constructor(options: EarlyStoppingHookOptions = {}) {
    super(options, 'LOW');
    this.monitor = options.monitor ?? 'val/loss';
    this.patience = options.patience ?? 5;
    this.minDelta = Math.abs(options.minDelta ?? 0);
    const mode = options.mode ?? 'auto';
    this.mode = mode === 'auto' ? (this.monitor.includes('loss') ? 'min' : 'max') : mode;
    this.#best = options.baseline;
  }

  override afterEval(trainer: TrainerContext, metrics: Metrics): void {
    if (!trainer.running) return;
    const value = metrics[this.monitor];
    if (value === undefined) {
      throw new TrainerError(
        'TRAINER_INVALID',
        `EarlyStoppingHook watches '${this.monitor}', but the evaluation gave ${Object.keys(metrics).join(', ') || 'no metrics'}. Set its \`monitor\`.`,
      );
    }
    const best = this.#best;
    const improved =
      best === undefined ||
      (this.mode === 'min' ? value < best - this.minDelta : value > best + this.minDelta);
    if (improved) {
      this.#best = value;
      this.#wait = 0;
      return;
    }
    this.#wait += 1;
    if (this.#wait >= this.patience) {
      trainer.stop(
        `early stopping: ${this.monitor} has not improved on ${best} for ${this.#wait} evaluations`,
      );
    }
  }

  stateDict(): JsonValue {
    return { best: this.#best ?? null, wait: this.#wait };
  }

  loadStateDict(state: JsonValue): void {
    const { best, wait } = state as { best?: number | null; wait?: number };
    this.#best = best ?? undefined;
    this.#wait = wait ?? 0;
  }
}

registerOnce(HOOKS, 'EarlyStoppingHook', EarlyStoppingHook, {
  schema: z.strictObject({
    ...hookOptionsShape,
    monitor: z.string().optional(),
    mode: z.enum(['auto', 'min', 'max']).optional(),
    patience: z.number().int().min(0).optional(),
    minDelta: z.number().optional(),
    baseline: z.number().optional(),
  }),
});
