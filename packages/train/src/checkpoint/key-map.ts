import { CheckpointError } from '../errors.js';

/**
 * How the names in a file become the model's names when loading (PyTorch checkpoints often
 * differ by a wrapper prefix). Applied in order: `stripPrefix`, then `rename`.
 */
export interface KeyMapOptions {
  /**
   * Prefixes removed from the names that start with them, e.g. `'module.'` for a
   * `DistributedDataParallel` / `DataParallel` state dict. Several are tried in order; the first
   * that matches is removed.
   */
  stripPrefix?: string | readonly string[];
  /**
   * Renames after stripping: `{ 'fc.weight': 'last_linear_layer.weight' }` renames one name; a key
   * ending in `.` renames a prefix (`{ 'backbone.': 'feature_extractor.' }`).
   */
  rename?: Readonly<Record<string, string>>;
}

/**
 * Maps the names of a file to the model's names (see {@link KeyMapOptions}).
 *
 * @returns the tensors under their new names.
 * @throws {@link CheckpointError} `CHECKPOINT_MISMATCH` when two names map to the same one.
 */
export function mapKeys<T>(
  filename: string,
  tensors: ReadonlyMap<string, T>,
  options: KeyMapOptions,
): Map<string, T> {
  const prefixes =
    options.stripPrefix === undefined
      ? []
      : typeof options.stripPrefix === 'string'
        ? [options.stripPrefix]
        : options.stripPrefix;
  const renames = Object.entries(options.rename ?? {});
  const result = new Map<string, T>();
  const from = new Map<string, string>();
  const clashes: string[] = [];
  for (const [original, value] of tensors) {
    let name = original;
    const prefix = prefixes.find((candidate) => name.startsWith(candidate));
    if (prefix !== undefined) name = name.slice(prefix.length);
    for (const [old, replacement] of renames) {
      if (old.endsWith('.') ? name.startsWith(old) : name === old) {
        name = replacement + name.slice(old.length);
        break;
      }
    }
    const earlier = from.get(name);
    if (earlier !== undefined) clashes.push(`'${earlier}' and '${original}' both become '${name}'`);
    from.set(name, original);
    result.set(name, value);
  }
  if (clashes.length > 0) {
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      filename,
      `Cannot load checkpoint '${filename}': the key mapping is ambiguous:\n  - ${clashes.join('\n  - ')}`,
    );
  }
  return result;
}

/**
 * A hint for a name mismatch that a key mapping would fix: a `module.` prefix on every name in the
 * file (a `DistributedDataParallel` state dict), or one name prefix that differs throughout.
 * @internal
 */
export function keyMapHint(missing: readonly string[], unexpected: readonly string[]): string {
  if (unexpected.length === 0) return '';
  for (const prefix of ['module.', 'model.', '_orig_mod.']) {
    const stripped = new Set(
      unexpected.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)),
    );
    if (stripped.size > 0 && missing.some((name) => stripped.has(name))) {
      return `\nThe file's names start with '${prefix}' (a wrapped model): load with { stripPrefix: '${prefix}' }.`;
    }
  }
  return '';
}
