/** A JSON-compatible value: what a config holds. */
export type ConfigValue = null | boolean | number | string | ConfigValue[] | ConfigObject;

/** A JSON-compatible object: the top level of a config, or any mapping inside it. */
export interface ConfigObject {
  [key: string]: ConfigValue;
}

/**
 * True for a plain object (`{}` literal, `Object.create(null)`, parsed YAML/JSON), including
 * one made in another realm (e.g. by a config module loaded by jiti). False for arrays, class
 * instances, dates, maps and the like.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  if (Object.prototype.toString.call(value) !== '[object Object]') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Sets `object[key]`, defining an own property for `__proto__` instead of changing the prototype. */
export function assignKey(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    object[key] = value;
  }
}

/** Where a non-JSON value was found: its dotted path and what it was. */
export interface NonJsonValue {
  readonly path: string;
  readonly found: string;
}

/**
 * A deep copy of `value` made only of plain objects, arrays and JSON scalars.
 *
 * `undefined` object values are dropped (as `JSON.stringify` does). Anything else that is not
 * JSON data (functions, class instances, dates, bigints, `undefined` in a list) is reported to
 * `fail`, which must throw.
 */
export function cloneData(
  value: unknown,
  fail: (problem: NonJsonValue) => never,
  path: readonly (string | number)[] = [],
): ConfigValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) {
    return value.map((item, index) => cloneData(item, fail, [...path, index]));
  }
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      assignKey(copy, key, cloneData(item, fail, [...path, key]));
    }
    return copy as ConfigObject;
  }
  return fail({ path: formatPath(path), found: describeKind(value) });
}

/** Freezes `value` and everything inside it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** A mutable deep copy of JSON data (frozen or not). */
export function copyData<T extends ConfigValue>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => copyData(item)) as T;
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      assignKey(copy, key, copyData(item as ConfigValue));
    }
    return copy as T;
  }
  return value;
}

/** Dotted form of a key path: `['a', 'b', 0]` → `a.b.0`; `[]` → `(root)`. */
export function formatPath(path: readonly (string | number | symbol)[]): string {
  return path.length === 0 ? '(root)' : path.map((part) => String(part)).join('.');
}

/** The kind of a value in words: `string`, `list`, `null`, `function`, `Date`, ... */
export function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') {
    if (isPlainObject(value)) return 'object';
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `${name} instance` : 'object';
  }
  return typeof value;
}

/** A value in words for error messages: `string 'abc'`, `number 3`, `list (length 2)`, `object`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `string ${JSON.stringify(shown).replace(/^"|"$/g, "'")}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  if (Array.isArray(value)) return `list (length ${value.length})`;
  return describeKind(value);
}

/**
 * The key of `object` that is `key` in the other spelling (`weightDecay` for `weight_decay` and
 * the reverse), when `object` lacks `key` itself. Configs reach registries that accept both
 * spellings, so a child file or an override in one spelling replaces the base's value in the
 * other instead of standing beside it.
 */
export function spellingTwin(object: Record<string, unknown>, key: string): string | undefined {
  if (Object.hasOwn(object, key)) return undefined;
  const camel = key.replace(/_+([a-z0-9])/g, (_, char: string) => char.toUpperCase());
  const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  for (const twin of [camel, snake]) if (twin !== key && Object.hasOwn(object, twin)) return twin;
  return undefined;
}
