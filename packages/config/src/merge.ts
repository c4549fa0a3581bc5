import {
  assignKey,
  type ConfigObject,
  type ConfigValue,
  describeValue,
  isPlainObject,
  spellingTwin,
} from './data.js';
import { ConfigDataError } from './errors.js';

/** The key that lists a config's base files. */
export const BASE_KEY = '_base_';

/** The key that, set to `true` in a child object, replaces the base object instead of merging. */
export const DELETE_KEY = '_delete_';

/** Called when a `_delete_` value is not a boolean; must throw. */
export type BadDeleteHandler = (path: string, value: unknown) => never;

const rejectBadDelete: BadDeleteHandler = (path, value) => {
  const key = path === '(root)' ? DELETE_KEY : `${path}.${DELETE_KEY}`;
  throw new ConfigDataError(
    `Invalid ${key}: expected true or false, received ${describeValue(value)}.`,
    key,
  );
};

/** Reads and checks the `_delete_` flag of a child object. */
function deleteFlag(
  child: Record<string, unknown>,
  path: readonly string[],
  onBadDelete: BadDeleteHandler,
): boolean {
  if (!Object.hasOwn(child, DELETE_KEY)) return false;
  const flag = child[DELETE_KEY];
  if (typeof flag !== 'boolean') onBadDelete(path.join('.') || '(root)', flag);
  return flag;
}

/** `value` with every `_delete_` key removed (objects and lists inside it included). */
export function stripDelete(
  value: ConfigValue,
  onBadDelete: BadDeleteHandler = rejectBadDelete,
  path: readonly string[] = [],
): ConfigValue {
  if (Array.isArray(value)) {
    return value.map((item, index) => stripDelete(item, onBadDelete, [...path, String(index)]));
  }
  if (!isPlainObject(value)) return value;
  deleteFlag(value, path, onBadDelete);
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === DELETE_KEY) continue;
    assignKey(result, key, stripDelete(item as ConfigValue, onBadDelete, [...path, key]));
  }
  return result as ConfigObject;
}

/**
 * Merges `child` over `base` and returns the result; neither input is modified.
 *
 * - Objects merge key by key, recursively.
 * - Lists and scalars in the child replace the base value.
 * - A child object with `_delete_: true` replaces the base object whole.
 * - A child object over a base value that is not an object replaces it (no error).
 * - `_delete_` keys never remain in the result.
 */
export function mergeInto(
  base: ConfigValue | undefined,
  child: ConfigValue,
  onBadDelete: BadDeleteHandler = rejectBadDelete,
  path: readonly string[] = [],
): ConfigValue {
  if (!isPlainObject(child) || !isPlainObject(base)) return stripDelete(child, onBadDelete, path);
  if (deleteFlag(child, path, onBadDelete)) return stripDelete(child, onBadDelete, path);
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(child)) {
    if (key === DELETE_KEY) continue;
    // A key in the other spelling than the base's (weight_decay over weightDecay) replaces it.
    // A child giving both spellings keeps both: the registry refuses that, naming them.
    const found = spellingTwin(result, key);
    const twin = found !== undefined && !Object.hasOwn(child, found) ? found : undefined;
    const oldKey = twin ?? key;
    const old = Object.hasOwn(base, oldKey) ? (base[oldKey] as ConfigValue) : undefined;
    if (twin !== undefined) delete result[twin];
    assignKey(result, key, mergeInto(old, value as ConfigValue, onBadDelete, [...path, key]));
  }
  return result as ConfigObject;
}
