import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, installed, runNodeScript, tempDir } from './train1-helpers.js';

interface Run {
  backend: string;
  losses: number[];
  weights: Record<string, number[]>;
  lrs: number[];
  iter: number;
}

const temp = tempDir('gorilla-resume-');
afterAll(temp.remove);
const noNative = !installed('@tensorflow/tfjs-node');

/** Two epochs straight; one epoch and save; a new process resumes and trains the second. */
async function straightAndResumed(backend: string, optimizer: string): Promise<[Run, Run, Run]> {
  const dir = join(temp.dir, `${backend}-${optimizer}`);
  const script = fixture('train-tiny.mjs');
  const common = ['--backend', backend, '--optimizer', optimizer];
  const checkpoint = join(dir, 'ckpt', 'epoch_latest.safetensors');
  const [straight, first] = await Promise.all([
    runNodeScript<Run>(
      script,
      [...common, '--to', '2'],
      join(temp.dir, `${backend}-${optimizer}-straight.json`),
    ),
    runNodeScript<Run>(
      script,
      [...common, '--to', '1', '--save', checkpoint],
      join(temp.dir, `${backend}-${optimizer}-first.json`),
    ),
  ]);
  const second = await runNodeScript<Run>(
    script,
    [...common, '--to', '2', '--resume', checkpoint],
    join(temp.dir, `${backend}-${optimizer}-second.json`),
  );
  return [straight, first, second];
}

describe('exact resume across processes', () => {
  const cases: Array<[string, string, boolean]> = [
    ['cpu', 'Adam', false],
    ['cpu', 'SGD', false],
    ['wasm', 'Adam', false],
    ['tensorflow', 'Adam', noNative],
  ];
  for (const [backend, optimizer, skip] of cases) {
    const title = `${backend}, ${optimizer}: 1 epoch + save + resume in a new process + 1 epoch equals 2 epochs straight`;
    it.skipIf(skip)(
      skip ? `${title} (skipped: @tensorflow/tfjs-node is not installed)` : title,
      async () => {
        const [straight, first, second] = await straightAndResumed(backend, optimizer);
        expect(straight.backend).toBe(backend);
        expect(straight.losses).toHaveLength(12);
        expect(first.losses).toHaveLength(6);
        expect(second.losses).toHaveLength(6);
        expect(second.iter).toBe(12);
        const resumedLosses = [...first.losses, ...second.losses];
        if (backend === 'tensorflow') {
          resumedLosses.forEach((loss, i) => {
            expect(Math.abs(loss - straight.losses[i]!)).toBeLessThanOrEqual(1e-6);
          });
          for (const [name, weights] of Object.entries(straight.weights)) {
            second.weights[name]!.forEach((value, i) => {
              expect(Math.abs(value - weights[i]!), name).toBeLessThanOrEqual(1e-6);
            });
          }
        } else {
          // Bit-exact: the same float32 values, step by step.
          expect(resumedLosses).toEqual(straight.losses);
          expect(second.weights).toEqual(straight.weights);
        }
        expect(second.lrs).toEqual(straight.lrs);
        // The run learns something (the losses are not all equal).
        expect(new Set(straight.losses).size).toBeGreaterThan(1);
      },
      120_000,
    );
  }
});
