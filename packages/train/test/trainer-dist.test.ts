import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from './fixtures/trainer/toy.js';

// Runs the built package (dist/) in real processes: build first (turbo does before `test`).
const run = promisify(execFile);
const script = fileURLToPath(new URL('./fixtures/trainer/dist-train.mjs', import.meta.url));
const work = tempDir('gorilla-trainer-dist-');
beforeAll(() => {
  const built = fileURLToPath(new URL('../dist/trainer/trainer.js', import.meta.url));
  if (!existsSync(built))
    throw new Error(`${built} is missing: build the package first (npx tsc -b).`);
});
afterAll(() => work.remove());

interface RankState {
  rank: number;
  worldSize: number;
  itersPerEpoch: number;
  result: { status: string; iterations: number; metrics: Record<string, number> };
  state: Record<string, number[]>;
  logLines: number;
}

describe('data-parallel Trainer (2 real processes)', () => {
  test('ranks stay identical, evaluation counts each sample once, rank 0 alone writes', async () => {
    const out = join(work.dir, 'ranks.json');
    await run(process.execPath, [script, '2', work.dir, out], { timeout: 120_000 });
    const ranks = JSON.parse(readFileSync(out, 'utf8')) as RankState[];
    expect(ranks.map((rank) => [rank.rank, rank.worldSize, rank.itersPerEpoch])).toEqual([
      [0, 2, 5], // 40 samples, 20 per rank, batches of 4
      [1, 2, 5],
    ]);
    const [first, second] = ranks as [RankState, RankState];
    expect(first.result).toMatchObject({ status: 'finished', iterations: 10 });
    // 23 evaluation samples split 12 + 11 by the InferenceSampler, gathered: each counted once.
    expect(first.result.metrics['val/samples']).toBe(23);
    expect(second.result.metrics).toEqual(first.result.metrics);
    // Different initial weights, broadcast from rank 0; averaged gradients; BatchNorm statistics
    // averaged at each epoch's end: the ranks end with the same state.
    expect(second.state).toEqual(first.state);
    expect(first.state['1.running_mean']!.some((value) => value !== 0)).toBe(true);
    // Logs on rank 0 only (other ranks show errors only).
    expect(first.logLines).toBeGreaterThan(0);
    expect(second.logLines).toBe(0);
    expect(readdirSync(work.dir).filter((name) => name.endsWith('.safetensors'))).toEqual([
      'epoch_00001.safetensors',
      'epoch_00002.safetensors',
      'epoch_latest.safetensors',
    ]);
  }, 120_000);
});
