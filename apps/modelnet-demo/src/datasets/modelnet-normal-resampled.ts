import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type AugmentInput, augmentSchema } from './augment.js';
import { PointCloudBase } from './base.js';
import { DataError } from './errors.js';
import { isFile, readLines, requireDirectory } from './files.js';
import { SEED_KEY_ALIASES } from './modelnet-h5.js';
import { acceptSnakeCase } from './options.js';
import { parsePointRows } from './point-text.js';
import { farthestPointSample, gatherPoints, normalizeUnitSphere } from './sampling.js';
import type { PointCloudSample } from './types.js';

/** How {@link ModelNetNormalResampled} picks `numPoints` of a shape's stored points. */
export type Sampling = 'first' | 'fps';

/** Options of {@link ModelNetNormalResampled}. */
export interface ModelNetNormalResampledOptions {
  /** The `modelnet40_normal_resampled` folder. */
  dataRoot: string;
  /** Defaults to `'train'`. */
  split?: 'train' | 'test';
  /** Points per shape. Defaults to `1024`. */
  numPoints?: number;
  /** Append the normal to each point (6 channels). Defaults to `false`. */
  useNormals?: boolean;
  /** `'first'`: the first `numPoints` rows; `'fps'`: farthest-point sampling. Defaults to `'first'`. */
  sampling?: Sampling;
  /**
   * Which class set: 40 reads `modelnet40_*.txt`, 10 reads `modelnet10_*.txt`. Defaults to 40 when
   * `modelnet40_shape_names.txt` exists, else 10.
   */
  numCategory?: 10 | 40;
  /**
   * A folder for the sampled shapes: filled as samples are first read (or by
   * {@link ModelNetNormalResampled.prepare}), written once complete, and loaded by later runs.
   * Defaults to none: every `get()` reads and samples its text file.
   */
  cacheDir?: string;
  /** Augmentations run by `get()`. Defaults to none. */
  augment?: AugmentInput;
  /** Seed of the augmentation stream. Defaults to `0`. */
  seed?: number;
  /** Read only the first `limit` shapes of the split. Defaults to all. */
  limit?: number;
}

const LAYOUT =
  "gorilla3d's modelnet40_normal_resampled layout: modelnet40_shape_names.txt (or modelnet10_...), " +
  'modelnet40_train.txt / modelnet40_test.txt listing ids like airplane_0001, and one file ' +
  '<class>/<id>.txt per shape with rows x,y,z,nx,ny,nz';

const CACHE_VERSION = 1;

/**
 * ModelNet in gorilla3d's `modelnet40_normal_resampled` text layout (10,000 points with normals
 * per shape): first-N or farthest-point sampling, then unit-sphere normalisation of xyz.
 */
export class ModelNetNormalResampled extends PointCloudBase {
  readonly length: number;
  readonly classNames: readonly string[];
  readonly numPoints: number;
  readonly channels: number;
  readonly split: 'train' | 'test';
  readonly sampling: Sampling;
  readonly numCategory: 10 | 40;
  /** The shape ids of the split, in order (`airplane_0001`, ...). */
  readonly ids: readonly string[];
  readonly #root: string;
  readonly #labels: Uint16Array;
  readonly #cachePath: string | undefined;
  #memo: Float32Array | undefined;
  #filled: Uint8Array | undefined;
  #missing = 0;

  constructor(options: ModelNetNormalResampledOptions) {
    super(options.augment, options.seed);
    this.split = options.split ?? 'train';
    this.numPoints = options.numPoints ?? 1024;
    this.sampling = options.sampling ?? 'first';
    this.channels = options.useNormals ? 6 : 3;
    if (!Number.isInteger(this.numPoints) || this.numPoints < 1) {
      throw new DataError(
        'DATA_INVALID_ARGUMENT',
        `numPoints must be a positive integer, got ${this.numPoints}.`,
      );
    }
    this.#root = requireDirectory(options.dataRoot, LAYOUT);
    this.numCategory =
      options.numCategory ??
      (isFile(join(this.#root, 'modelnet40_shape_names.txt')) ||
      !isFile(join(this.#root, 'modelnet10_shape_names.txt'))
        ? 40
        : 10);
    const prefix = `modelnet${this.numCategory}`;
    this.classNames = readLines(
      join(this.#root, `${prefix}_shape_names.txt`),
      'class list',
      LAYOUT,
    );
    const listPath = join(this.#root, `${prefix}_${this.split}.txt`);
    const ids = readLines(listPath, `${this.split} split list`, LAYOUT);
    this.ids = ids.slice(0, options.limit ?? ids.length);
    this.length = this.ids.length;
    this.#labels = new Uint16Array(this.length);
    const classIndex = new Map(this.classNames.map((name, i) => [name, i]));
    this.ids.forEach((id, i) => {
      const label = classIndex.get(classOf(id));
      if (label === undefined) {
        throw new DataError(
          'DATA_MALFORMED',
          `${listPath} lists '${id}', whose class '${classOf(id)}' is not in ${prefix}_shape_names.txt.`,
          { path: listPath },
        );
      }
      this.#labels[i] = label;
    });
    if (options.cacheDir !== undefined) {
      const name = `${prefix}_${this.split}_${this.length}x${this.numPoints}x${this.channels}_${this.sampling}`;
      this.#cachePath = join(resolve(options.cacheDir), `${name}.f32`);
      this.#memo = this.#loadCache();
      if (this.#memo === undefined) {
        this.#memo = new Float32Array(this.length * this.numPoints * this.channels);
        this.#filled = new Uint8Array(this.length);
        this.#missing = this.length;
      }
    }
    if (!this.cached) this.#checkListing(listPath);
  }

  /**
   * Every listed shape must exist when the data set is built, not when an epoch reaches it: one
   * stat per file (12,311 files for ModelNet40 take well under a second). A complete cache
   * needs none.
   */
  #checkListing(listPath: string): void {
    const missing = this.ids.map((_, i) => this.pathOf(i)).filter((path) => !isFile(path));
    if (missing.length > 0) {
      const shown = missing.slice(0, 5).join(', ');
      const more = missing.length > 5 ? `, and ${missing.length - 5} more` : '';
      throw new DataError(
        'DATA_NOT_FOUND',
        `${missing.length} of ${this.length} shape files listed in ${listPath} are missing: ${shown}${more}. Expected ${LAYOUT}.`,
        { path: missing[0]! },
      );
    }
  }

  /** The cache file, when `cacheDir` is set. */
  get cachePath(): string | undefined {
    return this.#cachePath;
  }

  /** Whether every sample is in memory (always false without `cacheDir`). */
  get cached(): boolean {
    return this.#memo !== undefined && this.#missing === 0;
  }

  /** The text file of sample `index`. */
  pathOf(index: number): string {
    const id = this.ids[index];
    if (id === undefined) throw new RangeError(`Index ${index} is out of range.`);
    return join(this.#root, classOf(id), `${id}.txt`);
  }

  /**
   * Reads and samples every shape not yet cached, then writes the cache (needs `cacheDir`).
   * Yields to the event loop between shapes so progress can be shown.
   */
  async prepare(onProgress?: (done: number, total: number) => void): Promise<this> {
    if (this.#memo === undefined) {
      throw new DataError('DATA_INVALID_ARGUMENT', 'prepare() needs the cacheDir option.');
    }
    for (let i = 0; i < this.length; i++) {
      if (this.#filled !== undefined && this.#filled[i] === 0) this.#sample(i);
      if (i % 64 === 63 || i === this.length - 1) {
        onProgress?.(i + 1, this.length);
        await new Promise((resolveTick) => setImmediate(resolveTick));
      }
    }
    return this;
  }

  protected readSample(index: number): PointCloudSample {
    const stride = this.numPoints * this.channels;
    const label = this.#labels[index]!;
    if (this.#memo === undefined) return { points: this.#sample(index), label };
    if (this.#filled !== undefined && this.#filled[index] === 0) this.#sample(index);
    return { points: this.#memo.slice(index * stride, (index + 1) * stride), label };
  }

  /** Reads, samples and normalises shape `index`; stores it when caching. */
  #sample(index: number): Float32Array {
    const path = this.pathOf(index);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new DataError(
        'DATA_NOT_FOUND',
        `Missing shape file ${path} (listed in modelnet${this.numCategory}_${this.split}.txt). Expected ${LAYOUT}.`,
        { path, cause: error },
      );
    }
    const wanted = this.sampling === 'first' ? this.numPoints : Number.POSITIVE_INFINITY;
    let rows: ReturnType<typeof parsePointRows>;
    try {
      rows = parsePointRows(bytes, wanted);
    } catch (error) {
      throw new DataError('DATA_MALFORMED', `${path}: ${(error as Error).message}.`, {
        path,
        cause: error,
      });
    }
    if (rows.columns < this.channels) {
      throw new DataError(
        'DATA_MALFORMED',
        `${path} has ${rows.columns} values per row; ${this.channels} are needed${this.channels === 6 ? ' (useNormals)' : ''}.`,
        { path },
      );
    }
    if (rows.rows < this.numPoints) {
      throw new DataError(
        'DATA_INVALID_ARGUMENT',
        `${path} holds ${rows.rows} points, fewer than numPoints ${this.numPoints}.`,
        { path },
      );
    }
    const picked =
      this.sampling === 'fps'
        ? gatherPoints(
            rows.values,
            rows.columns,
            farthestPointSample(rows.values, rows.columns, this.numPoints),
          )
        : rows.values.subarray(0, this.numPoints * rows.columns);
    const points = new Float32Array(this.numPoints * this.channels);
    for (let p = 0; p < this.numPoints; p++) {
      for (let c = 0; c < this.channels; c++) {
        points[p * this.channels + c] = picked[p * rows.columns + c]!;
      }
    }
    normalizeUnitSphere(points, this.channels);
    if (this.#memo !== undefined && this.#filled !== undefined && this.#filled[index] === 0) {
      this.#memo.set(points, index * this.numPoints * this.channels);
      this.#filled[index] = 1;
      this.#missing--;
      if (this.#missing === 0) this.#writeCache();
    }
    return points;
  }

  #loadCache(): Float32Array | undefined {
    const path = this.#cachePath!;
    if (!isFile(path) || !isFile(`${path}.json`)) return undefined;
    try {
      const header = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as Record<string, unknown>;
      if (
        header.version !== CACHE_VERSION ||
        header.first !== this.ids[0] ||
        header.last !== this.ids.at(-1)
      ) {
        return undefined;
      }
      const bytes = readFileSync(path);
      const expected = this.length * this.numPoints * this.channels;
      if (bytes.byteLength !== expected * 4) return undefined;
      const values = new Float32Array(expected);
      new Uint8Array(values.buffer).set(bytes);
      return values;
    } catch {
      return undefined; // an unreadable cache is rebuilt
    }
  }

  #writeCache(): void {
    const path = this.#cachePath!;
    const memo = this.#memo!;
    mkdirSync(join(path, '..'), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, new Uint8Array(memo.buffer, memo.byteOffset, memo.byteLength));
    renameSync(temporary, path);
    const header = {
      version: CACHE_VERSION,
      length: this.length,
      numPoints: this.numPoints,
      channels: this.channels,
      sampling: this.sampling,
      first: this.ids[0],
      last: this.ids.at(-1),
    };
    writeFileSync(`${path}.json`, `${JSON.stringify(header, null, 2)}\n`);
    this.#filled = undefined;
  }
}

/** `night_stand_0001` → `night_stand`. */
function classOf(id: string): string {
  const cut = id.lastIndexOf('_');
  return cut === -1 ? id : id.slice(0, cut);
}

/** The `DATASETS` schema of {@link ModelNetNormalResampled} (camelCase, snake_case or seed keys). */
export const modelNetNormalResampledSchema = acceptSnakeCase(
  z.strictObject({
    dataRoot: z.string().min(1),
    split: z.enum(['train', 'test']).default('train'),
    numPoints: z.number().int().positive().default(1024),
    useNormals: z.boolean().default(false),
    sampling: z.enum(['first', 'fps']).default('first'),
    numCategory: z.union([z.literal(10), z.literal(40)]).optional(),
    cacheDir: z.string().min(1).optional(),
    augment: augmentSchema.optional(),
    seed: z.number().int().default(0),
    limit: z.number().int().positive().optional(),
  }),
  {
    ...SEED_KEY_ALIASES,
    use_uniform_sample: {
      key: 'sampling',
      value: (value) => (typeof value === 'boolean' ? (value ? 'fps' : 'first') : value),
    },
  },
);
