/**
 * `@gorilla-ts/config`: config files (YAML, JSON, JS, TS) with `_base_` inheritance,
 * `_delete_`, predefined variables, dotted overrides, command-line merging and zod validation.
 *
 * @packageDocumentation
 */
export { type AttributeIssuesOptions, attributeIssues } from './attribute.js';
export {
  type DefaultArgs,
  type DefaultArgumentParserOptions,
  defaultArgumentParser,
  type MergeCfgAndArgsOptions,
  mergeCfgAndArgs,
  type Override,
  type ParseArgsOptions,
  type ParsedArgs,
  parseArgs,
} from './cli.js';
export {
  Config,
  type ConfigOptions,
  type FromStringOptions,
  type MergeFromDictOptions,
  type WidenLiteral,
} from './config.js';
export type { ConfigObject, ConfigValue } from './data.js';
export type { DumpOptions } from './dump.js';
export {
  ConfigArgumentError,
  ConfigDataError,
  ConfigError,
  type ConfigErrorCode,
  ConfigFileError,
  type ConfigFileErrorCode,
  type ConfigFileErrorDetails,
  type ConfigIssue,
  ConfigKeyError,
  type ConfigKeyErrorCode,
  type ConfigKeyErrorDetails,
  ConfigMergeError,
  type ConfigMergeErrorCode,
  type ConfigMergeErrorDetails,
  ConfigValidationError,
  isConfigError,
} from './errors.js';
export { CONFIG_EXTENSIONS, type ConfigFormat } from './load.js';
export { BASE_KEY, DELETE_KEY } from './merge.js';
export type { ConfigPath } from './path.js';
export {
  safeValidateConfig,
  toConfigIssues,
  type ValidateConfigOptions,
  type ValidateConfigResult,
  validateConfig,
} from './validate.js';
export type { PredefinedVariables } from './variables.js';

/** The version of this package. */
export const VERSION = '0.1.0';
export { resolvedZodVersion, ZOD_PEER_RANGE } from './zod-version.js';
