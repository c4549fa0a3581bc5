import { TrainError } from '../errors.js';

/** One problem with a trainer's options or config. */
export interface TrainerIssue {
  /** Where: the option or config key (`optimizer`, `defaultHooks.checkpoint.interval`). */
  path: string;
  /** What is wrong and what was expected. */
  message: string;
}

/** Codes of {@link TrainerError}. */
export type TrainerErrorCode =
  | 'TRAINER_INVALID'
  | 'TRAINER_REENTRANT'
  | 'TRAINER_DATA'
  | 'HOOK_INVALID';

/**
 * A trainer cannot be built or run: invalid options or config (`TRAINER_INVALID`, with every
 * issue), `fit()` called while it runs (`TRAINER_REENTRANT`), a loader that breaks its own
 * length or a batch the default forward cannot read (`TRAINER_DATA`), or a hook that is not a
 * hook (`HOOK_INVALID`).
 */
export class TrainerError extends TrainError {
  declare readonly code: TrainerErrorCode;
  /** With `TRAINER_INVALID` and `HOOK_INVALID`: every problem found. */
  readonly issues: readonly TrainerIssue[];
  constructor(
    code: TrainerErrorCode,
    message: string,
    options: ErrorOptions & { issues?: readonly TrainerIssue[] } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.issues = options.issues ?? [];
  }

  /** A `TRAINER_INVALID` (or other) error listing every issue, one per line. */
  static fromIssues(
    code: TrainerErrorCode,
    what: string,
    issues: readonly TrainerIssue[],
  ): TrainerError {
    const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`);
    return new TrainerError(code, `${what}:\n${lines.join('\n')}`, { issues });
  }
}

/**
 * The training loss became NaN or infinite. Training stopped after that step, before any later
 * hook could save a checkpoint or step the scheduler: the weights in memory are suspect, the
 * last good checkpoint (if any) is named in the message.
 */
export class NonFiniteLossError extends TrainError {
  declare readonly code: 'LOSS_NOT_FINITE';
  /** The loss value (`NaN`, `Infinity` or `-Infinity`). */
  readonly loss: number;
  /** The iteration whose loss it was, counted from 1. */
  readonly iteration: number;
  /** The epoch it happened in, counted from 1. */
  readonly epoch: number;
  /** The last checkpoint saved or loaded before it, or `undefined` when there is none. */
  readonly lastCheckpoint: string | undefined;
  constructor(fields: {
    loss: number;
    iteration: number;
    epoch: number;
    lastCheckpoint: string | undefined;
  }) {
    const { loss, iteration, epoch, lastCheckpoint } = fields;
    const where =
      lastCheckpoint === undefined
        ? 'No checkpoint was saved before it: start again'
        : `The last good checkpoint is ${lastCheckpoint}: resume from it (resume: '${lastCheckpoint}')`;
    super(
      'LOSS_NOT_FINITE',
      `The training loss is ${loss} at iteration ${iteration} (epoch ${epoch}); training stopped. ` +
        `${where} with a lower learning rate or gradient clipping (clipGrad).`,
    );
    this.loss = loss;
    this.iteration = iteration;
    this.epoch = epoch;
    this.lastCheckpoint = lastCheckpoint;
  }
}
