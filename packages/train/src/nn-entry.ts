/**
 * `@gorilla-ts/train/nn`: what a model needs at inference, and nothing Node-only, so that a
 * model trained with `@gorilla-ts/train` runs unchanged in a browser (bundle this entry, not
 * the package root, which holds the trainer, data loading, TensorBoard and file checkpoints).
 *
 * It holds the module tree ({@link Module}) and its layers, the package random generator that
 * seeds their initialisation, the safetensors reader working on bytes in memory
 * ({@link loadCheckpointBytes}, {@link readCheckpointBytes}) and the errors these throw. The
 * layers register themselves in `MODULES` of `@gorilla-ts/registry` on import, as from the root.
 *
 * Every name here is also exported from `@gorilla-ts/train` itself.
 *
 * @packageDocumentation
 */

export {
  type CheckpointBytesContents,
  type LoadCheckpointBytesOptions,
  type LoadCheckpointBytesResult,
  loadCheckpointBytes,
  readCheckpointBytes,
} from './checkpoint/bytes.js';
export {
  parseSafetensors,
  type SafetensorsDtype,
  SafetensorsFormatError,
  type SafetensorsTensor,
} from './checkpoint/safetensors.js';
export {
  CheckpointError,
  type CheckpointErrorCode,
  RandomStateError,
  StateMismatchError,
  TrainError,
  type TrainErrorCode,
} from './errors.js';
export { ReLU } from './nn/activation.js';
export { BatchNorm1d, type BatchNorm1dOptions } from './nn/batch-norm.js';
export { Dropout, type DropoutOptions } from './nn/dropout.js';
export { Linear, type LinearOptions } from './nn/linear.js';
export { type LoadStateDictOptions, type LoadStateDictResult, Module } from './nn/module.js';
export { Sequential, type SequentialOptions } from './nn/sequential.js';
export { RandomGenerator, type RandomState } from './random/generator.js';
export {
  getRandomGenerator,
  getRandomSeed,
  getRandomState,
  nextOpSeed,
  setRandomState,
} from './random/global.js';
