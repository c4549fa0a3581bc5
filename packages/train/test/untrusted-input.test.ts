/**
 * Files a user downloads are data: a config stored in a checkpoint may not name code, a data
 * loader never imports a `data:`/`http:` module, and a checkpoint write killed between the
 * temporary file and the rename leaves nothing behind once the next run starts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CheckpointError,
  checkCheckpointConfig,
  DataLoader,
  findCodeInConfig,
  Linear,
  readCheckpoint,
  removeStaleTemporaries,
  Sequential,
  saveCheckpoint,
} from '../src/index.js';
import { tempDir, useCpu } from './fixtures/trainer/toy.js';
import { BACKEND_HOOK_TIMEOUT } from './train1-helpers.js';

const work = tempDir('gorilla-untrusted-');
beforeAll(useCpu, BACKEND_HOOK_TIMEOUT);
afterAll(() => work.remove());

/** A `data:` module that, when imported, writes `marker` (and builds a tiny dataset). */
function markerModule(marker: string): string {
  const source =
    "import { writeFileSync } from 'node:fs';" +
    `writeFileSync(${JSON.stringify(marker)}, 'code from a data: URL ran');` +
    'export const dataset = { length: 4, get: (i) => ({ x: i }) };';
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

describe('worker modules come from files only', () => {
  const dataset = { length: 4, get: (index: number) => ({ x: index }) };
  const drain = async (loader: DataLoader<unknown, unknown>) => {
    try {
      for await (const _ of loader);
    } finally {
      await loader.close();
    }
  };

  test('a data: URL is refused before any worker starts, and its code never runs', async () => {
    const marker = join(work.dir, 'data-url-ran');
    const build = () =>
      new DataLoader(dataset, {
        batchSize: 2,
        numWorkers: 1,
        workerModule: markerModule(marker),
        collate: (samples) => samples,
      });
    let error: unknown;
    try {
      await drain(build() as DataLoader<unknown, unknown>);
    } catch (caught) {
      error = caught;
    }
    // Give a worker that was (wrongly) started the time to run its module.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(existsSync(marker)).toBe(false);
    expect(String(error)).toMatch(
      /workerModule must be a file path or a file: URL.*got a data: URL/,
    );
  });

  test.each([
    'http://127.0.0.1:1/evil.mjs',
    'https://example.com/evil.mjs',
    'node:fs',
    new URL('data:text/javascript,1'),
  ])('%s is refused', (module) => {
    expect(
      () => new DataLoader(dataset, { batchSize: 2, numWorkers: 1, workerModule: module }),
    ).toThrow(/workerModule must be a file path or a file: URL/);
  });

  test('paths and file: URLs are accepted', () => {
    const file = fileURLToPath(new URL('./fixtures/point-dataset.mjs', import.meta.url));
    for (const module of [file, pathToFileURL(file), pathToFileURL(file).href]) {
      expect(
        () => new DataLoader(dataset, { batchSize: 2, numWorkers: 1, workerModule: module }),
      ).not.toThrow();
    }
  });
});

describe('a config stored in a checkpoint is data only', () => {
  test('every key that names code is listed at once', () => {
    const config = {
      model: { type: 'PointNetCls' },
      dataloader: { batch_size: 2, worker_module: 'data:text/javascript,1' },
      _base_: 'evil.js',
      hooks: [{ type: 'X', customModule: './x.mjs' }],
      dataset: { type: 'D', root: 'javascript:alert(1)' },
    };
    expect(findCodeInConfig(config).map(({ key }) => key)).toEqual([
      'dataloader.worker_module',
      '_base_',
      'hooks.0.customModule',
      'dataset.root',
    ]);
    let error: unknown;
    try {
      checkCheckpointConfig(config, 'x.safetensors');
    } catch (caught) {
      error = caught;
    }
    expect(CheckpointError.isInstance(error)).toBe(true);
    expect((error as CheckpointError).code).toBe('CHECKPOINT_UNSAFE_CONFIG');
    expect((error as Error).message).toContain("Checkpoint 'x.safetensors' stores a config");
    expect((error as Error).message).toContain(
      'dataloader.worker_module: "data:text/javascript,1"',
    );
    expect((error as Error).message).toContain('Pass --config');
  });

  test('a config without code passes unchanged; a non-object is refused', () => {
    const config = {
      model: { type: 'PointNetCls', num_classes: 4 },
      dataloader: { batch_size: 2 },
    };
    expect(checkCheckpointConfig(config, 'x.safetensors')).toBe(config);
    expect(() => checkCheckpointConfig([1], 'x.safetensors')).toThrow(/not an object/);
  });
});

describe('temporary checkpoint files (real processes, fault injected mid-write)', () => {
  // The child runs the built package (dist/): turbo builds it before `test`.
  const script = fileURLToPath(new URL('./fixtures/trainer/kill-resume.mjs', import.meta.url));
  beforeAll(() => {
    const built = fileURLToPath(new URL('../dist/checkpoint/checkpoint.js', import.meta.url));
    if (!existsSync(built)) throw new Error(`${built} is missing: build the package first.`);
  });

  function run(dir: string, fault?: string) {
    return new Promise<{ code: number | null; signal: string | null; stderr: string }>(
      (resolve, reject) => {
        const env: NodeJS.ProcessEnv = { ...process.env, KILL_AT: '0', TF_CPP_MIN_LOG_LEVEL: '2' };
        delete env.GORILLA_FAULT;
        if (fault !== undefined) env.GORILLA_FAULT = fault;
        const child = spawn(process.execPath, [script, dir, join(dir, 'out.json')], {
          env,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
      },
    );
  }
  const temporaries = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

  test('a kill between the temporary write and the rename leaves a temporary; the next start removes it and resumes from the intact checkpoint', async () => {
    const dir = join(work.dir, 'fault');
    // The second checkpoint write (iteration 6) dies after its temporary is written and fsynced.
    const crashed = await run(dir, 'checkpoint-after-temp-write:2');
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const left = temporaries(dir);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.iter_00006\.safetensors\.\d+\.[0-9a-f]{8}\.tmp$/);
    expect(existsSync(join(dir, 'iter_00006.safetensors'))).toBe(false);
    // The checkpoint before it is complete.
    const intact = await readCheckpoint(join(dir, 'epoch_latest.safetensors'));
    expect(JSON.parse(intact.metadata.meta!)).toMatchObject({ iter: 3 });

    const resumed = await run(dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(temporaries(dir)).toEqual([]);
    const outcome = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as {
      startIter: number;
    };
    expect(outcome.startIter).toBe(3);
    expect(readFileSync(join(dir, 'train.log'), 'utf8')).toContain(
      'a checkpoint write interrupted in an earlier run',
    );
  }, 120_000);

  test("removeStaleTemporaries keeps a live process's temporary and files not named like ours", async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const dir = join(work.dir, 'stale');
    mkdirSync(dir, { recursive: true });
    const dead = 2 ** 22 + 12345; // above Linux's pid_max: never alive
    const names = [
      `.epoch_00001.safetensors.${dead}.0123abcd.tmp`, // dead writer: removed
      `.epoch_00002.safetensors.${process.pid}.0123abcd.tmp`, // this pid, before any write: removed
      `.epoch_00003.safetensors.${process.ppid}.0123abcd.tmp`, // a live process: kept
      'notes.tmp', // not ours: kept
      `.epoch_00004.safetensors.${dead}.xyz.tmp`, // not our pattern: kept
    ];
    for (const name of names) writeFileSync(join(dir, name), 'x');
    const removed = removeStaleTemporaries(dir, { rank: 0 });
    expect(removed.map((path) => path.slice(dir.length + 1)).sort()).toEqual(
      [names[0], names[1]].sort(),
    );
    expect(readdirSync(dir).sort()).toEqual([names[2], names[3], names[4]].sort());
    expect(removeStaleTemporaries(join(dir, 'missing'), { rank: 0 })).toEqual([]);
    writeFileSync(join(dir, names[0]!), 'x');
    expect(removeStaleTemporaries(dir, { rank: 1 })).toEqual([]);
  });

  test('a PyTorch export killed before its rename leaves the previous export whole and a temporary the next start removes', async () => {
    const dir = join(work.dir, 'export-fault');
    const source = join(dir, 'source.safetensors');
    await saveCheckpoint({
      filename: source,
      model: new Sequential({ layers: [new Linear({ inFeatures: 3, outFeatures: 2 })] }),
      rank: 0,
    });
    // The export runs in a child (the built package) that SIGKILLs itself at the fault point.
    const exporter = `
      const { exportForPytorch } = await import(${JSON.stringify(
        pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href,
      )});
      await exportForPytorch(process.argv[1], process.argv[2]);`;
    const exportOnce = (fault?: string) =>
      new Promise<{ code: number | null; signal: string | null; stderr: string }>(
        (resolve, reject) => {
          const env: NodeJS.ProcessEnv = { ...process.env };
          delete env.GORILLA_FAULT;
          if (fault !== undefined) env.GORILLA_FAULT = fault;
          const child = spawn(
            process.execPath,
            ['--input-type=module', '-e', exporter, source, join(dir, 'weights.safetensors')],
            { env, stdio: ['ignore', 'ignore', 'pipe'] },
          );
          let stderr = '';
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.on('error', reject);
          child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
        },
      );
    const first = await exportOnce();
    expect(first.code, first.stderr).toBe(0);
    const exported = readFileSync(join(dir, 'weights.safetensors'));
    const killed = await exportOnce('checkpoint-after-temp-write');
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    // The destination is the first export, byte for byte; the killed write is a temporary that
    // was written and fsynced in full, named so that removeStaleTemporaries recognises it.
    expect(readFileSync(join(dir, 'weights.safetensors')).equals(exported)).toBe(true);
    const left = temporaries(dir);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.weights\.safetensors\.\d+\.[0-9a-f]{8}\.tmp$/);
    expect(statSync(join(dir, left[0]!)).size).toBe(exported.byteLength);
    expect(removeStaleTemporaries(dir, { rank: 0 })).toEqual([join(dir, left[0]!)]);
    expect(temporaries(dir)).toEqual([]);
  }, 60_000);
});
