import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, type CheckpointErrorCode } from '../errors.js';
import type { Module } from '../nn/module.js';
import type { JsonValue, LoadableOptimizerState, Optimizer } from '../optim/optimizer.js';
import { getRandomState, setRandomState } from '../random/seed.js';
import type { LrScheduler, SchedulerState } from '../scheduler/scheduler.js';
import { currentRank } from '../utils/rank.js';
import { toEntry, toTensor } from './convert.js';
import { type KeyMapOptions, keyMapHint, mapKeys } from './key-map.js';
import {
  isLegacyPickle,
  isZipArchive,
  PTH_TO_SAFETENSORS_COMMAND,
  readPytorchArchive,
} from './pth.js';
import {
  encodeSafetensors,
  parseSafetensors,
  type SafetensorsEntry,
  SafetensorsFormatError,
  type SafetensorsTensor,
} from './safetensors.js';

/** The `format` metadata value of the files this version writes. */
export const CHECKPOINT_FORMAT = 'gorilla-ts/1';
/** Prefix of the optimizer's slot tensors in a checkpoint (`optimizer.fc1.weight.exp_avg`). */
export const OPTIMIZER_PREFIX = 'optimizer.';

/** Anything with named parameters and buffers: a {@link Module}. */
type Model = Pick<Module<never, unknown>, 'stateDict' | 'loadStateDict'>;

/** Options of {@link saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /** The model: its parameters and buffers are saved by dotted name. */
  model: Model;
  /** Where to write (directories are created). Conventionally `*.safetensors`. */
  filename: string;
  /** Its slots are saved as tensors `optimizer.<slot>`, the rest as JSON metadata. */
  optimizer?: Optimizer;
  /** Its state is saved as JSON metadata. */
  scheduler?: LrScheduler;
  /** JSON-able run information (`{ epoch, iter }`), returned by {@link resume}. Not modified. */
  meta?: Record<string, unknown>;
  /** The run's config, for the record. */
  config?: unknown;
  /** Any other JSON-able state to restore, e.g. `{ loader: loader.stateDict() }` (the sampler position). */
  extra?: unknown;
  /** The process's rank; only rank 0 writes. Defaults to the `RANK` of the process group. */
  rank?: number;
}

/**
 * Writes one checkpoint as a single safetensors file: the model's parameters and buffers by name
 * and the optimizer's slots under `optimizer.<slot>`, with `__metadata__` holding JSON for
 * `meta`, the optimizer's hyperparameters and counters, the scheduler's state, the package random
 * generator's state, `config`, `extra`, the format (`gorilla-ts/1`) and package versions.
 *
 * The write is atomic: a temporary file in the same directory, fsync, then rename, so a crash
 * never leaves a half-written checkpoint under `filename`. Only rank 0 writes; other ranks return
 * `undefined` at once.
 *
 * @returns the absolute path written, or `undefined` on ranks other than 0.
 * @throws {@link CheckpointError} `CHECKPOINT_WRITE_FAILED` for a value that is not JSON-able or an
 *   I/O error (the temporary file is removed).
 */
export async function saveCheckpoint(options: SaveCheckpointOptions): Promise<string | undefined> {
  const { model, optimizer, scheduler } = options;
  if ((options.rank ?? currentRank()) !== 0) return undefined;
  const filename = resolve(options.filename);
  const tensors: Array<[string, tf.Tensor]> = [...model.stateDict()];
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    savedAt: new Date().toISOString(),
    versions: JSON.stringify(versions()),
    rng: JSON.stringify(getRandomState()),
    meta: toJson(filename, 'meta', options.meta ?? {}),
  };
  if (optimizer !== undefined) {
    const { slots, ...rest } = optimizer.stateDict();
    metadata.optimizer = toJson(filename, 'the optimizer state', rest);
    for (const [name, tensor] of slots) tensors.push([OPTIMIZER_PREFIX + name, tensor]);
  }
  if (scheduler !== undefined)
    metadata.scheduler = toJson(filename, 'the scheduler state', scheduler.stateDict());
  if (options.config !== undefined) metadata.config = toJson(filename, 'config', options.config);
  if (options.extra !== undefined) metadata.extra = toJson(filename, 'extra', options.extra);

  const entries: Array<[string, SafetensorsEntry]> = [];
  for (const [name, tensor] of tensors) entries.push([name, await toEntry(filename, name, tensor)]);
  const { head, chunks } = encodeSafetensors(entries, metadata);

  await writeFileAtomically(filename, [head, ...chunks], 'checkpoint');
  return filename;
}

/**
 * Writes `chunks` to `filename` atomically: a temporary file in the same directory
 * ({@link temporaryName}), fsync, rename, then fsync of the directory, so a crash never leaves a
 * half-written file under `filename` and a kill leaves at most a temporary that
 * {@link removeStaleTemporaries} recognises. The fault point `checkpoint-after-temp-write` sits
 * between the fsync and the rename.
 *
 * @param what - how the error names the file (`Cannot write checkpoint '...'`).
 * @throws {@link CheckpointError} `CHECKPOINT_WRITE_FAILED` (the temporary file is removed).
 * @internal The one atomic writer of this package (checkpoints, PyTorch exports).
 */
export async function writeFileAtomically(
  filename: string,
  chunks: readonly Uint8Array[],
  what: string,
): Promise<void> {
  const directory = dirname(filename);
  const temporary = join(directory, temporaryName(basename(filename)));
  try {
    await mkdir(directory, { recursive: true });
    const handle = await open(temporary, 'w');
    try {
      for (const chunk of chunks) await writeAll(handle, chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await injectFault('checkpoint-after-temp-write');
    await rename(temporary, filename);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new CheckpointError(
      'CHECKPOINT_WRITE_FAILED',
      filename,
      `Cannot write ${what} '${filename}': ${(error as Error).message}`,
      { cause: error },
    );
  }
  await syncDirectory(directory);
}

/**
 * The name of a temporary file that will be renamed to `name` in the same directory:
 * `.<name>.<pid>.<8 hex digits>.tmp`. {@link removeStaleTemporaries} recognises exactly these.
 *
 * @internal Shared by every atomic write of checkpoints (one naming, one clean-up).
 */
export function temporaryName(name: string): string {
  return `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

const TEMPORARY = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Options of {@link removeStaleTemporaries}. */
export interface RemoveStaleTemporariesOptions {
  /** The process's rank; only rank 0 (the only writer) removes anything. Defaults to the `RANK` of the process group. */
  rank?: number;
  /** Receives one line per file removed. Defaults to none. */
  logger?: (line: string) => void;
}

/**
 * Removes the temporary files an interrupted {@link saveCheckpoint} left in `directory`
 * (`.<name>.<pid>.<hex>.tmp`, e.g. after a kill between the write and the rename). A temporary
 * is removed when the process that wrote it is gone, or when it carries this process's own pid
 * (a previous process that had the same pid, as in a restarted container): call it at start or on
 * resume, before this process writes checkpoints into `directory`. A temporary of a live process
 * (another job writing to the same folder) is kept, and so is every file not named like ours.
 * Only rank 0 removes anything: it is the only writer, and pids of other machines sharing the
 * folder mean nothing here. A missing directory is not an error. Synchronous (one directory
 * listing), so that a caller's start-up has no extra await point.
 *
 * @returns the absolute paths removed.
 */
export function removeStaleTemporaries(
  directory: string,
  options: RemoveStaleTemporariesOptions = {},
): string[] {
  if ((options.rank ?? currentRank()) !== 0) return [];
  const folder = resolve(directory);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (match === null) continue;
    const pid = Number(match[2]);
    if (pid !== process.pid && isAlive(pid)) continue;
    const path = join(folder, name);
    try {
      rmSync(path, { force: true });
      removed.push(path);
      options.logger?.(`Removed ${path}, a checkpoint write interrupted in an earlier run`);
    } catch {
      // Not ours to remove after all (permissions): leave it.
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Test-only fault injection: when the `GORILLA_FAULT` environment variable is `<point>` or
 * `<point>:<n>`, the process kills itself with SIGKILL the first (or n-th) time it reaches
 * `point` (no clean-up runs, as with a power cut or the OOM killer). Points:
 * `checkpoint-after-temp-write` (inside {@link saveCheckpoint}, after the temporary file is
 * written and fsynced, before the rename). Never set it outside tests.
 */
async function injectFault(point: string): Promise<void> {
  const fault = process.env.GORILLA_FAULT;
  if (fault === undefined || fault.split(':')[0] !== point) return;
  const times = Number(fault.split(':')[1] ?? 1);
  faultCounts.set(point, (faultCounts.get(point) ?? 0) + 1);
  if (faultCounts.get(point) !== times) return;
  process.kill(process.pid, 'SIGKILL');
  await new Promise(() => undefined);
}
const faultCounts = new Map<string, number>();

/** Options of {@link resume}. */
export interface ResumeOptions {
  /** The model to load the weights into. */
  model: Model;
  /** The checkpoint file. */
  filename: string;
  /** Restores its hyperparameters, counters and slots when the file has them. */
  optimizer?: Optimizer;
  /** Restores its state when the file has it. */
  scheduler?: LrScheduler;
  /** Require the model's names to match exactly. Shapes must always match. Defaults to `true`. */
  strict?: boolean;
  /** Restore the package random generator (data order, dropout) from the file. Defaults to `true`. */
  restoreRandomState?: boolean;
  /** Receives `Loading checkpoint from <file>`. Defaults to `console.info`. */
  logger?: (line: string) => void;
}

/** What {@link resume} and {@link loadCheckpoint} found. */
export interface ResumeResult {
  /** The `meta` given to {@link saveCheckpoint} (`{}` when the file has none). */
  meta: Record<string, JsonValue>;
  /** The saved config, if any. */
  config: JsonValue | undefined;
  /** The saved `extra` state (e.g. the loader position), if any. */
  extra: JsonValue | undefined;
  /** Package versions that wrote the file, if recorded. */
  versions: Record<string, string> | undefined;
  /** The ISO time of the save, if recorded. */
  savedAt: string | undefined;
  /** The model's names the file lacked (only possible with `strict: false`). */
  missing: string[];
  /** Names in the file the model lacks (only possible with `strict: false`). */
  unexpected: string[];
  /** What was restored besides the weights. */
  restored: { optimizer: boolean; scheduler: boolean; randomState: boolean };
}

/**
 * Restores everything a checkpoint holds: the model's weights and buffers, then, when given and
 * present in the file, the optimizer (hyperparameters, step counts, every slot), the scheduler,
 * and the package random generator. Everything is checked before anything is assigned; every
 * missing, unexpected and wrong-shaped name is reported at once.
 *
 * @returns the saved `meta` (`{ epoch, iter, ... }`) with the rest of the metadata.
 * @throws {@link CheckpointError}: `CHECKPOINT_NOT_FOUND`, `CHECKPOINT_EMPTY`,
 *   `CHECKPOINT_TRUNCATED`, `CHECKPOINT_INVALID` (not a safetensors file), `CHECKPOINT_UNSUPPORTED`
 *   (a newer format or an unknown dtype), `CHECKPOINT_MISMATCH` (with `missing`, `unexpected` and
 *   `wrongShape`).
 */
export async function resume(options: ResumeOptions): Promise<ResumeResult> {
  const { model, optimizer, scheduler, strict = true, restoreRandomState = true } = options;
  const filename = resolve(options.filename);
  (options.logger ?? ((line: string) => console.info(line)))(`Loading checkpoint from ${filename}`);
  const file = await readCheckpointFile(filename);
  const { metadata } = file;
  const modelTensors = new Map<string, SafetensorsTensor>();
  const slotTensors = new Map<string, SafetensorsTensor>();
  for (const [name, tensor] of file.tensors) {
    if (name.startsWith(OPTIMIZER_PREFIX))
      slotTensors.set(name.slice(OPTIMIZER_PREFIX.length), tensor);
    else modelTensors.set(name, tensor);
  }
  const optimizerJson =
    optimizer === undefined ? undefined : parseJson(filename, metadata, 'optimizer');
  const schedulerJson =
    scheduler === undefined ? undefined : parseJson(filename, metadata, 'scheduler');
  const diff = compareState(model, modelTensors);
  const problems = describeDiff(diff, strict);
  const loaded = toTensors(filename, model, modelTensors);
  let slots: Map<string, tf.Tensor> | undefined;
  try {
    let optimizerState: LoadableOptimizerState | undefined;
    if (optimizer !== undefined && optimizerJson !== undefined) {
      slots = new Map(
        [...slotTensors].map(([name, tensor]) => [
          name,
          toTensor(filename, OPTIMIZER_PREFIX + name, tensor, 'float32'),
        ]),
      );
      optimizerState = { ...(optimizerJson as object), slots } as unknown as LoadableOptimizerState;
      problems.push(
        ...optimizer.checkStateDict(optimizerState).map((problem) => `optimizer: ${problem}`),
      );
    }
    if (scheduler !== undefined && schedulerJson !== undefined) {
      problems.push(
        ...scheduler
          .checkStateDict(schedulerJson as SchedulerState)
          .map((problem) => `scheduler: ${problem}`),
      );
    }
    if (problems.length > 0) {
      throw new CheckpointError(
        'CHECKPOINT_MISMATCH',
        filename,
        `Checkpoint '${filename}' does not fit:\n  - ${problems.join('\n  - ')}`,
        {
          missing: strict ? diff.missing : [],
          unexpected: strict ? diff.unexpected : [],
          wrongShape: diff.wrongShape,
        },
      );
    }
    model.loadStateDict(loaded, { strict });
    if (optimizerState !== undefined) optimizer!.loadStateDict(optimizerState);
    if (schedulerJson !== undefined) scheduler!.loadStateDict(schedulerJson as SchedulerState);
  } finally {
    tf.dispose([...loaded.values(), ...(slots?.values() ?? [])]);
  }
  let randomState = false;
  if (restoreRandomState && metadata.rng !== undefined) {
    setRandomState(parseJson(filename, metadata, 'rng') as never);
    randomState = true;
  }
  return {
    ...describeMetadata(filename, metadata),
    missing: diff.missing,
    unexpected: diff.unexpected,
    restored: {
      optimizer: optimizerJson !== undefined,
      scheduler: schedulerJson !== undefined,
      randomState,
    },
  };
}

/** Options of {@link loadCheckpoint}: strictness and how the file's names map to the model's. */
export interface LoadCheckpointOptions extends KeyMapOptions {
  /** Require the names to match exactly (optimizer slots are ignored). Defaults to `true`. */
  strict?: boolean;
}

/**
 * Loads only the weights and buffers of a checkpoint into `model` (for evaluation or
 * fine-tuning). Reads gorilla-ts checkpoints, any safetensors file (e.g. one PyTorch wrote with
 * `safetensors.torch.save_file(model.state_dict(), ...)`; int64 and float16/bfloat16/float64
 * tensors are converted), and PyTorch `.pth` zip archives of a plain state dict, which are read
 * as data without running their pickle code (anything else in them is refused with
 * `CHECKPOINT_UNSAFE`). `stripPrefix: 'module.'` and `rename` map the file's names to the
 * model's; every missing, unexpected and wrongly shaped name is reported at once.
 *
 * @throws {@link CheckpointError} as {@link resume}.
 */
export async function loadCheckpoint(
  model: Model,
  filename: string,
  options: LoadCheckpointOptions = {},
): Promise<ResumeResult> {
  const { strict = true } = options;
  const path = resolve(filename);
  const file = await readCheckpointFile(path);
  const modelTensors = mapKeys(
    path,
    new Map([...file.tensors].filter(([name]) => !name.startsWith(OPTIMIZER_PREFIX))),
    options,
  );
  const diff = compareState(model, modelTensors);
  const problems = describeDiff(diff, strict);
  if (problems.length > 0) {
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      path,
      `Checkpoint '${path}' does not fit:\n  - ${problems.join('\n  - ')}${keyMapHint(diff.missing, diff.unexpected)}`,
      {
        missing: strict ? diff.missing : [],
        unexpected: strict ? diff.unexpected : [],
        wrongShape: diff.wrongShape,
      },
    );
  }
  const loaded = toTensors(path, model, modelTensors);
  try {
    model.loadStateDict(loaded, { strict });
  } finally {
    tf.dispose([...loaded.values()]);
  }
  return {
    ...describeMetadata(path, file.metadata),
    missing: diff.missing,
    unexpected: diff.unexpected,
    restored: { optimizer: false, scheduler: false, randomState: false },
  };
}

/** A checkpoint read into memory: every tensor (yours to dispose) and the raw metadata strings. */
export interface CheckpointContents {
  tensors: Map<string, tf.Tensor>;
  metadata: Record<string, string>;
}

/**
 * Reads any safetensors file or PyTorch `.pth` state dict (as data, see {@link loadCheckpoint}):
 * its tensors (float types as float32, integer types as int32, BOOL as bool) and its
 * `__metadata__` strings (`{ format: 'pytorch', source: 'pth' }` for a `.pth`).
 *
 * @throws {@link CheckpointError} for a missing, empty, truncated or foreign file.
 */
export async function readCheckpoint(filename: string): Promise<CheckpointContents> {
  const path = resolve(filename);
  const file = await readCheckpointFile(path);
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, tensor] of file.tensors) tensors.set(name, toTensor(path, name, tensor));
  return { tensors, metadata: file.metadata };
}

/** Reads a checkpoint's raw tensors and metadata: safetensors, or a PyTorch `.pth` archive. @internal */
export async function readCheckpointFile(filename: string): Promise<{
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}> {
  let buffer: Uint8Array;
  try {
    buffer = await readFile(filename);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new CheckpointError(
        'CHECKPOINT_NOT_FOUND',
        filename,
        `Cannot load checkpoint '${filename}': no such file.`,
        { cause: error },
      );
    }
    throw new CheckpointError(
      'CHECKPOINT_INVALID',
      filename,
      `Cannot load checkpoint '${filename}': ${(error as Error).message}.`,
      { cause: error },
    );
  }
  if (isZipArchive(buffer)) return readPytorchArchive(filename, buffer);
  if (isLegacyPickle(buffer)) {
    throw new CheckpointError(
      'CHECKPOINT_UNSUPPORTED',
      filename,
      `Cannot load checkpoint '${filename}': it is a bare pickle (PyTorch's pre-1.6 .pth format), which cannot be read without running its code. Convert it with PyTorch:\n  ${PTH_TO_SAFETENSORS_COMMAND}`,
    );
  }
  let parsed: ReturnType<typeof parseSafetensors>;
  try {
    parsed = parseSafetensors(buffer);
  } catch (error) {
    if (!(error instanceof SafetensorsFormatError)) throw error;
    const codes: Record<SafetensorsFormatError['kind'], CheckpointErrorCode> = {
      empty: 'CHECKPOINT_EMPTY',
      truncated: 'CHECKPOINT_TRUNCATED',
      invalid: 'CHECKPOINT_INVALID',
      unsupported: 'CHECKPOINT_UNSUPPORTED',
    };
    throw new CheckpointError(
      codes[error.kind],
      filename,
      `Cannot load checkpoint '${filename}': ${error.message}.`,
    );
  }
  const format = parsed.metadata.format;
  if (format?.startsWith('gorilla-ts/') && format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      'CHECKPOINT_UNSUPPORTED',
      filename,
      `Cannot load checkpoint '${filename}': it has format ${format}; this version reads ${CHECKPOINT_FORMAT} (upgrade @gorilla-ts/train).`,
    );
  }
  return parsed;
}

interface StateDiff {
  missing: string[];
  unexpected: string[];
  wrongShape: string[];
}

function compareState(model: Model, tensors: ReadonlyMap<string, SafetensorsTensor>): StateDiff {
  const own = model.stateDict();
  const diff: StateDiff = { missing: [], unexpected: [], wrongShape: [] };
  for (const [name, variable] of own) {
    const tensor = tensors.get(name);
    if (tensor === undefined) diff.missing.push(name);
    else if (tensor.shape.join(',') !== variable.shape.join(',')) {
      diff.wrongShape.push(
        `${name}: expected [${variable.shape.join(', ')}], got [${tensor.shape.join(', ')}]`,
      );
    }
  }
  for (const name of tensors.keys()) if (!own.has(name)) diff.unexpected.push(name);
  return diff;
}

function describeDiff(diff: StateDiff, strict: boolean): string[] {
  return [
    ...diff.wrongShape.map((line) => `wrong shape ${line}`),
    ...(strict ? diff.missing.map((name) => `missing ${name}`) : []),
    ...(strict ? diff.unexpected.map((name) => `unexpected ${name}`) : []),
  ];
}

function toTensors(
  filename: string,
  model: Model,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
): Map<string, tf.Tensor> {
  const own = model.stateDict();
  const result = new Map<string, tf.Tensor>();
  for (const [name, tensor] of tensors) {
    const target = own.get(name);
    if (target !== undefined) result.set(name, toTensor(filename, name, tensor, target.dtype));
  }
  return result;
}

function describeMetadata(filename: string, metadata: Record<string, string>) {
  const meta = parseJson(filename, metadata, 'meta');
  return {
    meta: (typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? meta : {}) as Record<
      string,
      JsonValue
    >,
    config: parseJson(filename, metadata, 'config'),
    extra: parseJson(filename, metadata, 'extra'),
    versions: parseJson(filename, metadata, 'versions') as Record<string, string> | undefined,
    savedAt: metadata.savedAt,
  };
}

function parseJson(
  filename: string,
  metadata: Record<string, string>,
  key: string,
): JsonValue | undefined {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new CheckpointError(
      'CHECKPOINT_INVALID',
      filename,
      `Cannot load checkpoint '${filename}': its '${key}' metadata is not JSON.`,
      { cause: error },
    );
  }
}

function toJson(filename: string, what: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new CheckpointError(
      'CHECKPOINT_WRITE_FAILED',
      filename,
      `Cannot write checkpoint '${filename}': ${what} is not JSON-serialisable (${(error as Error).message}).`,
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new CheckpointError(
      'CHECKPOINT_WRITE_FAILED',
      filename,
      `Cannot write checkpoint '${filename}': ${what} is not JSON-serialisable.`,
    );
  }
  return text;
}

function versions(): Record<string, string> {
  const result: Record<string, string> = {
    '@tensorflow/tfjs-core': tf.version_core,
    backend: tf.getBackend() ?? 'none',
    node: process.version,
  };
  try {
    const require = createRequire(import.meta.url);
    result['@gorilla-ts/train'] = (require('../../package.json') as { version: string }).version;
  } catch {
    // Not fatal: the version is informative only.
  }
  return result;
}

async function writeAll(
  handle: import('node:fs/promises').FileHandle,
  bytes: Uint8Array,
): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

/** Makes the rename durable where the platform allows fsync on a directory. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows and some file systems cannot fsync a directory; the rename itself is still atomic.
  }
}
