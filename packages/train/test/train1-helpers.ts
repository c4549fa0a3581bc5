import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { initBackend } from '../src/backend/init-backend.js';

/** The backend in-process tests run on: `GORILLA_BACKEND`, else the deterministic `cpu`. */
export const TEST_BACKEND = process.env.GORILLA_BACKEND ?? 'cpu';

/**
 * Timeout of a hook that initialises the backend (`useTestBackend`, `useCpu`): the first
 * `initBackend` of a test file loads tfjs and registers every gradient. Measured worst case:
 * 32 s on a 2-core machine with two CPU burners beside it (`yes > /dev/null` ×2, load average
 * 21, scripts/test-under-load.sh); about 1 s idle. vitest's default hook timeout is 10 s.
 */
export const BACKEND_HOOK_TIMEOUT = 120_000;

/** Initialises {@link TEST_BACKEND} quietly. */
export async function useTestBackend(): Promise<void> {
  await initBackend({ backend: TEST_BACKEND, logger: () => {} });
}

/** Whether a package resolves from this package (installed, maybe not loadable). */
export function installed(packageName: string): boolean {
  try {
    createRequire(import.meta.url).resolve(packageName);
    return true;
  } catch {
    return false;
  }
}

/** Whether `python3 -c 'import safetensors, numpy'` works. */
export function pythonSafetensors(): boolean {
  try {
    execFileSync('python3', ['-c', 'import safetensors, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `fixtures-train1/<name>`. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures-train1/${name}`, import.meta.url));
}

/** A fresh temporary directory and its remover. */
export function tempDir(prefix = 'gorilla-train1-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `node <script> ...args` and returns the JSON it wrote to `--out`. */
export async function runNodeScript<T>(script: string, args: string[], out: string): Promise<T> {
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [script, ...args, '--out', out],
      { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' }, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (error)
          reject(new Error(`${script} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve();
      },
    );
  });
  return JSON.parse(readFileSync(out, 'utf8')) as T;
}

/** Values of a tensor as a plain array. */
export function values(tensor: tf.Tensor): number[] {
  return Array.from(tensor.dataSync());
}

/** Expects two arrays to agree element-wise within `tolerance` (absolute + relative). */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance = 1e-6,
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tolerance * (1 + Math.abs(e)))) {
      throw new Error(`element ${i}: got ${a}, expected ${e} (tolerance ${tolerance})`);
    }
  }
}
