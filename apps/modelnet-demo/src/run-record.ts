import type { JsonValue, Metrics, ResumeResult, TrainerContext } from '@gorilla-ts/train';
import { HookBase } from '@gorilla-ts/train';
import { percent } from './evaluate.js';

/** The highest validation accuracy so far and the epoch that reached it. */
export interface BestEpoch {
  accuracy: number;
  epoch: number;
}

/** Options of {@link RunRecordHook}. */
export interface RunRecordHookOptions {
  /**
   * Called when the best epoch is taken from the `meta` of a checkpoint of the previous demo loop
   * (one without hook states), so that the hook linking `epoch_best` can start from it too.
   */
  onBestFromMeta?: (best: BestEpoch) => void;
}

/**
 * The demo's record of a run, beside the Trainer's own hooks: the best validation accuracy and
 * its epoch (logged after each evaluation, kept across `--resume`), the epoch's numbers in every
 * checkpoint's `meta` (`loss`: the epoch's mean training loss, `accuracy`, `bestAccuracy`,
 * `bestEpoch`, as the demo always saved them, so `test` and older tools read them), one JSON
 * record per epoch (`mode: 'summary'`) and the closing line. Priority `LOW`: after the evaluation
 * and the `LoggerHook`, before the `CheckpointHook` writes. Rank 0 logs; every rank keeps the
 * same state (the checkpoint's `meta` is written on rank 0).
 */
export class RunRecordHook extends HookBase {
  #best: BestEpoch | undefined;
  #accuracy: { overall: number; meanClass: number } | undefined;
  #lossSum = 0;
  #lossCount = 0;
  #epochLoss = Number.NaN;
  #epochStart = 0;
  #runStart = 0;
  readonly #onBestFromMeta: ((best: BestEpoch) => void) | undefined;

  constructor(options: RunRecordHookOptions = {}) {
    super({ name: 'RunRecordHook' }, 'LOW');
    this.#onBestFromMeta = options.onBestFromMeta;
  }

  override beforeRun(trainer: TrainerContext): void {
    this.#runStart = trainer.now();
  }

  override beforeEpoch(trainer: TrainerContext): void {
    this.#epochStart = trainer.now();
    if (trainer.innerIter === 0) [this.#lossSum, this.#lossCount] = [0, 0];
  }

  override afterStep(trainer: TrainerContext): void {
    this.#lossSum += trainer.stepResult!.loss;
    this.#lossCount += 1;
  }

  override afterEval(trainer: TrainerContext, metrics: Metrics): void {
    const overall = metrics['val/acc'];
    if (overall === undefined || !trainer.running) return;
    this.#accuracy = { overall, meanClass: metrics['val/mean_class_acc'] ?? Number.NaN };
    const epoch = Math.ceil(trainer.completedIters / trainer.itersPerEpoch);
    if (this.#best === undefined || overall > this.#best.accuracy) {
      this.#best = { accuracy: overall, epoch };
    }
    if (trainer.rank === 0) {
      trainer.logger.info(
        `best validation accuracy: ${percent(this.#best.accuracy)} (epoch ${this.#best.epoch})`,
      );
    }
  }

  override afterEpoch(trainer: TrainerContext): void {
    this.#epochLoss = this.#lossCount > 0 ? this.#lossSum / this.#lossCount : Number.NaN;
    if (trainer.rank !== 0) return;
    const accuracy = this.#accuracy;
    trainer.logger.metrics({
      mode: 'summary',
      epoch: trainer.epoch + 1,
      iter: trainer.iter + 1,
      loss: this.#epochLoss,
      lr: trainer.optimizer.getLr(),
      epochSeconds: trainer.now() - this.#epochStart,
      ...(accuracy === undefined
        ? {}
        : { accuracy: accuracy.overall, meanClassAccuracy: accuracy.meanClass }),
      ...(this.#best === undefined
        ? {}
        : { bestAccuracy: this.#best.accuracy, bestEpoch: this.#best.epoch }),
    });
  }

  override beforeSaveCheckpoint(_trainer: TrainerContext, meta: Record<string, JsonValue>): void {
    if (Number.isFinite(this.#epochLoss)) meta.loss = this.#epochLoss;
    if (this.#accuracy !== undefined) meta.accuracy = this.#accuracy.overall;
    if (this.#best !== undefined) {
      meta.bestAccuracy = this.#best.accuracy;
      meta.bestEpoch = this.#best.epoch;
    }
  }

  /**
   * A checkpoint of the previous demo loop (before it ran on the Trainer) has no hook states:
   * its `meta` still says which epoch was best, so the record continues from there (and
   * `onBestFromMeta` hands that best on).
   */
  override afterLoadCheckpoint(_trainer: TrainerContext, checkpoint: ResumeResult): void {
    if (this.#best !== undefined) return;
    const { bestAccuracy, bestEpoch } = checkpoint.meta;
    if (typeof bestAccuracy === 'number' && Number.isInteger(bestEpoch)) {
      this.#best = { accuracy: bestAccuracy, epoch: bestEpoch as number };
      this.#onBestFromMeta?.({ ...this.#best });
    }
  }

  override afterRun(trainer: TrainerContext): void {
    if (trainer.rank !== 0 || trainer.status !== 'finished') return;
    const last = this.#accuracy?.overall;
    trainer.logger.info(
      `training done in ${(trainer.now() - this.#runStart).toFixed(1)}s` +
        (last === undefined ? '' : `; validation accuracy ${percent(last)}`) +
        (this.#best === undefined
          ? ''
          : `, best ${percent(this.#best.accuracy)} at epoch ${this.#best.epoch}`),
    );
  }

  stateDict(): JsonValue {
    return {
      best: this.#best === undefined ? null : { ...this.#best },
      lossSum: this.#lossSum,
      lossCount: this.#lossCount,
    };
  }

  loadStateDict(state: JsonValue): void {
    const saved = state as { best?: BestEpoch | null; lossSum?: number; lossCount?: number };
    this.#best = saved.best ?? undefined;
    this.#lossSum = saved.lossSum ?? 0;
    this.#lossCount = saved.lossCount ?? 0;
  }
}
