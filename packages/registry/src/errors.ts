const BRAND = Symbol.for('@gorilla-ts/registry.error');

/** Stable machine-readable codes of every error this package throws. */
export type RegistryErrorCode =
  | 'REGISTRY_DUPLICATE'
  | 'REGISTRY_UNKNOWN_TYPE'
  | 'REGISTRY_INVALID_CONFIG'
  | 'REGISTRY_INVALID_ARGUMENTS';

/**
 * Base class of every error thrown by `@gorilla-ts/registry`.
 *
 * Use {@link RegistryError.isInstance} rather than `instanceof`: it also recognises errors
 * thrown by a second copy of this package installed elsewhere in `node_modules`.
 */
export class RegistryError extends Error {
  /** A stable code, safe to branch on. */
  readonly code: RegistryErrorCode;
  /** The name of the registry involved (`models`, `losses`, ...). */
  readonly registry: string;
  constructor(code: RegistryErrorCode, registry: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.registry = registry;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any error thrown by any installed copy of `@gorilla-ts/registry`. */
  static isInstance(error: unknown): error is RegistryError {
    return typeof error === 'object' && error !== null && BRAND in error;
  }
}

/** A name (or alias) is registered twice without `force: true`. */
export class DuplicateEntryError extends RegistryError {
  /** The name that is already taken. */
  readonly entryName: string;
  constructor(registry: string, entryName: string, takenBy: string) {
    const by = takenBy === entryName ? '' : ` (an alias of '${takenBy}')`;
    super(
      'REGISTRY_DUPLICATE',
      registry,
      `'${entryName}' is already registered in the '${registry}' registry${by}. ` +
        'Pick another name, or pass { force: true } to replace the existing entry.',
    );
    this.entryName = entryName;
  }
}

/** A `type` names nothing in the registry. */
export class UnknownTypeError extends RegistryError {
  /** The name that was asked for. */
  readonly type: string;
  /** Registered names closest to {@link UnknownTypeError.type}, best first. */
  readonly suggestions: readonly string[];
  /** Every name registered when the lookup failed. */
  readonly available: readonly string[];
  constructor(
    registry: string,
    type: string,
    available: readonly string[],
    suggestions: readonly string[],
  ) {
    const hint = suggestions.length > 0 ? ` Did you mean ${quoteList(suggestions)}?` : '';
    const list = available.length > 0 ? quoteList(available) : '(the registry is empty)';
    super(
      'REGISTRY_UNKNOWN_TYPE',
      registry,
      `No entry named '${type}' in the '${registry}' registry.${hint} Available: ${list}.`,
    );
    this.type = type;
    this.suggestions = suggestions;
    this.available = available;
  }
}

/** The config passed to `build()` is not an object, or has no usable `type`. */
export class InvalidConfigError extends RegistryError {
  constructor(registry: string, message: string) {
    super('REGISTRY_INVALID_CONFIG', registry, message);
  }
}

/** One problem found by an entry's zod schema. */
export interface ArgumentIssue {
  /** Dotted key path inside the arguments (`''` for the arguments object itself). */
  readonly path: string;
  /** The zod issue code (`invalid_type`, `too_small`, `unrecognized_keys`, ...). */
  readonly code: string;
  /** What was expected and what was given, in words. */
  readonly message: string;
}

/** The arguments of a `build()` call failed the entry's zod schema. */
export class ArgumentValidationError extends RegistryError {
  /** The entry's registered name. */
  readonly type: string;
  /** Every problem, in schema order. */
  readonly issues: readonly ArgumentIssue[];
  constructor(registry: string, type: string, issues: readonly ArgumentIssue[], cause: unknown) {
    const lines = issues.map((issue) => `  - ${issue.path || '(arguments)'}: ${issue.message}`);
    super(
      'REGISTRY_INVALID_ARGUMENTS',
      registry,
      `Invalid arguments for '${type}' in the '${registry}' registry:\n${lines.join('\n')}`,
      { cause },
    );
    this.type = type;
    this.issues = issues;
  }
}

function quoteList(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}
