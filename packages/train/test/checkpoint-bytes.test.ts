/** Checkpoints loaded from bytes in memory, through the browser entry `@gorilla-ts/train/nn`. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import {
  CheckpointError,
  Linear,
  loadCheckpointBytes,
  parseSafetensors,
  readCheckpointBytes,
  Sequential,
} from '../src/nn-entry.js';
import { setRandomSeed } from '../src/random/seed.js';
import { tempDir, useTestBackend, values } from './train1-helpers.js';

const temp = tempDir('gorilla-bytes-');
beforeAll(useTestBackend, 60_000);
afterAll(() => temp.remove());

function model(): Sequential {
  return new Sequential({ layers: [new Linear({ inFeatures: 3, outFeatures: 2 })] });
}

it('loads a saved checkpoint from an ArrayBuffer into a fresh model, with meta and config', async () => {
  setRandomSeed(1);
  const saved = model();
  const filename = join(temp.dir, 'a.safetensors');
  await saveCheckpoint({
    model: saved,
    filename,
    meta: { epoch: 3 },
    config: { model: { type: 'X' } },
  });
  const file = readFileSync(filename);
  const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
  setRandomSeed(2);
  const fresh = model();
  const result = loadCheckpointBytes(fresh, buffer, { name: 'a.safetensors' });
  expect(result.meta).toEqual({ epoch: 3 });
  expect(result.config).toEqual({ model: { type: 'X' } });
  for (const [name, variable] of saved.stateDict())
    expect(values(fresh.stateDict().get(name)!)).toEqual(values(variable));
  const contents = readCheckpointBytes(file, 'a.safetensors');
  expect([...contents.tensors.keys()].sort()).toEqual([...saved.stateDict().keys()].sort());
  for (const tensor of contents.tensors.values()) tensor.dispose();
  expect(parseSafetensors(buffer).metadata.format).toBe('gorilla-ts/1');
});

it('names the file and the problem: truncated bytes, a foreign file, a state that does not fit', async () => {
  const filename = join(temp.dir, 'b.safetensors');
  await saveCheckpoint({ model: model(), filename });
  const file = readFileSync(filename);
  const code = (bytes: Uint8Array, target = model()) => {
    try {
      loadCheckpointBytes(target, bytes, { name: 'b.safetensors' });
    } catch (error) {
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).message).toContain("'b.safetensors'");
      return (error as CheckpointError).code;
    }
    return 'loaded';
  };
  expect(code(file.subarray(0, file.length - 4))).toBe('CHECKPOINT_TRUNCATED');
  expect(code(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0]))).toBe('CHECKPOINT_INVALID');
  expect(code(new Uint8Array())).toBe('CHECKPOINT_EMPTY');
  const wider = new Sequential({ layers: [new Linear({ inFeatures: 4, outFeatures: 2 })] });
  expect(code(file, wider)).toBe('CHECKPOINT_MISMATCH');
});
