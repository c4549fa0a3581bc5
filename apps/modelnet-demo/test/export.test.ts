import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PointNetCls } from '@gorilla-ts/models-pointnet';
import {
  CheckpointError,
  initBackend,
  loadCheckpoint,
  SGD,
  saveCheckpoint,
  setRandomSeed,
} from '@gorilla-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppError } from '../src/errors.js';
import { exportCommand } from '../src/export-command.js';

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
const reason = torchMissing
  ? ` (skipped: ${PYTHON} cannot import torch and safetensors; set GORILLA_TORCH_PYTHON to a Python with both)`
  : '';
/** The bench's PyTorch PointNetCls (gorilla3d's layout and names). */
const BENCH = fileURLToPath(new URL('../../../bench/', import.meta.url));

const work = mkdtempSync(join(tmpdir(), 'modelnet-export-'));
beforeAll(async () => {
  await initBackend({ backend: 'cpu', logger: () => {} });
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * A PointNetCls after two SGD steps in training mode (moved BatchNorm statistics, momentum
 * slots), saved as a checkpoint with its optimizer; returns the model in eval mode.
 */
async function trainedCheckpoint(options: {
  inputTransform?: boolean;
  featureTransform?: boolean;
}) {
  setRandomSeed(5);
  const model = new PointNetCls({ numClasses: 10, ...options });
  const optimizer = new SGD({ params: model, lr: 0.01, momentum: 0.9 });
  const points = tf.randomNormal([4, 64, 3], 0, 1, 'float32', 11) as tf.Tensor3D;
  const labels = tf.tensor1d([0, 3, 7, 9], 'int32');
  model.train();
  for (let step = 0; step < 2; step += 1) {
    optimizer
      .minimize(() => {
        const { logits } = model.forward(points);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits) as tf.Scalar;
      })
      .dispose();
  }
  tf.dispose([points, labels]);
  model.eval();
  const name = `pointnet${options.inputTransform ? '-tnet' : ''}`;
  const checkpoint = join(work, `${name}.safetensors`);
  await saveCheckpoint({ model, optimizer, filename: checkpoint, meta: { epoch: 1 } });
  return { model, checkpoint, name };
}

async function run(argv: string[]): Promise<string> {
  const writes: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    writes.push(String(chunk));
    return true;
  });
  try {
    await exportCommand(argv);
  } finally {
    spy.mockRestore();
  }
  return writes.join('');
}

describe('modelnet-demo export --to pytorch', () => {
  for (const tnets of [false, true]) {
    it.skipIf(torchMissing)(
      `gorilla3d's PointNetCls${tnets ? ' with T-Nets' : ''} loads it strictly and gives the same logits, and its .pth loads back${reason}`,
      async () => {
        const options = tnets ? { inputTransform: true, featureTransform: true } : {};
        const { model, checkpoint, name } = await trainedCheckpoint(options);
        const out = join(work, `${name}.torch.safetensors`);
        const pth = join(work, `${name}.changed.pth`);
        const printed = await run([checkpoint, '--to', 'pytorch', out]);
        const tensors = tnets ? 111 : 37;
        expect(printed).toContain(`Wrote ${tensors} tensors to ${out} (left out `);
        expect(printed).toContain('strict=True');

        const points = tf.randomNormal([3, 200, 3], 0, 1, 'float32', 23) as tf.Tensor3D;
        const ours = tf.tidy(() => model.forward(points).logits);
        const script = `
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
from safetensors.torch import load_file
from torch_pointnet import PointNetCls
model = PointNetCls(num_classes=10, input_transform=${tnets ? 'True' : 'False'}, feature_transform=${tnets ? 'True' : 'False'})
state = load_file(sys.argv[2])
model.load_state_dict(state, strict=True)
model.eval()
points = torch.tensor(json.loads(sys.stdin.read()), dtype=torch.float32).transpose(1, 2)
with torch.no_grad():
    logits = model(points)
    # The other way: change the weights in PyTorch and save them as a .pth state dict.
    torch.manual_seed(0)
    for parameter in model.parameters():
        parameter.add_(0.01 * torch.randn_like(parameter))
    changed = model(points)
torch.save(model.state_dict(), sys.argv[3])
print(json.dumps({"logits": logits.tolist(), "changed": changed.tolist(), "nbt": str(state["bn_layers.0.num_batches_tracked"].dtype), "n": int(state["bn_layers.0.num_batches_tracked"])}))
`;
        const reply = JSON.parse(
          execFileSync(PYTHON, ['-c', script, BENCH, out, pth], {
            input: JSON.stringify(points.arraySync()),
            encoding: 'utf8',
            maxBuffer: 64 * 1024 * 1024,
          }),
        ) as { logits: number[][]; changed: number[][]; nbt: string; n: number };
        expect(reply.nbt).toBe('torch.int64');
        expect(reply.n).toBe(2);
        const mine = ours.dataSync();
        const theirs = reply.logits.flat();
        expect(theirs).toHaveLength(mine.length);
        const difference = Math.max(...theirs.map((value, i) => Math.abs(value - mine[i]!)));
        console.info(
          `${name}: max |logits(gorilla-ts) - logits(PyTorch)| = ${difference.toExponential(2)}`,
        );
        expect(difference).toBeLessThan(1e-4);

        // PyTorch -> gorilla-ts: the .pth torch.save wrote, read without pickle.
        const back = new PointNetCls({ numClasses: 10, ...options });
        const loaded = await loadCheckpoint(back, pth);
        expect(loaded.missing).toEqual([]);
        back.eval();
        const changed = tf.tidy(() => back.forward(points).logits);
        const fromPth = changed.dataSync();
        const differenceBack = Math.max(
          ...reply.changed.flat().map((value, i) => Math.abs(value - fromPth[i]!)),
        );
        console.info(
          `${name}: .pth back into gorilla-ts: max |difference| = ${differenceBack.toExponential(2)}`,
        );
        expect(differenceBack).toBeLessThan(1e-4);
        tf.dispose([points, ours, changed]);
      },
      120_000,
    );
  }

  it('a missing checkpoint is a CheckpointError naming it; a missing --to is an argument error', async () => {
    const missing = join(work, 'nope.safetensors');
    const error = await exportCommand([
      missing,
      '--to',
      'pytorch',
      join(work, 'x.safetensors'),
    ]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).code).toBe('CHECKPOINT_NOT_FOUND');
    expect((error as Error).message).toContain(missing);
    for (const argv of [
      [missing, join(work, 'x.safetensors')],
      [missing, '--to', 'onnx', 'x'],
    ]) {
      const bad = await exportCommand(argv).catch((caught: unknown) => caught);
      expect(AppError.isInstance(bad), String(bad)).toBe(true);
      expect((bad as AppError).code).toBe('APP_INVALID_ARGUMENT');
    }
    expect(readFileSync(join(BENCH, 'torch_pointnet.py'), 'utf8')).toContain('class PointNetCls');
  });
});
