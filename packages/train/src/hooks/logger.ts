import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import type { JsonValue } from '../optim/optimizer.js';
import { EpochProgress, type ProgressStream } from '../timing/progress.js';
import { HookBase, type HookOptions, type Metrics } from '../trainer/hook.js';
import { isPeriodEnd } from '../trainer/period.js';
import type { Trainer } from '../trainer/trainer.js';
import { hookOptionsShape, interval } from './schema.js';

/** Options of {@link LoggerHook}. */
export interface LoggerHookOptions extends HookOptions {
  /** Write a progress line and a JSON record every this many iterations. Defaults to `10`. */
  interval?: number;
  /** Where the progress bar goes on a terminal. Defaults to `process.stderr`. */
  stream?: ProgressStream;
  /** Draw a bar (terminal) instead of logging lines. Defaults to `stream.isTTY`. */
  bar?: boolean;
}

/**
 * Reports the run on rank 0 through the trainer's logger: a progress display per epoch with
 * loss, learning rate, data time and ETA (a bar on a terminal, log lines every `interval`
 * iterations otherwise), one line per epoch (mean training loss, evaluation metrics, time) and
 * per evaluation, and the same numbers as JSON lines (`logger.metrics`) for machines.
 * Priority `BELOW_NORMAL` (after evaluation); rank 0 only.
 */
export class LoggerHook extends HookBase {
  override readonly ranks = 'main';
  readonly interval: number;
  readonly #options: LoggerHookOptions;
  #progress: EpochProgress | undefined;
  #epochLoss = 0;
  #epochSteps = 0;
  #epochStart = 0;

  constructor(options: LoggerHookOptions = {}) {
    super(options, 'BELOW_NORMAL');
    this.interval = options.interval ?? 10;
    this.#options = options;
  }

  override beforeRun(trainer: Trainer): void {
    trainer.logger.info(
      `Training from iteration ${trainer.iter} to ${trainer.maxIter} (${trainer.maxEpochs} epochs of ${trainer.itersPerEpoch}), ${trainer.worldSize} rank(s), work dir ${trainer.workDir}`,
    );
  }

  override beforeEpoch(trainer: Trainer): void {
    if (trainer.innerIter === 0) [this.#epochLoss, this.#epochSteps] = [0, 0];
    this.#epochStart = trainer.now();
    this.#progress = new EpochProgress({
      total: trainer.itersPerEpoch,
      epoch: trainer.epoch + 1,
      epochs: trainer.maxEpochs,
      startIter: trainer.innerIter,
      everyIters: this.interval,
      everySecs: Number.POSITIVE_INFINITY,
      write: (line) => trainer.logger.info(line),
      now: trainer.now,
      ...(this.#options.stream === undefined ? {} : { stream: this.#options.stream }),
      ...(this.#options.bar === undefined ? {} : { tty: this.#options.bar }),
    });
  }

  override afterStep(trainer: Trainer): void {
    const { loss, lr, dataTime } = trainer.stepResult!;
    this.#epochLoss += loss;
    this.#epochSteps += 1;
    this.#progress?.update(trainer.innerIter, { loss, lr, dataTime });
    if (!isPeriodEnd(trainer.iter + 1, this.interval, trainer.maxIter)) return;
    const time = trainer.metrics.history('iter_time');
    const eta =
      time === undefined ? undefined : time.average(20) * (trainer.maxIter - trainer.iter - 1);
    const scalars = Object.fromEntries(
      trainer.metrics
        .names()
        .filter((name) => !name.startsWith('val/'))
        .map((name) => [name, trainer.metrics.latest(name)!]),
    );
    trainer.logger.metrics({
      mode: 'train',
      epoch: trainer.epoch + 1,
      iter: trainer.iter + 1,
      ...scalars,
      ...(eta === undefined ? {} : { eta }),
    });
  }

  override afterEpoch(trainer: Trainer): void {
    this.#progress?.stop();
    this.#progress = undefined;
    const loss = this.#epochSteps > 0 ? this.#epochLoss / this.#epochSteps : Number.NaN;
    const time = trainer.now() - this.#epochStart;
    trainer.logger.info(
      `Epoch ${trainer.epoch + 1}/${trainer.maxEpochs}: loss ${loss.toFixed(4)}, lr ${trainer.stepResult!.lr}, time ${time.toFixed(2)}s`,
    );
    trainer.logger.metrics({
      mode: 'epoch',
      epoch: trainer.epoch + 1,
      iter: trainer.iter + 1,
      loss,
      lr: trainer.stepResult!.lr,
      time,
    });
  }

  override afterEval(trainer: Trainer, metrics: Metrics): void {
    const parts = Object.entries(metrics).map(
      ([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toFixed(4)}`,
    );
    trainer.logger.info(
      `Evaluation after iteration ${trainer.completedIters}: ${parts.join(', ') || 'no metrics'}`,
    );
    trainer.logger.metrics({
      mode: 'val',
      epoch: Math.ceil(trainer.completedIters / trainer.itersPerEpoch),
      iter: trainer.completedIters,
      ...metrics,
    });
  }

  override afterRun(trainer: Trainer): void {
    this.#progress?.stop();
    this.#progress = undefined;
    const how = trainer.status === 'stopped' ? `stopped (${trainer.stopReason})` : trainer.status;
    trainer.logger.info(`Training ${how} after ${trainer.completedIters} iterations.`);
  }

  stateDict(): JsonValue {
    return { epochLoss: this.#epochLoss, epochSteps: this.#epochSteps };
  }

  loadStateDict(state: JsonValue): void {
    const { epochLoss = 0, epochSteps = 0 } = state as { epochLoss?: number; epochSteps?: number };
    [this.#epochLoss, this.#epochSteps] = [epochLoss, epochSteps];
  }
}

registerOnce(HOOKS, 'LoggerHook', LoggerHook, {
  schema: z.strictObject({
    ...hookOptionsShape,
    interval,
    bar: z.boolean().optional(),
    stream: z.unknown().optional(),
  }),
});
