import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const script = join(import.meta.dirname, 'fixtures/data-parallel/train.mjs');
const work = mkdtempSync(join(tmpdir(), 'gorilla-ddp-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Result {
  worldSize: number;
  backend: string;
  firstStable: boolean;
  weights: Record<string, number[]>;
  losses: number[];
}

async function train(processes: number, backend = 'cpu'): Promise<Result> {
  const out = join(work, `result-${processes}-${backend}.json`);
  await run(process.execPath, [script, String(processes), out, backend], { timeout: 120_000 });
  return JSON.parse(readFileSync(out, 'utf8')) as Result;
}

describe('data-parallel training (real processes)', () => {
  // cpu keeps tensors in JS arrays; tfjs-node copies them into TensorFlow's memory: the averaged
  // gradients must be tensors of their own on both, whatever happens to the host buffers after.
  test.each(['cpu', 'tensorflow'])(
    '%s: 2 ranks x batch 8 give the weights of 1 rank x batch 16 after 20 steps',
    async (backend) => {
      const [single, parallel] = await Promise.all([train(1, backend), train(2, backend)]);
      expect([single.backend, parallel.backend]).toEqual([backend, backend]);
      expect(single.worldSize).toBe(1);
      expect(parallel.worldSize).toBe(2);
      expect(Object.keys(parallel.weights)).toEqual(Object.keys(single.weights));
      let maxDifference = 0;
      for (const [name, values] of Object.entries(single.weights)) {
        const other = parallel.weights[name]!;
        expect(other.length).toBe(values.length);
        for (let i = 0; i < values.length; i++) {
          maxDifference = Math.max(maxDifference, Math.abs(values[i]! - other[i]!));
        }
      }
      expect(maxDifference).toBeLessThan(1e-5);
      // The first step's averaged gradients, kept to the end, still hold their values.
      expect(parallel.firstStable).toBe(true);
      // Training did move the weights: the loss of the last 5 steps is well below the first 5.
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      expect(mean(single.losses.slice(-5))).toBeLessThan(0.5 * mean(single.losses.slice(0, 5)));
    },
    180_000,
  );
});

describe('syncBuffers', () => {
  test('averages BatchNorm running statistics over 2 ranks', async () => {
    const out = join(work, 'sync.json');
    const fixture = join(import.meta.dirname, 'fixtures/data-parallel/sync-buffers.mjs');
    await run(process.execPath, [fixture, '2', out], { timeout: 120_000 });
    const ranks = JSON.parse(readFileSync(out, 'utf8')) as Array<{
      before: Record<string, number[]>;
      after: Record<string, number[]>;
    }>;
    expect(ranks).toHaveLength(2);
    const [first, second] = ranks as [(typeof ranks)[0], (typeof ranks)[0]];
    expect(first.before.running_mean).not.toEqual(second.before.running_mean);
    for (const name of ['running_mean', 'running_var']) {
      const mean = first.before[name]!.map((value, i) => (value + second.before[name]![i]!) / 2);
      for (const rank of ranks) {
        rank.after[name]!.forEach((value, i) => {
          expect(value).toBeCloseTo(mean[i]!, 6);
        });
      }
    }
  }, 120_000);
});
