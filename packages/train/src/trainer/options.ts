import { type BuildConfig, LOSSES } from '@gorilla-ts/registry';
import type { KeyMapOptions } from '../checkpoint/key-map.js';
import type { Logger } from '../logging/logger.js';
import { Module } from '../nn/module.js';
import { buildOptimizer, type OptimizerConfig } from '../optim/build.js';
import { Optimizer } from '../optim/optimizer.js';
import { buildLrScheduler, type SchedulerConfig } from '../scheduler/build.js';
import { LrScheduler } from '../scheduler/scheduler.js';
import { type HookSpec, toHook } from './callbacks.js';
import { buildDefaultHooks, type DefaultHooksConfig } from './default-hooks.js';
import { TrainerError, type TrainerIssue } from './errors.js';
import type { Evaluator } from './evaluator.js';
import type { CriterionFn, ForwardFn } from './forward.js';
import type { ClipGradOptions } from './gradients.js';
import type { Hook } from './hook.js';

/**
 * What the trainer iterates: batches, `length` of them per pass (one epoch). A `DataLoader`
 * fits; so does any async iterable with a `length`. With `stateDict`/`loadStateDict` (the
 * loader's position), a resumed run continues mid-epoch exactly.
 */
export interface TrainLoader<B> extends AsyncIterable<B> {
  /** Batches per epoch. */
  readonly length: number;
  /** Picks the epoch of the next pass (the `DistSamplerSeedHook` calls it). */
  setEpoch?(epoch: number): void;
  /** The position, for checkpoints. */
  stateDict?(): unknown;
  /** Restores {@link TrainLoader.stateDict}. */
  loadStateDict?(state: never): void;
}

/**
 * `loadFrom`: a checkpoint whose weights (only) are loaded before training: a gorilla-ts
 * checkpoint, a safetensors file or a PyTorch `.pth` state dict, with the key mapping of
 * {@link loadCheckpoint} (`stripPrefix: 'module.'`, `rename`).
 */
export type LoadFromOption = string | ({ filename: string; strict?: boolean } & KeyMapOptions);

/**
 * Options of {@link Trainer}.
 *
 * @typeParam M - the model's type (inferred from `model`; `forward` receives it as is).
 * @typeParam B - the batch type (inferred from `trainLoader`).
 */
export interface TrainerOptions<
  M extends Module<never, unknown> = Module<never, unknown>,
  B = unknown,
> {
  /** The model to train. Its output follows the `ModelOutput` contract unless you pass `forward`. */
  model: M;
  /** An optimizer, or its config (`{ type: 'Adam', lr: 1e-3 }`, built over the model's parameters). */
  optimizer: Optimizer | OptimizerConfig;
  /** A learning-rate scheduler of that optimizer, or its config. Stepped by the `LrSchedulerHook` per epoch or per iteration (its `by`). Defaults to none. */
  scheduler?: LrScheduler | SchedulerConfig;
  /** The loss: a criterion `({ logits, labels }) => [loss, terms]` or a `LOSSES` config. Defaults to none (the model's scalar output is the loss). */
  loss?: CriterionFn | BuildConfig;
  /** The training batches. */
  trainLoader: TrainLoader<B>;
  /** The evaluation batches (an `EvalHook` is added when given). Defaults to none. */
  valLoader?: AsyncIterable<B>;
  /** Epochs to train. Give this or `maxIters`; defaults to 1 when neither is given. */
  maxEpochs?: number;
  /** Iterations (optimizer steps) to train, instead of `maxEpochs`. */
  maxIters?: number;
  /** Where checkpoints, the log (when the logger has no file) and TensorBoard files go. Defaults to `work_dir`. */
  workDir?: string;
  /** Extra hooks: hook instances, plain objects of callbacks, or `HOOKS` configs. Defaults to none. */
  hooks?: readonly HookSpec[];
  /** The built-in hooks: options per hook, `false` to leave one out, or `false` for none. Defaults to all that apply. */
  defaultHooks?: DefaultHooksConfig | false;
  /** Batches whose gradients are summed into one optimizer step (one iteration). Defaults to `1`. */
  accumulateSteps?: number;
  /** Clip the gradients before each step, by total norm or by value. Defaults to none. */
  clipGrad?: ClipGradOptions;
  /** `'auto'` (or `true`): continue from the work dir's latest checkpoint if there is one; a path: from that file. Defaults to `false`. */
  resume?: boolean | 'auto' | string;
  /** Load these weights (only) before training, when not resuming. Defaults to none. */
  loadFrom?: LoadFromOption;
  /** Batch → loss (and output); `context.model` has type `M`. Defaults to `model(input)` then the loss on `{ ...output, labels }` (see `defaultForward`, `ModelOutput`). */
  forward?: ForwardFn<B, M>;
  /** Turns evaluation batches into metrics. Defaults to a `ClassificationEvaluator` (`acc`, `loss`). */
  evaluator?: Evaluator;
  /** Where the trainer and its hooks log. Defaults to the shared `gorilla` logger, given a file in `workDir` if it has none. */
  logger?: Logger;
  /** Stored in every checkpoint for the record (JSON-able). Defaults to none. */
  config?: unknown;
  /** The clock, in seconds (inject it in tests). Defaults to `performance.now() / 1000`. */
  now?: () => number;
}

/** The built pieces of a trainer's options. @internal */
export interface ResolvedTrainerOptions {
  optimizer: Optimizer;
  scheduler: LrScheduler | undefined;
  criterion: CriterionFn | undefined;
  hooks: Hook[];
}

/**
 * Checks the options (every problem at once) and builds the optimizer, scheduler, loss and hooks
 * given as configs. @internal
 */
export function resolveTrainerOptions<M extends Module<never, unknown>, B>(
  options: TrainerOptions<M, B>,
): ResolvedTrainerOptions {
  const issues = checkOptions(options as unknown as TrainerOptions);
  if (issues.length > 0)
    throw TrainerError.fromIssues('TRAINER_INVALID', 'Invalid trainer options', issues);
  const optimizer =
    options.optimizer instanceof Optimizer
      ? options.optimizer
      : buildOptimizer(options.model, options.optimizer);
  const scheduler =
    options.scheduler === undefined || options.scheduler instanceof LrScheduler
      ? options.scheduler
      : buildLrScheduler(optimizer, options.scheduler);
  const criterion =
    options.loss === undefined || typeof options.loss === 'function'
      ? options.loss
      : LOSSES.build<CriterionFn>(options.loss);
  const hooks = [
    ...buildDefaultHooks(options.defaultHooks ?? {}, {
      scheduler: scheduler !== undefined,
      valLoader: options.valLoader !== undefined,
    }),
    ...(options.hooks ?? []).map((spec, index) => toHook(spec, index)),
  ];
  return { optimizer, scheduler, criterion, hooks };
}

function checkOptions(options: TrainerOptions): TrainerIssue[] {
  const issues: TrainerIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  if (typeof options !== 'object' || options === null)
    return [{ path: '(options)', message: 'expected an options object' }];
  if (!(options.model instanceof Module)) add('model', 'expected a Module (the model to train)');
  if (!(options.optimizer instanceof Optimizer) && typeof options.optimizer?.type !== 'string') {
    add('optimizer', "expected an Optimizer or a config { type: 'SGD' | 'Adam' | ..., lr }");
  }
  const loader = options.trainLoader as Partial<TrainLoader<unknown>> | undefined;
  if (typeof loader?.[Symbol.asyncIterator] !== 'function')
    add('trainLoader', 'expected an async iterable of batches (a DataLoader)');
  else if (!Number.isInteger(loader.length) || (loader.length ?? 0) < 1) {
    add(
      'trainLoader',
      `expected a positive integer \`length\` (batches per epoch), got ${String(loader.length)}`,
    );
  }
  if (
    options.valLoader !== undefined &&
    typeof options.valLoader?.[Symbol.asyncIterator] !== 'function'
  ) {
    add('valLoader', 'expected an async iterable of batches');
  }
  if (options.maxEpochs !== undefined && options.maxIters !== undefined)
    add('maxEpochs', 'give maxEpochs or maxIters, not both');
  for (const key of ['maxEpochs', 'maxIters', 'accumulateSteps'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1))
      add(key, `expected a positive integer, got ${String(value)}`);
  }
  const clip = options.clipGrad as Record<string, unknown> | undefined;
  if (clip !== undefined) {
    const byNorm = typeof clip.maxNorm === 'number' && clip.maxNorm > 0;
    const byValue = typeof clip.value === 'number' && clip.value > 0;
    if (byNorm === byValue)
      add('clipGrad', 'expected { maxNorm: number > 0, normType? } or { value: number > 0 }');
  }
  const resume = options.resume;
  if (resume !== undefined && typeof resume !== 'boolean' && typeof resume !== 'string') {
    add('resume', "expected 'auto', true, false or a checkpoint path");
  }
  if (
    options.loss !== undefined &&
    typeof options.loss !== 'function' &&
    typeof options.loss?.type !== 'string'
  ) {
    add('loss', "expected a criterion function or a config { type: 'CrossEntropyLoss', ... }");
  }
  if (options.hooks !== undefined && !Array.isArray(options.hooks))
    add('hooks', 'expected an array');
  return issues;
}
