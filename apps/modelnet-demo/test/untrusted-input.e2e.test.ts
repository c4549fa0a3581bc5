/**
 * The real CLI (`dist/cli.js`) on hostile or interrupted files: a checkpoint whose stored config
 * names code (it must never run), and a checkpoint write killed between the temporary file and
 * the rename (the next start removes the temporary; the latest checkpoint stays loadable).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '@gorilla-ts/config';
import type { PointNetCls } from '@gorilla-ts/models-pointnet';
import '@gorilla-ts/models-pointnet';
import { buildModel } from '@gorilla-ts/registry';
import { initBackend, saveCheckpoint } from '@gorilla-ts/train';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR } from '../src/paths.js';
import { readCheckpointMetadata } from '../src/run-files.js';

const CLI = join(APP_DIR, 'dist', 'cli.js');
// Measured: the crafted-checkpoint case 3-7 s, the fault case 15-18 s on 2 busy cores; the
// set-up (`tsc -b` up to 65 s, backend start-up up to 32 s) with two CPU burners beside it.
const TIMEOUT = 300_000;

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
epochs: 3
`;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', GORILLA_DEBUG: '', ...env };
  if (env.GORILLA_FAULT === undefined) delete childEnv.GORILLA_FAULT;
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  return new Promise((done) =>
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr })),
  );
}

const dirs: string[] = [];
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelnet-untrusted-'));
  writeFileSync(join(dir, 'tiny.yaml'), TINY);
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  // The CLI runs from dist/: bring it up to date with src/ (incremental, quick when it is).
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.json'], { cwd: APP_DIR, stdio: 'inherit' });
  await initBackend({ backend: 'cpu', logger: () => {} });
}, TIMEOUT);

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('a checkpoint never runs code', () => {
  it(
    'test --checkpoint refuses a stored config whose dataloader.worker_module is a data: URL; the code never runs',
    async () => {
      const dir = workdir();
      const marker = join(dir, 'pwned');
      const payload =
        "import { writeFileSync } from 'node:fs';" +
        `writeFileSync(${JSON.stringify(marker)}, 'code from a checkpoint ran');` +
        'export const dataset = { length: 1, get: () => ({}) };';
      const config = (await Config.fromFile(join(dir, 'tiny.yaml'))).toObject() as Record<
        string,
        Record<string, unknown>
      >;
      config.dataloader = {
        ...config.dataloader,
        num_workers: 1,
        worker_module: `data:text/javascript,${encodeURIComponent(payload)}`,
      };
      // Real weights for the config's model, so that nothing but the config stops the run.
      const model = buildModel<PointNetCls>(config.model as { type: string });
      const checkpoint = join(dir, 'downloaded.safetensors');
      await saveCheckpoint({ model, filename: checkpoint, config, meta: { epoch: 1 } });

      const run = await cli(dir, ['test', '--checkpoint', checkpoint]);
      expect(existsSync(marker)).toBe(false);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(
        `error: Checkpoint '${checkpoint}' stores a config that names code to run:`,
      );
      expect(run.stderr).toContain('dataloader.worker_module: "data:text/javascript,');
      expect(run.stderr).toContain('Pass --config');
      expect(run.stderr).not.toMatch(/^\s+at .+[:(]/m);
    },
    TIMEOUT,
  );
});

describe('a stored config that is not JSON', () => {
  it(
    'test --checkpoint says so in one line (exit 2), no stack',
    async () => {
      const dir = workdir();
      const header = Buffer.from(
        JSON.stringify({ __metadata__: { format: 'gorilla-ts/1', config: '{not json' } }),
      );
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(header.length));
      const checkpoint = join(dir, 'odd.safetensors');
      writeFileSync(checkpoint, Buffer.concat([length, header]));
      const run = await cli(dir, ['test', '--checkpoint', checkpoint]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`error: ${checkpoint}: its stored config is not JSON`);
      expect(run.stderr).not.toMatch(/^\s+at .+[:(]/m);
    },
    TIMEOUT,
  );
});

describe('a checkpoint write killed before its rename leaves nothing behind', () => {
  it(
    'train with GORILLA_FAULT=checkpoint-after-temp-write dies mid-write; train --resume removes the temporary and continues from the intact epoch_latest',
    async () => {
      const dir = workdir();
      const logDir = join(dir, 'log', 'tiny');
      const temporaries = () => readdirSync(logDir).filter((name) => name.endsWith('.tmp'));
      // Epoch 1 writes epoch_00001 (epoch_latest and epoch_best are hard links to it); the 2nd
      // write (epoch_00002) is killed after its temporary is written and fsynced.
      const crashed = await cli(dir, ['train', '--config', 'tiny.yaml'], {
        GORILLA_FAULT: 'checkpoint-after-temp-write:2',
      });
      expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
      expect(temporaries()).toHaveLength(1);
      expect(temporaries()[0]).toMatch(/^\.epoch_\d+\.safetensors\.\d+\.[0-9a-f]{8}\.tmp$/);
      const latest = readCheckpointMetadata(join(logDir, 'epoch_latest.safetensors'));
      expect(JSON.parse(latest?.meta ?? 'null')).toMatchObject({ epoch: 1 });

      const resumed = await cli(dir, ['train', '--config', 'tiny.yaml', '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain('a checkpoint write interrupted in an earlier run');
      expect(resumed.stderr).toContain('(epoch 1 of 3 complete)');
      expect(temporaries()).toEqual([]);
      expect(
        JSON.parse(
          readCheckpointMetadata(join(logDir, 'epoch_latest.safetensors'))?.meta ?? 'null',
        ),
      ).toMatchObject({ epoch: 3 });
    },
    TIMEOUT,
  );
});
