import { type ConfigValue, describeKind, isPlainObject } from './data.js';
import { ConfigKeyError } from './errors.js';
import { closestKey } from './suggest.js';

/**
 * A key path into a config: a dotted string (`'model.layers.0.units'`) or a list of segments
 * (`['model', 'layers', 0, 'units']`, needed for keys that contain a dot).
 *
 * A segment made of digits indexes into a list when the value there is a list, and is an
 * ordinary key when the value there is an object.
 */
export type ConfigPath = string | readonly (string | number)[];

/** Splits a {@link ConfigPath} into segments; rejects empty paths and empty segments. */
export function parsePath(path: ConfigPath): (string | number)[] {
  const segments = typeof path === 'string' ? path.split('.') : [...path];
  const shown = typeof path === 'string' ? path : segments.join('.');
  if (segments.length === 0 || segments.some((segment) => segment === '')) {
    throw new ConfigKeyError(
      'CONFIG_INVALID_PATH',
      `Invalid key path '${shown}': expected dot-separated keys such as 'model.layers.0.units' ` +
        '(no empty parts). For keys that contain a dot, pass the path as a list of keys.',
      { path: shown },
    );
  }
  return segments;
}

/** Dotted form of a path for messages. */
function joinPath(segments: readonly (string | number)[], end = segments.length): string {
  return segments.slice(0, end).join('.');
}

/** The list index a segment stands for, or `undefined` when it is not a non-negative integer. */
function asIndex(segment: string | number): number | undefined {
  if (typeof segment === 'number')
    return Number.isInteger(segment) && segment >= 0 ? segment : undefined;
  return /^\d+$/.test(segment) ? Number(segment) : undefined;
}

/** What a path lookup found: the value, or why nothing is there. */
export type Lookup = { found: true; value: ConfigValue } | { found: false; error: ConfigKeyError };

/** The error for a missing key `segments[depth]` in `object`. */
function missingKey(
  segments: readonly (string | number)[],
  depth: number,
  object: Record<string, unknown>,
): ConfigKeyError {
  const path = joinPath(segments);
  const at = joinPath(segments, depth + 1);
  const available = Object.keys(object);
  const key = String(segments[depth]);
  const closest = closestKey(key, available);
  const where = depth === 0 ? 'at the top level' : `in '${joinPath(segments, depth)}'`;
  const hint =
    closest === undefined
      ? ''
      : ` Did you mean '${joinPath([...segments.slice(0, depth), closest])}'?`;
  const list = available.length === 0 ? '(none)' : available.map((name) => `'${name}'`).join(', ');
  const message = `Config key '${at}' not found${at === path ? '' : ` (looking up '${path}')`}: no key '${key}' ${where}.${hint} Available keys: ${list}.`;
  return new ConfigKeyError('CONFIG_KEY_NOT_FOUND', message, { path, at, available });
}

/** The error for `segments[depth]` pointing into `list` out of range, or not being an index. */
function badIndex(
  segments: readonly (string | number)[],
  depth: number,
  list: readonly unknown[],
): ConfigKeyError {
  const path = joinPath(segments);
  const at = joinPath(segments, depth + 1);
  const listPath = joinPath(segments, depth) || '(root)';
  const segment = segments[depth] ?? '';
  const index = asIndex(segment);
  if (index === undefined) {
    return new ConfigKeyError(
      'CONFIG_INVALID_PATH',
      `Invalid config key '${path}': '${listPath}' is a list, so '${String(segment)}' must be an index from 0 to ${list.length - 1}.`,
      { path, at, length: list.length },
    );
  }
  return new ConfigKeyError(
    'CONFIG_INDEX_OUT_OF_RANGE',
    `Config key '${path}': index ${index} is out of range for the list '${listPath}' of length ${list.length} (valid indices: ${list.length === 0 ? 'none, the list is empty' : `0 to ${list.length - 1}`}).`,
    { path, at, length: list.length },
  );
}

/** The error for a path that goes through a scalar at `segments[depth - 1]`. */
function throughScalar(
  segments: readonly (string | number)[],
  depth: number,
  value: unknown,
): ConfigKeyError {
  const path = joinPath(segments);
  const parent = joinPath(segments, depth);
  return new ConfigKeyError(
    'CONFIG_INVALID_PATH',
    `Invalid config key '${path}': '${parent}' is ${describeKind(value) === 'null' ? 'null' : `a ${describeKind(value)}`}, not an object or a list, so it has no '${String(segments[depth])}'.`,
    { path, at: joinPath(segments, depth + 1) },
  );
}

/** Looks `segments` up in `root`. */
export function lookup(root: ConfigValue, segments: readonly (string | number)[]): Lookup {
  let node: ConfigValue = root;
  for (let depth = 0; depth < segments.length; depth++) {
    const segment = segments[depth] ?? '';
    if (Array.isArray(node)) {
      const index = asIndex(segment);
      const item = index === undefined ? undefined : node[index];
      if (item === undefined) return { found: false, error: badIndex(segments, depth, node) };
      node = item;
    } else if (isPlainObject(node)) {
      const key = String(segment);
      if (!Object.hasOwn(node, key))
        return { found: false, error: missingKey(segments, depth, node) };
      node = node[key] as ConfigValue;
    } else {
      return { found: false, error: throughScalar(segments, depth, node) };
    }
  }
  return { found: true, value: node };
}

/** How {@link updateAt} treats a path that does not exist yet. */
export interface UpdateOptions {
  /** Create missing object keys (and objects on the way). Defaults to true. */
  readonly createMissing?: boolean;
}

/**
 * A copy of `root` with the value at `segments` replaced by `update(old)` (`old` is `undefined`
 * when the key is new). Only the objects and lists along the path are copied; the rest is
 * shared. `root` is not modified.
 *
 * A list index must already exist; a digit segment cannot create a list.
 */
export function updateAt(
  root: ConfigValue,
  segments: readonly (string | number)[],
  update: (old: ConfigValue | undefined) => ConfigValue,
  options: UpdateOptions = {},
): ConfigValue {
  const createMissing = options.createMissing ?? true;
  const step = (node: ConfigValue | undefined, depth: number): ConfigValue => {
    if (depth === segments.length) return update(node);
    const segment = segments[depth] ?? '';
    if (Array.isArray(node)) {
      const index = asIndex(segment);
      if (index === undefined || index >= node.length) throw badIndex(segments, depth, node);
      const copy = [...node];
      copy[index] = step(node[index], depth + 1);
      return copy;
    }
    if (isPlainObject(node)) {
      const key = String(segment);
      const exists = Object.hasOwn(node, key);
      if (!exists && !createMissing) throw missingKey(segments, depth, node);
      const next = depth + 1 < segments.length ? segments[depth + 1] : undefined;
      if (!exists && next !== undefined && asIndex(next) !== undefined) {
        throw new ConfigKeyError(
          'CONFIG_KEY_NOT_FOUND',
          `Config key '${joinPath(segments)}': '${joinPath(segments, depth + 1)}' does not exist, so there is no list to index with ${String(next)}. Set the whole list instead, e.g. '${joinPath(segments, depth + 1)}=[...]'.`,
          {
            path: joinPath(segments),
            at: joinPath(segments, depth + 1),
            available: Object.keys(node),
          },
        );
      }
      const copy: Record<string, ConfigValue> = { ...(node as Record<string, ConfigValue>) };
      const child = exists
        ? (node[key] as ConfigValue)
        : depth + 1 < segments.length
          ? {}
          : undefined;
      if (key === '__proto__') {
        Object.defineProperty(copy, key, {
          value: step(child, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        copy[key] = step(child, depth + 1);
      }
      return copy;
    }
    throw throughScalar(segments, depth, node);
  };
  return step(root, 0);
}
