/**
 * Formats a duration as `DD days HH:MM:SS`, days counted from 0 (`3661.7` → `00 days 01:01:01`,
 * `31 * 86400` → `31 days 00:00:00`). Fractions of a second are dropped; negative durations count
 * as 0; a non-finite duration gives `unknown`.
 *
 * Unlike gorilla's `convert_seconds`, which formats with `%d` (the day of the month): it showed
 * `01 days` for zero and wrapped after 31 days.
 */
export function convertSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown';
  const total = Math.max(0, Math.floor(seconds));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  return `${pad(days)} days ${pad(hours)}:${pad(minutes)}:${pad(secs)}`;
}

/**
 * Formats a duration compactly, with the two largest units that matter: `9s`, `12m 30s`,
 * `2h 05m`, `1d 02h` (fractions of a second dropped; negative durations count as 0; a
 * non-finite duration gives `unknown`). The progress line's ETA uses it; {@link convertSeconds}
 * keeps gorilla's `DD days HH:MM:SS`.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown';
  const total = Math.max(0, Math.floor(seconds));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (days > 0) return `${days}d ${pad(hours)}h`;
  if (hours > 0) return `${hours}h ${pad(minutes)}m`;
  if (minutes > 0) return `${minutes}m ${pad(secs)}s`;
  return `${secs}s`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** Where a training loop is, for {@link remainingIterations}. */
export interface TrainingPosition {
  /** The current epoch, **1-based** (the first epoch is 1, the last is `epochs`). */
  epoch: number;
  /** The number of epochs in the run. */
  epochs: number;
  /** The iteration just finished within the epoch, **0-based** (the first batch is 0). */
  iter: number;
  /** Iterations (batches) per epoch: the data loader's length. */
  itersPerEpoch: number;
}

/**
 * The iterations still to run after the one just finished:
 * `(epochs - epoch) * itersPerEpoch + (itersPerEpoch - iter - 1)`, never negative.
 *
 * With a 1-based `epoch` and a 0-based `iter`, the last iteration of the last epoch leaves 0.
 * (The seed script's `(epochs - epoch + 1) * len + i + 1` counted the current epoch in full and
 * then added the iterations already done.)
 */
export function remainingIterations(position: TrainingPosition): number {
  const { epoch, epochs, iter, itersPerEpoch } = position;
  return Math.max(0, (epochs - epoch) * itersPerEpoch + (itersPerEpoch - iter - 1));
}

/**
 * The estimated time left, formatted by {@link formatDuration}: `secondsPerIter * remaining`.
 * Pass an average (a {@link HistoryBuffer}'s `average(20)`, say) rather than the latest time.
 */
export function eta(secondsPerIter: number, remaining: number): string {
  return formatDuration(secondsPerIter * remaining);
}
