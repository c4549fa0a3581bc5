import { HistoryBuffer, type HistoryBufferOptions } from './history-buffer.js';

/**
 * One entry of {@link LogBuffer.update}: a number, or `[value, num]` with a weight `num` (a
 * batch size, say). An array `value` is summed first, as in the original.
 */
export type LogValue = number | readonly [value: number | readonly number[], num: number];

/**
 * A {@link HistoryBuffer} per key, after gorilla's `LogBuffer`: `update({ loss, lr })` each step,
 * then read per-key statistics or fill {@link LogBuffer.output} with `average(n)` /
 * `summation(n)` (`n = 0`: every value).
 *
 * @example
 * ```ts
 * const buffer = new LogBuffer();
 * buffer.update({ a: 10, b: [10, 2] });
 * buffer.update({ a: 12, b: [12, 3] });
 * buffer.avg; // { a: 11, b: 11.2 }
 * ```
 */
export class LogBuffer {
  readonly #buffers = new Map<string, HistoryBuffer>();
  #output: Record<string, number> = {};
  readonly #options: HistoryBufferOptions;

  /** @param options - Passed to every key's {@link HistoryBuffer}. */
  constructor(options: HistoryBufferOptions = {}) {
    this.#options = options;
  }

  /**
   * Adds one value per key.
   *
   * @throws TypeError for anything that is not a number or a `[value, num]` pair (a string, a
   *   dict, a tensor, an array of another length), naming the key.
   */
  update(content: Readonly<Record<string, LogValue>>): void {
    if (typeof content !== 'object' || content === null || Array.isArray(content)) {
      throw new TypeError(`LogBuffer.update expects an object of numbers, got ${typeof content}.`);
    }
    const parsed: Array<[string, number, number]> = [];
    for (const [key, entry] of Object.entries(content)) {
      parsed.push([key, ...parseEntry(key, entry)]);
    }
    for (const [key, value, num] of parsed) this.get(key, true).update(value, num);
  }

  /**
   * The buffer of `key`; `undefined` when the key was never updated (unless `create`).
   */
  get(key: string): HistoryBuffer | undefined;
  get(key: string, create: true): HistoryBuffer;
  get(key: string, create = false): HistoryBuffer | undefined {
    let buffer = this.#buffers.get(key);
    if (buffer === undefined && create) {
      buffer = new HistoryBuffer(this.#options);
      this.#buffers.set(key, buffer);
    }
    return buffer;
  }

  /** The keys, in first-update order. */
  keys(): string[] {
    return [...this.#buffers.keys()];
  }

  /** Whether no key has been updated since the last clear. */
  get isEmpty(): boolean {
    return this.#buffers.size === 0;
  }

  /** Per-key {@link HistoryBuffer.avg} (global weighted average). */
  get avg(): Record<string, number> {
    return this.#map((buffer) => buffer.avg);
  }

  /** Per-key {@link HistoryBuffer.sum} (global weighted sum). */
  get sum(): Record<string, number> {
    return this.#map((buffer) => buffer.sum);
  }

  /** Per-key {@link HistoryBuffer.latest}. */
  get latest(): Record<string, number> {
    return this.#map((buffer) => buffer.latest);
  }

  /** Per-key kept values. */
  get values(): Record<string, number[]> {
    return this.#map((buffer) => buffer.values);
  }

  /** What the last {@link LogBuffer.average} / {@link LogBuffer.summation} computed. */
  get output(): Readonly<Record<string, number>> {
    return this.#output;
  }

  /**
   * Sets {@link LogBuffer.output} to each key's weighted average over the latest `window` values
   * (`0`, the default: all) and returns it.
   */
  average(window = 0): Readonly<Record<string, number>> {
    this.#output = this.#map((buffer) => buffer.average(window));
    return this.#output;
  }

  /** Sets {@link LogBuffer.output} to each key's weighted sum over the latest `window` values. */
  summation(window = 0): Readonly<Record<string, number>> {
    this.#output = this.#map((buffer) => buffer.summation(window));
    return this.#output;
  }

  /** Forgets every key and the output. */
  clear(): void {
    this.#buffers.clear();
    this.#output = {};
  }

  /** Forgets the output only. */
  clearOutput(): void {
    this.#output = {};
  }

  /** One block per key, in the original's layout. */
  toString(): string {
    return [...this.#buffers].map(([key, buffer]) => `${key}:\n${buffer}`).join('');
  }

  #map<V>(read: (buffer: HistoryBuffer) => V): Record<string, V> {
    const result: Record<string, V> = {};
    for (const [key, buffer] of this.#buffers) result[key] = read(buffer);
    return result;
  }
}

function parseEntry(key: string, entry: unknown): [number, number] {
  if (typeof entry === 'number') return [entry, 1];
  if (Array.isArray(entry) && entry.length === 2 && typeof entry[1] === 'number') {
    const [value, num] = entry as [unknown, number];
    if (typeof value === 'number') return [value, num];
    if (Array.isArray(value) && value.every((item) => typeof item === 'number')) {
      return [value.reduce((a: number, b: number) => a + b, 0), num];
    }
  }
  throw new TypeError(
    `LogBuffer.update: '${key}' must be a number or a [value, num] pair of numbers, got ${describe(entry)}. ` +
      'Convert tensors to numbers first.',
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return typeof value;
}
