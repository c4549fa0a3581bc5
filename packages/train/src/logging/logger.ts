import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { format } from 'node:util';
import { currentRank } from '../utils/rank.js';

/** Log levels, from the most to the least verbose. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const LEVEL_LABEL: Record<LogLevel, string> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
};

/** A writable text stream, such as `process.stderr` (only `write` and `isTTY` are used). */
export interface TextStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Where a {@link Logger} sends its lines; see {@link Logger.handlers}. */
export interface LogHandler {
  /** `console` (a stream, coloured on a TTY) or `file` (plain text, rank 0 only). */
  readonly kind: 'console' | 'file';
  /** The file's absolute path, for `file` handlers. */
  readonly path?: string;
  /** Writes one formatted record. */
  write(record: LogRecord): void;
  /** Releases the file descriptor, if any. */
  close(): void;
}

/** One log call, as handlers receive it. */
export interface LogRecord {
  readonly level: LogLevel;
  readonly name: string;
  readonly message: string;
  readonly time: Date;
}

/** Options of {@link getLogger}. */
export interface GetLoggerOptions {
  /** The logger's name: the same name always returns the same logger. Defaults to `'gorilla'`. */
  name?: string;
  /**
   * A text log file to write to (rank 0 only; parent folders are created). A logger writes to at
   * most one file: the same path again is a no-op, another path replaces the previous file (which
   * is closed). A JSON-lines metrics file goes beside it, the `.log` extension replaced by
   * `.jsonl`. Defaults to none.
   */
  logFile?: string;
  /**
   * The least severe level shown on rank 0. Other ranks show errors only, whatever this says.
   * Defaults to `'info'` for a new logger; leaves an existing logger's level alone.
   */
  level?: LogLevel;
  /** This process's rank. Defaults to the `RANK` environment variable, or 0. */
  rank?: number;
  /**
   * The console stream of a new logger. Defaults to `process.stderr` (as Python's logging does).
   */
  stream?: TextStream;
  /**
   * Colour the console header and levels. Defaults to `true` when the stream is a TTY and
   * `NO_COLOR` is unset. Files never get colour.
   */
  color?: boolean;
}

/**
 * A named logger with a console handler and, on rank 0, at most one log file plus its JSON-lines
 * metrics file. Lines look like `[11/27 05:52:03 gorilla] INFO: hello`. Create one with
 * {@link getLogger} or {@link collectLogger}; never duplicated, however often it is asked for.
 */
export class Logger {
  /** The logger's name (shown in each line). */
  readonly name: string;
  /** This process's rank: files are only ever written on rank 0. */
  readonly rank: number;
  #level: LogLevel = 'info';
  readonly #console: ConsoleHandler;
  #file: FileHandler | undefined;
  #metrics: FileHandler | undefined;

  /** @internal Use {@link getLogger}. */
  constructor(name: string, rank: number, stream: TextStream, color: boolean) {
    this.name = name;
    this.rank = rank;
    this.#console = new ConsoleHandler(stream, color);
  }

  /** The least severe level written (errors only on ranks other than 0). */
  get level(): LogLevel {
    return this.rank === 0 ? this.#level : 'error';
  }

  set level(level: LogLevel) {
    if (!(level in LEVEL_ORDER)) {
      throw new TypeError(
        `Unknown log level '${String(level)}'; expected one of ${Object.keys(LEVEL_ORDER).join(', ')}.`,
      );
    }
    this.#level = level;
  }

  /** The handlers, console first: one console handler, plus one file handler on rank 0. */
  get handlers(): readonly LogHandler[] {
    return this.#file === undefined ? [this.#console] : [this.#console, this.#file];
  }

  /** The text log file's absolute path, if one is open. */
  get logFile(): string | undefined {
    return this.#file?.path;
  }

  /** The JSON-lines metrics file's absolute path, if one is open. */
  get metricsFile(): string | undefined {
    return this.#metrics?.path;
  }

  /**
   * Writes to `logFile` from now on (rank 0 only; a no-op elsewhere). The same path again is a
   * no-op; another path closes the previous file first. Files are opened for appending.
   */
  setFile(logFile: string): void {
    if (this.rank !== 0) return;
    const path = resolve(logFile);
    if (this.#file?.path === path) return;
    this.#closeFiles();
    mkdirSync(dirname(path), { recursive: true });
    this.#file = new FileHandler(path);
    this.#metrics = new FileHandler(metricsPathFor(path));
  }

  /** Logs at `debug` level; arguments are formatted like `console.log`. */
  debug(message: unknown, ...args: unknown[]): void {
    this.log('debug', message, ...args);
  }

  /** Logs at `info` level. */
  info(message: unknown, ...args: unknown[]): void {
    this.log('info', message, ...args);
  }

  /** Logs at `warn` level. */
  warn(message: unknown, ...args: unknown[]): void {
    this.log('warn', message, ...args);
  }

  /** Logs at `error` level. */
  error(message: unknown, ...args: unknown[]): void {
    this.log('error', message, ...args);
  }

  /** Logs at `level` when it is at least {@link Logger.level}. */
  log(level: LogLevel, message: unknown, ...args: unknown[]): void {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[this.level]) return;
    const record: LogRecord = {
      level,
      name: this.name,
      message: format(message, ...args),
      time: new Date(),
    };
    for (const handler of this.handlers) handler.write(record);
  }

  /**
   * Appends one JSON line `{"time": <ISO date>, ...record}` to the metrics file (rank 0 with a
   * log file only; a no-op otherwise). Use it for machine-readable numbers: `{ epoch, iter,
   * loss, lr }`.
   */
  metrics(record: Readonly<Record<string, unknown>>): void {
    this.#metrics?.writeLine(JSON.stringify({ time: new Date().toISOString(), ...record }));
  }

  /** Closes the files and forgets this logger: the next {@link getLogger} makes a new one. */
  close(): void {
    this.#closeFiles();
    const registry = loggers();
    if (registry.get(this.name) === this) registry.delete(this.name);
  }

  /** @internal */
  setConsoleColor(color: boolean): void {
    this.#console.color = color;
  }

  #closeFiles(): void {
    this.#file?.close();
    this.#metrics?.close();
    this.#file = undefined;
    this.#metrics = undefined;
  }
}

/**
 * The logger named `name`, created on first use with a console handler; never a second handler
 * for the same target, however often it is called. With `logFile`, rank 0 also writes plain text
 * (no colour) to that file and JSON lines (see {@link Logger.metrics}) beside it.
 *
 * Unlike gorilla's `get_logger` (memoised per argument tuple), calls with other arguments do not
 * add handlers to the shared logger, and no ANSI colour codes reach the file.
 */
export function getLogger(options: GetLoggerOptions = {}): Logger {
  const name = options.name ?? 'gorilla';
  const registry = loggers();
  let logger = registry.get(name);
  if (logger === undefined) {
    const stream = options.stream ?? process.stderr;
    const color = options.color ?? (stream.isTTY === true && !process.env.NO_COLOR);
    logger = new Logger(name, options.rank ?? currentRank(), stream, color);
    registry.set(name, logger);
  } else if (options.color !== undefined) {
    logger.setConsoleColor(options.color);
  }
  if (options.level !== undefined) logger.level = options.level;
  if (options.logFile !== undefined) logger.setFile(options.logFile);
  return logger;
}

/** `path/x.log` → `path/x.jsonl`; any other name gets `.jsonl` appended. */
function metricsPathFor(logFile: string): string {
  return logFile.endsWith('.log') ? `${logFile.slice(0, -4)}.jsonl` : `${logFile}.jsonl`;
}

const REGISTRY = Symbol.for('@gorilla-ts/train.loggers');

/** One logger table per process, even with two copies of this package installed. */
function loggers(): Map<string, Logger> {
  const holder = globalThis as typeof globalThis & { [REGISTRY]?: Map<string, Logger> };
  holder[REGISTRY] ??= new Map();
  return holder[REGISTRY];
}

const ANSI = {
  green: (text: string) => `\u001b[32m${text}\u001b[0m`,
  red: (text: string) => `\u001b[31m${text}\u001b[0m`,
  yellow: (text: string) => `\u001b[33m${text}\u001b[0m`,
  dim: (text: string) => `\u001b[2m${text}\u001b[0m`,
};

function header(record: LogRecord): string {
  const t = record.time;
  const stamp = `${pad(t.getMonth() + 1)}/${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  return `[${stamp} ${record.name}]`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** Formats a record without colour: `[MM/DD HH:MM:SS name] LEVEL: message`. */
export function formatRecord(record: LogRecord): string {
  return `${header(record)} ${LEVEL_LABEL[record.level]}: ${record.message}`;
}

class ConsoleHandler implements LogHandler {
  readonly kind = 'console';
  constructor(
    readonly stream: TextStream,
    public color: boolean,
  ) {}

  write(record: LogRecord): void {
    if (!this.color) {
      this.stream.write(`${formatRecord(record)}\n`);
      return;
    }
    const label = LEVEL_LABEL[record.level];
    const level =
      record.level === 'error'
        ? ANSI.red(label)
        : record.level === 'warn'
          ? ANSI.yellow(label)
          : record.level === 'debug'
            ? ANSI.dim(label)
            : label;
    this.stream.write(`${ANSI.green(header(record))} ${level}: ${record.message}\n`);
  }

  close(): void {}
}

class FileHandler implements LogHandler {
  readonly kind = 'file';
  #fd: number | undefined;
  constructor(readonly path: string) {
    this.#fd = openSync(path, 'a');
  }

  write(record: LogRecord): void {
    this.writeLine(formatRecord(record));
  }

  /** Synchronous, so a crash loses no line and lines never interleave. */
  writeLine(line: string): void {
    if (this.#fd !== undefined) writeSync(this.#fd, `${line}\n`);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
