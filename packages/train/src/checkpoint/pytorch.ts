import { resolve } from 'node:path';
import { CheckpointError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { OPTIMIZER_PREFIX, readCheckpointFile, writeFileAtomically } from './checkpoint.js';
import { toEntry } from './convert.js';
import { type KeyMapOptions, mapKeys } from './key-map.js';
import { encodeSafetensors, type SafetensorsEntry, type SafetensorsTensor } from './safetensors.js';

/** Options of {@link exportForPytorch}. */
export interface ExportForPytorchOptions {
  /** Renames applied to the names on the way out (same rules as {@link KeyMapOptions.rename}). */
  rename?: Readonly<Record<string, string>>;
  /** Put before every name, e.g. `'module.'` for a model that PyTorch wraps in DDP before loading. */
  addPrefix?: string;
}

/** What {@link exportForPytorch} wrote. */
export interface ExportForPytorchResult {
  /** The absolute path written. */
  filename: string;
  /** The names written, in order. */
  names: string[];
  /** The names left out (the optimizer's `optimizer.*` slots). */
  dropped: string[];
}

type Model = Pick<Module<never, unknown>, 'stateDict'>;

/**
 * Writes weights that PyTorch loads with `model.load_state_dict(load_file(path), strict=True)`
 * (`from safetensors.torch import load_file`): the model's parameters and buffers only (a
 * checkpoint's `optimizer.*` slots are left out), integer tensors as int64 as PyTorch keeps them
 * (`num_batches_tracked`), floats as float32, in a safetensors file with the `format: pt` metadata
 * of `safetensors.torch.save_file`. The write is atomic (temporary file, fsync, rename).
 *
 * @param source a gorilla-ts checkpoint file (or any safetensors file), or a model.
 * @param filename where to write, conventionally `*.safetensors` (directories are created).
 * @throws {@link CheckpointError} as {@link loadCheckpoint} for a bad source, and
 *   `CHECKPOINT_WRITE_FAILED`.
 */
export async function exportForPytorch(
  source: string | Model,
  filename: string,
  options: ExportForPytorchOptions = {},
): Promise<ExportForPytorchResult> {
  const target = resolve(filename);
  let tensors: Map<string, SafetensorsEntry>;
  const dropped: string[] = [];
  if (typeof source === 'string') {
    const path = resolve(source);
    if (path === target) {
      throw new CheckpointError(
        'CHECKPOINT_WRITE_FAILED',
        target,
        `Cannot export '${path}' onto itself: give another output file.`,
      );
    }
    const file = await readCheckpointFile(path);
    tensors = new Map();
    for (const [name, tensor] of file.tensors) {
      if (name.startsWith(OPTIMIZER_PREFIX)) dropped.push(name);
      else tensors.set(name, fromRaw(tensor));
    }
  } else {
    tensors = new Map();
    for (const [name, tensor] of source.stateDict()) {
      tensors.set(name, await toEntry(target, name, tensor));
    }
  }
  const renamed = mapKeys(target, tensors, { rename: options.rename ?? {} });
  const entries: Array<[string, SafetensorsEntry]> = [...renamed].map(([name, entry]) => [
    (options.addPrefix ?? '') + name,
    widen(entry),
  ]);
  const { head, chunks } = encodeSafetensors(entries, { format: 'pt' });
  await writeFileAtomically(target, [head, ...chunks], 'PyTorch weights');
  return { filename: target, names: entries.map(([name]) => name), dropped };
}

/** A tensor as read, as an entry to write again (same dtype and bytes). */
function fromRaw(tensor: SafetensorsTensor): SafetensorsEntry {
  return { dtype: tensor.dtype, shape: tensor.shape, data: tensor.bytes };
}

/** int32 (TensorFlow.js's only integer type) → int64 (PyTorch's default integer type). */
function widen(entry: SafetensorsEntry): SafetensorsEntry {
  if (entry.dtype !== 'I32') return entry;
  const data = entry.data;
  const ints =
    data instanceof Int32Array
      ? data
      : new Int32Array(
          (data as Uint8Array).buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
        );
  return { dtype: 'I64', shape: entry.shape, data: BigInt64Array.from(ints, (v) => BigInt(v)) };
}
