import { TrainerError } from './errors.js';

/** Where a trainer is: never run, running, or how its last run ended. */
export type TrainerStatus = 'idle' | 'running' | 'finished' | 'stopped' | 'failed';

/**
 * The loop core (detectron2's `TrainerBase`): it knows only that a loop runs from `startIter` to
 * `maxIter`, one {@link TrainerBase.runStep} per iteration between `beforeStep` and `afterStep`,
 * with `beforeTrain` first and `afterTrain` always last (in `finally`). Everything else
 * (epochs, checkpoints, logging, evaluation, learning-rate steps) lives in subclasses and hooks.
 */
export abstract class TrainerBase {
  /** The current iteration (0-based) while running; after a run, where the next one would start. */
  iter = 0;
  /** The iteration the current (or last) run started from. */
  startIter = 0;
  /** The iteration the current (or last) run stops before. */
  maxIter = 0;
  /** Where the trainer is. */
  status: TrainerStatus = 'idle';
  /** What made the last run fail, if it did. */
  error: unknown;
  #stopReason: string | undefined;
  #running = false;

  /** Whether a run is in progress. */
  get running(): boolean {
    return this.#running;
  }

  /** Whether {@link TrainerBase.stop} was called during this run. */
  get stopRequested(): boolean {
    return this.#stopReason !== undefined;
  }

  /** Why the run was asked to stop, if it was. */
  get stopReason(): string | undefined {
    return this.#stopReason;
  }

  /** Ends the run after the current iteration (and its hooks) finishes; `status` becomes `stopped`. */
  stop(reason = 'stop() was called'): void {
    this.#stopReason ??= reason;
  }

  /**
   * Runs iterations `startIter` to `maxIter - 1`.
   *
   * @throws {@link TrainerError} `TRAINER_REENTRANT` when a run is already in progress; whatever
   *   a step or hook throws (after `afterTrain` ran).
   */
  async train(startIter: number, maxIter: number): Promise<void> {
    if (this.#running) {
      throw new TrainerError(
        'TRAINER_REENTRANT',
        'This trainer is already running; await the running fit()/train() before starting another (or use a second Trainer).',
      );
    }
    this.#running = true;
    this.startIter = startIter;
    this.maxIter = maxIter;
    this.iter = startIter;
    this.status = 'running';
    this.error = undefined;
    this.#stopReason = undefined;
    let failure: { error: unknown } | undefined;
    try {
      await this.beforeTrain();
      for (; this.iter < maxIter; this.iter += 1) {
        await this.beforeStep();
        await this.runStep();
        await this.afterStep();
        if (this.#stopReason !== undefined) {
          this.iter += 1;
          break;
        }
      }
      this.status = this.#stopReason === undefined ? 'finished' : 'stopped';
    } catch (error) {
      failure = { error };
    }
    // afterTrain runs whatever happened (detectron2's `finally`); the run's own error wins over
    // one from the clean-up, which is reported rather than lost.
    try {
      if (failure !== undefined) [this.status, this.error] = ['failed', failure.error];
      await this.afterTrain();
    } catch (error) {
      if (failure === undefined) {
        failure = { error };
        [this.status, this.error] = ['failed', error];
      } else this.reportCleanupError(error);
    } finally {
      this.#running = false;
    }
    if (failure !== undefined) throw failure.error;
  }

  /** Before the first iteration. */
  protected async beforeTrain(): Promise<void> {}
  /** After the last iteration, also when the run failed. */
  protected async afterTrain(): Promise<void> {}
  /** Before each iteration. */
  protected async beforeStep(): Promise<void> {}
  /** One iteration. */
  protected abstract runStep(): Promise<void>;
  /** After each iteration. */
  protected async afterStep(): Promise<void> {}

  /** Called with an error thrown by `afterTrain` while the run was already failing. */
  protected reportCleanupError(error: unknown): void {
    console.error(error);
  }
}
