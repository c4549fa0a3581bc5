/**
 * A dataset: a length and random access to items, synchronous or asynchronous (a file read, say).
 * Any object of this shape works; no base class is needed.
 *
 * A dataset may also have `collate(samples)`, which {@link buildDataloader} uses instead of
 * {@link defaultCollate} (gorilla's `dataset.collate_fn`).
 */
export interface Dataset<T> {
  /** The number of items; indices run from 0 to `length - 1`. */
  readonly length: number;
  /** The item at `index`. */
  get(index: number): T | Promise<T>;
}

/** The item type of a {@link Dataset}. */
export type DatasetItem<D> = D extends Dataset<infer T> ? T : never;

/**
 * Several datasets end to end: index `i` falls into the first dataset whose cumulative length
 * exceeds it. Unlike gorilla's, it does not require a `CLASSES` attribute.
 */
export class ConcatDataset<T> implements Dataset<T> {
  readonly datasets: readonly Dataset<T>[];
  /** `cumulativeSizes[k]` = total length of datasets 0..k. */
  readonly cumulativeSizes: readonly number[];

  constructor(datasets: readonly Dataset<T>[]) {
    if (datasets.length === 0) throw new RangeError('ConcatDataset needs at least one dataset.');
    this.datasets = [...datasets];
    let total = 0;
    this.cumulativeSizes = this.datasets.map((dataset) => {
      total += dataset.length;
      return total;
    });
  }

  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1]!;
  }

  get(index: number): T | Promise<T> {
    checkIndex(index, this.length, 'ConcatDataset');
    let low = 0;
    let high = this.cumulativeSizes.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.cumulativeSizes[middle]! > index) high = middle;
      else low = middle + 1;
    }
    const offset = low === 0 ? 0 : this.cumulativeSizes[low - 1]!;
    return this.datasets[low]!.get(index - offset);
  }
}

/**
 * A dataset repeated `times` times: item `i` is `dataset.get(i % dataset.length)`, the length
 * `times * dataset.length` (useful to make short epochs longer). No `CLASSES` requirement.
 */
export class RepeatDataset<T> implements Dataset<T> {
  constructor(
    readonly dataset: Dataset<T>,
    readonly times: number,
  ) {
    if (!Number.isInteger(times) || times < 1) {
      throw new RangeError(`RepeatDataset: times must be a positive integer, got ${times}.`);
    }
  }

  get length(): number {
    return this.times * this.dataset.length;
  }

  get(index: number): T | Promise<T> {
    checkIndex(index, this.length, 'RepeatDataset');
    return this.dataset.get(index % this.dataset.length);
  }
}

function checkIndex(index: number, length: number, name: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`${name}: index ${index} is out of range [0, ${length}).`);
  }
}
