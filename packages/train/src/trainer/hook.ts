import type { ResumeResult } from '../checkpoint/checkpoint.js';
import type { JsonValue } from '../optim/optimizer.js';
import type { Metrics, TrainerContext } from './context.js';
import { type Priority, resolvePriority } from './priority.js';

/** What a hook method may return: nothing, or a promise of nothing (the trainer awaits it). */
export type Awaitable<T = void> = T | Promise<T>;

export type { Metrics } from './context.js';

/**
 * A trainer hook: one job done at fixed points of the loop, in priority order (lower first).
 * Every method has a no-op default in {@link HookBase}; the trainer calls them as typed methods.
 *
 * A hook with state that must survive a resume (counters, a best value) implements `stateDict`
 * and `loadStateDict`: checkpoints store it under the hook's {@link Hook.name}, which must be
 * unique among the trainer's hooks.
 */
export interface Hook {
  /** Unique among a trainer's hooks; keys its state in checkpoints. */
  readonly name: string;
  /** The order at each hook point: lower runs first (see `PRIORITY`). */
  readonly priority: number;
  /**
   * `all`: runs on every rank (a hook that calls collectives must). `main`: runs on rank 0 only
   * (printing, files). Rank-divergent work ends at a barrier.
   */
  readonly ranks: 'all' | 'main';
  /** Once, before the first iteration (after a resume has restored the state). */
  beforeRun(trainer: TrainerContext): Awaitable;
  /** Once, after the last iteration, also when training failed (`trainer.status`). */
  afterRun(trainer: TrainerContext): Awaitable;
  /** Before the first iteration of each epoch (of a resumed partial epoch too). */
  beforeEpoch(trainer: TrainerContext): Awaitable;
  /** After the last iteration of each epoch. */
  afterEpoch(trainer: TrainerContext): Awaitable;
  /** Before each iteration (one optimizer step). */
  beforeStep(trainer: TrainerContext): Awaitable;
  /** After each iteration; `trainer.stepResult` holds its loss, learning rate and times. */
  afterStep(trainer: TrainerContext): Awaitable;
  /** Before an evaluation ({@link Trainer.evaluate}). */
  beforeEval(trainer: TrainerContext): Awaitable;
  /** After an evaluation, with its metrics. */
  afterEval(trainer: TrainerContext, metrics: Metrics): Awaitable;
  /** Before a checkpoint is written: add JSON-able entries to its `meta`. */
  beforeSaveCheckpoint(trainer: TrainerContext, meta: Record<string, JsonValue>): Awaitable;
  /** After a checkpoint was written (on rank 0; `filename` is its absolute path). */
  afterSaveCheckpoint(trainer: TrainerContext, filename: string): Awaitable;
  /** After a resume restored the trainer and every hook's state. */
  afterLoadCheckpoint(trainer: TrainerContext, checkpoint: ResumeResult): Awaitable;
  /** The hook's state for checkpoints (stateful hooks only). */
  stateDict?(): JsonValue;
  /** Restores {@link Hook.stateDict}. */
  loadStateDict?(state: JsonValue): void;
}

/** Options every built-in hook takes. */
export interface HookOptions {
  /** The hook's name. Defaults to its class name. */
  name?: string;
  /** Its priority. Defaults to the hook's own (see each hook). */
  priority?: Priority;
}

/** The hook points, in the order of a run. */
export const HOOK_POINTS = [
  'beforeRun',
  'beforeEpoch',
  'beforeStep',
  'afterStep',
  'afterEpoch',
  'beforeEval',
  'afterEval',
  'beforeSaveCheckpoint',
  'afterSaveCheckpoint',
  'afterLoadCheckpoint',
  'afterRun',
] as const;

/** A hook point's name. */
export type HookPoint = (typeof HOOK_POINTS)[number];

/**
 * The base of hook classes: every hook point is a no-op; override the ones the hook needs.
 *
 * @example
 * ```ts
 * class PrintLoss extends HookBase {
 *   constructor() { super({}, 'LOW'); }
 *   override afterStep(trainer: TrainerContext) { console.log(trainer.stepResult?.loss); }
 * }
 * ```
 */
export abstract class HookBase implements Hook {
  readonly name: string;
  readonly priority: number;
  readonly ranks: 'all' | 'main' = 'all';

  protected constructor(options: HookOptions = {}, defaultPriority: Priority = 'NORMAL') {
    this.name = options.name ?? this.constructor.name;
    this.priority = resolvePriority(options.priority ?? defaultPriority);
  }

  beforeRun(_trainer: TrainerContext): Awaitable {}
  afterRun(_trainer: TrainerContext): Awaitable {}
  beforeEpoch(_trainer: TrainerContext): Awaitable {}
  afterEpoch(_trainer: TrainerContext): Awaitable {}
  beforeStep(_trainer: TrainerContext): Awaitable {}
  afterStep(_trainer: TrainerContext): Awaitable {}
  beforeEval(_trainer: TrainerContext): Awaitable {}
  afterEval(_trainer: TrainerContext, _metrics: Metrics): Awaitable {}
  beforeSaveCheckpoint(_trainer: TrainerContext, _meta: Record<string, JsonValue>): Awaitable {}
  afterSaveCheckpoint(_trainer: TrainerContext, _filename: string): Awaitable {}
  afterLoadCheckpoint(_trainer: TrainerContext, _checkpoint: ResumeResult): Awaitable {}
}
