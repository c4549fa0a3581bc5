import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, readCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { exportForPytorch } from '../src/checkpoint/pytorch.js';
import { CheckpointError } from '../src/errors.js';
import { ReLU } from '../src/nn/activation.js';
import { BatchNorm1d } from '../src/nn/batch-norm.js';
import { Linear } from '../src/nn/linear.js';
import { Sequential } from '../src/nn/sequential.js';
import { SGD } from '../src/optim/sgd.js';
import { expectClose, tempDir, useTestBackend, values } from './train1-helpers.js';

/** Files written by fixtures/pytorch/make_fixtures.py with torch 2.13. */
const file = (name: string) =>
  fileURLToPath(new URL(`./fixtures/pytorch/${name}`, import.meta.url));
const expected = JSON.parse(readFileSync(file('expected.json'), 'utf8')) as {
  input: number[][];
  output: number[][];
};

/** The Python with torch: `GORILLA_TORCH_PYTHON`, else `python3`. */
const PYTHON = process.env.GORILLA_TORCH_PYTHON ?? 'python3';
const torchMissing = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, safetensors'], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
})();
const torchReason = torchMissing
  ? ` (skipped: ${PYTHON} cannot import torch and safetensors; set GORILLA_TORCH_PYTHON to a Python with both)`
  : '';

beforeAll(useTestBackend, 60_000);
const temp = tempDir('gorilla-pytorch-');
afterAll(temp.remove);

/** The fixtures' model: PyTorch's Sequential(Linear(3, 4), BatchNorm1d(4), ReLU(), Linear(4, 2)). */
function makeModel(): Sequential {
  return new Sequential({
    layers: [
      new Linear({ inFeatures: 3, outFeatures: 4 }),
      new BatchNorm1d({ numFeatures: 4 }),
      new ReLU(),
      new Linear({ inFeatures: 4, outFeatures: 2 }),
    ],
  });
}

/** The model's eval-mode output on the fixtures' input, against PyTorch's. */
function expectPytorchOutput(model: Sequential): void {
  model.eval();
  const output = tf.tidy(() => model.forward(tf.tensor2d(expected.input)));
  expectClose(values(output), expected.output.flat(), 1e-5);
  output.dispose();
}

async function rejection(promise: Promise<unknown>): Promise<CheckpointError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  return error as CheckpointError;
}

describe('loading PyTorch weights', () => {
  it('reads a plain state_dict .pth without pickle, with PyTorch outputs', async () => {
    const model = makeModel();
    const result = await loadCheckpoint(model, file('plain.pth'));
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(values(model.stateDict().get('1.num_batches_tracked')!)).toEqual([1]);
    expectPytorchOutput(model);
  });

  it("a DDP state dict: every name is reported at once, with a hint; stripPrefix: 'module.' loads it", async () => {
    const error = await rejection(loadCheckpoint(makeModel(), file('ddp.pth')));
    expect(error.code).toBe('CHECKPOINT_MISMATCH');
    expect(error.missing).toHaveLength(9);
    expect(error.unexpected).toHaveLength(9);
    expect(error.unexpected).toContain('module.1.running_var');
    expect(error.message).toContain("load with { stripPrefix: 'module.' }");
    for (const name of ['ddp.pth', 'ddp.safetensors']) {
      const model = makeModel();
      await loadCheckpoint(model, file(name), { stripPrefix: 'module.' });
      expectPytorchOutput(model);
    }
  });

  it('a rename table maps names and prefixes; two names mapping to one are refused', async () => {
    // Rename the file's last layer '3.' to '9.' and back through a model-side view: load with
    // stripPrefix + rename onto names that exist, and check a wrong rename is reported by name.
    const model = makeModel();
    const error = await rejection(
      loadCheckpoint(model, file('ddp.safetensors'), {
        stripPrefix: 'module.',
        rename: { '3.': 'head.', '1.running_var': '1.running_variance' },
      }),
    );
    expect([...error.missing].sort()).toEqual(['1.running_var', '3.bias', '3.weight']);
    expect([...error.unexpected].sort()).toEqual([
      '1.running_variance',
      'head.bias',
      'head.weight',
    ]);
    await loadCheckpoint(model, file('ddp.pth'), {
      rename: { 'module.3.': '3.', 'module.': '' },
    });
    expectPytorchOutput(model);
    const clash = await rejection(
      loadCheckpoint(makeModel(), file('ddp.pth'), {
        rename: { 'module.0.weight': '0.bias', 'module.': '' },
      }),
    );
    expect(clash.message).toContain("'module.0.bias' both become '0.bias'");
  });

  it("a gorilla-core checkpoint ({ meta, state_dict, optimizer }) loads its 'state_dict'", async () => {
    const model = makeModel();
    await loadCheckpoint(model, file('checkpoint.pth'));
    expectPytorchOutput(model);
  });

  it('strided views, int64 and float64 tensors come out row-major in tfjs dtypes', async () => {
    const { tensors } = await readCheckpoint(file('strided.pth'));
    expect(tensors.get('t')!.shape).toEqual([3, 2]);
    expect(values(tensors.get('t')!)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(tensors.get('n')!.dtype).toBe('int32');
    expect(values(tensors.get('n')!)).toEqual([5]);
    expect(values(tensors.get('d')!)).toEqual([0.5, -1.25]);
    tf.dispose([...tensors.values()]);
  });

  it('refuses a pickle that would run a command, without running it', async () => {
    const marker = join(temp.dir, 'pwned');
    process.env.GORILLA_PWNED_MARKER = marker;
    try {
      const model = makeModel();
      const before = values(model.stateDict().get('0.weight')!);
      const error = await rejection(loadCheckpoint(model, file('malicious.pth')));
      expect(error.code).toBe('CHECKPOINT_UNSAFE');
      expect(error.message).toContain("the global 'posix.system'");
      expect(error.message).toContain('malicious.pth');
      expect(error.message).toContain("torch.load('in.pth', weights_only=True)");
      expect(existsSync(marker)).toBe(false);
      expect(values(model.stateDict().get('0.weight')!)).toEqual(before); // nothing loaded
    } finally {
      delete process.env.GORILLA_PWNED_MARKER;
    }
  });

  it.skipIf(torchMissing)(
    `the malicious fixture is live: pickle.load runs its command${torchReason}`,
    () => {
      const marker = join(temp.dir, 'pwned-by-torch');
      execFileSync(
        PYTHON,
        [
          '-c',
          'import sys, torch; torch.load(sys.argv[1], weights_only=False)',
          file('malicious.pth'),
        ],
        { env: { ...process.env, GORILLA_PWNED_MARKER: marker }, stdio: 'ignore' },
      );
      expect(existsSync(marker)).toBe(true);
    },
    60_000,
  );

  it('refuses other code paths: a REDUCE of an allowed-looking global, a foreign persistent id, an object opcode', async () => {
    const archive = unzipSync(readFileSync(file('plain.pth')));
    const pickle = archive['plain/data.pkl']!;
    const text = Buffer.from(pickle).toString('latin1');
    const variants: Array<[string, string, string]> = [
      // _rebuild_tensor_v2 swapped for a same-length builtin that eval()s.
      [
        'builtins',
        text.replace('torch._utils\n_rebuild_tensor_v2', 'builtins\n_rebuild_tensor_v2'),
        "'builtins._rebuild_tensor_v2'",
      ],
      [
        'NEWOBJ',
        text.replace('collections\nOrderedDict\nq\x00)R', 'collections\nOrderedDict\nq\x00)\x81'),
        'opcode 0x81',
      ],
      ['INST', `(ios\nsystem\n${text.slice(2)}`, 'opcode 0x69'],
    ];
    for (const [name, variant, says] of variants) {
      expect(variant, name).not.toBe(text);
      const path = join(temp.dir, `${name}.pth`);
      writeFileSync(
        path,
        zipSync({ ...archive, 'plain/data.pkl': Buffer.from(variant, 'latin1') }, { level: 0 }),
      );
      const error = await rejection(loadCheckpoint(makeModel(), path));
      expect(error.code, name).toBe('CHECKPOINT_UNSAFE');
      expect(error.message, name).toContain(says);
    }
  });

  it('refuses compressed entries (zip bombs) and views larger than their storage', async () => {
    const archive = unzipSync(readFileSync(file('plain.pth')));
    const deflated = join(temp.dir, 'deflated.pth');
    writeFileSync(deflated, zipSync(archive, { level: 6 }));
    const bomb = await rejection(loadCheckpoint(makeModel(), deflated));
    expect(bomb.code).toBe('CHECKPOINT_INVALID');
    expect(bomb.message).toContain('compressed entries');
    const broadcast = await rejection(readCheckpoint(file('broadcast.pth')));
    expect(broadcast.code).toBe('CHECKPOINT_INVALID');
    expect(broadcast.message).toContain('more elements than its storage');
  });

  it("refuses PyTorch's pre-1.6 bare-pickle format with the command that converts it", async () => {
    const error = await rejection(loadCheckpoint(makeModel(), file('legacy.pth')));
    expect(error.code).toBe('CHECKPOINT_UNSUPPORTED');
    expect(error.message).toContain('save_file(');
  });

  it('a truncated archive is CHECKPOINT_INVALID naming the file', async () => {
    const path = join(temp.dir, 'cut.pth');
    const bytes = readFileSync(file('plain.pth'));
    writeFileSync(path, bytes.subarray(0, bytes.length - 200));
    const error = await rejection(loadCheckpoint(makeModel(), path));
    expect(error.code).toBe('CHECKPOINT_INVALID');
    expect(error.message).toContain(path);
  });
});

describe('exporting for PyTorch', () => {
  async function trainedCheckpoint(): Promise<{ model: Sequential; path: string }> {
    const model = makeModel();
    await loadCheckpoint(model, file('plain.pth'));
    const optimizer = new SGD({ params: model, lr: 0.1, momentum: 0.9 });
    model.train();
    optimizer
      .minimize(() => tf.mean(tf.square(model.forward(tf.tensor2d(expected.input)))) as tf.Scalar)
      .dispose();
    model.eval();
    const path = join(temp.dir, 'epoch_1.safetensors');
    await saveCheckpoint({ model, optimizer, filename: path, meta: { epoch: 1 } });
    return { model, path };
  }

  it('writes the weights only, integers as I64, with format pt', async () => {
    const { path } = await trainedCheckpoint();
    const out = join(temp.dir, 'export', 'weights.safetensors');
    const result = await exportForPytorch(path, out);
    expect(result.filename).toBe(out);
    expect(result.names).toHaveLength(9);
    expect(result.dropped.length).toBeGreaterThan(0);
    expect(result.dropped.every((name) => name.startsWith('optimizer.'))).toBe(true);
    const bytes = readFileSync(out);
    const header = JSON.parse(
      bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'),
    ) as Record<string, { dtype: string }> & { __metadata__: Record<string, string> };
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(header['1.num_batches_tracked']!.dtype).toBe('I64');
    expect(header['0.weight']!.dtype).toBe('F32');
    expect(Object.keys(header).filter((k) => k !== '__metadata__')).toEqual(result.names);
  });

  it.skipIf(torchMissing)(
    `PyTorch loads the export with load_state_dict(strict=True) and computes the same outputs${torchReason}`,
    async () => {
      const { model, path } = await trainedCheckpoint();
      const out = join(temp.dir, 'torch.safetensors');
      await exportForPytorch(path, out);
      const ours = tf.tidy(() => model.forward(tf.tensor2d(expected.input)));
      const script = [
        'import json, sys, torch',
        'from safetensors.torch import load_file',
        'from torch import nn',
        'model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))',
        'state = load_file(sys.argv[1])',
        'model.load_state_dict(state, strict=True)',
        'model.eval()',
        'x = torch.tensor(json.loads(sys.argv[2]))',
        'print(json.dumps({"out": model(x).tolist(), "nbt": str(state["1.num_batches_tracked"].dtype), "n": int(state["1.num_batches_tracked"])}))',
      ].join('\n');
      const reply = JSON.parse(
        execFileSync(PYTHON, ['-c', script, out, JSON.stringify(expected.input)], {
          encoding: 'utf8',
        }),
      ) as { out: number[][]; nbt: string; n: number };
      expect(reply.nbt).toBe('torch.int64');
      expect(reply.n).toBe(2);
      expectClose(reply.out.flat(), values(ours), 1e-5);
      ours.dispose();
    },
    60_000,
  );

  it('exports a model directly, with a prefix; the source cannot be overwritten', async () => {
    const model = makeModel();
    const out = join(temp.dir, 'ddp-export.safetensors');
    const result = await exportForPytorch(model, out, { addPrefix: 'module.' });
    expect(result.names[0]).toBe('module.0.weight');
    const again = makeModel();
    await loadCheckpoint(again, out, { stripPrefix: 'module.' });
    expect(values(again.stateDict().get('3.bias')!)).toEqual(
      values(model.stateDict().get('3.bias')!),
    );
    copyFileSync(out, join(temp.dir, 'same.safetensors'));
    const error = await rejection(
      exportForPytorch(join(temp.dir, 'same.safetensors'), join(temp.dir, 'same.safetensors')),
    );
    expect(error.code).toBe('CHECKPOINT_WRITE_FAILED');
  });
});

describe('Trainer loadFrom with a key mapping', () => {
  it("loads a 'module.'-prefixed file with { stripPrefix: 'module.' } before training", async () => {
    const { crossEntropyLoss, Trainer } = await import('../src/index.js');
    const { fakeClock, memoryLogger, toyLoader, toyModel, weightsOf } = await import(
      './fixtures/trainer/toy.js'
    );
    const source = toyModel(0.2);
    const out = join(temp.dir, 'toy-ddp.safetensors');
    await exportForPytorch(source, out, { addPrefix: 'module.' });
    const { logger, lines } = memoryLogger('load-from-test');
    let seen: Record<string, number[]> | undefined;
    const trainer = new Trainer({
      model: toyModel(0.7),
      optimizer: { type: 'SGD', lr: 0.1 },
      loss: crossEntropyLoss(),
      trainLoader: toyLoader(16, 8) as never,
      maxEpochs: 1,
      workDir: join(temp.dir, 'load-from'),
      logger,
      now: fakeClock(),
      defaultHooks: { tensorboard: false, checkpoint: false },
      loadFrom: { filename: out, stripPrefix: 'module.' },
      hooks: [
        {
          beforeRun: (t) => {
            seen = weightsOf(t.model);
          },
        },
      ],
    });
    await trainer.fit();
    logger.close();
    expect(seen).toEqual(weightsOf(source));
    expect(lines.some((line) => line.includes('loadFrom: weights only'))).toBe(true);
  }, 60_000);
});
