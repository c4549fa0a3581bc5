import { HistoryBuffer } from '../utils/history-buffer.js';

/**
 * The numbers a run produces, by name (`loss`, `lr`, `time`, `data_time`, `val/acc`): a
 * {@link HistoryBuffer} per name for windowed statistics, and the latest value with the
 * iteration it belongs to. The trainer and its hooks write here; loggers read from here
 * (detectron2's `EventStorage`).
 */
export class MetricStore {
  readonly #histories = new Map<string, HistoryBuffer>();
  readonly #latest = new Map<string, { value: number; iter: number }>();
  readonly #maxLength: number;

  /** @param maxLength - values kept per name for windowed statistics. Defaults to `1000`. */
  constructor(maxLength = 1000) {
    this.#maxLength = maxLength;
  }

  /** Records `value` for `name` at iteration `iter` (0-based). */
  put(name: string, value: number, iter: number): void {
    let history = this.#histories.get(name);
    if (history === undefined) {
      history = new HistoryBuffer({ maxLength: this.#maxLength });
      this.#histories.set(name, history);
    }
    history.update(value);
    this.#latest.set(name, { value, iter });
  }

  /** Records every entry of `values` at iteration `iter`. */
  putAll(values: Readonly<Record<string, number>>, iter: number): void {
    for (const [name, value] of Object.entries(values)) this.put(name, value, iter);
  }

  /** The history of `name`, if anything was recorded. */
  history(name: string): HistoryBuffer | undefined {
    return this.#histories.get(name);
  }

  /** The latest value of `name`, if any. */
  latest(name: string): number | undefined {
    return this.#latest.get(name)?.value;
  }

  /** The iteration the latest value of `name` was recorded at, if any. */
  latestIter(name: string): number | undefined {
    return this.#latest.get(name)?.iter;
  }

  /** The latest value of every name. */
  latestScalars(): Record<string, number> {
    return Object.fromEntries([...this.#latest].map(([name, { value }]) => [name, value]));
  }

  /** The names recorded so far. */
  names(): string[] {
    return [...this.#latest.keys()];
  }

  /** Forgets everything. */
  clear(): void {
    this.#histories.clear();
    this.#latest.clear();
  }
}
