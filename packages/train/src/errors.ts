const BRAND = Symbol.for('@gorilla-ts/train.error');

/**
 * Stable machine-readable codes of the errors `@gorilla-ts/train` throws. Branch on these, never
 * on messages.
 */
export type TrainErrorCode =
  // backend
  | 'BACKEND_UNKNOWN'
  | 'BACKEND_UNAVAILABLE'
  // nn state
  | 'STATE_MISMATCH'
  // optimizers and schedulers
  | 'OPTIMIZER_INVALID'
  | 'OPTIMIZER_STATE_INVALID'
  | 'SCHEDULER_INVALID'
  | 'SCHEDULER_STATE_INVALID'
  // losses
  | 'LOSS_INVALID_INPUT'
  // checkpoints
  | 'CHECKPOINT_NOT_FOUND'
  | 'CHECKPOINT_EMPTY'
  | 'CHECKPOINT_TRUNCATED'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_UNSUPPORTED'
  | 'CHECKPOINT_MISMATCH'
  | 'CHECKPOINT_WRITE_FAILED'
  // a PyTorch `.pth` whose pickle does more than rebuild tensors (never executed)
  | 'CHECKPOINT_UNSAFE'
  // a config stored in a checkpoint that names code to import (never imported)
  | 'CHECKPOINT_UNSAFE_CONFIG'
  // random
  | 'RANDOM_STATE_INVALID'
  // train II: logging, TensorBoard, timers, backup
  | 'EVENT_FILE_INVALID'
  | 'TIMER_NOT_RUNNING'
  | 'BACKUP_FAILED'
  // train II: data
  | 'DATA_INVALID'
  | 'DATA_WORKER_FAILED'
  | 'DATA_STATE_INVALID'
  // train III: trainer and hooks (classes in trainer/errors.ts)
  | 'TRAINER_INVALID'
  | 'TRAINER_REENTRANT'
  | 'TRAINER_DATA'
  | 'HOOK_INVALID'
  | 'LOSS_NOT_FINITE';

/**
 * Base class of every error thrown by `@gorilla-ts/train`, with a stable {@link TrainError.code}.
 *
 * Use {@link TrainError.isInstance} rather than `instanceof`: it also recognises errors thrown by
 * a second copy of this package installed elsewhere in `node_modules`.
 */
export class TrainError extends Error {
  /** A stable code, safe to branch on. */
  readonly code: TrainErrorCode;
  constructor(code: TrainErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any error thrown by any installed copy of `@gorilla-ts/train`. */
  static isInstance(error: unknown): error is TrainError {
    return typeof error === 'object' && error !== null && BRAND in error;
  }
}

// ---- train I ----

/** A backend name is unknown, or the backend asked for cannot be loaded. */
export class BackendError extends TrainError {
  /** The backend asked for (`tensorflow`, `wasm`, ...). */
  readonly backend: string;
  constructor(
    code: 'BACKEND_UNKNOWN' | 'BACKEND_UNAVAILABLE',
    backend: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.backend = backend;
  }
}

/**
 * A state dict does not fit a module: every missing, unexpected and wrong-shaped name, at once.
 */
export class StateMismatchError extends TrainError {
  /** Names the module has but the state lacked. */
  readonly missing: readonly string[];
  /** Names in the state the module does not have. */
  readonly unexpected: readonly string[];
  /** `name: expected [a, b], got [c]` for each name whose shape differs. */
  readonly wrongShape: readonly string[];
  constructor(
    message: string,
    fields: {
      missing: readonly string[];
      unexpected: readonly string[];
      wrongShape: readonly string[];
    },
  ) {
    super('STATE_MISMATCH', message);
    this.missing = fields.missing;
    this.unexpected = fields.unexpected;
    this.wrongShape = fields.wrongShape;
  }
}

/** Invalid optimizer options or an optimizer state that does not fit the optimizer. */
export class OptimizerError extends TrainError {
  constructor(
    code: 'OPTIMIZER_INVALID' | 'OPTIMIZER_STATE_INVALID',
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** Invalid scheduler options or a scheduler state that does not fit the scheduler. */
export class SchedulerError extends TrainError {
  constructor(
    code: 'SCHEDULER_INVALID' | 'SCHEDULER_STATE_INVALID',
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** A loss got inputs of the wrong shape or type. */
export class LossInputError extends TrainError {
  constructor(message: string) {
    super('LOSS_INVALID_INPUT', message);
  }
}

/** Codes of {@link CheckpointError}. */
export type CheckpointErrorCode = Extract<TrainErrorCode, `CHECKPOINT_${string}`>;

/**
 * A checkpoint file cannot be read or written, or does not fit the model/optimizer/scheduler.
 * The message is one line naming the file and what is wrong (a mismatch lists every name).
 */
export class CheckpointError extends TrainError {
  /** The checkpoint file. */
  readonly filename: string;
  declare readonly code: CheckpointErrorCode;
  /** With `CHECKPOINT_MISMATCH`: names the receiver has but the file lacks. */
  readonly missing: readonly string[];
  /** With `CHECKPOINT_MISMATCH`: names in the file the receiver does not have. */
  readonly unexpected: readonly string[];
  /** With `CHECKPOINT_MISMATCH`: `name: expected [a], got [b]` for each wrong shape. */
  readonly wrongShape: readonly string[];
  constructor(
    code: CheckpointErrorCode,
    filename: string,
    message: string,
    options: ErrorOptions & {
      missing?: readonly string[];
      unexpected?: readonly string[];
      wrongShape?: readonly string[];
    } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.filename = filename;
    this.missing = options.missing ?? [];
    this.unexpected = options.unexpected ?? [];
    this.wrongShape = options.wrongShape ?? [];
  }
}

/** A random-generator state that cannot be restored. */
export class RandomStateError extends TrainError {
  constructor(message: string) {
    super('RANDOM_STATE_INVALID', message);
  }
}

// ---- train II: logging, TensorBoard, timers, buffers, data, backup ----

/** A TensorBoard event file is truncated, corrupt or not an event file. */
export class EventFileError extends TrainError {
  constructor(message: string, options?: ErrorOptions) {
    super('EVENT_FILE_INVALID', message, options);
  }
}

/** A timer method was called in a state that does not allow it. */
export class TimerError extends TrainError {
  constructor(message: string, options?: ErrorOptions) {
    super('TIMER_NOT_RUNNING', message, options);
  }
}

/** A backup entry is invalid or missing. */
export class BackupError extends TrainError {
  constructor(message: string, options?: ErrorOptions) {
    super('BACKUP_FAILED', message, options);
  }
}

/** Codes of {@link DataLoaderError}. */
export type DataLoaderErrorCode = Extract<TrainErrorCode, `DATA_${string}`>;

/**
 * A batch cannot be collated (`DATA_INVALID`, also for an invalid loader config), a loader worker
 * failed (`DATA_WORKER_FAILED`), or a saved loader position does not fit (`DATA_STATE_INVALID`).
 */
export class DataLoaderError extends TrainError {
  declare readonly code: DataLoaderErrorCode;
  constructor(message: string, options: ErrorOptions & { code?: DataLoaderErrorCode } = {}) {
    super(
      options.code ?? 'DATA_INVALID',
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}
