import { type BuildConfig, closestNames, HOOKS } from '@gorilla-ts/registry';
import type { ResumeResult } from '../checkpoint/checkpoint.js';
import type { JsonValue } from '../optim/optimizer.js';
import type { TrainerContext } from './context.js';
import { TrainerError } from './errors.js';
import { type Awaitable, HOOK_POINTS, type Hook, HookBase, type Metrics } from './hook.js';
import { type Priority, resolvePriority } from './priority.js';

/** Scalars handed to tfjs-style callbacks: the latest value of every metric (`loss`, `lr`, `val/acc`). */
export type Logs = Record<string, number>;

/**
 * A hook as a plain object: any of the {@link Hook} methods, and/or the tfjs-style callbacks
 * (`onEpochEnd(epoch, logs)`, ...), with an optional name, priority, ranks and state.
 *
 * @example
 * ```ts
 * trainer = new Trainer({ ..., hooks: [{ onEpochEnd: (epoch, logs) => console.log(epoch, logs.loss) }] });
 * ```
 */
export interface HookCallbacks extends Partial<Omit<Hook, 'name' | 'priority' | 'ranks'>> {
  /** Unique among the trainer's hooks. Defaults to `callback<index>`. */
  name?: string;
  /** Defaults to `NORMAL`. */
  priority?: Priority;
  /** Defaults to `all`. */
  ranks?: 'all' | 'main';
  /** tfjs: before the first iteration. */
  onTrainBegin?(logs: Logs): Awaitable;
  /** tfjs: after the last iteration. */
  onTrainEnd?(logs: Logs): Awaitable;
  /** tfjs: before each epoch (`epoch` counted from 0). */
  onEpochBegin?(epoch: number, logs: Logs): Awaitable;
  /** tfjs: after each epoch, with the latest metrics (evaluation included). */
  onEpochEnd?(epoch: number, logs: Logs): Awaitable;
  /** tfjs: before each iteration (`batch` = the iteration within the epoch, from 0). */
  onBatchBegin?(batch: number, logs: Logs): Awaitable;
  /** tfjs: after each iteration. */
  onBatchEnd?(batch: number, logs: Logs): Awaitable;
}

/** Anything `hooks` accepts: a hook, a plain object of callbacks, or a `HOOKS` config. */
export type HookSpec = Hook | HookCallbacks | BuildConfig;

const TFJS_NAMES = [
  'onTrainBegin',
  'onTrainEnd',
  'onEpochBegin',
  'onEpochEnd',
  'onBatchBegin',
  'onBatchEnd',
] as const;
const OTHER_KEYS = ['name', 'priority', 'ranks', 'stateDict', 'loadStateDict'] as const;
const ALLOWED: ReadonlySet<string> = new Set([...HOOK_POINTS, ...TFJS_NAMES, ...OTHER_KEYS]);

/**
 * Wraps a plain object of callbacks as a {@link Hook}: each hook point calls the object's method
 * of that name, then its tfjs-style counterpart, when present.
 */
export class CallbackHook extends HookBase {
  override readonly ranks: 'all' | 'main';
  readonly #target: HookCallbacks;
  readonly stateDict?: () => JsonValue;
  readonly loadStateDict?: (state: JsonValue) => void;

  constructor(target: HookCallbacks, name: string) {
    super({ name: target.name ?? name, priority: target.priority ?? 'NORMAL' });
    this.#target = target;
    this.ranks = target.ranks ?? 'all';
    if (typeof target.stateDict === 'function') this.stateDict = () => target.stateDict!();
    if (typeof target.loadStateDict === 'function')
      this.loadStateDict = (state) => target.loadStateDict!(state);
  }

  override async beforeRun(trainer: TrainerContext): Promise<void> {
    await this.#target.beforeRun?.(trainer);
    await this.#target.onTrainBegin?.(trainer.metrics.latestScalars());
  }
  override async afterRun(trainer: TrainerContext): Promise<void> {
    await this.#target.afterRun?.(trainer);
    await this.#target.onTrainEnd?.(trainer.metrics.latestScalars());
  }
  override async beforeEpoch(trainer: TrainerContext): Promise<void> {
    await this.#target.beforeEpoch?.(trainer);
    await this.#target.onEpochBegin?.(trainer.epoch, trainer.metrics.latestScalars());
  }
  override async afterEpoch(trainer: TrainerContext): Promise<void> {
    await this.#target.afterEpoch?.(trainer);
    await this.#target.onEpochEnd?.(trainer.epoch, trainer.metrics.latestScalars());
  }
  override async beforeStep(trainer: TrainerContext): Promise<void> {
    await this.#target.beforeStep?.(trainer);
    await this.#target.onBatchBegin?.(trainer.innerIter, trainer.metrics.latestScalars());
  }
  override async afterStep(trainer: TrainerContext): Promise<void> {
    await this.#target.afterStep?.(trainer);
    await this.#target.onBatchEnd?.(trainer.innerIter, trainer.metrics.latestScalars());
  }
  override async beforeEval(trainer: TrainerContext): Promise<void> {
    await this.#target.beforeEval?.(trainer);
  }
  override async afterEval(trainer: TrainerContext, metrics: Metrics): Promise<void> {
    await this.#target.afterEval?.(trainer, metrics);
  }
  override async beforeSaveCheckpoint(trainer: TrainerContext, meta: Record<string, JsonValue>) {
    await this.#target.beforeSaveCheckpoint?.(trainer, meta);
  }
  override async afterSaveCheckpoint(trainer: TrainerContext, filename: string): Promise<void> {
    await this.#target.afterSaveCheckpoint?.(trainer, filename);
  }
  override async afterLoadCheckpoint(trainer: TrainerContext, checkpoint: ResumeResult) {
    await this.#target.afterLoadCheckpoint?.(trainer, checkpoint);
  }
}

/**
 * Turns what `hooks` accepts into a {@link Hook}: a {@link HookBase} as it is, a `HOOKS` config
 * (`{ type: 'EarlyStoppingHook', patience: 3 }`) built by the registry, anything else wrapped as
 * a {@link CallbackHook} after checking its keys.
 *
 * @throws {@link TrainerError} `HOOK_INVALID` for an unknown key (naming the closest ones) or
 *   something that is not an object; the registry's errors for a bad config.
 */
export function toHook(spec: HookSpec, index: number): Hook {
  if (spec instanceof HookBase) return spec;
  if (typeof spec !== 'object' || spec === null) {
    throw new TrainerError(
      'HOOK_INVALID',
      `hooks[${index}] must be a hook, an object of callbacks or a { type } config, got ${spec === null ? 'null' : typeof spec}.`,
    );
  }
  if ('type' in spec && spec.type !== undefined) {
    const built = HOOKS.build(spec as BuildConfig);
    if (built instanceof HookBase) return built;
    return toHook(built as HookSpec, index);
  }
  const issues: string[] = [];
  for (const key of keysOf(spec)) {
    if (ALLOWED.has(key)) continue;
    const close = closestNames(key, ALLOWED);
    issues.push(
      `'${key}'${close.length > 0 ? ` (did you mean ${close.map((n) => `'${n}'`).join(', ')}?)` : ''}`,
    );
  }
  if (issues.length > 0) {
    throw new TrainerError(
      'HOOK_INVALID',
      `hooks[${index}] has unknown callback ${issues.join(', ')}. A hook object may have: ${[...ALLOWED].join(', ')}.`,
      { issues: issues.map((message) => ({ path: `hooks[${index}]`, message })) },
    );
  }
  const callbacks = spec as HookCallbacks;
  if (callbacks.priority !== undefined) resolvePriority(callbacks.priority);
  return new CallbackHook(callbacks, `callback${index}`);
}

/** The keys to check: those of a plain object; a class instance is taken as it is. */
function keysOf(value: object): string[] {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null ? Object.keys(value) : [];
}
