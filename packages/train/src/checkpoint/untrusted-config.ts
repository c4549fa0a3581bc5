import { CheckpointError } from '../errors.js';
import type { JsonValue } from '../optim/optimizer.js';

/**
 * Config keys whose value names code to import or run: data-loader worker modules
 * (`worker_module`), mmengine-style `custom_imports`, and `_base_` (a `.js`/`.ts` base file runs
 * when loaded). Any key ending in `_module` / `Module` counts too, so that a new code-valued option
 * is covered without changing this list.
 */
const CODE_KEY = /^(?:_base_|custom_imports|customImports|imports?|.*_module|.*Module|module)$/;

/** String values that are code themselves, whatever their key (a `data:` module, a script URL). */
const CODE_VALUE = /^\s*(?:data|javascript|blob|vbscript):/i;

/** One place in a config that would run code: its dotted key and its value (shortened). */
export interface CodeInConfig {
  /** Dotted path of the key, e.g. `dataloader.worker_module`. */
  key: string;
  /** The value, as JSON, cut to 80 characters. */
  value: string;
}

/**
 * Finds every key of `config` that would make the program import or run code: keys naming a
 * module (`worker_module`, `custom_imports`, any `*_module`/`*Module`, `_base_`) and string values
 * that are code URLs (`data:`, `javascript:`, `blob:`). Arrays are searched too (`a.0.b`).
 */
export function findCodeInConfig(config: unknown): CodeInConfig[] {
  const found: CodeInConfig[] = [];
  const show = (value: unknown) => {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  };
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string') {
      if (CODE_VALUE.test(value)) found.push({ key: path || '(config)', value: show(value) });
      return;
    }
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries())
        walk(item, path ? `${path}.${index}` : String(index));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, item] of Object.entries(value)) {
      const child = path ? `${path}.${key}` : key;
      if (CODE_KEY.test(key) && item !== undefined && item !== null)
        found.push({ key: child, value: show(item) });
      else walk(item, child);
    }
  };
  walk(config, '');
  return found;
}

/**
 * Checks a config read out of a checkpoint (or any other downloaded file) before it is used to
 * rebuild a run: such a config is data only. Every key that would import or run code (see
 * {@link findCodeInConfig}) is refused, all listed in one error, rather than silently dropped: a
 * dropped `worker_module` would change how the run loads data, so the user decides by passing a
 * config file they trust instead.
 *
 * @param config - the parsed `config` metadata of the checkpoint.
 * @param filename - the checkpoint, named in the error.
 * @returns `config` unchanged, typed as a config object.
 * @throws {@link CheckpointError} `CHECKPOINT_UNSAFE_CONFIG` when a key names code, or
 *   `CHECKPOINT_INVALID` when the config is not an object.
 *
 * @example
 * ```ts
 * const { config } = await loadCheckpoint(model, 'epoch_latest.safetensors');
 * const cfg = new Config(checkCheckpointConfig(config, 'epoch_latest.safetensors'));
 * ```
 */
export function checkCheckpointConfig(
  config: JsonValue | undefined,
  filename: string,
): Record<string, JsonValue> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new CheckpointError(
      'CHECKPOINT_INVALID',
      filename,
      `Checkpoint '${filename}': its stored config is not an object (got ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}).`,
    );
  }
  const found = findCodeInConfig(config);
  if (found.length > 0) {
    throw new CheckpointError(
      'CHECKPOINT_UNSAFE_CONFIG',
      filename,
      `Checkpoint '${filename}' stores a config that names code to run:\n` +
        found.map(({ key, value }) => `  - ${key}: ${value}\n`).join('') +
        'A checkpoint is data and never runs code, so this config is not used. ' +
        'Pass --config <a config file you trust> to say how to build the model and data.',
    );
  }
  return config;
}
