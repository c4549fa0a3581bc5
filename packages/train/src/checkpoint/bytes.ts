import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, type CheckpointErrorCode, StateMismatchError } from '../errors.js';
import type { Module } from '../nn/module.js';
import type { JsonValue } from '../optim/optimizer.js';
import { toTensor } from './convert.js';
import { parseSafetensors, SafetensorsFormatError } from './safetensors.js';

/**
 * Checkpoints read from bytes already in memory (a browser `File`, a `fetch` response, a Node
 * `Buffer`): the part of checkpoint loading that needs no file system, for inference anywhere.
 * This module imports nothing Node-only; `@gorilla-ts/train/nn` exports it.
 */

/** The checkpoint format this version reads (the `format` metadata value). */
const FORMAT = 'gorilla-ts/1';
const OPTIMIZER = 'optimizer.';

/** A checkpoint parsed from bytes: see {@link readCheckpointBytes}. */
export interface CheckpointBytesContents {
  /** Every tensor in the file (optimizer slots included), yours to dispose. */
  tensors: Map<string, tf.Tensor>;
  /** The raw `__metadata__` strings. */
  metadata: Record<string, string>;
  /** The parsed `meta` (`{ epoch, iter, accuracy, ... }`), `{}` when absent. */
  meta: Record<string, JsonValue>;
  /** The parsed `config` the run was trained with, if saved. */
  config: JsonValue | undefined;
}

/** Options of {@link loadCheckpointBytes}. */
export interface LoadCheckpointBytesOptions {
  /** The name used in error messages (a file name or URL). Defaults to `'checkpoint'`. */
  name?: string;
  /** Require the names to match exactly (optimizer slots are ignored). Defaults to `true`. */
  strict?: boolean;
}

/** What {@link loadCheckpointBytes} found. */
export interface LoadCheckpointBytesResult {
  /** The parsed `meta`, `{}` when absent. */
  meta: Record<string, JsonValue>;
  /** The parsed `config`, if saved. */
  config: JsonValue | undefined;
  /** The raw `__metadata__` strings. */
  metadata: Record<string, string>;
  /** The model's names the file lacked (only possible with `strict: false`). */
  missing: string[];
  /** Names in the file the model lacks (only possible with `strict: false`). */
  unexpected: string[];
}

/**
 * Parses a safetensors checkpoint held in memory: its tensors (float types as float32, integer
 * types as int32, BOOL as bool) and its metadata, with `meta` and `config` decoded.
 *
 * @throws {@link CheckpointError} `CHECKPOINT_EMPTY`, `CHECKPOINT_TRUNCATED`, `CHECKPOINT_INVALID`
 *   or `CHECKPOINT_UNSUPPORTED`, naming `name`.
 */
export function readCheckpointBytes(
  bytes: Uint8Array | ArrayBuffer,
  name = 'checkpoint',
): CheckpointBytesContents {
  const { tensors: raw, metadata, meta, config } = parse(bytes, name);
  const tensors = new Map<string, tf.Tensor>();
  for (const [key, tensor] of raw) tensors.set(key, toTensor(name, key, tensor));
  return { tensors, metadata, meta, config };
}

/**
 * Loads the weights and buffers of a checkpoint held in memory into `model` (optimizer slots
 * are skipped). Every missing, unexpected and wrong-shaped name is reported at once and nothing
 * is assigned unless all fit.
 *
 * @throws {@link CheckpointError} as {@link readCheckpointBytes}, or `CHECKPOINT_MISMATCH` with
 *   `missing`, `unexpected` and `wrongShape`.
 */
export function loadCheckpointBytes(
  model: Pick<Module<never, unknown>, 'stateDict' | 'loadStateDict'>,
  bytes: Uint8Array | ArrayBuffer,
  options: LoadCheckpointBytesOptions = {},
): LoadCheckpointBytesResult {
  const { name = 'checkpoint', strict = true } = options;
  const { tensors, metadata, meta, config } = parse(bytes, name);
  const own = model.stateDict();
  const loaded = new Map<string, tf.Tensor>();
  try {
    for (const [key, tensor] of tensors) {
      if (key.startsWith(OPTIMIZER)) continue;
      loaded.set(key, toTensor(name, key, tensor, own.get(key)?.dtype));
    }
    const { missing, unexpected } = model.loadStateDict(loaded, { strict });
    return { meta, config, metadata, missing, unexpected };
  } catch (error) {
    if (!(error instanceof StateMismatchError)) throw error;
    const problems = error.message.split('\n').slice(1).join('\n');
    throw new CheckpointError(
      'CHECKPOINT_MISMATCH',
      name,
      `Checkpoint '${name}' does not fit:\n${problems}`,
      { missing: error.missing, unexpected: error.unexpected, wrongShape: error.wrongShape },
    );
  } finally {
    tf.dispose([...loaded.values()]);
  }
}

function parse(bytes: Uint8Array | ArrayBuffer, name: string) {
  let parsed: ReturnType<typeof parseSafetensors>;
  try {
    parsed = parseSafetensors(bytes);
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
      name,
      `Cannot load checkpoint '${name}': ${error.message}.`,
    );
  }
  const { metadata } = parsed;
  const format = metadata.format;
  if (format?.startsWith('gorilla-ts/') && format !== FORMAT) {
    throw new CheckpointError(
      'CHECKPOINT_UNSUPPORTED',
      name,
      `Cannot load checkpoint '${name}': it has format ${format}; this version reads ${FORMAT} (upgrade @gorilla-ts/train).`,
    );
  }
  const meta = json(name, metadata, 'meta');
  return {
    tensors: parsed.tensors,
    metadata,
    meta: (typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? meta : {}) as Record<
      string,
      JsonValue
    >,
    config: json(name, metadata, 'config'),
  };
}

function json(name: string, metadata: Record<string, string>, key: string): JsonValue | undefined {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new CheckpointError(
      'CHECKPOINT_INVALID',
      name,
      `Cannot load checkpoint '${name}': its '${key}' metadata is not JSON.`,
      { cause: error },
    );
  }
}
