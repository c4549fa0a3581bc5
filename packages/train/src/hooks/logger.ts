import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import type { JsonValue } from '../optim/optimizer.js';
import { EpochProgress, type ProgressStream } from '../timing/progress.js';
import type { TrainerContext } from '../trainer/context.js';
import { HookBase, type HookOptions, type Metrics } from '../trainer/hook.js';
import { isPeriodEnd } from '../trainer/period.js';
import { hookOptionsShape, interval } from './schema.js';

/** Options of {@link LoggerHook}. */
export interface LoggerHookOptions extends HookOptions {
  /** Write a progress line and a JSON record every this many iterations. Defaults to `10`. */
  interval?: number;
  /** Where the progress bar goes on a terminal. Defaults to `process.stderr`. */
  stream?: ProgressStream;
  /** Draw a bar (terminal) instead of logging lines. Defaults to `stream.isTTY`. */
  bar?: boolean;
  /** Without a bar: also log a progress line every this many seconds. Defaults to never (every `interval` iterations only). */
  progressSecs?: number;
}

/**
 * Reports the run on rank 0 through the trainer's logger: a progress display per epoch with
 * loss, learning rate, data time and ETA (a bar on a terminal, log lines every `interval`
 * iterations otherwise), one line per epoch in the seed's format (`epoch: 2/20, train loss: ...,
 * lr: ..., iter_time: ...s, data_time: ...s, time: ...s`), one per evaluation (the evaluator's
 * `format` when it has one), and the same numbers as JSON lines (`logger.metrics`) for machines.
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
  #epochIterTime = 0;
  #epochDataTime = 0;

  constructor(options: LoggerHookOptions = {}) {
    super(options, 'BELOW_NORMAL');
    this.interval = options.interval ?? 10;
    this.#options = options;
  }

  override beforeRun(trainer: TrainerContext): void {
    trainer.logger.info(
      `Training from iteration ${trainer.iter} to ${trainer.maxIter} (${trainer.maxEpochs} epochs of ${trainer.itersPerEpoch}), ${trainer.worldSize} rank(s), work dir ${trainer.workDir}`,
    );
  }

  override beforeEpoch(trainer: TrainerContext): void {
    if (trainer.innerIter === 0) {
      [this.#epochLoss, this.#epochSteps] = [0, 0];
      [this.#epochIterTime, this.#epochDataTime] = [0, 0];
    }
    this.#epochStart = trainer.now();
    this.#progress = new EpochProgress({
      total: trainer.itersPerEpoch,
      epoch: trainer.epoch + 1,
      epochs: trainer.maxEpochs,
      startIter: trainer.innerIter,
      everyIters: this.interval,
      everySecs: this.#options.progressSecs ?? Number.POSITIVE_INFINITY,
      write: (line) => trainer.logger.info(line),
      now: trainer.now,
      ...(this.#options.stream === undefined ? {} : { stream: this.#options.stream }),
      ...(this.#options.bar === undefined ? {} : { tty: this.#options.bar }),
    });
  }

  override afterStep(trainer: TrainerContext): void {
    const { loss, lr, dataTime } = trainer.stepResult!;
    this.#epochLoss += loss;
    this.#epochSteps += 1;
    this.#epochIterTime += trainer.metrics.latest('iter_time') ?? 0;
    this.#epochDataTime += dataTime;
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

  override afterEpoch(trainer: TrainerContext): void {
    this.#progress?.stop();
    this.#progress = undefined;
    const loss = this.#epochSteps > 0 ? this.#epochLoss / this.#epochSteps : Number.NaN;
    const time = trainer.now() - this.#epochStart;
    const steps = Math.max(1, this.#epochSteps);
    trainer.logger.info(
      `epoch: ${trainer.epoch + 1}/${trainer.maxEpochs}, train loss: ${loss.toFixed(4)}, lr: ${trainer.stepResult!.lr.toFixed(6)}, ` +
        `iter_time: ${(this.#epochIterTime / steps).toFixed(3)}s, data_time: ${(this.#epochDataTime / steps).toFixed(3)}s, time: ${time.toFixed(1)}s`,
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

  override afterEval(trainer: TrainerContext, metrics: Metrics): void {
    const epoch = Math.ceil(trainer.completedIters / trainer.itersPerEpoch);
    const formatted = trainer.evaluator.format?.(metrics);
    if (formatted !== undefined && formatted.length > 0) {
      const [first, ...rest] = formatted;
      trainer.logger.info(`epoch: ${epoch}, validation ${first}`);
      if (rest.length > 0) trainer.logger.info(rest.join('\n'));
    } else {
      const parts = Object.entries(metrics).map(
        ([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toFixed(4)}`,
      );
      trainer.logger.info(
        `Evaluation after iteration ${trainer.completedIters}: ${parts.join(', ') || 'no metrics'}`,
      );
    }
    trainer.logger.metrics({
      mode: 'val',
      epoch,
      iter: trainer.completedIters,
      ...metrics,
    });
  }

  override afterRun(trainer: TrainerContext): void {
    this.#progress?.stop();
    this.#progress = undefined;
    const how = trainer.status === 'stopped' ? `stopped (${trainer.stopReason})` : trainer.status;
    trainer.logger.info(`Training ${how} after ${trainer.completedIters} iterations.`);
  }

  stateDict(): JsonValue {
    return {
      epochLoss: this.#epochLoss,
      epochSteps: this.#epochSteps,
      epochIterTime: this.#epochIterTime,
      epochDataTime: this.#epochDataTime,
    };
  }

  loadStateDict(state: JsonValue): void {
    const {
      epochLoss = 0,
      epochSteps = 0,
      epochIterTime = 0,
      epochDataTime = 0,
    } = state as Partial<
      Record<'epochLoss' | 'epochSteps' | 'epochIterTime' | 'epochDataTime', number>
    >;
    [this.#epochLoss, this.#epochSteps] = [epochLoss, epochSteps];
    [this.#epochIterTime, this.#epochDataTime] = [epochIterTime, epochDataTime];
  }
}

registerOnce(HOOKS, 'LoggerHook', LoggerHook, {
  schema: z.strictObject({
    ...hookOptionsShape,
    interval,
    bar: z.boolean().optional(),
    progressSecs: z.number().positive().optional(),
    stream: z.unknown().optional(),
  }),
});
