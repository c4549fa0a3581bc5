import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { parseDocument } from 'yaml';
import { type Config, mergeEntries } from './config.js';
import { type ConfigValue, cloneData } from './data.js';
import { ConfigArgumentError, isConfigError } from './errors.js';
import { parsePath } from './path.js';

/** Options of {@link defaultArgumentParser}. */
export interface DefaultArgumentParserOptions {
  /** Program name shown in the help. Defaults to the script's file name (commander's default). */
  readonly name?: string;
  /** Description shown in the help. Defaults to `'gorilla-ts training'`. */
  readonly description?: string;
  /** Value of `--config` when it is not passed. Defaults to none (`config` is `undefined`). */
  readonly defaultConfig?: string;
  /**
   * Standard options this command does not take, by attribute name (an evaluation command
   * leaves out `resume` and `evalOnly`): they are not parsed and not listed in `--help`.
   * Defaults to none.
   */
  readonly omit?: readonly (keyof DefaultArgs)[];
}

/** The option values of {@link defaultArgumentParser}, by commander attribute name. */
export interface DefaultArgs {
  /** `--config <path>`: the config file. */
  readonly config?: string;
  /** `--resume`: resume from the latest checkpoint. */
  readonly resume: boolean;
  /** `--eval-only`: evaluate, do not train. */
  readonly evalOnly: boolean;
  /** `--num-gpus <n>`: worker processes (devices) per machine. */
  readonly numGpus: number;
  /** `--num-machines <n>`: machines taking part. */
  readonly numMachines: number;
  /** `--machine-rank <n>`: this machine's rank, from 0. */
  readonly machineRank: number;
  /** `--dist-url <url>`: rendezvous address; `auto` picks a free local port. */
  readonly distUrl: string;
  /**
   * `--oversubscribe`: start more processes per machine than it has devices (GPUs, or CPU cores
   * without GPUs), which `launch()` otherwise refuses. `undefined` unless passed.
   */
  readonly oversubscribe?: boolean;
  /** `--backend <name>`: the tfjs backend to use. */
  readonly backend?: string;
  /** `--seed <n>`: random seed. */
  readonly seed?: number;
}

/** One `key=value` override from the command line. */
export interface Override {
  /** The dotted key path (`optimizer.lr`). */
  readonly key: string;
  /** The value, parsed as YAML (`1e-3` → 0.001, `true` → true, `[1,2]` → [1, 2]). */
  readonly value: ConfigValue;
  /** The argument as typed. */
  readonly text: string;
}

/** What {@link parseArgs} returns. */
export interface ParsedArgs<T extends object = DefaultArgs> {
  /** Every option's value (passed or default), by commander attribute name (`numGpus`). */
  readonly options: T;
  /** The trailing `key=value` overrides, in command-line order. */
  readonly overrides: readonly Override[];
  /**
   * Attribute names of the options the user actually set: on the command line, or through an
   * environment variable or `implies` (commander's value source is anything but `default`).
   */
  readonly explicit: ReadonlySet<string>;
}

/** Options of {@link parseArgs}. */
export interface ParseArgsOptions {
  /**
   * `true`: a usage error prints commander's message and exits with code 1, like any commander
   * program (`--help` and `--version` exit with 0). `false`: it throws
   * {@link ConfigArgumentError} instead and prints nothing (the parser is switched to
   * commander's `exitOverride()` mode). Defaults to `true`.
   */
  readonly exitOnError?: boolean;
}

/** Options of {@link mergeCfgAndArgs}. */
export interface MergeCfgAndArgsOptions {
  /**
   * Config key path for an option (by attribute name), or `false` to keep the option out of
   * the config. Options not listed go to the top-level key of the same name (`numGpus`).
   * `config` maps to `false` unless listed here. Defaults to `{}`.
   */
  readonly keys?: Readonly<Record<string, string | false>>;
  /**
   * Whether options the user did not pass fill config keys that do not exist, so that
   * `cfg.numGpus` is always set (precedence: passed option > config file > option default).
   * Defaults to `true`.
   */
  readonly fillDefaults?: boolean;
}

/** An option argument parser for integers `>= min`; commander names the option on failure. */
function integer(min: number | undefined) {
  return (value: string): number => {
    const number = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number) || (min !== undefined && number < min)) {
      const range = min === undefined ? '' : ` >= ${min}`;
      throw new InvalidArgumentError(`Expected an integer${range}.`);
    }
    return number;
  };
}

/** Parses one `key=value` argument; throws commander's InvalidArgumentError when malformed. */
function parseOverride(text: string): Override {
  const equals = text.indexOf('=');
  if (equals <= 0) {
    throw new InvalidArgumentError(
      "Expected key=value, e.g. optimizer.lr=0.01 (options start with '--'; see --help).",
    );
  }
  const key = text.slice(0, equals);
  try {
    parsePath(key);
  } catch (error) {
    if (isConfigError(error)) throw new InvalidArgumentError(error.message);
    throw error;
  }
  const source = text.slice(equals + 1);
  const document = parseDocument(source, { prettyErrors: false });
  const problem = document.errors[0];
  if (problem !== undefined) {
    throw new InvalidArgumentError(
      `The value of '${key}' is not valid YAML (${problem.message}). To pass it as text, quote it for YAML inside the shell quotes: "${key}='${source}'".`,
    );
  }
  const value = cloneData(document.toJS(), () => {
    throw new InvalidArgumentError(`The value of '${key}' is not plain data.`);
  });
  return { key, value, text };
}

function collectOverride(text: string, previous: Override[] | undefined): Override[] {
  return [...(previous ?? []), parseOverride(text)];
}

/**
 * The standard command line of a gorilla-ts training script, as a commander `Command`.
 *
 * | option | attribute / config key | default |
 * |---|---|---|
 * | `--config <path>` | `config` (not copied into the config) | `options.defaultConfig` |
 * | `--resume` | `resume` | `false` |
 * | `--eval-only` | `evalOnly` | `false` |
 * | `--num-gpus <n>` | `numGpus` | `1` |
 * | `--num-machines <n>` | `numMachines` | `1` |
 * | `--machine-rank <n>` | `machineRank` | `0` |
 * | `--dist-url <url>` | `distUrl` | `'auto'` |
 * | `--oversubscribe` | `oversubscribe` | none (`launch()`'s `oversubscribe` option) |
 * | `--backend <name>` | `backend` | none |
 * | `--seed <n>` | `seed` | none |
 * | `[overrides...]` | `key=value` pairs, values parsed as YAML | none |
 *
 * Add your own options to the returned command with `.option(...)` / `.addOption(...)`
 * before calling {@link parseArgs}; they are merged by {@link mergeCfgAndArgs} like these.
 *
 * @example
 * const parser = defaultArgumentParser().option('--lr <x>', 'learning rate', Number);
 * const args = parseArgs(parser);
 * const cfg = mergeCfgAndArgs(await Config.fromFile(args.options.config ?? 'config.yaml'), args);
 */
export function defaultArgumentParser(options: DefaultArgumentParserOptions = {}): Command {
  const command = new Command(options.name);
  command.description(options.description ?? 'gorilla-ts training');
  const config = new Option('--config <path>', 'config file (.yaml, .yml, .json, .js, .mjs, .ts)');
  if (options.defaultConfig !== undefined) config.default(options.defaultConfig);
  const omitted = new Set<string>(options.omit ?? []);
  const standard = [
    config,
    new Option('--resume', 'resume from the latest checkpoint').default(false),
    new Option('--eval-only', 'only evaluate the model').default(false),
    new Option('--num-gpus <n>', 'number of worker processes (devices) per machine')
      .argParser(integer(1))
      .default(1),
    new Option('--num-machines <n>', 'number of machines').argParser(integer(1)).default(1),
    new Option('--machine-rank <n>', 'rank of this machine, from 0')
      .argParser(integer(0))
      .default(0),
    new Option(
      '--dist-url <url>',
      "rendezvous URL of the process group ('auto': a free local port)",
    ).default('auto'),
    new Option(
      '--oversubscribe',
      'allow more processes per machine than devices (GPUs, or CPU cores without GPUs)',
    ),
    new Option('--backend <name>', 'tfjs backend (e.g. tensorflow, wasm, cpu)'),
    new Option('--seed <n>', 'random seed').argParser(integer(undefined)),
  ];
  for (const option of standard) {
    if (!omitted.has(option.attributeName())) command.addOption(option);
  }
  return command.addArgument(
    new Argument(
      '[overrides...]',
      "config overrides as key=value, values parsed as YAML (e.g. optimizer.lr=1e-3 'model.layers=[64,128]')",
    ).argParser(collectOverride),
  );
}

/**
 * Parses command-line arguments with `parser` (usually from {@link defaultArgumentParser}).
 *
 * @param parser - A commander command; its `[overrides...]` argument, if any, gives
 *   {@link ParsedArgs.overrides}.
 * @param argv - The user's arguments, without the node and script paths. Defaults to
 *   `process.argv.slice(2)`.
 * @param options - See {@link ParseArgsOptions}.
 * @typeParam T - The option values' type (not checked): {@link DefaultArgs} plus your own.
 */
export function parseArgs<T extends object = DefaultArgs>(
  parser: Command,
  argv: readonly string[] = process.argv.slice(2),
  options: ParseArgsOptions = {},
): ParsedArgs<T> {
  if (options.exitOnError === false) {
    parser.exitOverride();
    const saved = parser.configureOutput();
    parser.configureOutput({ writeErr: () => {}, outputError: () => {} });
    try {
      parser.parse([...argv], { from: 'user' });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('commander.')) {
        const { message, exitCode } = error as { message: string; exitCode?: number };
        throw new ConfigArgumentError(message.replace(/^error: /, ''), code, exitCode ?? 1, error);
      }
      throw error;
    } finally {
      parser.configureOutput(saved);
    }
  } else {
    parser.parse([...argv], { from: 'user' });
  }
  const explicit = new Set<string>();
  for (const option of parser.options) {
    const name = option.attributeName();
    const source = parser.getOptionValueSource(name);
    if (source !== undefined && source !== 'default') explicit.add(name);
  }
  const last = parser.registeredArguments.at(-1);
  const overrides =
    last?.name() === 'overrides' && last.variadic
      ? ((parser.processedArgs.at(-1) as Override[] | undefined) ?? [])
      : [];
  return { options: parser.opts<T>(), overrides, explicit };
}

/**
 * A new config: `cfg` with the command line merged in; `cfg` is not changed.
 *
 * 1. Options the user actually passed ({@link ParsedArgs.explicit}) set their config key
 *    (the attribute name, e.g. `--num-gpus 2` → `numGpus: 2`, or `options.keys`), over the
 *    file. Options left at their default never override the file.
 * 2. With `fillDefaults` (the default), options not passed fill keys the config lacks.
 * 3. The `key=value` overrides are applied in order, as {@link Config.mergeFromDict} does
 *    (an object value merges into an object; a list index must exist).
 *
 * `--config` is not copied into the config unless `options.keys.config` names a key.
 */
export function mergeCfgAndArgs(
  cfg: Config,
  args: ParsedArgs<object>,
  options: MergeCfgAndArgsOptions = {},
): Config {
  const keys: Readonly<Record<string, string | false>> = { config: false, ...options.keys };
  const fillDefaults = options.fillDefaults ?? true;
  const entries: [string, unknown][] = [];
  for (const [name, value] of Object.entries(args.options)) {
    const key = Object.hasOwn(keys, name) ? keys[name] : name;
    if (key === false || key === undefined || value === undefined) continue;
    if (args.explicit.has(name) || (fillDefaults && !cfg.has(key))) entries.push([key, value]);
  }
  for (const override of args.overrides) entries.push([override.key, override.value]);
  return mergeEntries(cfg, entries);
}
