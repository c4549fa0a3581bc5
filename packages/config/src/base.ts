import path from 'node:path';
import {
  type ConfigObject,
  cloneData,
  describeKind,
  describeValue,
  isPlainObject,
} from './data.js';
import { ConfigFileError, ConfigMergeError } from './errors.js';
import { chainSuffix, displayPath, formatChain, readConfigFile } from './load.js';
import { BASE_KEY, DELETE_KEY, mergeInto, stripDelete } from './merge.js';
import { type PredefinedVariables, predefinedVariables, substituteVariables } from './variables.js';

/** A config file with its `_base_` files resolved. */
export interface ResolvedConfig {
  /** The merged data, `_base_` and `_delete_` removed, variables substituted. */
  readonly data: ConfigObject;
  /** Absolute paths of every file read: the file itself first, then its bases depth-first. */
  readonly files: readonly string[];
}

/**
 * Checks that parsed file content is a config (a mapping of JSON data) and returns a copy.
 * An empty YAML file (`null`) counts as an empty config.
 */
export function toConfigObject(
  content: unknown,
  file: string,
  chain: readonly string[],
): Record<string, unknown> {
  if (content === null || content === undefined) return {};
  if (!isPlainObject(content)) {
    throw new ConfigFileError(
      'CONFIG_INVALID_CONTENT',
      `Config file ${displayPath(file)} must hold a mapping of keys to values at the top level, but it holds a ${describeKind(content)}.${chainSuffix(chain)}`,
      { file, chain },
    );
  }
  return cloneData(content, ({ path: at, found }) => {
    throw new ConfigFileError(
      'CONFIG_INVALID_CONTENT',
      `Config file ${displayPath(file)}: ${at}: expected JSON data (null, boolean, number, string, list or plain object), received ${found}. Configs hold plain data; build objects from it in code.${chainSuffix(chain)}`,
      { file, chain },
    );
  }) as Record<string, unknown>;
}

/** The `_base_` entries of a file, as absolute paths. */
function basePaths(value: unknown, file: string, chain: readonly string[]): string[] {
  const entries = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(entries) ||
    entries.some((entry) => typeof entry !== 'string' || entry === '')
  ) {
    throw new ConfigMergeError(
      'CONFIG_INVALID_BASE',
      `Invalid ${BASE_KEY} in ${displayPath(file)}: expected a path or a list of paths (relative to the file), received ${describeValue(value)}.${chainSuffix(chain)}`,
      { file, chain, key: BASE_KEY },
    );
  }
  return entries.map((entry: string) => path.resolve(path.dirname(file), entry));
}

/** Throws the `_delete_`-is-not-a-boolean error for `file`. */
function badDelete(file: string, chain: readonly string[]) {
  return (at: string, value: unknown): never => {
    const key = at === '(root)' ? DELETE_KEY : `${at}.${DELETE_KEY}`;
    throw new ConfigMergeError(
      'CONFIG_INVALID_DELETE',
      `Invalid ${key} in ${displayPath(file)}: expected true or false, received ${describeValue(value)}.${chainSuffix(chain)}`,
      { file, chain, key },
    );
  };
}

/**
 * Merges a file's content over its bases (already resolved). `_base_` has been removed from
 * `content`. Used for files and for `Config.fromString`.
 */
export async function resolveBases(
  content: Record<string, unknown>,
  bases: readonly string[],
  file: string,
  chain: readonly string[],
): Promise<ResolvedConfig> {
  const files: string[] = [];
  let combined: ConfigObject = {};
  const owner = new Map<string, string>();
  for (const base of bases) {
    const resolved = await resolveFile(base, [...chain, base]);
    files.push(...resolved.files);
    for (const key of Object.keys(resolved.data)) {
      const first = owner.get(key);
      if (first !== undefined) {
        throw new ConfigMergeError(
          'CONFIG_DUPLICATE_BASE_KEY',
          `Duplicate key '${key}' among the ${BASE_KEY} files of ${displayPath(file)}: it is defined by both ${displayPath(first)} and ${displayPath(base)}. Sibling bases must not share top-level keys; move '${key}' into one of them, or set it in ${displayPath(file)} itself.${chainSuffix(chain)}`,
          { file, chain, key, files: [first, base] },
        );
      }
      owner.set(key, base);
    }
    combined = { ...combined, ...resolved.data };
  }
  const data = mergeInto(combined, content as ConfigObject, badDelete(file, chain)) as ConfigObject;
  return { data, files };
}

/**
 * Resolves parsed config content that belongs to `file` (absolute; it need not exist when the
 * content came from a string): substitutes the predefined variables when `variables` is
 * given, checks the content, then loads its `_base_` files and merges the content over them.
 */
export async function resolveContent(
  raw: unknown,
  file: string,
  chain: readonly string[],
  variables: PredefinedVariables | undefined,
): Promise<ResolvedConfig> {
  const substituted = variables === undefined ? raw : substituteVariables(raw, variables);
  const content = toConfigObject(substituted, file, chain);
  const bases = Object.hasOwn(content, BASE_KEY) ? basePaths(content[BASE_KEY], file, chain) : [];
  delete content[BASE_KEY];
  if (bases.length === 0) {
    return {
      data: stripDelete(content as ConfigObject, badDelete(file, chain)) as ConfigObject,
      files: [],
    };
  }
  return resolveBases(content, bases, file, chain);
}

/** A config file with its `_base_` files resolved, and its own text. */
export interface ResolvedFile extends ResolvedConfig {
  /** The text of the file itself (not of its bases). */
  readonly text: string;
}

/**
 * Loads the config file at `file` (absolute) and, recursively, its `_base_` files. `chain`
 * is the list of files that led here, outermost first, ending with `file`.
 */
export async function resolveFile(file: string, chain: readonly string[]): Promise<ResolvedFile> {
  const seen = chain.indexOf(file);
  if (seen !== chain.length - 1) {
    const cycle = chain.slice(seen);
    throw new ConfigMergeError(
      'CONFIG_BASE_CYCLE',
      `Cycle in ${BASE_KEY} files: ${formatChain(cycle)}. A config cannot inherit from itself; remove one of these ${BASE_KEY} entries.${seen > 0 ? chainSuffix(chain) : ''}`,
      { file, chain, files: cycle },
    );
  }
  const raw = await readConfigFile(file, chain);
  const resolved = await resolveContent(raw.content, file, chain, predefinedVariables(file));
  return { data: resolved.data, files: [file, ...resolved.files], text: raw.text };
}
