import cliProgress from 'cli-progress';
import { formatDuration, remainingIterations } from './eta.js';

/** Numbers shown with each progress update. */
export interface ProgressStats {
  /** The loss (shown with 4 decimals). */
  loss?: number;
  /** The learning rate. */
  lr?: number;
  /** Seconds spent waiting for data this iteration (or an average). */
  dataTime?: number;
  /** Anything else, shown as `key value`. */
  [key: string]: number | undefined;
}

/** A writable stream (only `write` and `isTTY` are used, plus what cli-progress needs on a TTY). */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

/** Options of {@link EpochProgress}. */
export interface EpochProgressOptions {
  /** Iterations in the epoch (the data loader's length). */
  total: number;
  /** The epoch, 1-based, for the label and the whole-run ETA. Defaults to none. */
  epoch?: number;
  /** Epochs in the run: with `epoch`, the ETA covers the whole run. Defaults to none (epoch ETA). */
  epochs?: number;
  /** Where the display goes. Defaults to `process.stderr`. */
  stream?: ProgressStream;
  /** Draw a bar (cli-progress) instead of lines. Defaults to `stream.isTTY`. */
  tty?: boolean;
  /** Without a TTY: print a line at least this often, in seconds. Defaults to `10`. */
  everySecs?: number;
  /** Without a TTY: also print every this many iterations. Defaults to `0` (off). */
  everyIters?: number;
  /**
   * Without a TTY: where lines go instead of the stream (e.g. `(line) => logger.info(line)`).
   * Defaults to writing `line + '\n'` to `stream`.
   */
  write?: (line: string) => void;
  /** The iteration the epoch starts from (after a mid-epoch resume). Defaults to `0`. */
  startIter?: number;
  /** The clock, in seconds. Defaults to `performance.now() / 1000`. */
  now?: () => number;
}

/**
 * A progress display for one epoch: a bar on a terminal, plain periodic lines otherwise (log
 * files, CI). Each shows iterations per second, the loss, the learning rate, the data time and
 * the ETA:
 *
 * `epoch 2/10 iter 40/100 | 12.50 it/s | loss 0.4321 | lr 0.001000 | data 0.012s | eta 1m 05s`
 *
 * @example
 * ```ts
 * const progress = new EpochProgress({ total: loader.length, epoch, epochs });
 * for await (const batch of loader) { ...; progress.update(i, { loss, lr, dataTime }); }
 * progress.stop();
 * ```
 */
export class EpochProgress {
  readonly #options: EpochProgressOptions;
  readonly #now: () => number;
  readonly #start: number;
  readonly #startIter: number;
  readonly #bar: cliProgress.SingleBar | undefined;
  #lastLineAt: number;
  #lastLineIter = -1;
  #lastIter = -1;
  #lastLine = '';
  #stats: ProgressStats = {};
  #stopped = false;

  constructor(options: EpochProgressOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now() / 1000);
    this.#start = this.#now();
    this.#lastLineAt = this.#start;
    this.#startIter = options.startIter ?? 0;
    const stream = options.stream ?? process.stderr;
    if (options.tty ?? stream.isTTY === true) {
      this.#bar = new cliProgress.SingleBar(
        {
          stream,
          format: '{label} |{bar}| {value}/{total} | {details}',
          hideCursor: true,
          barsize: 25,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(options.total, this.#startIter, { label: this.#label(), details: '' });
    }
  }

  /** The last plain line built (also when drawing a bar). */
  get lastLine(): string {
    return this.#lastLine;
  }

  /**
   * Reports that iteration `iter` (0-based) finished. Without a TTY, a line is printed at the
   * first update, when `everySecs` have passed since the last line, every `everyIters`
   * iterations, and at the last iteration of the epoch.
   */
  update(iter: number, stats: ProgressStats = {}): void {
    if (this.#stopped) return;
    this.#lastIter = iter;
    this.#stats = stats;
    const line = this.#line(iter, stats);
    this.#lastLine = line;
    if (this.#bar !== undefined) {
      this.#bar.update(iter + 1, {
        label: this.#label(),
        details: line.split(' | ').slice(1).join(' | '),
      });
      return;
    }
    const now = this.#now();
    const everyIters = this.#options.everyIters ?? 0;
    const due =
      this.#lastLineIter < 0 ||
      now - this.#lastLineAt >= (this.#options.everySecs ?? 10) ||
      (everyIters > 0 && (iter + 1) % everyIters === 0) ||
      iter + 1 >= this.#options.total;
    if (due) this.#print(line, now, iter);
  }

  /** Ends the display: stops the bar, or prints the last line if it was not printed yet. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#bar !== undefined) this.#bar.stop();
    else if (this.#lastIter >= 0 && this.#lastLineIter !== this.#lastIter) {
      this.#print(this.#line(this.#lastIter, this.#stats), this.#now(), this.#lastIter);
    }
  }

  #print(line: string, now: number, iter: number): void {
    this.#lastLineAt = now;
    this.#lastLineIter = iter;
    if (this.#options.write) this.#options.write(line);
    else (this.#options.stream ?? process.stderr).write(`${line}\n`);
  }

  #label(): string {
    const { epoch, epochs } = this.#options;
    if (epoch === undefined) return 'epoch';
    return epochs === undefined ? `epoch ${epoch}` : `epoch ${epoch}/${epochs}`;
  }

  #line(iter: number, stats: ProgressStats): string {
    const { total, epoch, epochs } = this.#options;
    const elapsed = this.#now() - this.#start;
    const done = iter + 1 - this.#startIter;
    const rate = elapsed > 0 && done > 0 ? done / elapsed : 0;
    const remaining =
      epoch !== undefined && epochs !== undefined
        ? remainingIterations({ epoch, epochs, iter, itersPerEpoch: total })
        : Math.max(0, total - iter - 1);
    const parts = [`${this.#label()} iter ${iter + 1}/${total}`, `${rate.toFixed(2)} it/s`];
    const { loss, lr, dataTime, ...rest } = stats;
    if (loss !== undefined) parts.push(`loss ${loss.toFixed(4)}`);
    if (lr !== undefined) parts.push(`lr ${formatLr(lr)}`);
    if (dataTime !== undefined) parts.push(`data ${dataTime.toFixed(3)}s`);
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) parts.push(`${key} ${formatNumber(value)}`);
    }
    parts.push(`eta ${rate > 0 ? formatDuration(remaining / rate) : 'unknown'}`);
    return parts.join(' | ');
  }
}

function formatLr(lr: number): string {
  return lr !== 0 && Math.abs(lr) < 1e-4 ? lr.toExponential(3) : lr.toFixed(6);
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}
