/**
 * End-to-end faults of `train` on the Trainer: the real CLI in child processes. A kill between
 * the best and the latest checkpoint (a fault-injection point inside the CheckpointHook), and a
 * data file with a NaN row (the NaN guard stops the run).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR } from '../src/paths.js';
import { readCheckpointMetadata } from '../src/run-files.js';
import { writeTextTree } from './fixtures/modelnet-trees.js';

const CLI = join(APP_DIR, 'dist', 'cli.js');
// Measured: each run takes 15-40 s on a loaded 2-core machine; a test runs up to three.
const TIMEOUT = 240_000;

const TINY = `_base_: ${join(APP_DIR, 'configs', 'default.yaml')}
dataset:
  numClasses: 4
  samplesPerClass: 8
  numPoints: 64
model:
  num_classes: 4
  feat_size: 32
  feat_layer_dims: [16]
  classifier_layer_dims: [16]
dataloader:
  batch_size: 8
epochs: 8
`;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', GORILLA_DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

const dirs: string[] = [];
function workdir(config = TINY): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelnet-faults-'));
  writeFileSync(join(dir, 'tiny.yaml'), config);
  dirs.push(dir);
  return dir;
}

function meta(file: string): Record<string, number> {
  return JSON.parse(readCheckpointMetadata(file)?.meta ?? 'null');
}

/** The tensor bytes of a safetensors file (everything after its header). */
function tensorBytes(file: string): Buffer {
  const bytes = readFileSync(file);
  return bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)));
}

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.json'], { cwd: APP_DIR, stdio: 'inherit' });
}, 120_000);

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('train on the Trainer: faults', () => {
  it(
    'a kill between epoch_best and epoch_latest leaves them consistent, and --resume ends as a run never killed',
    async () => {
      const killed = workdir();
      const straight = workdir();
      const [crash, reference] = await Promise.all([
        // The second time a new best is linked (epoch 1 is always the first), before latest.
        cli(killed, ['train', '--config', 'tiny.yaml'], {
          GORILLA_TS_FAULT: 'checkpoint:between-best-and-latest@2',
        }),
        cli(straight, ['train', '--config', 'tiny.yaml']),
      ]);
      expect(crash.signal, crash.stderr).toBe('SIGKILL');
      expect(reference.code, reference.stderr).toBe(0);
      const logDir = join(killed, 'log', 'tiny');
      const best = meta(join(logDir, 'epoch_best.safetensors'));
      const latest = meta(join(logDir, 'epoch_latest.safetensors'));
      // The best file is the epoch just saved; latest is still the one before. What latest says
      // is best is never newer (nor better) than the best file.
      expect(best.epoch).toBe(latest.epoch! + 1);
      expect(best.bestEpoch).toBe(best.epoch);
      expect(latest.bestEpoch!).toBeLessThan(best.epoch!);
      expect(best.bestAccuracy!).toBeGreaterThan(latest.bestAccuracy!);

      const resumed = await cli(killed, ['train', '--config', 'tiny.yaml', '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain(`(epoch ${latest.epoch} of 8 complete)`);
      const refDir = join(straight, 'log', 'tiny');
      for (const name of ['epoch_latest.safetensors', 'epoch_best.safetensors']) {
        const [after, expected] = [meta(join(logDir, name)), meta(join(refDir, name))];
        expect(after.epoch, name).toBe(expected.epoch);
        expect(after.bestEpoch, name).toBe(expected.bestEpoch);
        expect(after.accuracy, name).toBe(expected.accuracy);
        expect(after.loss, name).toBeCloseTo(expected.loss!, 5);
        expect(tensorBytes(join(logDir, name)).equals(tensorBytes(join(refDir, name))), name).toBe(
          true,
        );
      }
    },
    TIMEOUT,
  );

  it(
    'a non-finite loss stops training, naming the iteration and the last good checkpoint',
    async () => {
      const dir = workdir();
      const data = join(dir, 'data');
      const files = writeTextTree(data, {
        classes: { airplane: [4, 2], night_stand: [4, 2] },
        points: 32,
      });
      const config = `_base_: ${join(APP_DIR, 'configs', 'default.yaml')}
dataset:
  _delete_: true
  type: ModelNetNormalResampled
  dataRoot: ${data}
  numPoints: 32
  useNormals: true
model:
  in_channels: 6
  num_classes: 2
  feat_size: 32
  feat_layer_dims: [16]
  classifier_layer_dims: [16]
dataloader:
  batch_size: 4
epochs: 1
`;
      writeFileSync(join(dir, 'text.yaml'), config);
      const clean = await cli(dir, ['train', '--config', 'text.yaml']);
      expect(clean.code, clean.stderr).toBe(0);
      const logDir = join(dir, 'log', 'text');
      const good = readFileSync(join(logDir, 'epoch_latest.safetensors'));

      // One training shape gets normals near float32's limit: finite, so the loader takes them
      // (it refuses a `nan` outright, see datasets-bad-files.test.ts) and, unlike coordinates,
      // they are not rescaled: the forward pass overflows to a non-finite loss in epoch 2.
      const shape = files[0]!;
      const rows = readFileSync(shape, 'utf8').split('\n');
      const values = rows[5]!.split(',');
      rows[5] = [...values.slice(0, 3), '3e38', '-3e38', '3e38'].join(',');
      writeFileSync(shape, rows.join('\n'));
      const run = await cli(dir, ['train', '--config', 'text.yaml', '--resume', 'epochs=2']);
      expect(run.code, run.stderr).not.toBe(0);
      expect(run.code).not.toBeNull();
      const latest = join(logDir, 'epoch_latest.safetensors');
      expect(run.stderr).toMatch(/non-finite|NaN/i);
      expect(run.stderr).toMatch(/iteration (3|4)\b/); // epoch 2 of 2 iterations each
      expect(run.stderr).toContain(latest);
      // Nothing of the NaN step was saved: latest is still epoch 1's file, byte for byte.
      expect(readFileSync(latest).equals(good)).toBe(true);
      expect(readdirSync(logDir).filter((name) => name.startsWith('epoch_0000'))).toEqual([
        'epoch_00001.safetensors',
      ]);
      expect(existsSync(join(logDir, 'epoch_00002.safetensors'))).toBe(false);
    },
    TIMEOUT,
  );
});
