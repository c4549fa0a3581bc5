import { join } from 'node:path';
import { EventFileError } from '../errors.js';
import { LogBuffer, type LogValue } from '../utils/log-buffer.js';
import { currentRank } from '../utils/rank.js';
import { EventFileWriter } from './event-file.js';
import { DT_STRING, type HistogramData } from './proto.js';

/** Options of {@link TensorBoardWriter}. */
export interface TensorBoardWriterOptions {
  /** This process's rank: only rank 0 writes. Defaults to the `RANK` environment variable, or 0. */
  rank?: number;
  /** Seconds between automatic flushes to disk. Defaults to `10`. */
  flushSecs?: number;
  /** Wall clock in seconds, stamped on each event. Defaults to `Date.now() / 1000`. */
  now?: () => number;
}

/** Options of {@link TensorBoardWriter.addHistogram}. */
export interface HistogramOptions {
  /**
   * A bucket count (equal widths between the minimum and the maximum) or the bucket edges in
   * increasing order. Defaults to `30`.
   */
  bins?: number | readonly number[];
}

/** Numbers, or a tensor-like object that can give them synchronously. */
export type HistogramValues = ArrayLike<number> | { dataSync(): ArrayLike<number> };

/**
 * Writes TensorBoard event files (`events.out.tfevents.*`) that TensorBoard itself reads:
 * scalars, text and histograms, after gorilla's `TensorBoardWriter` (a thin layer over
 * tensorboardX's `SummaryWriter` with a {@link LogBuffer}).
 *
 * Buffered use: {@link TensorBoardWriter.update} accumulates values per key each iteration and
 * {@link TensorBoardWriter.write} writes their averages at one step, then clears the buffer.
 * Direct use: {@link TensorBoardWriter.addScalar} and friends.
 *
 * Only rank 0 creates a file; on other ranks every method is a no-op. Differences from the
 * original: no event file on other ranks, and `write()` on an empty buffer writes nothing and
 * leaves the step alone (the original still incremented it).
 *
 * @example
 * ```ts
 * const writer = new TensorBoardWriter(logDir);
 * for (...) writer.update({ loss, lr });
 * writer.write(epoch); // loss and lr averaged over the epoch, at step `epoch`
 * writer.close();
 * ```
 */
export class TensorBoardWriter {
  /** The folder the event file lives in. */
  readonly logDir: string;
  /** Values waiting for {@link TensorBoardWriter.write}. */
  readonly buffer = new LogBuffer();
  /** The step of the last {@link TensorBoardWriter.write}; 0 before the first. */
  step = 0;
  readonly #file: EventFileWriter | undefined;
  readonly #options: TensorBoardWriterOptions;
  /** One writer per `addScalars` series, in `logDir/<mainTag>_<key>` (as tensorboardX does). */
  readonly #series = new Map<string, EventFileWriter>();

  constructor(logDir: string, options: TensorBoardWriterOptions = {}) {
    this.logDir = logDir;
    this.#options = options;
    if ((options.rank ?? currentRank()) === 0) this.#file = new EventFileWriter(logDir, options);
  }

  /** Whether this writer writes (rank 0) or ignores everything (other ranks). */
  get active(): boolean {
    return this.#file !== undefined;
  }

  /** The event file's path (`undefined` on ranks other than 0). */
  get path(): string | undefined {
    return this.#file?.path;
  }

  /**
   * Accumulates one value per key (numbers or `[value, num]` pairs, see {@link LogBuffer.update});
   * with a `step`, writes right away with {@link TensorBoardWriter.write}.
   */
  update(content: Readonly<Record<string, LogValue>>, step?: number): void {
    if (!this.active) return;
    this.buffer.update(content);
    if (step !== undefined) this.write(step);
  }

  /**
   * Writes each buffered key's weighted average as a scalar at `step` (default: the last step
   * plus one), then clears the buffer. An empty buffer writes nothing and leaves the step as it is.
   */
  write(step?: number): void {
    if (!this.active || this.buffer.isEmpty) return;
    this.step = step ?? this.step + 1;
    for (const [tag, value] of Object.entries(this.buffer.average())) {
      this.addScalar(tag, value, this.step);
    }
    this.clear();
  }

  /** Empties the buffer (on every rank, so all ranks stay consistent). */
  clear(): void {
    this.buffer.clear();
  }

  /** Writes one scalar. `step` defaults to {@link TensorBoardWriter.step}. */
  addScalar(tag: string, value: number, step?: number, wallTime?: number): void {
    this.#file?.add({
      step: step ?? this.step,
      ...(wallTime !== undefined && { wallTime }),
      summary: { value: [{ tag, simpleValue: value }] },
    });
  }

  /**
   * Writes several scalars as series of one chart `mainTag`, one event file per series in
   * `logDir/<mainTag>_<key>` (how tensorboardX's `add_scalars` lets TensorBoard overlay them).
   */
  addScalars(mainTag: string, values: Readonly<Record<string, number>>, step?: number): void {
    if (!this.active) return;
    for (const [key, value] of Object.entries(values)) {
      const name = `${mainTag}_${key}`.replace(/[\\/]/g, '_');
      let series = this.#series.get(name);
      if (series === undefined) {
        series = new EventFileWriter(join(this.logDir, name), this.#options);
        this.#series.set(name, series);
      }
      series.add({
        step: step ?? this.step,
        summary: { value: [{ tag: mainTag, simpleValue: value }] },
      });
    }
  }

  /**
   * Writes a PNG image for TensorBoard's Images tab (a confusion matrix at each evaluation, say).
   * The size and colour type are read from the PNG's header. `step` defaults to the current step.
   *
   * @throws {@link EventFileError} when `png` is not a PNG.
   */
  addImage(tag: string, png: Uint8Array, step?: number): void {
    const { width, height, colorspace } = pngHeader(png);
    this.#file?.add({
      step: step ?? this.step,
      summary: {
        value: [{ tag, image: { height, width, colorspace, encodedImageString: png } }],
      },
    });
  }

  /** Writes text (Markdown) for TensorBoard's Text tab. `step` defaults to the current step. */
  addText(tag: string, text: string, step?: number): void {
    this.#file?.add({
      step: step ?? this.step,
      summary: {
        value: [
          {
            tag,
            metadata: { pluginData: { pluginName: 'text' } },
            tensor: {
              dtype: DT_STRING,
              tensorShape: { dim: [{ size: 1 }] },
              stringVal: [new TextEncoder().encode(text)],
            },
          },
        ],
      },
    });
  }

  /**
   * Writes a histogram of `values` (non-finite values are dropped). `step` defaults to the
   * current step.
   */
  addHistogram(
    tag: string,
    values: HistogramValues,
    step?: number,
    options: HistogramOptions = {},
  ): void {
    if (!this.active) return;
    const data = 'dataSync' in values ? values.dataSync() : values;
    this.#file!.add({
      step: step ?? this.step,
      summary: { value: [{ tag, histo: histogram(data, options.bins ?? 30) }] },
    });
  }

  /** Writes everything queued to disk. */
  flush(): void {
    this.#file?.flush();
    for (const series of this.#series.values()) series.flush();
  }

  /** Flushes and closes every file; later writes throw. */
  close(): void {
    this.#file?.close();
    for (const series of this.#series.values()) series.close();
  }

  /** `writer's logdir: ...` and the buffer, as the original prints. */
  toString(): string {
    return `writer's logdir: ${this.logDir}\ncurrent buffer: \n${this.buffer}`;
  }
}

/**
 * Buckets `values` as TensorBoard's `HistogramProto` expects: `bucket[i]` counts the values in
 * `(bucketLimit[i-1], bucketLimit[i]]`, the first bucket from the minimum.
 */
export function histogram(
  values: ArrayLike<number>,
  bins: number | readonly number[],
): HistogramData {
  const finite: number[] = [];
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index]!;
    if (Number.isFinite(value)) finite.push(value);
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let sumSquares = 0;
  for (const value of finite) {
    if (value < min) min = value;
    if (value > max) max = value;
    sum += value;
    sumSquares += value * value;
  }
  if (finite.length === 0) {
    return { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [], bucket: [] };
  }
  let limits: number[];
  if (typeof bins === 'number') {
    const count = Math.max(1, Math.floor(bins));
    const width = (max - min) / count;
    limits =
      width === 0
        ? [max]
        : Array.from({ length: count }, (_, i) => (i === count - 1 ? max : min + width * (i + 1)));
  } else {
    limits = [...bins];
    if (limits.length === 0 || limits[limits.length - 1]! < max) limits.push(max);
  }
  const counts = new Array<number>(limits.length).fill(0);
  for (const value of finite) {
    // Binary search for the first limit ≥ value.
    let low = 0;
    let high = limits.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (limits[middle]! >= value) high = middle;
      else low = middle + 1;
    }
    counts[low]! += 1;
  }
  return { min, max, num: finite.length, sum, sumSquares, bucketLimit: limits, bucket: counts };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width, height and TensorBoard colour space (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) of a PNG. */
function pngHeader(png: Uint8Array): { width: number; height: number; colorspace: number } {
  const isPng =
    png.length >= 33 &&
    PNG_SIGNATURE.every((byte, i) => png[i] === byte) &&
    String.fromCharCode(png[12]!, png[13]!, png[14]!, png[15]!) === 'IHDR';
  if (!isPng) {
    throw new EventFileError(
      `addImage expects PNG bytes (a buffer starting with the PNG signature), got ${png.length} bytes that are not a PNG.`,
    );
  }
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const colorType = png[25]!;
  // PNG colour types: 0 grey, 2 RGB, 3 palette (shown as RGB), 4 grey+alpha, 6 RGBA.
  const colorspace = ({ 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType] ?? 3;
  return { width: view.getUint32(16), height: view.getUint32(20), colorspace };
}
