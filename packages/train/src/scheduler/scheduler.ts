import { z } from 'zod';
import { SchedulerError } from '../errors.js';
import { type JsonValue, Optimizer } from '../optim/optimizer.js';

/** Whether the training loop steps a scheduler once per epoch or once per iteration. */
export type SchedulerUnit = 'epoch' | 'iteration';

/** How the learning rate ramps up at the start: gorilla's (detectron2's) warm-up. */
export interface WarmupOptions {
  /** `linear`: the factor rises from `factor` to 1 over `iters` steps; `constant`: it stays at `factor`. Defaults to `linear`. */
  method?: 'linear' | 'constant';
  /** Steps (in the scheduler's unit) the warm-up lasts; 0 disables it. */
  iters: number;
  /** The factor at step 0. Defaults to `0.001`. */
  factor?: number;
}

/** Options every scheduler takes. */
export interface SchedulerBaseOptions {
  /** The optimizer whose learning rates this scheduler sets. */
  optimizer: Optimizer;
  /** When the loop calls {@link LrScheduler.step}. Defaults to `epoch`. */
  by?: SchedulerUnit;
}

/** Options of the schedulers that accept a generic warm-up multiplier. */
export interface WarmupSchedulerOptions extends SchedulerBaseOptions {
  /** Multiply the schedule by a warm-up factor for the first steps. Defaults to none. */
  warmup?: WarmupOptions;
}

/** A scheduler's JSON-able state, as stored in a checkpoint. */
export interface SchedulerState {
  /** The registered name (`StepLR`, ...). */
  type: string;
  /** The number of {@link LrScheduler.step} calls since construction. */
  lastEpoch: number;
  /** The learning rates the schedule starts from, per group. */
  baseLrs: number[];
  /** The learning rates last set, per group. */
  lastLrs: number[];
  /** Extra state of the scheduler (ReduceLROnPlateau's counters). */
  [key: string]: JsonValue;
}

/** A closed form: the learning rate at `epoch` for a group whose schedule starts at `baseLr`. */
export type ClosedForm = (epoch: number, baseLr: number, group: number) => number;

/**
 * gorilla's warm-up factor at step `t`: 1 once `t >= iters` (or `iters` is 0); `factor` for
 * `constant`; `factor (1 - t/iters) + t/iters` for `linear`.
 */
export function warmupFactorAt(t: number, warmup: WarmupOptions): number {
  const { method = 'linear', iters, factor = 0.001 } = warmup;
  if (t >= iters || iters === 0) return 1;
  if (method === 'constant') return factor;
  const alpha = t / iters;
  return factor * (1 - alpha) + alpha;
}

/**
 * The base of every learning-rate scheduler. Schedules are closed forms of the step count
 * `lastEpoch` (PyTorch's `_get_closed_form_lr`), so the learning rate never drifts and a resumed
 * run continues exactly. Construction sets the rates for step 0; each {@link LrScheduler.step}
 * advances one step (an epoch or an iteration, see {@link LrScheduler.by}).
 *
 * The first scheduler on an optimizer records each group's starting rate in
 * `group.initialLr` (PyTorch's `initial_lr`); later ones start from it.
 */
export abstract class LrScheduler {
  /** The registered name, stored in the state dict. */
  abstract readonly type: string;
  /** The optimizer whose rates this scheduler sets. */
  readonly optimizer: Optimizer;
  /** When the loop should call {@link LrScheduler.step}. */
  readonly by: SchedulerUnit;
  /** The number of steps taken (0 after construction). */
  lastEpoch = 0;
  /** The rate each group's schedule starts from. */
  baseLrs: number[];
  #lastLrs: number[] = [];
  readonly #closedForm: ClosedForm | undefined;
  readonly #warmup: WarmupOptions | undefined;

  protected constructor(options: WarmupSchedulerOptions, closedForm?: ClosedForm) {
    if (!(options.optimizer instanceof Optimizer)) {
      throw new SchedulerError(
        'SCHEDULER_INVALID',
        'A scheduler needs an `optimizer` (an Optimizer instance).',
      );
    }
    this.optimizer = options.optimizer;
    this.by = options.by ?? 'epoch';
    this.#closedForm = closedForm;
    this.#warmup = options.warmup;
    for (const group of this.optimizer.paramGroups) group.initialLr ??= group.lr;
    this.baseLrs = this.optimizer.paramGroups.map((group) => group.initialLr!);
    if (closedForm !== undefined) this.applyAt(0);
    else this.#lastLrs = this.optimizer.getLrs();
  }

  /** The learning rates at step `epoch`, per group, from the closed form (nothing is set). */
  lrAt(epoch: number): number[] {
    const closedForm = this.#closedForm;
    if (closedForm === undefined) {
      throw new SchedulerError(
        'SCHEDULER_INVALID',
        `${this.type} has no closed form; its rates depend on what step() is given.`,
      );
    }
    const factor = this.#warmup === undefined ? 1 : warmupFactorAt(epoch, this.#warmup);
    return this.baseLrs.map((base, group) => factor * closedForm(epoch, base, group));
  }

  /** Advances one step and sets the new learning rates. `metric` is for ReduceLROnPlateau only. */
  step(_metric?: number): void {
    this.lastEpoch += 1;
    this.applyAt(this.lastEpoch);
  }

  /** The learning rates last set, per group (PyTorch's `get_last_lr()`). */
  getLr(): number[] {
    return [...this.#lastLrs];
  }

  /** Sets the rates for step `epoch` on the optimizer. */
  protected applyAt(epoch: number): void {
    this.setLrs(this.lrAt(epoch));
  }

  /** Sets `lrs` on the optimizer and remembers them for {@link LrScheduler.getLr}. */
  protected setLrs(lrs: number[]): void {
    this.optimizer.setLr(lrs);
    this.#lastLrs = [...lrs];
  }

  /** The state: step count, base and last rates, plus {@link LrScheduler.extraState}. */
  stateDict(): SchedulerState {
    return {
      ...this.extraState(),
      type: this.type,
      lastEpoch: this.lastEpoch,
      baseLrs: [...this.baseLrs],
      lastLrs: [...this.#lastLrs],
    };
  }

  /** Every reason `state` cannot be loaded into this scheduler; empty when it fits. */
  checkStateDict(state: SchedulerState): string[] {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) {
      return [
        `it is not a scheduler state (${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(state)'}: ${issue.message}`).join('; ')})`,
      ];
    }
    const groups = this.optimizer.paramGroups.length;
    if (state.type !== this.type)
      return [`it is the state of ${state.type}, this scheduler is ${this.type}`];
    if (state.baseLrs.length !== groups || state.lastLrs.length !== groups) {
      return [`it has ${state.baseLrs.length} parameter groups, the optimizer ${groups}`];
    }
    return [];
  }

  /**
   * Restores a state from {@link LrScheduler.stateDict} and sets its last rates on the optimizer.
   *
   * @throws {@link SchedulerError} `SCHEDULER_STATE_INVALID` for a state of another scheduler or
   *   another number of parameter groups.
   */
  loadStateDict(state: SchedulerState): void {
    const problems = this.checkStateDict(state);
    if (problems.length > 0) {
      throw new SchedulerError(
        'SCHEDULER_STATE_INVALID',
        `Cannot load the ${this.type} state: ${problems.join('; ')}.`,
      );
    }
    this.loadExtraState(state);
    this.lastEpoch = state.lastEpoch;
    this.baseLrs = [...state.baseLrs];
    this.setLrs(state.lastLrs);
  }

  /** Subclass state beyond the step count and rates. */
  protected extraState(): Record<string, JsonValue> {
    return {};
  }

  /** Restores {@link LrScheduler.extraState}. */
  protected loadExtraState(_state: SchedulerState): void {}
}

const stateSchema = z.looseObject({
  type: z.string(),
  lastEpoch: z.number().int().min(0),
  baseLrs: z.array(z.number()),
  lastLrs: z.array(z.number()),
});

/** Zod pieces shared by the scheduler schemas. @internal */
export const optimizerSchema = z.custom<Optimizer>((value) => value instanceof Optimizer, {
  message: 'expected an Optimizer',
});
/** @internal */
export const byField = z.enum(['epoch', 'iteration']).optional();
/** @internal */
export const warmupSchema = z.strictObject({
  method: z.enum(['linear', 'constant']).optional(),
  iters: z.number().int().nonnegative(),
  factor: z.number().nonnegative().optional(),
});
/** @internal */
export const baseSchema = { optimizer: optimizerSchema, by: byField };
