/**
 * End-to-end: `train --resume` from checkpoints written by the demo's previous training loop
 * (the hand-written `doTrain` before train ran on `Trainer.fromConfig`, commit 0a28874^). The
 * real CLI in a child process, on the real files of such a run: `fixtures/old-loop-run/`, whose
 * README.md says how they were made. Their `meta` has `epoch`, `iter` and the best epoch; they
 * have no `extra.trainer` and no hook states.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR } from '../src/paths.js';
import { readCheckpointMetadata } from '../src/run-files.js';

const CLI = join(APP_DIR, 'dist', 'cli.js');
const OLD_RUN = join(APP_DIR, 'test', 'fixtures', 'old-loop-run');
// The run takes 2 s alone; the other e2e files allow 4 minutes per test on a loaded machine.
const TIMEOUT = 240_000;

/** The overrides the old run was trained with (the embedded default config, made tiny). */
const TINY = [
  'dataset.numClasses=4',
  'dataset.samplesPerClass=8',
  'dataset.numPoints=64',
  'model.num_classes=4',
  'model.feat_size=32',
  'model.feat_layer_dims=[16]',
  'model.classifier_layer_dims=[16]',
  'dataloader.batch_size=8',
];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(cwd: string, args: readonly string[]): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', GORILLA_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A checkpoint's metadata, its JSON entries parsed. */
function metadata(file: string): Record<string, Record<string, unknown>> {
  const raw = readCheckpointMetadata(file) ?? {};
  return Object.fromEntries(
    Object.entries(raw)
      .filter(([key]) => ['meta', 'extra', 'optimizer', 'scheduler'].includes(key))
      .map(([key, value]) => [key, JSON.parse(value)]),
  );
}

function meta(file: string): Record<string, number> {
  return metadata(file).meta as Record<string, number>;
}

function hasStack(text: string): boolean {
  return /^\s+at .+[:(]/m.test(text);
}

const dirs: string[] = [];

beforeAll(() => {
  // The CLI runs from dist/: bring it up to date with src/ (incremental, quick when it is).
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.json'], { cwd: APP_DIR, stdio: 'inherit' });
}, 120_000);

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('train --resume from a checkpoint of the previous loop', () => {
  it(
    'continues at epoch 3 with the old run’s best epoch, and writes checkpoints of the new format',
    async () => {
      const oldLatest = meta(join(OLD_RUN, 'epoch_latest.safetensors'));
      const oldBest = meta(join(OLD_RUN, 'epoch_best.safetensors'));
      // What the fixture is: the old format, 2 epochs of 4 iterations, best epoch 1.
      expect(oldLatest).toMatchObject({ epoch: 2, iter: 8, bestEpoch: 1 });
      expect(oldBest).toMatchObject({ epoch: 1, bestEpoch: 1 });
      expect(metadata(join(OLD_RUN, 'epoch_latest.safetensors')).extra).not.toHaveProperty(
        'trainer',
      );

      // The log folder `train --resume` reads without --config: log/default/ under the cwd.
      const dir = mkdtempSync(join(tmpdir(), 'modelnet-old-ckpt-'));
      dirs.push(dir);
      const logDir = join(dir, 'log', 'default');
      mkdirSync(logDir, { recursive: true });
      for (const name of ['epoch_latest.safetensors', 'epoch_best.safetensors']) {
        copyFileSync(join(OLD_RUN, name), join(logDir, name));
      }

      const run = await cli(dir, ['train', '--resume', 'epochs=3', ...TINY]);
      expect(run.code, run.stderr).toBe(0);
      expect(hasStack(run.stderr), run.stderr).toBe(false);
      expect(run.stderr).toContain(
        `Resumed from ${join(logDir, 'epoch_latest.safetensors')}: 8 of 12 iterations done (epoch 2 of 3 complete).`,
      );
      // Only epoch 3 was trained: the progress lines, the text log and every metrics record.
      expect(run.stderr).toMatch(/epoch 3\/3 iter 4\/4/);
      expect(run.stderr).not.toMatch(/epoch [12]\/3 /);
      const files = readdirSync(logDir);
      const logs = files.filter((name) => /^\d{8}_\d{6}\.log$/.test(name));
      expect(logs).toHaveLength(1);
      const text = readFileSync(join(logDir, logs[0]!), 'utf8');
      expect(text).toMatch(/epoch: 3, validation accuracy: \d+\.\d\d%/);
      expect(text).not.toMatch(/epoch:? [12][/,]/); // "epoch 2/3 iter", "epoch: 1, validation"
      const jsonl = files.filter((name) => name.endsWith('.jsonl'));
      expect(jsonl).toHaveLength(1);
      const records = readFileSync(join(logDir, jsonl[0]!), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) {
        expect(record.epoch, JSON.stringify(record)).toBe(3);
        expect(record.iter, JSON.stringify(record)).toBeGreaterThan(8);
      }
      const summaries = records.filter((record) => record.mode === 'summary') as Array<
        Record<string, number>
      >;
      expect(summaries).toHaveLength(1);
      const summary = summaries[0]!;

      // The best epoch of the old run is carried over: epoch 3 becomes the best only by beating
      // it (strictly, as the old loop compared).
      const accuracy = summary.accuracy!;
      expect(summary.bestAccuracy).toBeGreaterThanOrEqual(oldLatest.bestAccuracy!);
      const best =
        accuracy > oldLatest.bestAccuracy!
          ? { bestEpoch: 3, bestAccuracy: accuracy }
          : { bestEpoch: oldLatest.bestEpoch!, bestAccuracy: oldLatest.bestAccuracy! };
      expect(summary).toMatchObject(best);
      expect(run.stderr).toContain(
        `best ${(best.bestAccuracy * 100).toFixed(2)}% at epoch ${best.bestEpoch}`,
      );

      // epoch_latest (and epoch_00003, its file) is of the new format: the Trainer's position,
      // the hooks' states, and the optimizer and scheduler continued from the old run's.
      expect(files).toEqual(
        expect.arrayContaining([
          'epoch_00003.safetensors',
          'epoch_latest.safetensors',
          'epoch_best.safetensors',
        ]),
      );
      const latest = metadata(join(logDir, 'epoch_latest.safetensors'));
      expect(latest.meta).toMatchObject({ epoch: 3, iter: 12, ...best });
      expect(latest.extra).toMatchObject({
        trainer: { iter: 12, epoch: 3, itersPerEpoch: 4 },
        hooks: {
          RunRecordHook: { best: { accuracy: best.bestAccuracy, epoch: best.bestEpoch } },
          CheckpointHook: { best: { value: best.bestAccuracy, iter: best.bestEpoch * 4 } },
        },
      });
      expect(latest.optimizer).toMatchObject({ iterations: 12 });
      expect(latest.scheduler).toMatchObject({ lastEpoch: 3 });

      // epoch_best is the best epoch's checkpoint: the new one when epoch 3 beat the old best,
      // else the old run's file, untouched.
      const bestFile = join(logDir, 'epoch_best.safetensors');
      expect(meta(bestFile)).toMatchObject({ epoch: best.bestEpoch, ...best });
      if (best.bestEpoch === 3) {
        expect(metadata(bestFile).extra).toHaveProperty('trainer');
      } else {
        expect(
          readFileSync(bestFile).equals(readFileSync(join(OLD_RUN, 'epoch_best.safetensors'))),
        ).toBe(true);
      }
    },
    TIMEOUT,
  );
});
