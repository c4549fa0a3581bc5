const BRAND = Symbol.for('@gorilla-ts/config.error');

/** Stable machine-readable codes of every error this package throws. */
export type ConfigErrorCode =
  | ConfigFileErrorCode
  | ConfigMergeErrorCode
  | ConfigKeyErrorCode
  | 'CONFIG_INVALID_DATA'
  | 'CONFIG_VALIDATION_FAILED'
  | 'CONFIG_INVALID_ARGUMENT'
  | 'CONFIG_ZOD_VERSION';

/** Codes of {@link ConfigFileError}. */
export type ConfigFileErrorCode =
  /** The file (or a `_base_` file) does not exist, or is a directory. */
  | 'CONFIG_FILE_NOT_FOUND'
  /** The extension (or the `format` given) is not one this package reads or writes. */
  | 'CONFIG_UNSUPPORTED_FORMAT'
  /** YAML or JSON syntax error; `line` and `column` say where. */
  | 'CONFIG_PARSE_ERROR'
  /** Reading the file, or importing a `.js`/`.ts` config module, failed; see `cause`. */
  | 'CONFIG_LOAD_ERROR'
  /** The file parsed but does not hold a config: not a mapping, or a value that is not JSON data. */
  | 'CONFIG_INVALID_CONTENT'
  /** `dump(path)` could not write the file; see `cause`. */
  | 'CONFIG_WRITE_ERROR';

/** Codes of {@link ConfigMergeError}. */
export type ConfigMergeErrorCode =
  /** Two sibling `_base_` files define the same top-level key. */
  | 'CONFIG_DUPLICATE_BASE_KEY'
  /** A `_base_` chain leads back to a file already in the chain. */
  | 'CONFIG_BASE_CYCLE'
  /** `_base_` is neither a path nor a list of paths. */
  | 'CONFIG_INVALID_BASE'
  /** `_delete_` is not a boolean. */
  | 'CONFIG_INVALID_DELETE';

/** Codes of {@link ConfigKeyError}. */
export type ConfigKeyErrorCode =
  /** A key on the path does not exist. */
  | 'CONFIG_KEY_NOT_FOUND'
  /** A list index on the path is past the end of the list. */
  | 'CONFIG_INDEX_OUT_OF_RANGE'
  /** The path is malformed, or goes through a value that is not an object or a list. */
  | 'CONFIG_INVALID_PATH'
  /** A property of a `Config` was assigned; use `cfg.set(path, value)`. */
  | 'CONFIG_READ_ONLY';

/**
 * Base class of every error thrown by `@gorilla-ts/config`.
 *
 * Branch on {@link ConfigError.code}. Prefer {@link ConfigError.isInstance} (or
 * {@link isConfigError}) over `instanceof`: it also recognises errors thrown by a second copy of
 * this package installed elsewhere in `node_modules`.
 */
export class ConfigError extends Error {
  /** A stable code, safe to branch on. */
  readonly code: ConfigErrorCode;
  constructor(code: ConfigErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: 'ConfigError', configurable: true });
  }

  /** True for any error thrown by any installed copy of `@gorilla-ts/config`. */
  static isInstance(error: unknown): error is ConfigError {
    return brandOf(error) !== undefined;
  }
}

/** Marks `error` as an instance of the subclass `kind` (for the cross-install `isInstance`). */
function brand(error: ConfigError, kind: string): void {
  error.name = kind;
  Object.defineProperty(error, BRAND, { value: kind, configurable: true });
}

function brandOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !(BRAND in error)) return undefined;
  const value = (error as { [BRAND]?: unknown })[BRAND];
  return typeof value === 'string' ? value : undefined;
}

/**
 * True for any error thrown by any installed copy of `@gorilla-ts/config`
 * (the same as {@link ConfigError.isInstance}).
 */
export function isConfigError(error: unknown): error is ConfigError {
  return ConfigError.isInstance(error);
}

/** Fields of {@link ConfigFileError}. */
export interface ConfigFileErrorDetails {
  /** Absolute path of the file the error is about. */
  readonly file: string;
  /**
   * The `_base_` chain that led to {@link ConfigFileErrorDetails.file}, outermost first,
   * absolute paths; `[file]` for the file that was asked for.
   */
  readonly chain?: readonly string[];
  /** 1-based line of a syntax error. */
  readonly line?: number;
  /** 1-based column of a syntax error. */
  readonly column?: number;
}

/** A config file could not be found, read, parsed or written. */
export class ConfigFileError extends ConfigError {
  declare readonly code: ConfigFileErrorCode;
  /** Absolute path of the file the error is about. */
  readonly file: string;
  /** The `_base_` chain that led to {@link ConfigFileError.file}, outermost first. */
  readonly chain: readonly string[];
  /** 1-based line of a syntax error, when known. */
  readonly line: number | undefined;
  /** 1-based column of a syntax error, when known. */
  readonly column: number | undefined;
  constructor(
    code: ConfigFileErrorCode,
    message: string,
    details: ConfigFileErrorDetails,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    brand(this, 'ConfigFileError');
    this.file = details.file;
    this.chain = details.chain ?? [details.file];
    this.line = details.line;
    this.column = details.column;
  }

  /** True for a {@link ConfigFileError} from any installed copy of this package. */
  static override isInstance(error: unknown): error is ConfigFileError {
    return brandOf(error) === 'ConfigFileError';
  }
}

/** Fields of {@link ConfigMergeError}. */
export interface ConfigMergeErrorDetails {
  /** Absolute path of the file whose `_base_` or `_delete_` is at fault. */
  readonly file: string;
  /** The `_base_` chain that led to {@link ConfigMergeErrorDetails.file}, outermost first. */
  readonly chain?: readonly string[];
  /** The key involved (a duplicated top-level key, or the dotted path of a bad `_delete_`). */
  readonly key?: string;
  /** The files involved: both bases for a duplicate key, the cycle for a cycle. */
  readonly files?: readonly string[];
}

/** `_base_` / `_delete_` inheritance could not be resolved. */
export class ConfigMergeError extends ConfigError {
  declare readonly code: ConfigMergeErrorCode;
  /** Absolute path of the file whose `_base_` or `_delete_` is at fault. */
  readonly file: string;
  /** The `_base_` chain that led to {@link ConfigMergeError.file}, outermost first. */
  readonly chain: readonly string[];
  /** The key involved, when there is one. */
  readonly key: string | undefined;
  /** The files involved: both bases for a duplicate key, the whole cycle for a cycle. */
  readonly files: readonly string[];
  constructor(code: ConfigMergeErrorCode, message: string, details: ConfigMergeErrorDetails) {
    super(code, message);
    brand(this, 'ConfigMergeError');
    this.file = details.file;
    this.chain = details.chain ?? [details.file];
    this.key = details.key;
    this.files = details.files ?? [details.file];
  }

  /** True for a {@link ConfigMergeError} from any installed copy of this package. */
  static override isInstance(error: unknown): error is ConfigMergeError {
    return brandOf(error) === 'ConfigMergeError';
  }
}

/** Fields of {@link ConfigKeyError}. */
export interface ConfigKeyErrorDetails {
  /** The whole dotted path that was asked for. */
  readonly path: string;
  /** The part of the path that failed (`a.b` when `a.b.c` was asked for and `a.b` is missing). */
  readonly at?: string;
  /** Length of the list an out-of-range index pointed into. */
  readonly length?: number;
  /** Keys that do exist where a key was missing. */
  readonly available?: readonly string[];
}

/** A dotted key path does not lead anywhere: missing key, index out of range, bad path. */
export class ConfigKeyError extends ConfigError {
  declare readonly code: ConfigKeyErrorCode;
  /** The whole dotted path that was asked for. */
  readonly path: string;
  /** The part of the path that failed. */
  readonly at: string;
  /** Length of the list, for `CONFIG_INDEX_OUT_OF_RANGE`. */
  readonly length: number | undefined;
  /** Keys that exist where a key was missing, for `CONFIG_KEY_NOT_FOUND`. */
  readonly available: readonly string[];
  constructor(code: ConfigKeyErrorCode, message: string, details: ConfigKeyErrorDetails) {
    super(code, message);
    brand(this, 'ConfigKeyError');
    this.path = details.path;
    this.at = details.at ?? details.path;
    this.length = details.length;
    this.available = details.available ?? [];
  }

  /** True for a {@link ConfigKeyError} from any installed copy of this package. */
  static override isInstance(error: unknown): error is ConfigKeyError {
    return brandOf(error) === 'ConfigKeyError';
  }
}

/** A value given to a `Config` (constructor, `set`, `mergeFromDict`) is not JSON data. */
export class ConfigDataError extends ConfigError {
  declare readonly code: 'CONFIG_INVALID_DATA';
  /** Dotted path of the offending value (`''` for the whole object). */
  readonly path: string;
  constructor(message: string, path: string) {
    super('CONFIG_INVALID_DATA', message);
    brand(this, 'ConfigDataError');
    this.path = path;
  }

  /** True for a {@link ConfigDataError} from any installed copy of this package. */
  static override isInstance(error: unknown): error is ConfigDataError {
    return brandOf(error) === 'ConfigDataError';
  }
}

/** One problem found by `validateConfig`. */
export interface ConfigIssue {
  /** Key path of the offending value, e.g. `['model', 'layers', 0, 'units']`. */
  readonly path: readonly (string | number)[];
  /** The zod issue code (`invalid_type`, `too_small`, `unrecognized_keys`, ...). */
  readonly code: string;
  /** What was expected, in words (`number`, `one of 'sgd' | 'adam'`), when the issue says. */
  readonly expected: string | undefined;
  /** What the config holds there, in words (`string 'abc'`, `undefined (key is missing)`). */
  readonly received: string;
  /** One line: `key.path: expected X, received Y` (without the file name). */
  readonly message: string;
  /**
   * Where the value came from, printed before the message: the file name, or `command line`
   * for a value set by an override or option (then the message starts with the override as
   * typed, `epochs=two: expected a number`). Defaults to the config's file name.
   */
  readonly source?: string;
}

/** A config failed its zod schema. The message lists every issue, one per line. */
export class ConfigValidationError extends ConfigError {
  declare readonly code: 'CONFIG_VALIDATION_FAILED';
  /** Every problem, in the order zod reported them. */
  readonly issues: readonly ConfigIssue[];
  /** The config's file name, when it came from a file. */
  readonly filename: string | undefined;
  constructor(issues: readonly ConfigIssue[], filename: string | undefined, cause: unknown) {
    const prefix = filename === undefined ? '' : `${filename}: `;
    const count = issues.length === 1 ? '1 issue' : `${issues.length} issues`;
    const lines = issues.map((issue) =>
      issue.source === undefined
        ? `  ${prefix}${issue.message}`
        : `  ${issue.source}: ${issue.message}`,
    );
    super(
      'CONFIG_VALIDATION_FAILED',
      `Config validation failed with ${count}; fix these keys in the config file or override them:\n${lines.join('\n')}`,
      { cause },
    );
    brand(this, 'ConfigValidationError');
    this.issues = issues;
    this.filename = filename;
  }

  /** True for a {@link ConfigValidationError} from any installed copy of this package. */
  static override isInstance(error: unknown): error is ConfigValidationError {
    return brandOf(error) === 'ConfigValidationError';
  }
}

/** Command-line arguments were rejected (only thrown by `parseArgs(..., { exitOnError: false })`). */
export class ConfigArgumentError extends ConfigError {
  declare readonly code: 'CONFIG_INVALID_ARGUMENT';
  /** commander's error code, e.g. `commander.invalidArgument`, `commander.unknownOption`. */
  readonly commanderCode: string;
  /** The exit code commander would have used (0 for `--help` and `--version`). */
  readonly exitCode: number;
  constructor(message: string, commanderCode: string, exitCode: number, cause: unknown) {
    super('CONFIG_INVALID_ARGUMENT', message, { cause });
    brand(this, 'ConfigArgumentError');
    this.commanderCode = commanderCode;
    this.exitCode = exitCode;
  }

  /** True for a {@link ConfigArgumentError} from any installed copy of this package. */
  static override isInstance(error: unknown): error is ConfigArgumentError {
    return brandOf(error) === 'ConfigArgumentError';
  }
}
