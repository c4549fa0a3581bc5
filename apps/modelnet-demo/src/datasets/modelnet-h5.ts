import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { Dataset as H5Dataset, File as H5File } from 'h5wasm/node';
import { z } from 'zod';
import { type AugmentInput, augmentSchema } from './augment.js';
import { PointCloudBase } from './base.js';
import { DataError } from './errors.js';
import { isFile, readLines, requireDirectory } from './files.js';
import { ensureH5, h5Api } from './h5.js';
import { acceptSnakeCase, type KeyAlias } from './options.js';
import type { PointCloudSample } from './types.js';

/** Options of {@link ModelNetH5}. */
export interface ModelNetH5Options {
  /** The folder holding `shape_names.txt`, `{train,test}_files.txt` and the `.h5` files. */
  dataRoot: string;
  /** Defaults to `'train'`. */
  split?: 'train' | 'test';
  /** Points per shape: the first `numPoints` stored. Defaults to all stored points. */
  numPoints?: number;
  /** Append the normal to each point (6 channels), from a `normal` dataset. Defaults to `false`. */
  useNormals?: boolean;
  /** Augmentations run by `get()`. Defaults to none. */
  augment?: AugmentInput;
  /** Seed of the augmentation stream. Defaults to `0`. */
  seed?: number;
  /** Read only the first `limit` shapes of the split (a quick slice). Defaults to all. */
  limit?: number;
}

const LAYOUT =
  'the official PointNet HDF5 layout (modelnet40_ply_hdf5_2048): shape_names.txt, ' +
  'train_files.txt and test_files.txt listing .h5 files (found by file name in the same ' +
  "folder), each .h5 holding 'data' float32 [N, P, 3] and 'label' [N, 1] (optionally 'normal' [N, P, 3])";

/**
 * ModelNet in the official PointNet HDF5 layout, read whole into memory through h5wasm.
 *
 * Reading is synchronous once h5wasm is initialised: `await ensureH5()` once (or use
 * {@link ModelNetH5.load}), then `new ModelNetH5(options)` or `DATASETS.build(cfg)`.
 */
export class ModelNetH5 extends PointCloudBase {
  readonly length: number;
  readonly classNames: readonly string[];
  readonly numPoints: number;
  readonly channels: number;
  readonly split: 'train' | 'test';
  /** The `.h5` files read, in order. */
  readonly files: readonly string[];
  /** Points per shape stored in the files. */
  readonly storedPoints: number;
  readonly #points: Float32Array;
  readonly #labels: Uint16Array;

  /** Initialises h5wasm, then reads the data set. */
  static async load(options: ModelNetH5Options): Promise<ModelNetH5> {
    await ensureH5();
    return new ModelNetH5(options);
  }

  constructor(options: ModelNetH5Options) {
    super(options.augment, options.seed);
    const h5 = h5Api();
    this.split = options.split ?? 'train';
    const root = requireDirectory(options.dataRoot, LAYOUT);
    this.classNames = readLines(join(root, 'shape_names.txt'), 'class list', LAYOUT);
    const listPath = join(root, `${this.split}_files.txt`);
    this.files = readLines(listPath, `${this.split} file list`, LAYOUT).map((entry) =>
      locate(root, entry, listPath),
    );
    const useNormals = options.useNormals ?? false;
    this.channels = useNormals ? 6 : 3;

    const opened: H5File[] = [];
    try {
      const parts = this.files.map((path) =>
        guard(path, () => {
          const file = openFile(h5, path);
          opened.push(file);
          return describeFile(h5, file, path, useNormals);
        }),
      );
      const stored = parts[0]!.points;
      const other = parts.find((part) => part.points !== stored);
      if (other !== undefined) {
        throw new DataError(
          'DATA_MALFORMED',
          `The ${this.split} files store different point counts: ${parts[0]!.path} has ${stored}, ${other.path} has ${other.points}.`,
          { path: other.path },
        );
      }
      this.storedPoints = stored;
      const numPoints = options.numPoints ?? stored;
      if (!Number.isInteger(numPoints) || numPoints < 1 || numPoints > stored) {
        throw new DataError(
          'DATA_INVALID_ARGUMENT',
          `numPoints ${numPoints} is not available: the files in ${root} store ${stored} points per shape. Use numPoints <= ${stored}.`,
          { path: root },
        );
      }
      this.numPoints = numPoints;
      const total = parts.reduce((sum, part) => sum + part.count, 0);
      this.length = Math.min(total, options.limit ?? total);
      const stride = numPoints * this.channels;
      this.#points = new Float32Array(this.length * stride);
      this.#labels = new Uint16Array(this.length);
      let offset = 0;
      for (const part of parts) {
        if (offset >= this.length) break;
        const take = Math.min(part.count, this.length - offset);
        const out = this.#points.subarray(offset * stride);
        guard(part.path, () => readPart(part, take, numPoints, out, useNormals));
        checkFinite(part, out.subarray(0, take * stride), numPoints, this.channels);
        const labels = guard(part.path, () => readLabels(part, take));
        for (let i = 0; i < take; i++) {
          const label = labels[i]!;
          if (!Number.isInteger(label) || label < 0 || label >= this.classNames.length) {
            throw new DataError(
              'DATA_MALFORMED',
              `Label ${label} of shape ${i} in ${part.path} is not a class index: shape_names.txt lists ${this.classNames.length} classes.`,
              { path: part.path },
            );
          }
          this.#labels[offset + i] = label;
        }
        offset += take;
      }
    } finally {
      for (const file of opened) file.close();
    }
  }

  protected readSample(index: number): PointCloudSample {
    const stride = this.numPoints * this.channels;
    return {
      points: this.#points.slice(index * stride, (index + 1) * stride),
      label: this.#labels[index]!,
    };
  }

  /** All labels, in order (for class counts and evaluation). */
  get labels(): Uint16Array {
    return this.#labels.slice();
  }
}

/** Resolves a list entry (`data/modelnet40_ply_hdf5_2048/ply_data_train0.h5`) inside `root`. */
function locate(root: string, entry: string, listPath: string): string {
  const candidates = [
    join(root, basename(entry)),
    isAbsolute(entry) ? entry : resolve(root, entry),
  ];
  const found = candidates.find(isFile);
  if (found === undefined) {
    throw new DataError(
      'DATA_NOT_FOUND',
      `${listPath} lists '${entry}', but ${candidates[0]} does not exist. Expected ${LAYOUT}.`,
      { path: candidates[0]! },
    );
  }
  return found;
}

interface FilePart {
  path: string;
  count: number;
  points: number;
  data: H5Dataset;
  dataChannels: number;
  normal: H5Dataset | undefined;
  label: H5Dataset;
}

/**
 * Runs `read`, turning h5wasm's own failures (often thrown strings) into a {@link DataError}.
 * The HDF5 library's diagnostics (`HDF5-DIAG: Error detected ...`, dozens of lines) arrive as the
 * thrown message (see `ensureH5`): the error says the innermost reason in one line and keeps the
 * whole stack as its `cause` (shown with `GORILLA_DEBUG=1`).
 */
function guard<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (DataError.isInstance(error)) throw error;
    const text = error instanceof Error ? error.message : String(error);
    throw new DataError('DATA_MALFORMED', `Cannot read ${path}: ${hdf5Reason(text)}.`, {
      path,
      cause: error,
    });
  }
}

/** The innermost reason of an HDF5 error stack (`#014: ... in H5O__prefix_deserialize(): <reason>`), or `text` itself. */
function hdf5Reason(text: string): string {
  if (!text.startsWith('HDF5-DIAG')) return text;
  const reasons = [...text.matchAll(/^\s*#\d+: .* in [\w.]+\(\): (.+)$/gm)].map(
    (match) => match[1],
  );
  const reason = reasons.at(-1);
  return reason === undefined
    ? 'the HDF5 library failed (the file is damaged?)'
    : `the HDF5 library says '${reason}' (the file is damaged: download or copy it again)`;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Where the HDF5 superblock of `path` is (the signature at 0, or after a user block at 512,
 * 1024, ...) and the file size its end-of-file address records, or `undefined` when `path` has no
 * HDF5 signature. `expectedSize` is `undefined` when the superblock is unknown or cut short.
 */
function readHdf5Header(
  path: string,
): { size: number; expectedSize: number | undefined } | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(8);
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      readSync(fd, bytes, 0, 8, offset);
      if (bytes.every((byte, i) => byte === HDF5_SIGNATURE[i])) {
        return { size, expectedSize: superblockEnd(fd, offset, size) };
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The end of the file as the superblock at `at` records it: base address + end-of-file address
 * (HDF5 file format spec, section II.A: versions 0 and 1 hold them after 16 (20) bytes of fields,
 * versions 2 and 3 after 4).
 */
function superblockEnd(fd: number, at: number, size: number): number | undefined {
  const head = Buffer.alloc(96);
  const got = readSync(fd, head, 0, Math.min(96, size - at), at);
  if (got < 16) return undefined;
  const version = head[8]!;
  let offsetSize: number;
  let fields: number; // where the base address starts
  let eofIndex: number; // which address after it is the end-of-file address
  if (version === 0 || version === 1) {
    offsetSize = head[13]!;
    fields = version === 0 ? 24 : 28;
    eofIndex = 2; // base, free-space info, end of file
  } else if (version === 2 || version === 3) {
    offsetSize = head[9]!;
    fields = 12;
    eofIndex = 2; // base, superblock extension, end of file
  } else return undefined;
  if (offsetSize !== 4 && offsetSize !== 8) return undefined;
  if (fields + (eofIndex + 1) * offsetSize > got) return undefined;
  const address = (index: number) => {
    const start = fields + index * offsetSize;
    return offsetSize === 8 ? head.readBigUInt64LE(start) : BigInt(head.readUInt32LE(start));
  };
  const undefinedAddress = offsetSize === 8 ? 0xffffffffffffffffn : 0xffffffffn;
  const base = address(0);
  const eof = address(eofIndex);
  if (eof === undefinedAddress || base === undefinedAddress) return undefined;
  const end = base + eof;
  return end > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(end);
}

function openFile(h5: ReturnType<typeof h5Api>, path: string): H5File {
  // h5wasm does not throw on a file that is not HDF5: it fails later with an opaque message.
  const header = readHdf5Header(path);
  if (header === undefined) {
    throw new DataError('DATA_MALFORMED', `${path} is not an HDF5 file (no HDF5 signature).`, {
      path,
    });
  }
  // A cut download: HDF5 itself would print pages of diagnostics and then fail with an opaque
  // message ("name not defined").
  if (header.expectedSize !== undefined && header.size < header.expectedSize) {
    throw new DataError(
      'DATA_MALFORMED',
      `${path}: truncated: ${header.size} of ${header.expectedSize} bytes. Download or copy it again.`,
      { path },
    );
  }
  try {
    return new h5.File(path, 'r');
  } catch (error) {
    throw new DataError('DATA_MALFORMED', `Cannot open ${path} as an HDF5 file.`, {
      path,
      cause: error,
    });
  }
}

function describeFile(
  h5: ReturnType<typeof h5Api>,
  file: H5File,
  path: string,
  useNormals: boolean,
): FilePart {
  const dataset = (name: string): H5Dataset | undefined => {
    const entity = file.get(name);
    return entity instanceof h5.Dataset ? entity : undefined;
  };
  const data = dataset('data');
  const label = dataset('label');
  if (data === undefined || label === undefined) {
    const name = data === undefined ? 'data' : 'label';
    if (file.keys().includes(name)) {
      throw new DataError(
        'DATA_MALFORMED',
        `${path}: '${name}' is listed but cannot be read as a data set: the file is damaged. Download or copy it again.`,
        { path },
      );
    }
    throw new DataError(
      'DATA_MALFORMED',
      `${path} has no '${data === undefined ? 'data' : 'label'}' dataset (it has: ${file.keys().join(', ') || 'nothing'}). Expected ${LAYOUT}.`,
      { path },
    );
  }
  const shape = data.shape ?? [];
  const [count, points, dataChannels] = shape;
  if (shape.length !== 3 || count === undefined || points === undefined || dataChannels! < 3) {
    throw new DataError(
      'DATA_MALFORMED',
      `'data' in ${path} has shape [${shape.join(', ')}]; expected [N, P, 3] (or [N, P, 6] with normals).`,
      { path },
    );
  }
  const labelShape = label.shape ?? [];
  if (labelShape[0] !== count || labelShape.slice(1).some((size) => size !== 1)) {
    throw new DataError(
      'DATA_MALFORMED',
      `'label' in ${path} has shape [${labelShape.join(', ')}]; expected [${count}, 1] to match 'data'.`,
      { path },
    );
  }
  let normal: H5Dataset | undefined;
  if (useNormals && dataChannels! < 6) {
    normal = dataset('normal');
    const normalShape = normal?.shape ?? [];
    if (normal === undefined) {
      throw new DataError(
        'DATA_INVALID_ARGUMENT',
        `useNormals is set, but ${path} has no 'normal' dataset (it has: ${file.keys().join(', ')}). Set useNormals: false for this copy.`,
        { path },
      );
    }
    if (normalShape[0] !== count || normalShape[1] !== points || normalShape[2] !== 3) {
      throw new DataError(
        'DATA_MALFORMED',
        `'normal' in ${path} has shape [${normalShape.join(', ')}]; expected [${count}, ${points}, 3].`,
        { path },
      );
    }
  }
  return { path, count, points, data, dataChannels: dataChannels!, normal, label };
}

/** Copies the first `take` shapes' first `numPoints` points into `out` ([take, numPoints, C]). */
function readPart(
  part: FilePart,
  take: number,
  numPoints: number,
  out: Float32Array,
  useNormals: boolean,
): void {
  const whole = take === part.count && numPoints === part.points;
  const read = (dataset: H5Dataset, channels: number): ArrayLike<number> => {
    const value = whole ? dataset.value : dataset.slice([[0, take], [0, numPoints], []]);
    if (!ArrayBuffer.isView(value)) {
      throw new DataError('DATA_MALFORMED', `${part.path}: '${dataset.path}' is not numeric.`, {
        path: part.path,
      });
    }
    const values = value as unknown as ArrayLike<number>;
    if (values.length !== take * numPoints * channels) {
      throw new DataError('DATA_MALFORMED', `${part.path}: '${dataset.path}' read short.`, {
        path: part.path,
      });
    }
    return values;
  };
  const data = read(part.data, part.dataChannels);
  const outChannels = useNormals ? 6 : 3;
  if (part.dataChannels === outChannels) {
    out.set(data as Float32Array, 0);
    return;
  }
  const rows = take * numPoints;
  const from = part.dataChannels;
  if (!useNormals || part.normal === undefined) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < outChannels; c++) out[r * outChannels + c] = data[r * from + c]!;
    }
    return;
  }
  const normal = read(part.normal, 3);
  for (let r = 0; r < rows; r++) {
    const o = r * 6;
    out[o] = data[r * from]!;
    out[o + 1] = data[r * from + 1]!;
    out[o + 2] = data[r * from + 2]!;
    out[o + 3] = normal[r * 3]!;
    out[o + 4] = normal[r * 3 + 1]!;
    out[o + 5] = normal[r * 3 + 2]!;
  }
}

/**
 * Refuses a non-finite value (NaN, ±Infinity) among the points read from `part`, naming the
 * dataset and the index in it: training on it would only produce a NaN loss.
 */
function checkFinite(
  part: FilePart,
  values: Float32Array,
  numPoints: number,
  channels: number,
): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i]!)) continue;
    const shape = Math.floor(i / (numPoints * channels));
    const point = Math.floor(i / channels) % numPoints;
    const channel = i % channels;
    const fromNormal = part.normal !== undefined && channel >= 3;
    const name = fromNormal ? 'normal' : 'data';
    const index = `[${shape}, ${point}, ${fromNormal ? channel - 3 : channel}]`;
    throw new DataError(
      'DATA_MALFORMED',
      `${part.path}: '${name}' holds a non-finite value (${values[i]}) at ${index}; point clouds must have finite coordinates.`,
      { path: part.path },
    );
  }
}

function readLabels(part: FilePart, take: number): ArrayLike<number> {
  const value = take === part.count ? part.label.value : part.label.slice([[0, take]]);
  if (!ArrayBuffer.isView(value) || value instanceof DataView) {
    throw new DataError('DATA_MALFORMED', `${part.path}: 'label' is not numeric.`, {
      path: part.path,
    });
  }
  // BigInt labels (int64 files) become numbers: class counts are small.
  const array = value as unknown as ArrayLike<number | bigint>;
  return Array.from({ length: take }, (_, i) => Number(array[i]));
}

/** Seed config names that are not just the snake_case of ours. */
export const SEED_KEY_ALIASES: Readonly<Record<string, KeyAlias>> = {
  root: { key: 'dataRoot' },
  num_point: { key: 'numPoints' },
  task: { key: 'split' },
};

/** The `DATASETS` schema of {@link ModelNetH5} (camelCase, snake_case or seed keys). */
export const modelNetH5Schema = acceptSnakeCase(
  z.strictObject({
    dataRoot: z.string().min(1),
    split: z.enum(['train', 'test']).default('train'),
    numPoints: z.number().int().positive().optional(),
    useNormals: z.boolean().default(false),
    augment: augmentSchema.optional(),
    seed: z.number().int().default(0),
    limit: z.number().int().positive().optional(),
  }),
  SEED_KEY_ALIASES,
);
