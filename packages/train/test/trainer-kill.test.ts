import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRng } from '../src/index.js';
import { tempDir } from './fixtures/trainer/toy.js';

// The child runs the built package (`@gorilla-ts/train` → dist/): `pnpm build` (turbo runs it
// before `test`) or `npx tsc -b` first.
const script = fileURLToPath(new URL('./fixtures/trainer/kill-resume.mjs', import.meta.url));
const work = tempDir('gorilla-kill-');
beforeAll(() => {
  const built = fileURLToPath(new URL('../dist/trainer/trainer.js', import.meta.url));
  if (!existsSync(built))
    throw new Error(`${built} is missing: build the package first (npx tsc -b).`);
});
afterAll(() => work.remove());

interface Outcome {
  startIter: number;
  metrics: Record<string, number>;
  weights: Record<string, number[]>;
}

/** Runs the fixture; with `killAt`, SIGKILLs it once it reports that step. */
function run(dir: string, killAt?: number): Promise<{ signal: string | null; steps: number[] }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [script, dir, join(dir, 'out.json')], {
      env: { ...process.env, KILL_AT: String(killAt ?? 0), TF_CPP_MIN_LOG_LEVEL: '2' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const steps: number[] = [];
    let stderr = '';
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const step = Number(/^step (\d+)$/.exec(line)?.[1]);
        if (Number.isNaN(step)) continue;
        steps.push(step);
        if (step === killAt) child.kill('SIGKILL');
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`exit ${code}:\n${stderr}`));
      else resolve({ signal, steps });
    });
  });
}

describe('kill and resume (real processes)', () => {
  // A seeded "random" step in [4, 18]: late enough that a checkpoint exists (every 3 steps).
  const killAt = 4 + Math.floor(createRng(20240611)() * 15);

  test(`a run SIGKILLed at step ${killAt} and resumed with resume: 'auto' ends with the same metrics`, async () => {
    const straightDir = join(work.dir, 'straight');
    const killedDir = join(work.dir, 'killed');
    const [straight, killed] = await Promise.all([run(straightDir), run(killedDir, killAt)]);
    expect(straight.signal).toBeNull();
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.steps.at(-1)).toBe(killAt);
    expect(existsSync(join(killedDir, 'out.json'))).toBe(false);

    const resumed = await run(killedDir);
    expect(resumed.signal).toBeNull();
    const reference = JSON.parse(readFileSync(join(straightDir, 'out.json'), 'utf8')) as Outcome;
    const outcome = JSON.parse(readFileSync(join(killedDir, 'out.json'), 'utf8')) as Outcome;
    // It continued from the last checkpoint before the kill, not from the start. Checkpoints
    // come every 3 steps; one that falls on an epoch's last step (a multiple of 5) is written
    // after the epoch's hooks, so after the step report the kill answers.
    let lastCheckpoint = killAt;
    while (lastCheckpoint % 3 !== 0 || (lastCheckpoint === killAt && killAt % 5 === 0)) {
      lastCheckpoint -= 1;
    }
    expect(outcome.startIter).toBe(lastCheckpoint);
    expect(resumed.steps[0]).toBe(lastCheckpoint + 1);
    expect(resumed.steps.at(-1)).toBe(20);
    for (const name of ['val/acc', 'val/loss', 'val/samples', 'lr', 'loss']) {
      expect(outcome.metrics[name], name).toBe(reference.metrics[name]);
    }
    expect(outcome.weights).toEqual(reference.weights);
    // keep-last-2 carried on across the kill; no temporary files were left behind.
    expect(readdirSync(killedDir).filter((name) => name.endsWith('.safetensors'))).toEqual([
      'epoch_latest.safetensors',
      'iter_00018.safetensors',
      'iter_00020.safetensors', // the last iteration is always saved
    ]);
    expect(readdirSync(killedDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  }, 180_000);
});
