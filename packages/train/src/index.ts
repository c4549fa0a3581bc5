/**
 * `@gorilla-ts/train`: the training loop for TensorFlow.js and its building blocks.
 *
 * @packageDocumentation
 */

// nn: the module tree every model is built from
export { type LoadStateDictOptions, type LoadStateDictResult, Module } from './nn/module.js';

// ---- train I: backend, nn layers, optimizers, schedulers, losses, checkpoints, seeding ----

export { ensureGradients } from './backend/gradients.js';
export {
  BACKENDS,
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  currentBackend,
  detectGpu,
  type InitBackendOptions,
  initBackend,
  type SkippedBackend,
} from './backend/init-backend.js';
export {
  type CheckpointBytesContents,
  type LoadCheckpointBytesOptions,
  type LoadCheckpointBytesResult,
  loadCheckpointBytes,
  readCheckpointBytes,
} from './checkpoint/bytes.js';
export {
  CHECKPOINT_FORMAT,
  type CheckpointContents,
  type LoadCheckpointOptions,
  loadCheckpoint,
  OPTIMIZER_PREFIX,
  type RemoveStaleTemporariesOptions,
  type ResumeOptions,
  type ResumeResult,
  readCheckpoint,
  removeStaleTemporaries,
  resume,
  type SaveCheckpointOptions,
  saveCheckpoint,
} from './checkpoint/checkpoint.js';
export { type KeyMapOptions, mapKeys } from './checkpoint/key-map.js';
export { PTH_TO_SAFETENSORS_COMMAND } from './checkpoint/pth.js';
export {
  type ExportForPytorchOptions,
  type ExportForPytorchResult,
  exportForPytorch,
} from './checkpoint/pytorch.js';
export {
  parseSafetensors,
  type SafetensorsDtype,
  SafetensorsFormatError,
  type SafetensorsTensor,
} from './checkpoint/safetensors.js';
export {
  type CodeInConfig,
  checkCheckpointConfig,
  findCodeInConfig,
} from './checkpoint/untrusted-config.js';
export {
  BackendError,
  CheckpointError,
  type CheckpointErrorCode,
  LossInputError,
  OptimizerError,
  RandomStateError,
  SchedulerError,
  StateMismatchError,
  TrainError,
  type TrainErrorCode,
} from './errors.js';
export type {
  Criterion,
  CriterionInput,
  LossTerms,
  Reduction,
} from './loss/criterion.js';
export { type CrossEntropyLossOptions, crossEntropyLoss } from './loss/cross-entropy.js';
export { type FocalLossOptions, focalLoss } from './loss/focal.js';
export { type SmoothL1LossOptions, smoothL1Loss } from './loss/smooth-l1.js';
export { ReLU } from './nn/activation.js';
export { BatchNorm1d, type BatchNorm1dOptions } from './nn/batch-norm.js';
export { Dropout, type DropoutOptions } from './nn/dropout.js';
export { Linear, type LinearOptions } from './nn/linear.js';
export { Sequential, type SequentialOptions } from './nn/sequential.js';
export { Adam, type AdamHyperparameters, type AdamOptions, AdamW } from './optim/adam.js';
export { buildOptimizer, type OptimizerConfig, type ParamGroupRule } from './optim/build.js';
export {
  type BaseHyperparameters,
  type Gradients,
  type JsonValue,
  type LoadableOptimizerState,
  type NamedVariable,
  Optimizer,
  type OptimizerState,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
} from './optim/optimizer.js';
export { RMSprop, type RmspropHyperparameters, type RmspropOptions } from './optim/rmsprop.js';
export { SGD, type SgdHyperparameters, type SgdOptions } from './optim/sgd.js';
export { RandomGenerator, type RandomState } from './random/generator.js';
export {
  getRandomGenerator,
  getRandomSeed,
  getRandomState,
  nextOpSeed,
  type SetRandomSeedOptions,
  setRandomSeed,
  setRandomState,
} from './random/seed.js';
export { buildLrScheduler, type SchedulerConfig } from './scheduler/build.js';
export {
  ConstantLR,
  type ConstantLROptions,
  CosineAnnealingLR,
  type CosineAnnealingLROptions,
  ExponentialLR,
  type ExponentialLROptions,
  LinearLR,
  type LinearLROptions,
  MultiStepLR,
  type MultiStepLROptions,
  PolyLR,
  type PolyLROptions,
  StepLR,
  type StepLROptions,
} from './scheduler/closed-form.js';
export { OneCycleLR, type OneCycleLROptions } from './scheduler/one-cycle.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './scheduler/plateau.js';
export {
  type ClosedForm,
  LrScheduler,
  type SchedulerBaseOptions,
  type SchedulerState,
  type SchedulerUnit,
  type WarmupOptions,
  type WarmupSchedulerOptions,
  warmupFactorAt,
} from './scheduler/scheduler.js';
export { SequentialLR, type SequentialLROptions } from './scheduler/sequential.js';
export {
  type GorillaWarmupOptions,
  WarmupCosineLR,
  type WarmupCosineLROptions,
  WarmupMultiStepLR,
  type WarmupMultiStepLROptions,
  WarmupPolyLR,
  type WarmupPolyLROptions,
} from './scheduler/warmup.js';

// data parallel: gradient all-reduce, weight broadcast and buffer sync over @gorilla-ts/dist

export {
  type AllReduceGradientsOptions,
  allReduceGradients,
  broadcastParameters,
  syncBuffers,
} from './parallel/data-parallel.js';

// ---- train II: logging, TensorBoard, timers, buffers, data, parameter counts, backup ----

export {
  type BuildDataloaderOptions,
  buildDataloader,
  buildDataset,
  type DataLoaderConfig,
  LOADER_CONFIG as dataLoaderConfigSchema,
} from './data/build.js';
export {
  type Collated,
  defaultCollate,
  isNdArray,
  isTypedArray,
  type NdArray,
  ndarray,
  type TypedArray,
} from './data/collate.js';
export { DataLoader, type DataLoaderOptions, type DataLoaderState } from './data/data-loader.js';
export { ConcatDataset, type Dataset, type DatasetItem, RepeatDataset } from './data/dataset.js';
export {
  createRng,
  hash32,
  permutation,
  RandomSampler,
  type RandomSamplerOptions,
  type Sampler,
  SequentialSampler,
} from './data/sampler.js';
export {
  BackupError,
  DataLoaderError,
  type DataLoaderErrorCode,
  EventFileError,
  TimerError,
} from './errors.js';
export {
  type CollectedLogger,
  type CollectLoggerOptions,
  collectLogger,
  formatTimestamp,
} from './logging/collect-logger.js';
export {
  formatRecord,
  type GetLoggerOptions,
  getLogger,
  Logger,
  type LogHandler,
  type LogLevel,
  type LogRecord,
  type TextStream,
} from './logging/logger.js';
export type { HistogramData } from './tensorboard/proto.js';
export {
  readEventFile,
  readEvents,
  type SummaryValue,
  type TensorBoardEvent,
} from './tensorboard/reader.js';
export { crc32c, decodeRecords, encodeRecord, maskedCrc32c } from './tensorboard/record.js';
export {
  type HistogramOptions,
  type HistogramValues,
  histogram,
  TensorBoardWriter,
  type TensorBoardWriterOptions,
} from './tensorboard/writer.js';
export {
  convertSeconds,
  eta,
  formatDuration,
  remainingIterations,
  type TrainingPosition,
} from './timing/eta.js';
export {
  EpochProgress,
  type EpochProgressOptions,
  type ProgressStats,
  type ProgressStream,
} from './timing/progress.js';
export { Timer, type TimerOptions } from './timing/timer.js';
export { type BackupOptions, type BackupResult, backup } from './utils/backup.js';
export { HistoryBuffer, type HistoryBufferOptions } from './utils/history-buffer.js';
export { LogBuffer, type LogValue } from './utils/log-buffer.js';
export {
  formatSize,
  type HasNamedParameters,
  parameterCount,
  parameterCountTable,
} from './utils/parameter-count.js';

// ---- train III: trainer and hooks ----

export { BatchNormSyncHook } from './hooks/batch-norm-sync.js';
export { CheckpointHook, type CheckpointHookOptions } from './hooks/checkpoint.js';
export { DistSamplerSeedHook } from './hooks/dist-sampler-seed.js';
export { EarlyStoppingHook, type EarlyStoppingHookOptions } from './hooks/early-stopping.js';
export { EvalHook, type EvalHookOptions } from './hooks/eval.js';
export { IterationTimerHook } from './hooks/iteration-timer.js';
export { LoggerHook, type LoggerHookOptions } from './hooks/logger.js';
export { LrSchedulerHook, type LrSchedulerHookOptions } from './hooks/lr-scheduler.js';
export { NanGuardHook } from './hooks/nan-guard.js';
export { TensorBoardHook, type TensorBoardHookOptions } from './hooks/tensorboard.js';
export {
  CallbackHook,
  type HookCallbacks,
  type HookSpec,
  type Logs,
  toHook,
} from './trainer/callbacks.js';
export {
  bestCheckpointName,
  checkpointName,
  findLatestCheckpoint,
  LATEST_CHECKPOINT,
  linkCheckpoint,
  pruneCheckpoints,
} from './trainer/checkpoint-files.js';
export {
  ConfusionMatrixEvaluator,
  type ConfusionMatrixEvaluatorOptions,
  EVALUATORS,
} from './trainer/confusion-evaluator.js';
export type { StepResult, TrainerContext } from './trainer/context.js';
export type { DefaultHooksConfig } from './trainer/default-hooks.js';
export {
  NonFiniteLossError,
  TrainerError,
  type TrainerErrorCode,
  type TrainerIssue,
} from './trainer/errors.js';
export { ClassificationEvaluator, type Evaluator } from './trainer/evaluator.js';
export {
  type CriterionFn,
  defaultForward,
  type ForwardContext,
  type ForwardFn,
  type ForwardResult,
  type ModelOutput,
  type ModelOutputObject,
  splitBatch,
} from './trainer/forward.js';
export type { TrainerConfig } from './trainer/from-config.js';
export {
  addGradients,
  type ClipGradOptions,
  clipGradients,
  gradientNorm,
} from './trainer/gradients.js';
export {
  type Awaitable,
  HOOK_POINTS,
  type Hook,
  HookBase,
  type HookOptions,
  type HookPoint,
  type Metrics,
} from './trainer/hook.js';
export { HookList } from './trainer/hook-list.js';
export { MetricStore } from './trainer/metric-store.js';
export type {
  LoadFromOption,
  TrainerOptions,
  TrainLoader,
} from './trainer/options.js';
export { isPeriodEnd } from './trainer/period.js';
export {
  PRIORITY,
  type Priority,
  type PriorityName,
  resolvePriority,
} from './trainer/priority.js';
export { type FitResult, fit, Trainer } from './trainer/trainer.js';
export { TrainerBase, type TrainerStatus } from './trainer/trainer-base.js';
