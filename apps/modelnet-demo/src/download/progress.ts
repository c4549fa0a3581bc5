/** A one-line download progress display: redrawn in place on a TTY, every 10 % otherwise. */

/** Where progress goes: a writable stream with an optional `isTTY` and `columns`. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options of {@link createProgressBar}. */
export interface ProgressBarOptions {
  /** Shown before the bar. */
  label: string;
  /** Defaults to `process.stderr`. */
  stream?: ProgressStream;
  /** Clock in milliseconds, for tests. Defaults to `performance.now`. */
  now?: () => number;
  /** Least time between two redraws on a TTY, in ms. Defaults to `100`. */
  intervalMs?: number;
}

/** A running progress display. */
export interface ProgressBar {
  /** `received` of `total` bytes so far (`total` undefined when unknown). */
  update(received: number, total: number | undefined): void;
  /** Draws the final state and ends the line. */
  finish(): void;
}

const WIDTH = 24;

/** Formats a byte count: `415.1 MB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** Creates a progress display writing to `options.stream`. */
export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const interval = options.intervalMs ?? 100;
  const tty = stream.isTTY === true;
  const started = now();
  let startBytes: number | undefined;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let lastDecile = -1;
  let received = 0;
  let total: number | undefined;

  const line = (): string => {
    const elapsed = (now() - started) / 1000;
    const speed = elapsed > 0 ? (received - (startBytes ?? 0)) / elapsed : 0;
    const rate = `${formatBytes(speed)}/s`;
    if (total === undefined || total <= 0) {
      return `${options.label}  ${formatBytes(received)}  ${rate}`;
    }
    const fraction = Math.min(1, received / total);
    const filled = Math.round(fraction * WIDTH);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}]`;
    const eta = speed > 0 ? formatDuration((total - received) / speed) : '--:--';
    return `${options.label} ${bar} ${(fraction * 100).toFixed(1).padStart(5)}%  ${formatBytes(received)}/${formatBytes(total)}  ${rate}  ETA ${eta}`;
  };

  return {
    update(bytes, size) {
      startBytes ??= bytes; // a resumed download starts from its .part size
      received = bytes;
      total = size;
      if (tty) {
        const time = now();
        if (time - lastDraw < interval) return;
        lastDraw = time;
        const columns = stream.columns ?? 120;
        stream.write(`\r${line().slice(0, columns - 1)}\x1b[K`);
      } else if (total !== undefined && total > 0) {
        const decile = Math.floor((received / total) * 10);
        if (decile > lastDecile) {
          lastDecile = decile;
          stream.write(`${line()}\n`);
        }
      }
    },
    finish() {
      if (tty) stream.write(`\r${line()}\x1b[K\n`);
      else if (lastDecile < 10) stream.write(`${line()}\n`);
    },
  };
}
