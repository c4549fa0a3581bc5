// The 2-rank equivalence test of data-parallel training, on MPI: 2 MPI ranks x batch 8 end with
// the weights of 1 process x batch 16. The fixture loads @gorilla-ts/train (built) and
// @tensorflow/tfjs-core from packages/train, which this package does not depend on.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, mpiRun, mpiSkipReason, run, titled } from './helpers.js';

const trainEntry = fileURLToPath(new URL('../../train/dist/index.js', import.meta.url));
const skipReason =
  mpiSkipReason ??
  (existsSync(trainEntry) ? undefined : `${trainEntry} is missing: build @gorilla-ts/train`);
const work = mkdtempSync(join(tmpdir(), 'gorilla-mpi-ddp-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Result {
  worldSize: number;
  weights: Record<string, number[]>;
  losses: number[];
}

describe.skipIf(skipReason)(titled('data-parallel training on MPI', skipReason), () => {
  it('2 MPI ranks x batch 8 give the weights of 1 process x batch 16 after 20 steps', async () => {
    const script = fixture('train-mpi.mjs');
    const single = join(work, 'single.json');
    const parallel = join(work, 'parallel.json');
    const [a, b] = await Promise.all([
      run(process.execPath, [script, single], { timeoutMs: 120_000 }),
      mpiRun(2, script, [parallel], { timeoutMs: 120_000 }),
    ]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const one = JSON.parse(readFileSync(single, 'utf8')) as Result;
    const two = JSON.parse(readFileSync(parallel, 'utf8')) as Result;
    expect([one.worldSize, two.worldSize]).toEqual([1, 2]);
    expect(Object.keys(two.weights)).toEqual(Object.keys(one.weights));
    let maxDifference = 0;
    for (const [name, values] of Object.entries(one.weights)) {
      const other = two.weights[name]!;
      expect(other.length).toBe(values.length);
      for (let i = 0; i < values.length; i++) {
        maxDifference = Math.max(maxDifference, Math.abs(values[i]! - other[i]!));
      }
    }
    expect(maxDifference).toBeLessThan(1e-5);
    const mean = (values: number[]) => values.reduce((x, y) => x + y, 0) / values.length;
    expect(mean(one.losses.slice(-5))).toBeLessThan(0.5 * mean(one.losses.slice(0, 5)));
  }, 180_000);
});
