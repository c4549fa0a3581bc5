import type { Logger } from '../logging/logger.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LrScheduler } from '../scheduler/scheduler.js';
import type { Evaluator } from './evaluator.js';
import type { MetricStore } from './metric-store.js';
import type { TrainLoader } from './options.js';
import type { TrainerStatus } from './trainer-base.js';

/** What one iteration (one optimizer step) produced. */
export interface StepResult {
  /** The loss, averaged over the micro-batches (and over the ranks). */
  loss: number;
  /** The loss's named terms, averaged the same way. */
  terms: Record<string, number>;
  /** The learning rate of the first parameter group used for this step. */
  lr: number;
  /** Seconds spent waiting for the batches. */
  dataTime: number;
  /** The total gradient norm before clipping (with `clipGrad: { maxNorm }` only). */
  gradNorm: number | undefined;
  /** How many loader batches the step accumulated. */
  microBatches: number;
}

/** Metrics of one evaluation, by name (`val/acc`, `val/loss`). */
export type Metrics = Readonly<Record<string, number>>;

/**
 * What a hook may read and call on the trainer that runs it: the position in the run, its
 * parts, its numbers, and the few actions a hook takes (evaluate, save, stop). Hooks are written
 * against this interface, not against the `Trainer` class, so a hook never depends on the loop's
 * implementation (and a test can drive a hook with any object of this shape). `Trainer`
 * implements it.
 *
 * @typeParam Model - the trained model's type.
 * @typeParam Batch - the loaders' batch type.
 */
export interface TrainerContext<
  Model extends Module<never, unknown> = Module<never, unknown>,
  Batch = unknown,
> {
  // ---- the position ----
  /** The current iteration (0-based) while running; after a run, where the next one would start. */
  readonly iter: number;
  /** The iteration the run stops before. */
  readonly maxIter: number;
  /** The current epoch, from 0. */
  readonly epoch: number;
  /** The current iteration within its epoch, from 0. */
  readonly innerIter: number;
  /** Iterations per epoch. */
  readonly itersPerEpoch: number;
  /** Epochs of the run (the last one partial when `maxIters` is not a multiple). */
  readonly maxEpochs: number;
  /** Whether the current iteration is the last of its epoch. */
  readonly atEpochEnd: boolean;
  /** Whether the current iteration is the last of the run. */
  readonly isLastIter: boolean;
  /** Iterations completed so far (what a checkpoint written now records). */
  readonly completedIters: number;
  /** Whether a run is in progress. */
  readonly running: boolean;
  /** Where the trainer is: `running`, or how its last run ended. */
  readonly status: TrainerStatus;
  /** Whether `stop()` was called during this run, and why. */
  readonly stopRequested: boolean;
  readonly stopReason: string | undefined;
  /** This process's rank and the number of ranks. */
  readonly rank: number;
  readonly worldSize: number;

  // ---- the parts ----
  readonly model: Model;
  readonly optimizer: Optimizer;
  readonly scheduler: LrScheduler | undefined;
  readonly trainLoader: TrainLoader<Batch>;
  readonly valLoader: AsyncIterable<Batch> | undefined;
  readonly evaluator: Evaluator;
  /** Where checkpoints (and by default logs and TensorBoard files) go. */
  readonly workDir: string;
  readonly logger: Logger;
  /** The clock, in seconds. */
  readonly now: () => number;

  // ---- the numbers ----
  /** Every number of the run (`loss`, `lr`, `iter_time`, `data_time`, `val/acc`, ...). */
  readonly metrics: MetricStore;
  /** The last iteration's numbers (set before the `afterStep` hooks run). */
  readonly stepResult: StepResult | undefined;
  /** The last checkpoint written or resumed from. */
  readonly lastCheckpoint: string | undefined;

  // ---- the actions ----
  /** Ends the run after the current iteration and its hooks. */
  stop(reason?: string): void;
  /** Evaluates `loader` (default: the val loader); calls the eval hooks; collective. */
  evaluate(loader?: AsyncIterable<Batch>): Promise<Metrics>;
  /** Writes a checkpoint of the whole run (relative to the work dir); collective. Resolves to its absolute path. */
  saveCheckpoint(filename: string): Promise<string>;
}
