import { readFileSync } from 'node:fs';
import { CheckpointError } from '@gorilla-ts/train/nn';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, inject, test } from 'vitest';
import { InputError, loadModel } from '../src/core.js';

beforeAll(async () => {
  await tf.setBackend('tensorflow');
}, 60_000);

test('a demo checkpoint opens with its classes and metadata', () => {
  const { model, info } = loadModel(readFileSync(inject('checkpoint')), 'epoch_latest.safetensors');
  expect(info.classes).toHaveLength(10);
  expect(info.datasetType).toBeDefined();
  expect(typeof info.meta.epoch).toBe('number');
  expect(model.training).toBe(false);
  model.dispose();
});

test('a truncated checkpoint is a CheckpointError naming the file', () => {
  const bytes = readFileSync(inject('checkpoint'));
  const truncated = bytes.subarray(0, bytes.length - 100);
  expect(() => loadModel(truncated, 'cut.safetensors')).toThrow(InputError);
  expect(() => loadModel(truncated, 'cut.safetensors')).toThrow(
    /Cannot open checkpoint 'cut.safetensors': it is truncated/,
  );
});

test('a checkpoint without a model config says what is expected', () => {
  const header = new TextEncoder().encode('{"__metadata__":{"format":"gorilla-ts/1"}}      ');
  const bytes = new Uint8Array(8 + header.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  expect(() => loadModel(bytes, 'weights.safetensors')).toThrow(/has no model config/);
});

test('a checkpoint whose weights do not fit its config is CHECKPOINT_MISMATCH', () => {
  const bytes = readFileSync(inject('checkpoint'));
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  const config = JSON.parse(header.__metadata__.config);
  config.model.num_classes = 7;
  header.__metadata__.config = JSON.stringify(config);
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const encoded = new TextEncoder().encode(json);
  const edited = new Uint8Array(8 + encoded.length + bytes.length - 8 - length);
  new DataView(edited.buffer).setBigUint64(0, BigInt(encoded.length), true);
  edited.set(encoded, 8);
  edited.set(bytes.subarray(8 + length), 8 + encoded.length);
  let error: unknown;
  try {
    loadModel(edited, 'edited.safetensors');
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(CheckpointError);
  expect((error as CheckpointError).code).toBe('CHECKPOINT_MISMATCH');
  expect((error as CheckpointError).wrongShape.join()).toMatch(
    /last_linear_layer.weight: expected \[7, 256\]/,
  );
});
