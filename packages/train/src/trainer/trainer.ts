import { join, resolve as resolvePath } from 'node:path';
import { getRank, getWorldSize, reduceDict, synchronize } from '@gorilla-ts/dist';
import * as tf from '@tensorflow/tfjs-core';
import {
  loadCheckpoint,
  type ResumeResult,
  removeStaleTemporaries,
  resume,
  saveCheckpoint,
} from '../checkpoint/checkpoint.js';
import { formatTimestamp } from '../logging/collect-logger.js';
import { getLogger, type Logger } from '../logging/logger.js';
import type { Module } from '../nn/module.js';
import type { JsonValue, Optimizer } from '../optim/optimizer.js';
import { allReduceGradients, broadcastParameters } from '../parallel/data-parallel.js';
import type { LrScheduler } from '../scheduler/scheduler.js';
import { findLatestCheckpoint } from './checkpoint-files.js';
import type { Metrics, StepResult, TrainerContext } from './context.js';
import { TrainerError } from './errors.js';
import { ClassificationEvaluator, type Evaluator } from './evaluator.js';
import { type CriterionFn, defaultForward, type ForwardFn } from './forward.js';
import { type TrainerConfig, trainerOptionsFromConfig } from './from-config.js';
import { addGradients, type ClipGradOptions, clipGradients } from './gradients.js';
import { HookList } from './hook-list.js';
import { MetricStore } from './metric-store.js';
import { resolveTrainerOptions, type TrainerOptions, type TrainLoader } from './options.js';
import { backwardPass, evaluationPass, type PassContext } from './passes.js';
import { restoreLoaderPosition, type SavedTrainerState } from './position.js';
import { TrainerBase } from './trainer-base.js';

/** What {@link Trainer.fit} resolves to. */
export interface FitResult {
  /** `finished`, or `stopped` (early stopping, `stop()`). */
  status: 'finished' | 'stopped';
  /** Iterations (optimizer steps) done in total, including those before a resume. */
  iterations: number;
  /** Whole epochs done in total. */
  epochs: number;
  /** The latest evaluation's metrics (`{}` when there was none). */
  metrics: Metrics;
  /** The last checkpoint written or resumed from. */
  lastCheckpoint: string | undefined;
}

/**
 * Trains a model: detectron2's loop core ({@link TrainerBase}) with epochs, gradient
 * accumulation and clipping, data parallelism, checkpoints and hooks.
 *
 * Each iteration takes `accumulateSteps` batches from the train loader, runs `forward` and the
 * loss on each, sums their gradients (each scaled by 1 / the number of batches, so the step
 * equals one on the concatenated batch), passes them through {@link Trainer.reduceGradients}
 * (the mean over the ranks), clips them and applies one optimizer step. Epochs are
 * `ceil(loader.length / accumulateSteps)` iterations. Everything else (logging, evaluation,
 * learning-rate steps, checkpoints, early stopping) is done by hooks, in priority order.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({
 *   model, optimizer: { type: 'Adam', lr: 1e-3 }, loss: { type: 'CrossEntropyLoss' },
 *   trainLoader, valLoader, maxEpochs: 10, workDir: 'work_dirs/run1', resume: 'auto',
 * });
 * const { metrics } = await trainer.fit();
 * ```
 *
 * @typeParam M - the model's type, inferred from `model`: `forward` and hooks see it as is.
 * @typeParam B - the batch type, inferred from `trainLoader`.
 */
export class Trainer<M extends Module<never, unknown> = Module<never, unknown>, B = unknown>
  extends TrainerBase
  implements TrainerContext<M, B>
{
  readonly model: M;
  readonly optimizer: Optimizer;
  readonly scheduler: LrScheduler | undefined;
  readonly criterion: CriterionFn | undefined;
  readonly trainLoader: TrainLoader<B>;
  readonly valLoader: AsyncIterable<B> | undefined;
  /** Where checkpoints (and by default logs and TensorBoard files) go. */
  readonly workDir: string;
  readonly logger: Logger;
  /** The clock, in seconds. */
  readonly now: () => number;
  readonly accumulateSteps: number;
  readonly clipGrad: ClipGradOptions | undefined;
  /** Iterations per epoch: `ceil(trainLoader.length / accumulateSteps)`. */
  readonly itersPerEpoch: number;
  /** Epochs of the run (the last one partial when `maxIters` is not a multiple). */
  readonly maxEpochs: number;
  readonly evaluator: Evaluator;
  /** This process's rank and the number of ranks. */
  readonly rank: number;
  readonly worldSize: number;
  /** Stored in checkpoints for the record. */
  readonly config: unknown;
  /** Every number of the run (`loss`, `lr`, `iter_time`, `data_time`, `val/acc`, ...). */
  readonly metrics = new MetricStore();
  readonly hooks: HookList;
  /** The last iteration's numbers. */
  stepResult: StepResult | undefined;
  /** The last checkpoint written or resumed from. */
  lastCheckpoint: string | undefined;
  readonly #pass: PassContext;
  readonly #resume: TrainerOptions['resume'];
  readonly #loadFrom: TrainerOptions['loadFrom'];
  readonly #parameters: Array<readonly [string, tf.Variable]>;
  readonly #batchesPerEpoch: number;
  #iterator: AsyncIterator<B> | undefined;
  #completed = 0;
  #fitting = false;

  /** @throws {@link TrainerError} `TRAINER_INVALID` listing every invalid option. */
  constructor(options: TrainerOptions<M, B>) {
    super();
    const resolved = resolveTrainerOptions(options);
    this.model = options.model;
    this.optimizer = resolved.optimizer;
    this.scheduler = resolved.scheduler;
    this.criterion = resolved.criterion;
    this.trainLoader = options.trainLoader;
    this.valLoader = options.valLoader;
    this.workDir = resolvePath(options.workDir ?? 'work_dir');
    this.rank = getRank();
    this.worldSize = getWorldSize();
    this.logger = options.logger ?? defaultLogger(this.workDir, this.rank);
    this.now = options.now ?? (() => performance.now() / 1000);
    this.accumulateSteps = options.accumulateSteps ?? 1;
    this.clipGrad = options.clipGrad;
    this.#batchesPerEpoch = options.trainLoader.length;
    this.itersPerEpoch = Math.ceil(this.#batchesPerEpoch / this.accumulateSteps);
    this.maxIter = options.maxIters ?? (options.maxEpochs ?? 1) * this.itersPerEpoch;
    this.maxEpochs = Math.ceil(this.maxIter / this.itersPerEpoch);
    this.evaluator = options.evaluator ?? new ClassificationEvaluator();
    this.config = options.config;
    this.#pass = {
      model: this.model,
      forward: (options.forward ?? defaultForward) as unknown as ForwardFn<unknown>,
      criterion: this.criterion,
    };
    this.#resume = options.resume;
    this.#loadFrom = options.loadFrom;
    this.#parameters = this.optimizer.namedParameters();
    this.hooks = new HookList(resolved.hooks, this.rank);
  }

  /**
   * Builds a trainer from a config (a plain object, or `@gorilla-ts/config`'s `Config`): seeds
   * the generators (`seed`), builds the model, optimizer, scheduler, loss, datasets, loaders and
   * hooks with the registries (see {@link TrainerConfig}), sharding the data over the ranks of a
   * distributed run. Anything in `overrides` (a prebuilt model, a logger, more options) wins.
   *
   * @throws {@link TrainerError} `TRAINER_INVALID` listing every invalid key; the registries'
   *   errors for unknown types or invalid arguments.
   */
  static fromConfig<M extends Module<never, unknown> = Module<never, unknown>, B = unknown>(
    config: TrainerConfig | { toObject(): unknown },
    overrides: Partial<TrainerOptions<M, B>> = {},
  ): Trainer<M, B> {
    return new Trainer<M, B>(trainerOptionsFromConfig<M, B>(config, overrides));
  }

  /** The current epoch, from 0. */
  get epoch(): number {
    return Math.floor(this.iter / this.itersPerEpoch);
  }

  /** The current iteration within its epoch, from 0. */
  get innerIter(): number {
    return this.iter % this.itersPerEpoch;
  }

  /** Whether the current iteration is the last of its epoch. */
  get atEpochEnd(): boolean {
    return this.innerIter === this.itersPerEpoch - 1;
  }

  /** Whether the current iteration is the last of the run. */
  get isLastIter(): boolean {
    return this.iter + 1 >= this.maxIter;
  }

  /** Iterations completed so far (what a checkpoint written now records). */
  get completedIters(): number {
    return this.#completed;
  }

  /**
   * Trains to the end: restores the state first (`resume`, else `loadFrom`), then runs from
   * the restored iteration to `maxIter`. Calling it again continues from where the last run
   * ended.
   *
   * @throws {@link TrainerError} `TRAINER_REENTRANT` while a run is in progress; whatever the
   *   run throws (e.g. {@link NonFiniteLossError}), after every hook's `afterRun`.
   */
  async fit(): Promise<FitResult> {
    if (this.#fitting || this.running) {
      throw new TrainerError(
        'TRAINER_REENTRANT',
        'fit() is already running on this trainer; await it before calling fit() again (or use a second Trainer).',
      );
    }
    this.#fitting = true;
    try {
      await this.#restore();
      await this.train(this.#completed, this.maxIter);
      const metrics = Object.fromEntries(
        this.metrics
          .names()
          .filter((name) => name.startsWith('val/'))
          .map((name) => [name, this.metrics.latest(name)!]),
      );
      return {
        status: this.status === 'stopped' ? 'stopped' : 'finished',
        iterations: this.#completed,
        epochs: Math.floor(this.#completed / this.itersPerEpoch),
        metrics,
        lastCheckpoint: this.lastCheckpoint,
      };
    } finally {
      this.#fitting = false;
    }
  }

  /**
   * Averages the gradients over the ranks: an identity with one process. Override it (or wrap a
   * data-parallel helper here) to change how gradients are combined. The returned map may hold
   * the same tensors; tensors it replaced are disposed by the trainer.
   */
  async reduceGradients(grads: Map<string, tf.Tensor>): Promise<Map<string, tf.Tensor>> {
    return allReduceGradients(grads);
  }

  /**
   * Runs `loader` (default: the val loader) through the model in evaluation mode and returns
   * the evaluator's metrics, prefixed `val/`, the same on every rank (each rank evaluates its own
   * shard; the partial results are gathered). Calls the `beforeEval`/`afterEval` hooks and
   * records the metrics in {@link Trainer.metrics}.
   */
  async evaluate(loader: AsyncIterable<B> | undefined = this.valLoader): Promise<Metrics> {
    if (loader === undefined) {
      throw new TrainerError(
        'TRAINER_INVALID',
        'evaluate() needs a loader: pass one or give the trainer a `valLoader`.',
      );
    }
    await this.hooks.beforeEval(this);
    const metrics = await evaluationPass(this.#pass, loader, this.evaluator);
    this.metrics.putAll(metrics, this.iter);
    await this.hooks.afterEval(this, metrics);
    return metrics;
  }

  /**
   * Writes a checkpoint of the whole run to `filename` (relative to the work dir): weights,
   * optimizer, scheduler, random state, the position (iterations done, the loader's state) and
   * every stateful hook's state under its name. Every rank calls it; rank 0 writes, then all
   * meet at a barrier.
   *
   * @returns the absolute path (on every rank).
   */
  async saveCheckpoint(filename: string): Promise<string> {
    const path = resolvePath(this.workDir, filename);
    const done = this.#completed;
    const meta: Record<string, JsonValue> = {
      epoch: Math.floor(done / this.itersPerEpoch),
      iter: done,
    };
    await this.hooks.beforeSaveCheckpoint(this, meta);
    const state: SavedTrainerState = {
      iter: done,
      epoch: Math.floor(done / this.itersPerEpoch),
      itersPerEpoch: this.itersPerEpoch,
      accumulateSteps: this.accumulateSteps,
    };
    const loaderState = this.trainLoader.stateDict?.();
    if (loaderState !== undefined) state.loader = loaderState as JsonValue;
    const written = await saveCheckpoint({
      model: this.model,
      filename: path,
      optimizer: this.optimizer,
      ...(this.scheduler === undefined ? {} : { scheduler: this.scheduler }),
      meta,
      ...(this.config === undefined ? {} : { config: this.config }),
      extra: { trainer: state as unknown as JsonValue, hooks: this.hooks.stateDict() },
      rank: this.rank,
    });
    this.lastCheckpoint = path;
    if (written !== undefined) await this.hooks.afterSaveCheckpoint(this, written);
    await synchronize();
    return path;
  }

  /**
   * Continues from a checkpoint written by {@link Trainer.saveCheckpoint}: weights, optimizer,
   * scheduler, random state, position (the loader's too) and every stateful hook's state.
   * `fit()` calls it for `resume`; call it yourself before `train()`.
   */
  async resumeFrom(filename: string): Promise<ResumeResult> {
    const path = resolvePath(filename);
    const result = await resume({
      model: this.model,
      filename: path,
      optimizer: this.optimizer,
      ...(this.scheduler === undefined ? {} : { scheduler: this.scheduler }),
      logger: (line) => this.logger.info(line),
    });
    const extra = (result.extra ?? {}) as {
      trainer?: SavedTrainerState;
      hooks?: Record<string, JsonValue>;
    };
    const done =
      extra.trainer?.iter ?? (typeof result.meta.iter === 'number' ? result.meta.iter : 0);
    this.iter = this.#completed = done;
    restoreLoaderPosition(
      this.trainLoader as TrainLoader<unknown>,
      done,
      this,
      extra.trainer,
      (line) => this.logger.warn(line),
    );
    const fresh = this.hooks.loadStateDict(extra.hooks ?? {});
    if (fresh.length > 0) {
      this.logger.warn(`${path} holds no state for hook(s) ${fresh.join(', ')}: they start fresh.`);
    }
    this.lastCheckpoint = path;
    this.logger.info(
      `Resumed from ${path}: ${done} of ${this.maxIter} iterations done (epoch ${Math.floor(done / this.itersPerEpoch)} of ${this.maxEpochs} complete).`,
    );
    await this.hooks.afterLoadCheckpoint(this, result);
    return result;
  }

  protected override async beforeTrain(): Promise<void> {
    this.#completed = this.iter;
    this.model.train();
    await broadcastParameters(this.model);
    await this.hooks.beforeRun(this);
  }

  protected override async beforeStep(): Promise<void> {
    if (this.innerIter === 0 || this.iter === this.startIter) await this.hooks.beforeEpoch(this);
    await this.hooks.beforeStep(this);
  }

  protected override async runStep(): Promise<void> {
    const micro = Math.min(
      this.accumulateSteps,
      this.#batchesPerEpoch - this.innerIter * this.accumulateSteps,
    );
    let grads: Map<string, tf.Tensor> | undefined;
    try {
      let loss = 0;
      let dataTime = 0;
      const terms: Record<string, number> = {};
      for (let index = 0; index < micro; index += 1) {
        const started = this.now();
        const batch = await this.#nextBatch(index);
        dataTime += this.now() - started;
        try {
          const part = await backwardPass(this.#pass, this.#parameters, batch, micro);
          grads = addGradients(grads, part.grads);
          loss += part.loss / micro;
          for (const [name, value] of Object.entries(part.terms))
            terms[name] = (terms[name] ?? 0) + value / micro;
        } finally {
          tf.dispose(batch as tf.TensorContainer);
        }
      }
      if (this.atEpochEnd) await this.#finishEpochData();
      const reduced = await this.reduceGradients(grads!);
      for (const [name, grad] of grads!) if (reduced.get(name) !== grad) grad.dispose();
      grads = reduced;
      let norm: tf.Scalar | undefined;
      if (this.clipGrad !== undefined) ({ grads, norm } = clipGradients(grads, this.clipGrad));
      const lr = this.optimizer.getLr();
      // With several ranks, the loss is averaged over them while the optimizer runs: the small
      // all-reduce is started (and given one turn of the event loop to send) before the step and
      // collected after it, instead of costing a round trip of its own after the step.
      let averaging: Promise<Record<string, number>> | undefined;
      if (this.worldSize > 1) {
        averaging = reduceDict({ ...terms, __loss: loss }, 'mean');
        averaging.catch(() => {}); // awaited below; a failure there is what gets reported
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      this.optimizer.step(grads);
      const gradNorm = norm === undefined ? undefined : (await norm.data())[0];
      norm?.dispose();
      if (averaging !== undefined) {
        const averaged = await averaging;
        loss = averaged.__loss!;
        for (const name of Object.keys(terms)) terms[name] = averaged[name]!;
      }
      this.#completed = this.iter + 1;
      this.stepResult = { loss, terms, lr, dataTime, gradNorm, microBatches: micro };
      this.metrics.put('loss', loss, this.iter);
      this.metrics.put('lr', lr, this.iter);
      for (const [name, value] of Object.entries(terms)) {
        this.metrics.put(name.startsWith('loss') ? name : `loss_${name}`, value, this.iter);
      }
      if (gradNorm !== undefined) this.metrics.put('grad_norm', gradNorm, this.iter);
    } finally {
      if (grads !== undefined) tf.dispose([...grads.values()]);
    }
  }

  protected override async afterStep(): Promise<void> {
    await this.hooks.afterStep(this);
    if (this.atEpochEnd) await this.hooks.afterEpoch(this);
  }

  protected override async afterTrain(): Promise<void> {
    const iterator = this.#iterator;
    this.#iterator = undefined;
    try {
      await iterator?.return?.();
    } finally {
      await this.hooks.afterRun(this);
    }
  }

  protected override reportCleanupError(error: unknown): void {
    this.logger.error('An afterRun hook failed while the run was already failing: %s', error);
  }

  async #nextBatch(index: number): Promise<B> {
    this.#iterator ??= this.trainLoader[Symbol.asyncIterator]();
    const next = await this.#iterator.next();
    if (next.done) {
      this.#iterator = undefined;
      throw new TrainerError(
        'TRAINER_DATA',
        `The train loader ended after ${this.innerIter * this.accumulateSteps + index} batches of epoch ${this.epoch + 1}, but its length is ${this.#batchesPerEpoch}: a loader must yield \`length\` batches per iteration over it.`,
      );
    }
    return next.value;
  }

  /** Ends the epoch's pass over the loader, so that its position moves to the next epoch. */
  async #finishEpochData(): Promise<void> {
    const iterator = this.#iterator;
    this.#iterator = undefined;
    if (iterator === undefined) return;
    const next = await iterator.next();
    if (!next.done) {
      tf.dispose(next.value as tf.TensorContainer);
      await iterator.return?.();
      this.logger.warn(
        `The train loader yields more than its length (${this.#batchesPerEpoch}) batches per epoch; the rest of the epoch was skipped.`,
      );
    }
  }

  async #restore(): Promise<void> {
    // Temporaries of a checkpoint write a kill interrupted in an earlier run (rank 0 only).
    removeStaleTemporaries(this.workDir, {
      rank: this.rank,
      logger: (line) => this.logger.info(line),
    });
    const option = this.#resume;
    if (option !== undefined && option !== false) {
      const file =
        option === true || option === 'auto'
          ? await findLatestCheckpoint(this.workDir, this.itersPerEpoch)
          : resolvePath(option);
      if (file !== undefined) {
        await this.resumeFrom(file);
        return;
      }
      this.logger.info(`resume: no checkpoint in ${this.workDir}; starting from the beginning.`);
    }
    if (this.#loadFrom !== undefined && this.#completed === 0) {
      const { filename, ...loadOptions } =
        typeof this.#loadFrom === 'string' ? { filename: this.#loadFrom } : this.#loadFrom;
      const result = await loadCheckpoint(this.model, filename, loadOptions);
      const skipped = [...result.missing, ...result.unexpected];
      this.logger.info(
        `Loaded the weights of ${resolvePath(filename)} (loadFrom: weights only; optimizer, scheduler and position start fresh)${skipped.length > 0 ? `; not matched: ${skipped.join(', ')}` : ''}.`,
      );
    }
  }
}

/** The shared `gorilla` logger, given a file in the work dir when it has none (rank 0). */
function defaultLogger(workDir: string, rank: number): Logger {
  const logger = getLogger();
  if (logger.logFile === undefined && rank === 0) {
    logger.setFile(join(workDir, `${formatTimestamp(new Date())}.log`));
  }
  return logger;
}

/**
 * Trains with a new {@link Trainer}: `fit(options)` is `new Trainer(options).fit()`, returning
 * the result with the trainer (to evaluate or save further).
 */
export async function fit<M extends Module<never, unknown>, B>(
  options: TrainerOptions<M, B>,
): Promise<FitResult & { trainer: Trainer<M, B> }> {
  const trainer = new Trainer(options);
  return { ...(await trainer.fit()), trainer };
}
