import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { currentRank } from '../utils/rank.js';
import { getLogger, type Logger, type LogLevel, type TextStream } from './logger.js';

/** Options of {@link collectLogger}. */
export interface CollectLoggerOptions {
  /** The folder that holds every run's logs; relative to the cwd or absolute. Defaults to `'log'`. */
  root?: string;
  /** The run's folder name under `root` (the config's name, say). Defaults to none. */
  prefix?: string;
  /** Appended to the folder name as `<prefix>_<suffix>`. Defaults to none. */
  suffix?: string;
  /** The log file's name without `.log`. Defaults to the timestamp `YYYYMMDD_HHMMSS`. */
  logName?: string;
  /** The logger's name. Defaults to `'gorilla'`. */
  name?: string;
  /** The least severe level shown. Defaults to `'info'`. */
  level?: LogLevel;
  /** This process's rank. Defaults to the `RANK` environment variable, or 0. */
  rank?: number;
  /** The console stream. Defaults to `process.stderr`. */
  stream?: TextStream;
  /** The clock that names the file (local time). Defaults to `() => new Date()`. */
  now?: () => Date;
}

/** What {@link collectLogger} made. */
export interface CollectedLogger {
  /** The run's log folder: `root/<prefix>_<suffix>`, exactly as joined (absolute if root is). */
  logDir: string;
  /** The text log: `logDir/<timestamp>.log`. Written on rank 0 only. */
  logFile: string;
  /** The JSON-lines metrics file beside it: `logDir/<timestamp>.jsonl`. */
  metricsFile: string;
  /** The timestamp that names the files (`YYYYMMDD_HHMMSS`). */
  timestamp: string;
  /** The process's logger, with the file attached on rank 0. */
  logger: Logger;
}

/**
 * Makes the run's log folder and returns the logger that writes into it:
 * `log/<prefix>/<YYYYMMDD_HHMMSS>.log` plus `<YYYYMMDD_HHMMSS>.jsonl` for metrics. The folder and
 * files are only created on rank 0; other ranks get the same paths and a console-only logger.
 *
 * Unlike gorilla's `collect_logger`, an absolute `root` is used as it is (the original logged
 * into a relative mirror `.//abs/path`), and repeated calls never add handlers.
 *
 * @example
 * ```ts
 * const { logDir, logger } = collectLogger({ prefix: 'pointnet' });
 * logger.info('hello'); // [11/27 05:52:03 gorilla] INFO: hello
 * ```
 */
export function collectLogger(options: CollectLoggerOptions = {}): CollectedLogger {
  const rank = options.rank ?? currentRank();
  const timestamp = formatTimestamp((options.now ?? (() => new Date()))());
  const folder = [options.prefix, options.suffix].filter(
    (part) => part !== undefined && part !== '',
  );
  const logDir =
    folder.length === 0 ? (options.root ?? 'log') : join(options.root ?? 'log', folder.join('_'));
  const base = join(logDir, options.logName ?? timestamp);
  const logFile = `${base}.log`;
  if (rank === 0) mkdirSync(logDir, { recursive: true });
  const logger = getLogger({
    logFile,
    rank,
    ...(options.name !== undefined && { name: options.name }),
    ...(options.level !== undefined && { level: options.level }),
    ...(options.stream !== undefined && { stream: options.stream }),
  });
  return { logDir, logFile, metricsFile: `${base}.jsonl`, timestamp, logger };
}

/** `YYYYMMDD_HHMMSS` in local time, as gorilla's `timestamp()`. */
export function formatTimestamp(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return (
    `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}_` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`
  );
}
