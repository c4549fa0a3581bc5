/** Options of {@link HistoryBuffer}. */
export interface HistoryBufferOptions {
  /**
   * How many of the latest `(value, num)` pairs are kept for the windowed statistics
   * ({@link HistoryBuffer.average}, {@link HistoryBuffer.median}, {@link HistoryBuffer.summation}).
   * The global {@link HistoryBuffer.avg} and {@link HistoryBuffer.sum} always cover every update.
   * Defaults to `10_000`.
   */
  maxLength?: number;
}

/**
 * A history of scalar values with weights (`num`, e.g. a batch size), after gorilla's
 * `HistoryBuffer`: global weighted average and sum, and statistics over the latest values.
 *
 * `update` is O(1): running sums give the global statistics, and a bounded ring keeps the latest
 * `maxLength` pairs for the windowed ones. Values must be numbers: convert a tensor first
 * (`(await loss.data())[0]`), so no tensor is kept alive by the buffer.
 *
 * @example
 * ```ts
 * const buffer = new HistoryBuffer();
 * buffer.update(10); buffer.update(12); buffer.update(14, 2); buffer.update(15);
 * buffer.avg; // 13
 * buffer.average(3); // 13.75
 * ```
 */
export class HistoryBuffer {
  readonly maxLength: number;
  #values: Float64Array;
  #nums: Float64Array;
  /** Index of the oldest kept entry in the ring. */
  #head = 0;
  /** Number of kept entries (≤ maxLength). */
  #size = 0;
  #count = 0;
  #globalSum = 0;
  #globalNum = 0;

  constructor(options: HistoryBufferOptions = {}) {
    const maxLength = options.maxLength ?? 10_000;
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new RangeError(
        `HistoryBuffer: maxLength must be a positive integer, got ${maxLength}.`,
      );
    }
    this.maxLength = maxLength;
    const initial = Math.min(maxLength, 64);
    this.#values = new Float64Array(initial);
    this.#nums = new Float64Array(initial);
  }

  /**
   * Adds `value` with weight `num`.
   *
   * @param num - The weight (e.g. the number of samples the value averages). Defaults to `1`.
   * @throws TypeError when `value` or `num` is not a number (a tensor, say).
   */
  update(value: number, num = 1): void {
    if (typeof value !== 'number' || typeof num !== 'number') {
      throw new TypeError(
        `HistoryBuffer.update expects numbers, got ${typeof value} and ${typeof num}. ` +
          'Convert tensors first, e.g. (await loss.data())[0].',
      );
    }
    if (this.#size === this.maxLength) {
      this.#values[this.#head] = value;
      this.#nums[this.#head] = num;
      this.#head = (this.#head + 1) % this.maxLength;
    } else {
      if (this.#size === this.#values.length) this.#grow();
      const index = (this.#head + this.#size) % this.#values.length;
      this.#values[index] = value;
      this.#nums[index] = num;
      this.#size += 1;
    }
    this.#count += 1;
    this.#globalSum += value * num;
    this.#globalNum += num;
  }

  /** Forgets everything. */
  clear(): void {
    this.#head = 0;
    this.#size = 0;
    this.#count = 0;
    this.#globalSum = 0;
    this.#globalNum = 0;
  }

  /** The number of updates since the last clear (not bounded by `maxLength`). */
  get count(): number {
    return this.#count;
  }

  /** The latest value; `NaN` when empty. */
  get latest(): number {
    if (this.#size === 0) return Number.NaN;
    return this.#values[(this.#head + this.#size - 1) % this.#values.length]!;
  }

  /** The weighted average of every update: `Σ value·num / Σ num`; 0 when empty. */
  get avg(): number {
    return this.#globalNum === 0 ? 0 : this.#globalSum / this.#globalNum;
  }

  /** The weighted sum of every update: `Σ value·num`; 0 when empty. */
  get sum(): number {
    return this.#globalSum;
  }

  /** The kept values, oldest first (at most `maxLength`). */
  get values(): number[] {
    return this.#window(0).map(([value]) => value);
  }

  /** The kept weights, oldest first (at most `maxLength`). */
  get nums(): number[] {
    return this.#window(0).map(([, num]) => num);
  }

  /**
   * The weighted average of the latest `window` values: `summation(window) / Σ num`.
   * `window = 0` (the default) means every kept value. `NaN` when empty.
   */
  average(window = 0): number {
    let sum = 0;
    let num = 0;
    for (const [value, weight] of this.#window(window)) {
      sum += value * weight;
      num += weight;
    }
    return num === 0 ? Number.NaN : sum / num;
  }

  /** The weighted sum `Σ value·num` of the latest `window` values (`0` = every kept value). */
  summation(window = 0): number {
    let sum = 0;
    for (const [value, weight] of this.#window(window)) sum += value * weight;
    return sum;
  }

  /** The median of the latest `window` values, weights ignored (`0` = every kept value). */
  median(window = 0): number {
    const sorted = this.#window(window)
      .map(([value]) => value)
      .sort((a, b) => a - b);
    if (sorted.length === 0) return Number.NaN;
    const middle = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  }

  /** A readable summary, in the original's layout. */
  toString(): string {
    return (
      `    values: [${this.values.join(', ')}]\n` +
      `    nums:   [${this.nums.join(', ')}]\n` +
      `    count:  ${this.count}\n` +
      `    avg:    ${this.avg}\n` +
      `    sum:    ${this.sum}\n`
    );
  }

  /** The latest `window` (value, num) pairs, oldest first; 0 or more than kept → all kept. */
  #window(window: number): Array<[number, number]> {
    if (!Number.isInteger(window) || window < 0) {
      throw new RangeError(`HistoryBuffer: window must be a non-negative integer, got ${window}.`);
    }
    const length = window === 0 ? this.#size : Math.min(window, this.#size);
    const capacity = this.#values.length;
    const result: Array<[number, number]> = [];
    for (let offset = this.#size - length; offset < this.#size; offset += 1) {
      const index = (this.#head + offset) % capacity;
      result.push([this.#values[index]!, this.#nums[index]!]);
    }
    return result;
  }

  /** Doubles the storage (up to maxLength), unrolling the ring. Only called while not full. */
  #grow(): void {
    const capacity = Math.min(this.maxLength, this.#values.length * 2);
    const values = new Float64Array(capacity);
    const nums = new Float64Array(capacity);
    for (let offset = 0; offset < this.#size; offset += 1) {
      const index = (this.#head + offset) % this.#values.length;
      values[offset] = this.#values[index]!;
      nums[offset] = this.#nums[index]!;
    }
    this.#values = values;
    this.#nums = nums;
    this.#head = 0;
  }
}
