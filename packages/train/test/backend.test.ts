import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureGradients, gradientsRegistered } from '../src/backend/gradients.js';
import {
  type BackendEnvironment,
  describeLoadFailure,
  initBackend,
  selectBackend,
  shareCpuThreads,
} from '../src/backend/init-backend.js';
import { BackendError, TrainError } from '../src/errors.js';
import { installed, TEST_BACKEND } from './train1-helpers.js';

const notFound = (name: string) =>
  Object.assign(new Error(`Cannot find package '${name}' imported from /x/y.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });

/** A fake world: what each package does on import, and whether a GPU exists. */
function environment(
  behaviour: Record<string, 'ok' | 'missing' | Error>,
  gpu = false,
): BackendEnvironment & { imported: string[] } {
  const imported: string[] = [];
  return {
    imported,
    hasGpu: () => gpu,
    async importPackage(name) {
      imported.push(name);
      const what = behaviour[name] ?? 'ok';
      if (what === 'missing') throw notFound(name);
      if (what instanceof Error) throw what;
      if (name === '@tensorflow/tfjs-backend-cpu') await import('@tensorflow/tfjs-backend-cpu');
      if (name === '@tensorflow/tfjs-backend-wasm') await import('@tensorflow/tfjs-backend-wasm');
      return {};
    },
  };
}

describe('backend selection', () => {
  afterAll(async () => {
    await initBackend({ backend: TEST_BACKEND, logger: () => {} });
  });

  it('auto skips the GPU package without a GPU and the native one when missing, logging why', async () => {
    const lines: string[] = [];
    const env = environment({ '@tensorflow/tfjs-node': 'missing' });
    const info = await selectBackend('auto', env, (line) => lines.push(line));
    expect(info).toEqual({
      name: 'wasm',
      packageName: '@tensorflow/tfjs-backend-wasm',
      tfBackend: 'wasm',
      skipped: [
        { name: 'tensorflow-gpu', reason: 'no GPU' },
        { name: 'tensorflow', reason: 'not installed' },
      ],
    });
    expect(env.imported).toEqual(['@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm']);
    expect(tf.getBackend()).toBe('wasm');
    expect(lines).toEqual([
      'backend: skipped tensorflow-gpu (@tensorflow/tfjs-node-gpu): no GPU',
      'backend: skipped tensorflow (@tensorflow/tfjs-node): not installed',
      'backend: wasm (@tensorflow/tfjs-backend-wasm 4.22.0); for the faster native backend: npm i @tensorflow/tfjs-node',
    ]);
  });

  it('reports a load failure with its message and falls through to cpu', async () => {
    const lines: string[] = [];
    const env = environment(
      {
        '@tensorflow/tfjs-node-gpu': new Error(
          'libcudart.so.11.0: cannot open shared object file\nmore',
        ),
        '@tensorflow/tfjs-node': new Error('The specified module could not be found.'),
        '@tensorflow/tfjs-backend-wasm': 'missing',
      },
      true,
    );
    const info = await selectBackend('auto', env, (line) => lines.push(line));
    expect(info.name).toBe('cpu');
    expect(info.skipped).toEqual([
      {
        name: 'tensorflow-gpu',
        reason: 'failed to load: libcudart.so.11.0: cannot open shared object file',
      },
      { name: 'tensorflow', reason: 'failed to load: The specified module could not be found.' },
      { name: 'wasm', reason: 'not installed' },
    ]);
    expect(lines).toHaveLength(4);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('a concrete backend that cannot load is an error naming the package and the fix', async () => {
    const env = environment({ '@tensorflow/tfjs-node': 'missing' });
    const error = await selectBackend('tensorflow', env, () => {}).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BackendError);
    expect(TrainError.isInstance(error) && error.code).toBe('BACKEND_UNAVAILABLE');
    expect((error as Error).message).toMatchInlineSnapshot(
      `"The 'tensorflow' backend is unavailable: @tensorflow/tfjs-node is not installed. Install it (npm i @tensorflow/tfjs-node) or choose another backend (auto, tensorflow-gpu, tensorflow, wasm, cpu)."`,
    );
  });

  it('tells "not installed" from a broken install', () => {
    expect(describeLoadFailure(notFound('@tensorflow/tfjs-node'), '@tensorflow/tfjs-node')).toBe(
      'not installed',
    );
    const cjs = Object.assign(
      new Error("Cannot find module '@tensorflow/tfjs-node'\nRequire stack: ..."),
      {
        code: 'MODULE_NOT_FOUND',
      },
    );
    expect(describeLoadFailure(cjs, '@tensorflow/tfjs-node')).toBe('not installed');
    const addon = Object.assign(
      new Error(
        "Cannot find module '/x/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'",
      ),
      { code: 'MODULE_NOT_FOUND' },
    );
    expect(describeLoadFailure(addon, '@tensorflow/tfjs-node')).toMatch(
      /^failed to load: Cannot find module '\/x\/node_modules\/@tensorflow\/tfjs-node\/lib\/napi-v8\/tfjs_binding.node' \(.*npm rebuild @tensorflow\/tfjs-node/,
    );
  });

  it('rejects unknown names, from the option or GORILLA_BACKEND', async () => {
    await expect(initBackend({ backend: 'tensorflw', logger: () => {} })).rejects.toThrow(
      "Unknown backend 'tensorflw' (from the backend option). Use one of: auto, tensorflow-gpu, tensorflow, wasm, cpu.",
    );
    const saved = process.env.GORILLA_BACKEND;
    process.env.GORILLA_BACKEND = 'gpu';
    try {
      await expect(initBackend({ logger: () => {} })).rejects.toMatchObject({
        code: 'BACKEND_UNKNOWN',
        backend: 'gpu',
      });
    } finally {
      if (saved === undefined) delete process.env.GORILLA_BACKEND;
      else process.env.GORILLA_BACKEND = saved;
    }
  });

  it('GORILLA_BACKEND picks the backend when no option is given; a second call is idempotent', async () => {
    const saved = process.env.GORILLA_BACKEND;
    process.env.GORILLA_BACKEND = 'cpu';
    try {
      const lines: string[] = [];
      const first = await initBackend({ logger: (line) => lines.push(line) });
      const second = await initBackend({ logger: (line) => lines.push(line) });
      expect(first.name).toBe('cpu');
      expect(second).toBe(first);
      expect(lines).toEqual(['backend: cpu (@tensorflow/tfjs-backend-cpu 4.22.0)']);
    } finally {
      if (saved === undefined) delete process.env.GORILLA_BACKEND;
      else process.env.GORILLA_BACKEND = saved;
    }
  });

  it('registers the gradients tfjs-core lacks on its own', async () => {
    await ensureGradients();
    expect(gradientsRegistered()).toBe(true);
    await initBackend({ backend: 'wasm', logger: () => {} });
    const x = tf.variable(
      tf.tensor2d([
        [1, -2],
        [3, 4],
      ]),
    );
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.relu(tf.matMul(x, x))), [x]);
    expect(value.dataSync()[0]).toBe(15 + 10); // relu([[-5, -10], [15, 10]])
    expect(Object.values(grads)[0]!.shape).toEqual([2, 2]);
    tf.dispose([x, value, ...Object.values(grads)]);
  });

  const noNative = !installed('@tensorflow/tfjs-node');
  it.skipIf(noNative)(
    `auto picks tfjs-node here, sharing this tfjs-core${noNative ? ' (skipped: @tensorflow/tfjs-node is not installed)' : ''}`,
    async () => {
      const lines: string[] = [];
      const info = await initBackend({ backend: 'auto', logger: (line) => lines.push(line) });
      expect(info.name === 'tensorflow' || info.name === 'tensorflow-gpu').toBe(true);
      expect(tf.getBackend()).toBe('tensorflow');
      expect(tf.add(tf.tensor1d([1, 2]), 1).dataSync()).toEqual(new Float32Array([2, 3]));
      expect(lines.at(-1)).toMatch(/^backend: tensorflow(-gpu)? \(@tensorflow\/tfjs-node(-gpu)? /);
    },
  );
});

describe('TensorFlow threads with several processes on one machine', () => {
  it('gives each process an equal share of the cores when the launcher says how many run', () => {
    const env: Record<string, string | undefined> = { LOCAL_WORLD_SIZE: '2' };
    expect(shareCpuThreads(env, 2)).toBe(
      'backend: 2 processes on this machine (LOCAL_WORLD_SIZE) share its 2 cores: ' +
        'TF_NUM_INTRAOP_THREADS and TF_NUM_INTEROP_THREADS set to 1 (set them to override)',
    );
    expect(env).toMatchObject({ TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' });
    const mpi: Record<string, string | undefined> = { OMPI_COMM_WORLD_LOCAL_SIZE: '3' };
    shareCpuThreads(mpi, 16);
    expect(mpi).toMatchObject({ TF_NUM_INTRAOP_THREADS: '5', TF_NUM_INTEROP_THREADS: '5' });
    const crowded: Record<string, string | undefined> = { MPI_LOCALNRANKS: '4' };
    shareCpuThreads(crowded, 2);
    expect(crowded.TF_NUM_INTRAOP_THREADS).toBe('1'); // never 0
  });

  const noNative = !installed('@tensorflow/tfjs-node');
  it.skipIf(noNative)(
    `still says so when tfjs-node-gpu failed first and tfjs-node loads${noNative ? ' (skipped: @tensorflow/tfjs-node is not installed)' : ''}`,
    () => {
      // A fresh process, so that no native backend is loaded yet (the built package).
      const script = `
        import { selectBackend } from ${JSON.stringify(new URL('../dist/backend/init-backend.js', import.meta.url).href)};
        const lines = [];
        await selectBackend('auto', {
          hasGpu: () => true,
          importPackage: (name) => name.endsWith('-gpu') ? Promise.reject(new Error('no CUDA')) : import(name),
        }, (line) => lines.push(line));
        console.log(JSON.stringify({ lines, intra: process.env.TF_NUM_INTRAOP_THREADS }));`;
      const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_WORLD_SIZE: '2' };
      delete env.TF_NUM_INTRAOP_THREADS;
      delete env.TF_NUM_INTEROP_THREADS;
      const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env,
        encoding: 'utf8',
      });
      const { lines, intra } = JSON.parse(output.trim().split('\n').at(-1)!);
      expect(intra).toBe(String(Math.max(1, Math.floor(availableParallelism() / 2))));
      expect(lines).toContainEqual(
        expect.stringMatching(/^backend: 2 processes on this machine \(LOCAL_WORLD_SIZE\)/),
      );
      expect(lines.at(-1)).toMatch(/^backend: tensorflow \(@tensorflow\/tfjs-node /);
    },
    60_000,
  );

  it('keeps what the user set, and changes nothing for a single process', () => {
    const env: Record<string, string | undefined> = {
      LOCAL_WORLD_SIZE: '2',
      TF_NUM_INTRAOP_THREADS: '4',
    };
    expect(shareCpuThreads(env, 8)).toContain('TF_NUM_INTEROP_THREADS set to 4');
    expect(env).toMatchObject({ TF_NUM_INTRAOP_THREADS: '4', TF_NUM_INTEROP_THREADS: '4' });
    const both = {
      LOCAL_WORLD_SIZE: '2',
      TF_NUM_INTRAOP_THREADS: '2',
      TF_NUM_INTEROP_THREADS: '1',
    };
    expect(shareCpuThreads(both, 8)).toBeUndefined();
    const single: Record<string, string | undefined> = { LOCAL_WORLD_SIZE: '1' };
    expect(shareCpuThreads(single, 8)).toBeUndefined();
    expect(shareCpuThreads({}, 8)).toBeUndefined();
    expect(single).toEqual({ LOCAL_WORLD_SIZE: '1' });
  });
});
