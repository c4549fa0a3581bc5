/**
 * `@gorilla-ts/registry`: typed registries and build-from-config.
 *
 * @packageDocumentation
 */
export {
  type ArgumentIssue,
  ArgumentValidationError,
  DuplicateEntryError,
  InvalidConfigError,
  RegistryError,
  type RegistryErrorCode,
  UnknownTypeError,
} from './errors.js';
export { toCamelCase, toSnakeCase } from './keys.js';
export {
  type BuildConfig,
  buildFromCfg,
  type ClassFactory,
  type Factory,
  type FunctionFactory,
  type RegisterOptions,
  Registry,
  type RegistryEntry,
  type RegistryIssue,
  type ValidateOptions,
} from './registry.js';
export {
  buildLoss,
  buildModel,
  buildModule,
  DATASETS,
  HOOKS,
  LOSSES,
  MODELS,
  MODULES,
  OPTIMIZERS,
  SCHEDULERS,
} from './standard.js';
export { closestNames } from './suggest.js';
export { resolvedZodVersion, ZOD_PEER_RANGE } from './zod-version.js';
