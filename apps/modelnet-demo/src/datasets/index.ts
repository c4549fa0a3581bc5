/**
 * The demo's data: ModelNet readers, the synthetic default, augmentations. Importing this module
 * registers the three data sets in `DATASETS`.
 */
import { registerDatasets } from './register.js';

export {
  type AugmentInput,
  type AugmentOptions,
  type AugmentStep,
  type AugmentStepOptions,
  type Axis,
  applyAugment,
  augmentSchema,
  type DropoutOptions,
  type JitterOptions,
  type RotateOptions,
  resolveAugment,
  type ScaleOptions,
  type ShiftOptions,
} from './augment.js';
export { PointCloudBase } from './base.js';
export { DataError, type DataErrorCode, type DataErrorOptions } from './errors.js';
export { ensureH5 } from './h5.js';
export { ModelNetH5, type ModelNetH5Options, modelNetH5Schema } from './modelnet-h5.js';
export {
  ModelNetNormalResampled,
  type ModelNetNormalResampledOptions,
  modelNetNormalResampledSchema,
  type Sampling,
} from './modelnet-normal-resampled.js';
export { acceptSnakeCase, snakeToCamel } from './options.js';
export { type PointRows, parsePointRows } from './point-text.js';
export { createRng, mixSeed, type Rng } from './random.js';
export { registerDatasets } from './register.js';
export { farthestPointSample, gatherPoints, normalizeUnitSphere } from './sampling.js';
export {
  SYNTHETIC_SHAPE_NAMES,
  SyntheticShapes,
  type SyntheticShapesOptions,
  syntheticShapesSchema,
} from './synthetic-shapes.js';
export type { Dataset, PointCloudDataset, PointCloudSample } from './types.js';

registerDatasets();
