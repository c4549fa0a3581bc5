import type { z } from 'zod';
import {
  type ArgumentIssue,
  ArgumentValidationError,
  DuplicateEntryError,
  InvalidConfigError,
  UnknownTypeError,
} from './errors.js';
import {
  type NormalizedKeys,
  normalizeKeys,
  objectShapeOf,
  suggestKeys,
  toCamelCase,
  toSnakeCase,
} from './keys.js';
import { closestNames } from './suggest.js';
import { renderTable } from './table.js';
import { zodSchemaProblem } from './zod-version.js';

/** A class whose constructor takes one options object. */
// biome-ignore lint/suspicious/noExplicitAny: constructors are contravariant in their arguments
export type ClassFactory<T> = abstract new (options: any) => T;
/** A function that takes one options object and returns the built object. */
// biome-ignore lint/suspicious/noExplicitAny: functions are contravariant in their arguments
export type FunctionFactory<T> = (options: any) => T;
/** Anything a registry can build from: a class (called with `new`) or a plain function. */
export type Factory<T> = ClassFactory<T> | FunctionFactory<T>;

/** Options of {@link Registry.register}. */
export interface RegisterOptions {
  /**
   * A zod schema for the arguments (the config minus `type`). It runs before construction and
   * its output (with defaults and transforms applied) is what the factory receives.
   * Defaults to no validation.
   */
  schema?: z.ZodType;
  /** Other names that build the same entry. Defaults to none. */
  aliases?: readonly string[];
  /** Replace an existing entry of the same name instead of throwing. Defaults to `false`. */
  force?: boolean;
}

/** One registered entry, as returned by {@link Registry.get} and by iteration. */
export interface RegistryEntry<T> {
  /** The registered (canonical) name. */
  readonly name: string;
  /** The class or function that builds it. */
  readonly factory: Factory<T>;
  /** `class` entries are built with `new`, `function` entries are called. */
  readonly kind: 'class' | 'function';
  /** The argument schema, if one was given. */
  readonly schema: z.ZodType | undefined;
  /** Alternative names. */
  readonly aliases: readonly string[];
}

/**
 * A config for {@link Registry.build}: `type` selects the entry (its name, an alias, or the
 * class/function itself); every other key is an argument.
 */
export interface BuildConfig<T = unknown> {
  type?: string | Factory<T>;
  [key: string]: unknown;
}

/** One problem found by {@link Registry.validate}. */
export interface RegistryIssue {
  /** Dotted key path in the whole config (`model.num_clases`), as the user spelled it. */
  readonly path: string;
  /**
   * `unknown_type`, `missing_type`, `not_an_object`, `duplicate_key` (one option in both
   * spellings), or the zod issue code (`unrecognized_keys`, `invalid_type`, `too_small`, ...).
   */
  readonly code: string;
  /** What is wrong, in words, with a suggestion where there is a near name (no path, no file). */
  readonly message: string;
}

/** Options of {@link Registry.validate}. */
export interface ValidateOptions {
  /** Values merged under the config, as `build(cfg, defaults)` would (cfg keys win). */
  defaults?: Record<string, unknown>;
  /**
   * Arguments the builder adds at build time (`params` of an optimizer, `optimizer` of a
   * scheduler): their absence is not reported.
   */
  provided?: readonly string[];
}

/**
 * A named, typed table of buildable classes and functions: the `type` key of a config picks one,
 * the rest of the config becomes its options object.
 *
 * @example
 * ```ts
 * const MODELS = new Registry<Model>('models');
 * MODELS.register('Mlp', Mlp, { schema: z.strictObject({ hidden: z.number().int() }) });
 * const model = MODELS.build({ type: 'Mlp', hidden: 64 });
 * ```
 */
export class Registry<T = unknown> implements Iterable<[string, RegistryEntry<T>]> {
  /** The registry's name, used in every message (`models`, `losses`, ...). */
  readonly name: string;
  readonly #entries = new Map<string, RegistryEntry<T>>();
  readonly #aliases = new Map<string, string>();

  constructor(name: string) {
    this.name = name;
  }

  /**
   * Registers `factory` under `name` and returns it unchanged.
   *
   * @throws {@link DuplicateEntryError} when the name or an alias is taken and `force` is not set;
   *   `TypeError` when `schema` is not a zod 4 schema (the message names the installed zod).
   */
  register<F extends Factory<T>>(name: string, factory: F, options: RegisterOptions = {}): F {
    if (typeof factory !== 'function') {
      throw new TypeError(
        `register('${name}') in the '${this.name}' registry expects a class or a function, got ${typeof factory}.`,
      );
    }
    if (options.schema !== undefined) {
      const problem = zodSchemaProblem(
        options.schema,
        `register('${name}') in the '${this.name}' registry`,
      );
      if (problem !== undefined) throw new TypeError(problem);
    }
    const aliases = [...(options.aliases ?? [])];
    for (const key of [name, ...aliases]) {
      const owner = this.#owner(key);
      if (owner !== undefined && !options.force)
        throw new DuplicateEntryError(this.name, key, owner);
    }
    if (options.force) {
      for (const key of [name, ...aliases]) this.#remove(key);
    }
    this.#entries.set(name, {
      name,
      factory,
      kind: isClass(factory) ? 'class' : 'function',
      schema: options.schema,
      aliases,
    });
    for (const alias of aliases) this.#aliases.set(alias, name);
    return factory;
  }

  /**
   * A class decorator that registers the class, under its own name unless one is given.
   *
   * @example
   * ```ts
   * @MODELS.registerModule()
   * class PointNetCls { constructor(options: PointNetOptions) {} }
   * @MODELS.registerModule({ name: 'pn', schema })
   * class Other {}
   * ```
   */
  registerModule(
    nameOrOptions?: string | (RegisterOptions & { name?: string }),
  ): <C extends ClassFactory<T>>(target: C, context: ClassDecoratorContext<C>) => C {
    const { name, ...options } =
      typeof nameOrOptions === 'string' ? { name: nameOrOptions } : (nameOrOptions ?? {});
    return (target, context) => {
      const registered = name ?? (typeof context.name === 'string' ? context.name : target.name);
      this.register(registered, target, options);
      return target;
    };
  }

  /**
   * The entry registered under `name` (or an alias of it).
   *
   * @throws {@link UnknownTypeError} listing the registered names and the closest matches.
   */
  get(name: string): RegistryEntry<T> {
    const entry = this.#entries.get(this.#aliases.get(name) ?? name);
    if (entry === undefined) {
      const available = [...this.#entries.keys()];
      throw new UnknownTypeError(
        this.name,
        name,
        available,
        closestNames(name, [...available, ...this.#aliases.keys()]),
      );
    }
    return entry;
  }

  /** Whether `name` is a registered name or alias. */
  has(name: string): boolean {
    return this.#entries.has(name) || this.#aliases.has(name);
  }

  /** Removes an entry (by name or alias) with its aliases; returns whether one existed. */
  unregister(name: string): boolean {
    return this.#remove(name);
  }

  /** The number of entries (aliases not counted). */
  get size(): number {
    return this.#entries.size;
  }

  /** The registered names, in registration order. */
  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /** Iterates `[name, entry]` pairs in registration order. */
  [Symbol.iterator](): IterableIterator<[string, RegistryEntry<T>]> {
    return this.#entries.entries();
  }

  /**
   * Builds an object from a config: `type` selects the entry, the remaining keys (over
   * `defaults`, cfg keys win) are validated by the entry's schema and passed as one options
   * object. The caller's cfg and defaults are never mutated.
   *
   * @throws {@link InvalidConfigError}, {@link UnknownTypeError}, {@link ArgumentValidationError};
   *   an error thrown by the factory keeps its class and stack, its message prefixed by the type.
   */
  build<R extends T = T>(cfg: BuildConfig<T>, defaults?: Record<string, unknown>): R {
    if (!isPlainObject(cfg)) {
      throw new InvalidConfigError(
        this.name,
        `The '${this.name}' registry can only build from an object with a 'type' key, got ${describe(cfg)}.`,
      );
    }
    if (defaults !== undefined && !isPlainObject(defaults)) {
      throw new InvalidConfigError(
        this.name,
        `Defaults for the '${this.name}' registry must be an object, got ${describe(defaults)}.`,
      );
    }
    const merged: Record<string, unknown> = { ...defaults, ...cfg };
    const { type, ...rawArgs } = merged;
    const entry = this.#resolve(type);
    const normalized = normalizeKeys(copyPlainData(rawArgs), objectShapeOf(entry.schema));
    if (normalized.conflicts.length > 0) {
      const issues = normalized.conflicts.map(([first, second]) => ({
        path: second,
        code: 'duplicate_key',
        message: duplicateMessage(first, second),
      }));
      throw new ArgumentValidationError(this.name, entry.name, issues, undefined);
    }
    const args = normalized.args;
    const options = entry.schema === undefined ? args : this.#validate(entry, args);
    try {
      return (
        entry.kind === 'class'
          ? new (entry.factory as new (options: unknown) => T)(options)
          : (entry.factory as FunctionFactory<T>)(options)
      ) as R;
    } catch (error) {
      throw withTypeName(error, `${this.name}.${entry.name}`);
    }
  }

  /**
   * Checks a config section without building anything: the `type`, and the arguments against
   * the entry's schema, with keys normalised as {@link Registry.build} does (snake_case and
   * camelCase both accepted, one option in both spellings refused). Returns every problem, each
   * with its key path under `path` (`model.num_clases: unknown key, did you mean num_classes?`);
   * an empty list when `build` would accept the arguments. Never throws for bad input.
   *
   * @param cfg - The section (`{ type: 'PointNetCls', num_classes: 10 }`).
   * @param path - Where the section sits in the whole config (`model`, `hooks.0`); `''` for none.
   */
  validate(cfg: unknown, path = '', options: ValidateOptions = {}): RegistryIssue[] {
    const at = (key: string | number): string => (path === '' ? String(key) : `${path}.${key}`);
    if (!isPlainObject(cfg)) {
      return [
        {
          path,
          code: 'not_an_object',
          message: `expected an object with a 'type' key (one of ${this.#typeList()}), received ${describe(cfg)}`,
        },
      ];
    }
    const merged: Record<string, unknown> = { ...options.defaults, ...cfg };
    const { type, ...rawArgs } = merged;
    if (type === undefined) {
      return [
        { path: at('type'), code: 'missing_type', message: `missing; one of ${this.#typeList()}` },
      ];
    }
    let entry: RegistryEntry<T>;
    try {
      entry = this.#resolve(type);
    } catch (error) {
      if (UnknownTypeError.isInstance(error) && error instanceof UnknownTypeError) {
        const hint = error.suggestions.length > 0 ? `, did you mean ${error.suggestions[0]}?` : '';
        return [
          {
            path: at('type'),
            code: 'unknown_type',
            message: `no '${String(type)}' in the '${this.name}' registry${hint} (registered: ${this.#typeList()})`,
          },
        ];
      }
      return [{ path: at('type'), code: 'unknown_type', message: (error as Error).message }];
    }
    const shape = objectShapeOf(entry.schema);
    const normalized = normalizeKeys(copyPlainData(rawArgs), shape);
    const issues: RegistryIssue[] = normalized.conflicts.map(([first, second]) => ({
      path: at(second),
      code: 'duplicate_key',
      message: duplicateMessage(first, second),
    }));
    if (entry.schema === undefined) return issues;
    const provided = new Set(options.provided ?? []);
    const args = { ...normalized.args };
    // Stand-ins for what the builder adds: the schema must not report them missing.
    for (const key of provided) if (!(key in args)) args[key] = PROVIDED;
    const result = entry.schema.safeParse(args, { reportInput: true });
    if (result.success) return issues;
    // A required key missing because it is misspelt is reported once, as the misspelt key.
    const suggested = new Set<string>();
    for (const issue of result.error.issues) {
      if (issue.code !== 'unrecognized_keys' || issue.path.length > 0) continue;
      for (const key of issue.keys) {
        const [near] = suggestKeys(key, shape);
        if (near !== undefined) suggested.add(toCamelCase(near)).add(toSnakeCase(near));
      }
    }
    for (const issue of result.error.issues) {
      const missing = 'input' in issue && issue.input === undefined && issue.path.length === 1;
      if (missing && suggested.has(String(issue.path[0]))) continue;
      const [head, ...rest] = issue.path.map((key) =>
        typeof key === 'number' ? key : String(key),
      );
      if (typeof head === 'string' && provided.has(head) && args[head] === PROVIDED) continue;
      const spelled = head === undefined ? [] : [spelledKey(normalized, String(head)), ...rest];
      const base = spelled.length === 0 ? path : at(spelled.join('.'));
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const [near] = rest.length === 0 && head === undefined ? suggestKeys(key, shape) : [];
          issues.push({
            path: base === '' ? key : `${base}.${key}`,
            code: issue.code,
            message:
              near === undefined
                ? `unknown key of ${entry.name}${knownKeys(shape)}`
                : `unknown key, did you mean ${near}?`,
          });
        }
        continue;
      }
      issues.push({ path: base, code: issue.code, message: describeArgumentIssue(issue) });
    }
    return issues;
  }

  #typeList(): string {
    return [...this.#entries.keys()].join(', ') || '(the registry is empty)';
  }

  /** A readable table of the entries: name, kind, aliases and whether a schema is set. */
  toString(): string {
    const rows = [...this.#entries.values()].map((entry) => [
      entry.name,
      entry.kind,
      entry.aliases.join(', '),
      entry.schema === undefined ? '' : 'yes',
    ]);
    const count = `${this.size} ${this.size === 1 ? 'entry' : 'entries'}`;
    return `Registry '${this.name}' (${count})\n${renderTable(['name', 'kind', 'aliases', 'schema'], rows)}`;
  }

  #resolve(type: unknown): RegistryEntry<T> {
    if (typeof type === 'string') return this.get(type);
    if (typeof type === 'function') {
      for (const entry of this.#entries.values()) if (entry.factory === type) return entry;
      // An unregistered class or function given directly is built as it is.
      const name = type.name || '<anonymous>';
      return {
        name,
        factory: type as Factory<T>,
        kind: isClass(type) ? 'class' : 'function',
        schema: undefined,
        aliases: [],
      };
    }
    if (type === undefined) {
      throw new InvalidConfigError(
        this.name,
        `A config for the '${this.name}' registry needs a 'type' key (in the config or the defaults) naming one of: ${[...this.#entries.keys()].join(', ') || '(the registry is empty)'}.`,
      );
    }
    throw new InvalidConfigError(
      this.name,
      `'type' must be a registered name or a class/function, got ${describe(type)}.`,
    );
  }

  #validate(entry: RegistryEntry<T>, args: Record<string, unknown>): unknown {
    const result = entry.schema!.safeParse(args, { reportInput: true });
    if (result.success) return result.data;
    const issues: ArgumentIssue[] = result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      code: issue.code,
      message: describeIssue(issue),
    }));
    throw new ArgumentValidationError(this.name, entry.name, issues, result.error);
  }

  #owner(key: string): string | undefined {
    if (this.#entries.has(key)) return key;
    return this.#aliases.get(key);
  }

  #remove(key: string): boolean {
    const name = this.#owner(key);
    if (name === undefined) return false;
    const entry = this.#entries.get(name)!;
    this.#entries.delete(name);
    for (const alias of entry.aliases) this.#aliases.delete(alias);
    return true;
  }
}

/**
 * Builds an object from `cfg` with `registry` (the functional form of {@link Registry.build}).
 */
export function buildFromCfg<T, R extends T = T>(
  cfg: BuildConfig<T>,
  registry: Registry<T>,
  defaults?: Record<string, unknown>,
): R {
  return registry.build<R>(cfg, defaults);
}

/** A stand-in for an argument the builder provides (never reaches a factory). */
const PROVIDED = Symbol('provided by the builder');

function duplicateMessage(first: string, second: string): string {
  return `given as both ${first} and ${second}: they set the same option, give one`;
}

function spelledKey(normalized: NormalizedKeys, key: string): string {
  return normalized.spelledAs.get(key) ?? key;
}

function knownKeys(shape: { keys: ReadonlySet<string> } | undefined): string {
  if (shape === undefined || shape.keys.size === 0) return '';
  const keys = [...shape.keys];
  return keys.length > 16 ? '' : ` (its options: ${keys.join(', ')})`;
}

/** `expected number, received string 'abc'` and the like, for one zod issue. */
function describeArgumentIssue(issue: z.core.$ZodIssue): string {
  const input = 'input' in issue ? issue.input : undefined;
  if (input === undefined && issue.code === 'invalid_type')
    return `missing: expected ${issue.expected}`;
  const received = describe(input);
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, received ${received}`;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = String(small ? issue.minimum : issue.maximum);
      const op = issue.exact ? '==' : `${small ? '>' : '<'}${issue.inclusive === false ? '' : '='}`;
      const what =
        issue.origin === 'string' || issue.origin === 'array'
          ? `${issue.origin === 'array' ? 'a list' : 'a string'} of length ${op} ${limit}`
          : `${issue.origin === 'int' ? 'an integer' : 'a number'} ${op} ${limit}`;
      return `expected ${what}, received ${received}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}, received ${received}`;
    default:
      return input === undefined ? issue.message : `${issue.message}, received ${received}`;
  }
}

function isClass(value: unknown): boolean {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep-copies plain objects and arrays so a factory cannot write into the caller's config. */
function copyPlainData<V>(value: V): V {
  if (Array.isArray(value)) return value.map(copyPlainData) as V;
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = copyPlainData(item);
    return copy as V;
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return `the function ${value.name || '<anonymous>'}`;
  if (isPlainObject(value)) return 'an object';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const given = 'input' in issue && issue.code !== 'unrecognized_keys' ? issue.input : undefined;
  if (given === undefined) return issue.message;
  let shown: string;
  try {
    shown = JSON.stringify(given) ?? String(given);
  } catch {
    shown = String(given);
  }
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return `${issue.message} (given: ${shown})`;
}

/** Prefixes an error's message with the entry that threw it, keeping its class and stack. */
function withTypeName(error: unknown, typeName: string): unknown {
  if (!(error instanceof Error)) {
    return new Error(`${typeName}: ${String(error)}`, { cause: error });
  }
  const original = error.message;
  const prefixed = `${typeName}: ${original}`;
  try {
    // Read the stack first: V8 formats it lazily, from the message current at first read.
    const stack = error.stack;
    error.message = prefixed;
    if (typeof stack === 'string') error.stack = stack.replace(original, prefixed);
  } catch {
    // A frozen error cannot gain the name; rethrow it untouched rather than lose it.
  }
  return error;
}
