import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FORMAT,
  loadCheckpoint,
  readCheckpoint,
  resume,
  saveCheckpoint,
} from '../src/checkpoint/checkpoint.js';
import { CheckpointError, TrainError } from '../src/errors.js';
import { ReLU } from '../src/nn/activation.js';
import { BatchNorm1d } from '../src/nn/batch-norm.js';
import { Linear } from '../src/nn/linear.js';
import { Sequential } from '../src/nn/sequential.js';
import { Adam } from '../src/optim/adam.js';
import { SGD } from '../src/optim/sgd.js';
import { getRandomState, nextOpSeed, setRandomSeed } from '../src/random/seed.js';
import { buildLrScheduler } from '../src/scheduler/build.js';
import {
  BACKEND_HOOK_TIMEOUT,
  fixture,
  pythonSafetensors,
  tempDir,
  useTestBackend,
  values,
} from './train1-helpers.js';

beforeAll(useTestBackend, BACKEND_HOOK_TIMEOUT);
const temp = tempDir('gorilla-ckpt-');
afterAll(temp.remove);
const quiet = { logger: () => {} };
const savedRank = process.env.RANK;
afterEach(() => {
  if (savedRank === undefined) delete process.env.RANK;
  else process.env.RANK = savedRank;
});

function makeModel(hidden = 4): Sequential {
  return new Sequential({
    layers: [
      new Linear({ inFeatures: 3, outFeatures: hidden }),
      new BatchNorm1d({ numFeatures: hidden }),
      new ReLU(),
      new Linear({ inFeatures: hidden, outFeatures: 2 }),
    ],
  });
}

/** A model, an Adam optimizer and a scheduler after two training steps. */
function trained() {
  setRandomSeed(1);
  const model = makeModel();
  const optimizer = new Adam({ params: model, lr: 0.05, amsgrad: true });
  const scheduler = buildLrScheduler(optimizer, { type: 'StepLR', stepSize: 1, gamma: 0.5 });
  const x = tf.randomNormal([6, 3], 0, 1, 'float32', 3);
  for (let i = 0; i < 2; i++) {
    optimizer.minimize(() => tf.mean(tf.square(model.forward(x))) as tf.Scalar).dispose();
    scheduler.step();
  }
  return { model, optimizer, scheduler };
}

const snapshotOf = (model: Sequential) =>
  Object.fromEntries([...model.stateDict()].map(([name, v]) => [name, values(v)]));

describe('saveCheckpoint / resume', () => {
  it('round-trips weights, buffers, every optimizer slot, the scheduler, the RNG and the metadata', async () => {
    const { model, optimizer, scheduler } = trained();
    const meta = Object.freeze({ epoch: 3, iter: 120, best: { acc: 0.5 } });
    const filename = join(temp.dir, 'nested', 'dir', 'epoch_3.safetensors');
    const rng = getRandomState();
    const written = await saveCheckpoint({
      model,
      filename,
      optimizer,
      scheduler,
      meta,
      config: { model: { type: 'X' } },
      extra: { loader: { epoch: 3, position: 0 } },
    });
    expect(written).toBe(filename);
    expect(meta).toEqual({ epoch: 3, iter: 120, best: { acc: 0.5 } });
    expect(readdirSync(join(temp.dir, 'nested', 'dir'))).toEqual(['epoch_3.safetensors']);

    nextOpSeed(); // move the generator on; resume must bring it back
    setRandomSeed(99);
    const model2 = makeModel();
    const optimizer2 = new Adam({ params: model2, lr: 0.05, amsgrad: true });
    const scheduler2 = buildLrScheduler(optimizer2, { type: 'StepLR', stepSize: 1, gamma: 0.5 });
    const result = await resume({
      model: model2,
      filename,
      optimizer: optimizer2,
      scheduler: scheduler2,
      ...quiet,
    });
    expect(result.meta).toEqual({ epoch: 3, iter: 120, best: { acc: 0.5 } });
    expect(result.config).toEqual({ model: { type: 'X' } });
    expect(result.extra).toEqual({ loader: { epoch: 3, position: 0 } });
    expect(result.versions).toMatchObject({
      '@tensorflow/tfjs-core': '4.22.0',
      '@gorilla-ts/train': expect.any(String),
    });
    expect(result.restored).toEqual({ optimizer: true, scheduler: true, randomState: true });
    expect(snapshotOf(model2)).toEqual(snapshotOf(model));
    const [a, b] = [optimizer.stateDict(), optimizer2.stateDict()];
    expect([...b.slots.keys()]).toEqual([...a.slots.keys()]);
    for (const [key, tensor] of a.slots) expect(values(b.slots.get(key)!)).toEqual(values(tensor));
    expect(b.steps).toEqual(a.steps);
    expect(b.iterations).toBe(2);
    expect(scheduler2.lastEpoch).toBe(2);
    expect(optimizer2.getLr()).toBeCloseTo(0.0125, 12);
    expect(getRandomState()).toEqual(rng);
  });

  it('writes a plain safetensors file: 8-byte length, padded JSON header, contiguous little-endian data', async () => {
    const { model, optimizer } = trained();
    const filename = join(temp.dir, 'format.safetensors');
    await saveCheckpoint({ model, filename, optimizer });
    const bytes = readFileSync(filename);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect((8 + headerLength) % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
    expect(header.__metadata__.format).toBe(CHECKPOINT_FORMAT);
    expect(Object.keys(header.__metadata__).sort()).toEqual([
      'format',
      'meta',
      'optimizer',
      'rng',
      'savedAt',
      'versions',
    ]);
    const entries = Object.entries(header).filter(([name]) => name !== '__metadata__') as Array<
      [string, { dtype: string; shape: number[]; data_offsets: [number, number] }]
    >;
    expect(entries.map(([name]) => name)).toContain('optimizer.0.weight.max_exp_avg_sq');
    expect(header['1.num_batches_tracked']).toEqual({
      dtype: 'I32',
      shape: [],
      data_offsets: expect.any(Array),
    });
    let offset = 0;
    for (const [, entry] of entries.sort((x, y) => x[1].data_offsets[0] - y[1].data_offsets[0])) {
      expect(entry.data_offsets[0]).toBe(offset);
      offset = entry.data_offsets[1];
    }
    expect(8 + headerLength + offset).toBe(bytes.byteLength);
    const weight = header['0.weight'];
    const start = 8 + headerLength + weight.data_offsets[0];
    expect(
      Array.from(
        new Float32Array(
          bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 48),
        ),
      ),
    ).toEqual(values(model.layers[0]!.stateDict().get('weight')!));
  });

  it('only rank 0 writes', async () => {
    const { model } = trained();
    const filename = join(temp.dir, 'rank.safetensors');
    expect(await saveCheckpoint({ model, filename, rank: 1 })).toBeUndefined();
    process.env.RANK = '2';
    expect(await saveCheckpoint({ model, filename })).toBeUndefined();
    expect(() => statSync(filename)).toThrow();
    process.env.RANK = '0';
    expect(await saveCheckpoint({ model, filename })).toBe(filename);
  });

  it('a failed save leaves the previous checkpoint intact and no temporary file', async () => {
    const { model } = trained();
    const dir = join(temp.dir, 'atomic');
    const filename = join(dir, 'latest.safetensors');
    await saveCheckpoint({ model, filename, meta: { epoch: 1 } });
    const before = readFileSync(filename);
    await expect(
      saveCheckpoint({ model, filename, meta: { epoch: 2, bad: 1n } }),
    ).rejects.toMatchObject({ code: 'CHECKPOINT_WRITE_FAILED' });
    mkdirSync(join(dir, 'taken.safetensors', 'inside'), { recursive: true });
    const error = await saveCheckpoint({ model, filename: join(dir, 'taken.safetensors') }).catch(
      (caught: unknown) => caught,
    );
    expect(TrainError.isInstance(error) && error.code).toBe('CHECKPOINT_WRITE_FAILED');
    expect(readFileSync(filename).equals(before)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['latest.safetensors', 'taken.safetensors']);
  });
});

describe('bad files and mismatches', () => {
  const message = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CheckpointError);
    const { code, message: text } = error as CheckpointError;
    return `${code}: ${text.replaceAll(temp.dir, '<tmp>')}`;
  };

  it('missing, empty, truncated and foreign files give one line naming the file and what is wrong', async () => {
    const { model } = trained();
    const good = join(temp.dir, 'good.safetensors');
    await saveCheckpoint({ model, filename: good });
    const bytes = readFileSync(good);
    const file = (name: string, content: Uint8Array | string) => {
      const path = join(temp.dir, name);
      writeFileSync(path, content);
      return path;
    };
    const lines = [
      await message(resume({ model, filename: join(temp.dir, 'nope.safetensors'), ...quiet })),
      await message(resume({ model, filename: file('empty.safetensors', ''), ...quiet })),
      await message(
        resume({ model, filename: file('short.safetensors', bytes.subarray(0, 5)), ...quiet }),
      ),
      await message(
        resume({
          model,
          filename: file('cut-header.safetensors', bytes.subarray(0, 40)),
          ...quiet,
        }),
      ),
      await message(
        resume({
          model,
          filename: file('cut-data.safetensors', bytes.subarray(0, bytes.byteLength - 10)),
          ...quiet,
        }),
      ),
      await message(
        resume({
          model,
          filename: file('text.safetensors', 'hello, this is not a checkpoint at all'),
          ...quiet,
        }),
      ),
      await message(
        resume({
          model,
          filename: file('torch.pth', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0])),
          ...quiet,
        }),
      ),
      await message(
        loadCheckpoint(
          model,
          file(
            'json.safetensors',
            Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('[1] ')]),
          ),
        ),
      ),
    ];
    for (const line of lines) expect(line.split('\n')).toHaveLength(1);
    const headerEnd = 8 + Number(bytes.readBigUInt64LE(0));
    expect(lines).toEqual([
      "CHECKPOINT_NOT_FOUND: Cannot load checkpoint '<tmp>/nope.safetensors': no such file.",
      "CHECKPOINT_EMPTY: Cannot load checkpoint '<tmp>/empty.safetensors': the file is empty (0 bytes).",
      "CHECKPOINT_TRUNCATED: Cannot load checkpoint '<tmp>/short.safetensors': it has 5 bytes, fewer than the 8-byte header length.",
      `CHECKPOINT_TRUNCATED: Cannot load checkpoint '<tmp>/cut-header.safetensors': it is truncated: the header needs ${headerEnd} bytes, the file has 40.`,
      `CHECKPOINT_TRUNCATED: Cannot load checkpoint '<tmp>/cut-data.safetensors': it is truncated: the tensors need ${bytes.byteLength} bytes, the file has ${bytes.byteLength - 10}.`,
      "CHECKPOINT_INVALID: Cannot load checkpoint '<tmp>/text.safetensors': it is not a safetensors file (its first 8 bytes are no header length).",
      "CHECKPOINT_INVALID: Cannot load checkpoint '<tmp>/torch.pth': it is a zip archive (a PyTorch .pth/.pt file?) that cannot be read: invalid zip data (truncated or damaged?).",
      "CHECKPOINT_INVALID: Cannot load checkpoint '<tmp>/json.safetensors': it is not a safetensors file (the header is not a JSON object).",
    ]);
  });

  it('a newer format is refused with the fix', async () => {
    const { model } = trained();
    const filename = join(temp.dir, 'future.safetensors');
    await saveCheckpoint({ model, filename });
    const text = readFileSync(filename)
      .toString('latin1')
      .replace(CHECKPOINT_FORMAT, 'gorilla-ts/9');
    writeFileSync(filename, Buffer.from(text, 'latin1'));
    expect(await message(loadCheckpoint(model, filename))).toBe(
      `CHECKPOINT_UNSUPPORTED: Cannot load checkpoint '<tmp>/future.safetensors': it has format gorilla-ts/9; this version reads ${CHECKPOINT_FORMAT} (upgrade @gorilla-ts/train).`,
    );
  });

  it('a mismatch reports every missing, unexpected and wrong-shaped name at once, and changes nothing', async () => {
    const { model, optimizer } = trained();
    const filename = join(temp.dir, 'mismatch.safetensors');
    await saveCheckpoint({ model, filename, optimizer });
    setRandomSeed(5);
    const other = new Sequential({
      layers: [
        new Linear({ inFeatures: 3, outFeatures: 5 }),
        new ReLU(),
        new Linear({ inFeatures: 5, outFeatures: 2 }),
        new Linear({ inFeatures: 2, outFeatures: 2 }),
      ],
    });
    const before = snapshotOf(other);
    const error = await resume({
      model: other,
      filename,
      optimizer: new SGD({ params: other, lr: 0.1 }),
      ...quiet,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'CHECKPOINT_MISMATCH',
      missing: ['2.weight', '2.bias'],
      unexpected: [
        '1.weight',
        '1.bias',
        '1.running_mean',
        '1.running_var',
        '1.num_batches_tracked',
      ],
      wrongShape: [
        '0.weight: expected [5, 3], got [4, 3]',
        '0.bias: expected [5], got [4]',
        '3.weight: expected [2, 2], got [2, 4]',
      ],
    });
    const text = (error as Error).message.replaceAll(temp.dir, '<tmp>');
    expect(text).toContain("Checkpoint '<tmp>/mismatch.safetensors' does not fit:");
    expect(text).toContain('  - missing 2.weight');
    expect(text).toContain('  - unexpected 1.running_var');
    expect(text).toContain('  - optimizer: the state is for Adam, this optimizer is SGD');
    expect(snapshotOf(other)).toEqual(before);
  });

  it('strict: false loads what fits and returns the rest; shapes must still match', async () => {
    const { model } = trained();
    const filename = join(temp.dir, 'partial.safetensors');
    await saveCheckpoint({ model, filename });
    const smaller = new Sequential({ layers: [new Linear({ inFeatures: 3, outFeatures: 4 })] });
    const result = await loadCheckpoint(smaller, filename, { strict: false });
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([
      '1.weight',
      '1.bias',
      '3.weight',
      '3.bias',
      '1.running_mean',
      '1.running_var',
      '1.num_batches_tracked',
    ]);
    expect(values(smaller.layers[0]!.stateDict().get('weight')!)).toEqual(
      snapshotOf(model)['0.weight'],
    );
    const wrong = new Sequential({ layers: [new Linear({ inFeatures: 3, outFeatures: 6 })] });
    await expect(loadCheckpoint(wrong, filename, { strict: false })).rejects.toThrow(
      /wrong shape 0.weight: expected \[6, 3\], got \[4, 3\]/,
    );
  });
});

describe('interoperability with Python safetensors', () => {
  const missing = !pythonSafetensors();
  const reason = missing
    ? " (skipped: python3 cannot 'import safetensors, numpy'; pip install safetensors numpy)"
    : '';

  it.skipIf(missing)(`Python's safetensors opens our checkpoints${reason}`, async () => {
    const { model, optimizer, scheduler } = trained();
    const filename = join(temp.dir, 'for-python.safetensors');
    await saveCheckpoint({ model, filename, optimizer, scheduler, meta: { epoch: 1 } });
    const report = JSON.parse(
      execFileSync('python3', [fixture('read_safetensors.py'), filename], { encoding: 'utf8' }),
    );
    const ours = await readCheckpoint(filename);
    expect(Object.keys(report.tensors).sort()).toEqual([...ours.tensors.keys()].sort());
    for (const [name, tensor] of ours.tensors) {
      const theirs = report.tensors[name];
      expect(theirs.shape).toEqual(tensor.shape);
      expect(theirs.dtype).toBe(tensor.dtype === 'int32' ? 'int32' : 'float32');
      expect(theirs.sum).toBeCloseTo(
        values(tensor).reduce((s, v) => s + v, 0),
        4,
      );
    }
    expect(report.metadata).toEqual(ours.metadata);
    expect(JSON.parse(report.metadata.meta)).toEqual({ epoch: 1 });
  });

  it.skipIf(missing)(`we read files Python writes (F64, F16, I64, U8, BOOL)${reason}`, async () => {
    const filename = join(temp.dir, 'from-python.safetensors');
    execFileSync('python3', [fixture('write_safetensors.py'), filename]);
    const { tensors, metadata } = await readCheckpoint(filename);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.get('f64')!.dtype).toBe('float32');
    expect(values(tensors.get('f64')!)).toEqual([1.5, -2.25, 3, 4.5]);
    expect(values(tensors.get('f16')!)).toEqual([0.5, -1, 65504]);
    expect(tensors.get('i64')!.dtype).toBe('int32');
    expect(values(tensors.get('i64')!)).toEqual([7, -8, 2 ** 31 - 1]);
    expect(values(tensors.get('u8')!)).toEqual([0, 255]);
    expect(tensors.get('mask')!.dtype).toBe('bool');
    expect(values(tensors.get('mask')!)).toEqual([1, 0, 1]);
  });
});
