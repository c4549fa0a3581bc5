import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveContent, resolveFile } from './base.js';
import {
  type ConfigObject,
  type ConfigValue,
  cloneData,
  copyData,
  deepFreeze,
  describeKind,
  isPlainObject,
  spellingTwin,
} from './data.js';
import { type DumpOptions, dumpData } from './dump.js';
import { ConfigDataError, ConfigKeyError } from './errors.js';
import { normaliseFormat, parseJson, parseYaml, readConfigFile } from './load.js';
import { mergeInto } from './merge.js';
import { type ConfigPath, lookup, parsePath, updateAt } from './path.js';
import { predefinedVariables } from './variables.js';

/** Where a {@link Config} came from. */
export interface ConfigOptions {
  /** The file the data was read from, as the user gave it. Defaults to `undefined`. */
  readonly filename?: string;
  /** The text of that file. Defaults to `undefined`. */
  readonly text?: string;
  /** Absolute paths of every file read (the file, then its `_base_` files). Defaults to `[]`. */
  readonly files?: readonly string[];
}

/** Options of {@link Config.fromString}. */
export interface FromStringOptions {
  /**
   * A path to treat the text as coming from (it need not exist): `_base_` paths are resolved
   * against its directory, `{{ fileDirname }}`-style variables are computed from it, and it
   * becomes `cfg.filename`. Defaults to `undefined`: `_base_` paths are resolved against the
   * working directory and variables are left as they are.
   */
  readonly filename?: string;
}

/** Options of {@link Config.mergeFromDict}. */
export interface MergeFromDictOptions {
  /**
   * Whether a key path may name a key that does not exist yet (missing objects on the way are
   * created). Set it to `false` to reject typos in overrides. List indices must always exist.
   * Defaults to `true`.
   */
  readonly allowNewKeys?: boolean;
}

/** `number` for `0`, `string` for `'a'`: what `cfg.get(path, default)` returns. */
export type WidenLiteral<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T;

interface ConfigState {
  data: ConfigObject;
  readonly filename: string | undefined;
  readonly text: string | undefined;
  readonly files: readonly string[];
}

const STATE = Symbol('@gorilla-ts/config.state');

/** A frozen copy of `value`, checked to be JSON data; errors name `where`. */
function freezeValue(value: unknown, where: string): ConfigValue {
  const copy = cloneData(value, ({ path: at, found }) => {
    const key = at === '(root)' ? where : where === '' ? at : `${where}.${at}`;
    throw new ConfigDataError(
      `Config value${key === '' ? '' : ` at '${key}'`} must be JSON data (null, boolean, number, string, list or plain object), received ${found}.`,
      key,
    );
  });
  return deepFreeze(copy);
}

function readOnly(property: string | symbol): never {
  const name = String(property);
  throw new ConfigKeyError(
    'CONFIG_READ_ONLY',
    `Cannot assign cfg.${name}: Config properties are read-only. Use cfg.set('${name}', value) to change a value, or cfg.mergeFromDict({ '${name}': value }) for a changed copy.`,
    { path: name },
  );
}

const handler: ProxyHandler<Config> = {
  get(target, property) {
    if (typeof property === 'symbol' || property in target) {
      return Reflect.get(target, property, target);
    }
    const data = target[STATE].data;
    return Object.hasOwn(data, property) ? data[property] : undefined;
  },
  has(target, property) {
    if (typeof property === 'symbol') return Reflect.has(target, property);
    return Object.hasOwn(target[STATE].data, property);
  },
  ownKeys(target) {
    return Object.keys(target[STATE].data);
  },
  getOwnPropertyDescriptor(target, property) {
    if (typeof property === 'symbol') return Reflect.getOwnPropertyDescriptor(target, property);
    const data = target[STATE].data;
    if (!Object.hasOwn(data, property)) return undefined;
    return { value: data[property], writable: false, enumerable: true, configurable: true };
  },
  set: (_target, property) => readOnly(property),
  deleteProperty: (_target, property) => readOnly(property),
  defineProperty: (_target, property) => readOnly(property),
};

/**
 * A config: plain JSON data (objects, lists, strings, numbers, booleans, null) read from a
 * YAML, JSON, JS or TS file with its `_base_` files merged in.
 *
 * - **Reading.** `cfg.get('model.layers.0.units')` (throws {@link ConfigKeyError} for a missing
 *   key unless a default is given), or property access: `cfg.model.layers[0].units`. A missing
 *   property reads as `undefined`. Keys that are also member names of `Config` or `Object`
 *   (`get`, `set`, `keys`, `filename`, `text`, `dump`, `toString`, `constructor`, ...) give the
 *   member; read them with `cfg.get('keys')`. `'model' in cfg` tests a top-level key;
 *   `cfg.keys()` and `Object.keys(cfg)` list them.
 * - **Immutability.** Values read from a config are deeply frozen, so code that receives
 *   `cfg.model` cannot change the config behind the caller's back (assigning throws a
 *   `TypeError`). `cfg.toObject()` gives a mutable deep copy. Assigning a property of the
 *   config itself (`cfg.lr = 1`) throws a {@link ConfigKeyError}.
 * - **Changing.** {@link Config.set} is the one method that changes a config in place.
 *   {@link Config.mergeFromDict} and `mergeCfgAndArgs` return a new config and leave the
 *   original untouched.
 */
export class Config {
  /** Top-level config values, read through a proxy (see the class comment). */
  // biome-ignore lint/suspicious/noExplicitAny: config data is only typed after validateConfig()
  readonly [key: string]: any;

  /** @internal */
  readonly [STATE]: ConfigState;

  /**
   * Wraps `data` (copied, checked to be JSON data, and frozen). Throws
   * {@link ConfigDataError} when `data` is not a plain object or holds something other than
   * JSON data; `undefined` object values are dropped.
   */
  constructor(data: Record<string, unknown> = {}, options: ConfigOptions = {}) {
    if (!isPlainObject(data)) {
      throw new ConfigDataError(
        `Config data must be a plain object of JSON values, received ${describeKind(data)}.`,
        '',
      );
    }
    this[STATE] = {
      data: freezeValue(data, '') as ConfigObject,
      filename: options.filename,
      text: options.text,
      files: Object.freeze([...(options.files ?? [])]),
    };
    // biome-ignore lint/correctness/noConstructorReturn: property access needs the proxy
    return new Proxy(this, handler);
  }

  /**
   * Loads a config file and, recursively, its `_base_` files.
   *
   * Formats, by extension: `.yaml`/`.yml` (YAML 1.2), `.json`, `.js`/`.mjs`/`.cjs` (a module
   * whose default export is the config object), `.ts`/`.mts`/`.cts` (the same, loaded with
   * jiti). Modules are evaluated afresh on every call.
   *
   * @param file - Path to the file, relative to the working directory or absolute. It is
   *   kept as given in `cfg.filename`.
   * @throws {@link ConfigFileError} for a missing file, an unsupported extension or a syntax
   *   error (with line and column); {@link ConfigMergeError} for `_base_` problems (duplicate
   *   keys among sibling bases, cycles). Both carry the `_base_` chain.
   */
  static async fromFile(file: string): Promise<Config> {
    const absolute = path.resolve(file);
    const resolved = await resolveFile(absolute, [absolute]);
    return new Config(resolved.data, {
      filename: file,
      text: resolved.text,
      files: resolved.files,
    });
  }

  /**
   * Parses config text, as {@link Config.fromFile} would parse a file of that format.
   *
   * @param text - The config source.
   * @param format - `yaml`/`yml`, `json`, `js`/`mjs`, or `ts` (a leading dot is allowed). JS
   *   and TS source is written to a temporary file to be evaluated, so it cannot import
   *   modules by relative path.
   * @param options - See {@link FromStringOptions}.
   */
  static async fromString(
    text: string,
    format: string,
    options: FromStringOptions = {},
  ): Promise<Config> {
    const file = path.resolve(options.filename ?? '<string>');
    const kind = normaliseFormat(format, file);
    let content: unknown;
    if (kind === 'yaml') content = parseYaml(text, file);
    else if (kind === 'json') content = parseJson(text, file);
    else {
      const directory = await mkdtemp(path.join(os.tmpdir(), 'gorilla-config-'));
      try {
        const extension = format.toLowerCase().replace(/^\./, '');
        const temporary = path.join(directory, `config.${extension}`);
        await writeFile(temporary, text);
        content = (await readConfigFile(temporary)).content;
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    }
    const variables = options.filename === undefined ? undefined : predefinedVariables(file);
    const resolved = await resolveContent(content, file, [file], variables);
    return new Config(resolved.data, {
      filename: options.filename,
      text,
      files: options.filename === undefined ? resolved.files : [file, ...resolved.files],
    });
  }

  /** The file the config was loaded from, as given to `fromFile`; `undefined` otherwise. */
  get filename(): string | undefined {
    return this[STATE].filename;
  }

  /** The text of the config file itself (not its bases), or of the `fromString` source. */
  get text(): string | undefined {
    return this[STATE].text;
  }

  /** Absolute paths of every file read: the config file first, then its `_base_` files. */
  get files(): readonly string[] {
    return this[STATE].files;
  }

  /**
   * The value at `path` (deeply frozen). Without a default, a missing key or an index out of
   * range throws {@link ConfigKeyError} naming the key, the keys that exist and the closest.
   * The type parameter is not checked at run time; use `validateConfig` for checked types.
   *
   * @example cfg.get('optimizer.lr'); cfg.get('seed', 0); cfg.get<number[]>('layers')
   */
  get<T = unknown>(path: ConfigPath): T;
  /** The value at `path`, or `defaultValue` when there is nothing there. */
  get<T>(path: ConfigPath, defaultValue: T): WidenLiteral<T>;
  get(path: ConfigPath, ...rest: [unknown?]): unknown {
    const found = lookup(this[STATE].data, parsePath(path));
    if (found.found) return found.value;
    if (rest.length > 0) return rest[0];
    throw found.error;
  }

  /** Whether `path` leads to a value (`null` counts as a value). */
  has(path: ConfigPath): boolean {
    return lookup(this[STATE].data, parsePath(path)).found;
  }

  /**
   * Sets the value at `path` in place (the one method that changes a config) and returns the
   * config. Missing object keys on the way are created; a list index must exist. The value is
   * copied and must be JSON data (else {@link ConfigDataError}).
   *
   * @throws {@link ConfigKeyError} for an index out of range or a path through a scalar.
   */
  set(path: ConfigPath, value: unknown): this {
    const segments = parsePath(path);
    const frozen = freezeValue(value, segments.join('.'));
    const state = this[STATE];
    state.data = deepFreeze(updateAt(state.data, segments, () => frozen) as ConfigObject);
    return this;
  }

  /** The top-level keys, in file order. */
  keys(): string[] {
    return Object.keys(this[STATE].data);
  }

  /** The top-level `[key, value]` pairs, in file order (values deeply frozen). */
  entries(): [string, ConfigValue][] {
    return Object.entries(this[STATE].data);
  }

  /** A mutable deep copy of the data: plain JSON values only. */
  toObject(): ConfigObject {
    return copyData(this[STATE].data);
  }

  /** The data, for `JSON.stringify(cfg)`. */
  toJSON(): ConfigObject {
    return this.toObject();
  }

  /**
   * A new config with dotted keys merged in; this config is not changed.
   *
   * `{ 'model.depth': 50, 'data.augment.0.p': 0.5 }`: each key is a {@link ConfigPath}
   * (digit segments index lists). An object value merges into an object already there
   * (`_delete_: true` replaces it instead); other values replace. `undefined` values are
   * skipped; `null` is a value.
   *
   * @throws {@link ConfigKeyError} for a list index out of range (naming the key and the list
   *   length), an index into a list that does not exist, a path through a scalar, or (with
   *   `allowNewKeys: false`) a key that does not exist.
   */
  mergeFromDict(options: Record<string, unknown>, mergeOptions: MergeFromDictOptions = {}): Config {
    return mergeEntries(this, Object.entries(options), mergeOptions);
  }

  /**
   * Serialises the config as YAML (default) or JSON; the text reloads to an equal config.
   * With a file, writes it there (creating missing directories) in the format of its
   * extension (`.yaml`, `.yml`, `.json`), unless `options.format` says otherwise.
   *
   * @returns The text written.
   * @throws {@link ConfigFileError} for an unsupported extension or a failed write.
   */
  dump(file?: string, options: DumpOptions = {}): string {
    return dumpData(this.toObject(), file, options);
  }

  /** `Config (path: <filename>)` followed by the data as YAML. */
  toString(): string {
    return `Config (path: ${this[STATE].filename ?? '<none>'})\n${this.dump()}`;
  }

  /** Shown by `console.log(cfg)` and `util.inspect(cfg)`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * `segments` with each key that the config holds in the other spelling (`weightDecay` for
 * `weight_decay`) replaced by the config's spelling, so that an override replaces the value.
 */
function matchSpelling(
  data: ConfigValue,
  segments: readonly (string | number)[],
): (string | number)[] {
  const result: (string | number)[] = [];
  let node: unknown = data;
  for (const segment of segments) {
    let key = segment;
    if (typeof segment === 'string' && isPlainObject(node)) {
      key = spellingTwin(node, segment) ?? segment;
    }
    result.push(key);
    node =
      node !== null && typeof node === 'object'
        ? (node as Record<string | number, unknown>)[key]
        : undefined;
  }
  return result;
}

/**
 * A new config: `config` with `entries` (dotted key, value) merged in order, as
 * {@link Config.mergeFromDict} does.
 */
export function mergeEntries(
  config: Config,
  entries: Iterable<readonly [string, unknown]>,
  options: MergeFromDictOptions = {},
): Config {
  let data: ConfigValue = config.toObject();
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    const segments = matchSpelling(data, parsePath(key));
    const frozen = freezeValue(value, segments.join('.'));
    data = updateAt(data, segments, (old) => mergeInto(old, frozen), {
      createMissing: options.allowNewKeys ?? true,
    });
  }
  return new Config(data as ConfigObject, {
    filename: config.filename,
    text: config.text,
    files: config.files,
  });
}
