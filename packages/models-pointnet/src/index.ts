/**
 * `@gorilla-ts/models-pointnet`: PointNet classification for gorilla-ts, registered in `MODELS`
 * as `PointNetCls` when this package is imported.
 *
 * @packageDocumentation
 */
import { registerPointNet } from './pointnet-cls.js';

export { PointNetError, type PointNetErrorCode } from './errors.js';
export {
  type FeatureExtractorInput,
  type FeatureExtractorOutput,
  PointNetFeatureExtractor,
  type PointNetFeatureExtractorOptions,
} from './feature-extractor.js';
export { BatchNorm, type BatchNormOptions, LinearLayer, PointwiseConv } from './layers.js';
export {
  type Formulation,
  POINTNET_CLS_DEFAULTS,
  type PointNetClsOptions,
  pointNetClsSchema,
  type ResolvedPointNetClsOptions,
  SNAKE_CASE_KEYS,
} from './options.js';
export { PointNetCls, type PointNetOutput, registerPointNet } from './pointnet-cls.js';
export {
  type CriterionLike,
  orthogonalityLoss,
  type RegularizedCriterionInput,
  withRegularization,
} from './regularization.js';
export { ModuleList } from './shared-mlp.js';
export { TNet, type TNetInput, type TNetOptions } from './t-net.js';

/** The package version. */
export const VERSION = '0.1.0';

registerPointNet();
