import { ConfigArgumentError, ConfigError, type ParsedArgs, parseArgs } from '@gorilla-ts/config';
import { DistError, getRank, getWorldSize, WorkerFailedError } from '@gorilla-ts/dist';
import { PointNetError } from '@gorilla-ts/models-pointnet';
import { RegistryError } from '@gorilla-ts/registry';
import { TrainError } from '@gorilla-ts/train';
import type { Command } from 'commander';
import { DataError } from './datasets/index.js';
import { DownloadError } from './download/index.js';

const APP_ERROR_BRAND = Symbol.for('modelnet-demo.app.error');

/**
 * Stable codes of {@link AppError}.
 *
 * - `APP_DATA_MISMATCH`: the model does not fit the data (classes or channels differ).
 * - `APP_NO_CHECKPOINT`: the `test` command found no checkpoint to evaluate.
 * - `APP_INVALID_ARGUMENT`: a command-line argument the app itself checks is wrong.
 */
export type AppErrorCode = 'APP_DATA_MISMATCH' | 'APP_NO_CHECKPOINT' | 'APP_INVALID_ARGUMENT';

/** A user error found by the app's own commands (the packages throw their own). */
export class AppError extends Error {
  /** A stable code, safe to branch on. */
  readonly code: AppErrorCode;

  constructor(code: AppErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    Object.defineProperty(this, APP_ERROR_BRAND, { value: true });
  }

  /** True for any {@link AppError}, whichever copy of this module created it. */
  static isInstance(error: unknown): error is AppError {
    return typeof error === 'object' && error !== null && APP_ERROR_BRAND in error;
  }
}

/** The exit code of a user error (bad config, missing data, bad checkpoint); bugs exit with 1. */
export const USER_ERROR_EXIT_CODE = 2;

/**
 * Whether `error` is the user's to fix (a bad config, missing data, a bad checkpoint, an
 * unavailable backend, no network): the base error of each package, checked with `isInstance`
 * so that duplicate installs are recognised too. Anything else is a bug and keeps its stack.
 */
export function isUserError(error: unknown): error is Error {
  return (
    ConfigError.isInstance(error) ||
    RegistryError.isInstance(error) ||
    TrainError.isInstance(error) ||
    (DistError.isInstance(error) && !WorkerFailedError.isInstance(error)) ||
    PointNetError.isInstance(error) ||
    DataError.isInstance(error) ||
    DownloadError.isInstance(error) ||
    AppError.isInstance(error)
  );
}

/** `error: <message>` on stderr; with `GORILLA_DEBUG=1` the stack too. */
export function printUserError(error: Error): void {
  const text = process.env.GORILLA_DEBUG ? (error.stack ?? error.message) : error.message;
  process.stderr.write(`error: ${text}\n`);
}

function flushStderr(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    process.stderr.write('', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Wraps the `main` a command hands to `launch()`. With several processes, a user error in a
 * worker is printed once, as one message without a stack, and the worker exits with
 * {@link USER_ERROR_EXIT_CODE} (the launcher then exits quietly with that code, see
 * {@link runCommand}). Ranks other than 0 wait a moment first, so that when every rank hits the
 * same error (a bad config), rank 0 reports it and the launcher stops the others before they
 * print it again. With one process errors go up to {@link runCommand} unchanged; bugs always do.
 */
export function reportUserErrors<A>(main: (args: A) => Promise<void>): (args: A) => Promise<void> {
  return async (args) => {
    try {
      await main(args);
    } catch (error) {
      if (getWorldSize() === 1 || !isUserError(error)) throw error;
      if (getRank() !== 0) await new Promise((resolve) => setTimeout(resolve, 1000));
      printUserError(error);
      await flushStderr();
      process.exit(USER_ERROR_EXIT_CODE);
    }
  };
}

/**
 * Runs a command and turns its failure into an exit code: user errors print one `error:`
 * message (no stack) and exit with {@link USER_ERROR_EXIT_CODE}; a failed worker whose error
 * was already printed exits quietly with its code; bugs are rethrown, so Node prints their stack.
 */
export async function runCommand(command: () => Promise<void>): Promise<void> {
  try {
    await command();
  } catch (error) {
    // `--help`: commander printed it; nothing went wrong.
    if (ConfigArgumentError.isInstance(error) && error.exitCode === 0) return;
    if (WorkerFailedError.isInstance(error)) {
      // The worker printed its own error: a user error in one line, a bug with its stack.
      if (error.workerError === undefined && error.exitCode === USER_ERROR_EXIT_CODE) {
        process.exitCode = USER_ERROR_EXIT_CODE;
      } else {
        process.stderr.write(`error: ${error.message}\n`);
        process.exitCode = 1;
      }
      return;
    }
    if (DistError.isInstance(error) && error.code === 'DIST_INTERRUPTED') {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 130;
      return;
    }
    if (isUserError(error)) {
      printUserError(error);
      process.exitCode = USER_ERROR_EXIT_CODE;
      return;
    }
    throw error;
  }
}

/**
 * Parses a command's arguments with its commander parser. A usage error (unknown option, bad
 * value, missing value) is thrown as a `ConfigArgumentError`, a user error that exits with
 * {@link USER_ERROR_EXIT_CODE}; `--help` prints the help and throws one with `exitCode` 0,
 * which {@link runCommand} treats as success. An unknown option that names a config key
 * (`--epochs 3`) says how to set it: `use epochs=3`.
 *
 * @param configKeys - Config keys that users may mistake for options (the app's top-level keys).
 */
export function parseCommandArgs<T extends object>(
  parser: Command,
  argv: readonly string[],
  configKeys: readonly string[] = [],
): ParsedArgs<T> {
  try {
    return parseArgs<T>(parser, argv, { exitOnError: false });
  } catch (error) {
    if (!ConfigArgumentError.isInstance(error)) throw error;
    const help = `(see '${parser.name()} --help')`;
    if (error.commanderCode === 'commander.unknownOption') {
      const hint = configKeyHint(error.message, argv, configKeys);
      if (hint !== undefined) {
        throw new ConfigArgumentError(
          `${error.message.split('\n')[0]}: ${hint}`,
          error.commanderCode,
          error.exitCode,
          error,
        );
      }
    }
    if (error.exitCode === 0) throw error;
    throw new ConfigArgumentError(
      `${error.message.replace(/\n/g, ' ')} ${help}`,
      error.commanderCode,
      error.exitCode,
      error,
    );
  }
}

/** `use epochs=3` for an unknown `--epochs 3` when `epochs` is a config key. */
function configKeyHint(
  message: string,
  argv: readonly string[],
  configKeys: readonly string[],
): string | undefined {
  const flag = /unknown option '([^']+)'/.exec(message)?.[1];
  if (flag === undefined) return undefined;
  const [name = '', inline] = flag.replace(/^-+/, '').split('=');
  const camel = name.replace(/[-_]+([a-z0-9])/g, (_, char: string) => char.toUpperCase());
  const snake = camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  const key = configKeys.find((candidate) => candidate === camel || candidate === snake);
  if (key === undefined) return undefined;
  const at = argv.indexOf(flag);
  const next = at >= 0 ? argv[at + 1] : undefined;
  const value = inline ?? (next !== undefined && !next.startsWith('--') ? next : '<value>');
  return `'${key}' is a config key: use ${key}=${value}`;
}
