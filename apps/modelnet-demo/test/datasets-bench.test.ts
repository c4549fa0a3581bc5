/**
 * Timings of the data path, run on demand: `MODELNET_BENCH=1 npx vitest run test/datasets-bench.test.ts`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyAugment,
  createRng,
  ensureH5,
  farthestPointSample,
  ModelNetH5,
  ModelNetNormalResampled,
  resolveAugment,
  SyntheticShapes,
} from '../src/datasets/index.js';
import { writeTextTree } from './fixtures/modelnet-trees.js';

const MODELNET10 = new URL('../../../../shared/data/modelnet10_ply_hdf5_1024', import.meta.url)
  .pathname;
const ON_DEMAND = process.env.MODELNET_BENCH
  ? ''
  : ' (skipped: timings, run with MODELNET_BENCH=1)';
const RECIPE = { scale: [0.8, 1.25] as [number, number], shift: 0.1 };

function rate(label: string, count: number, run: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) run(i);
  const seconds = (performance.now() - start) / 1000;
  const perSecond = count / seconds;
  console.log(`${label}: ${perSecond.toFixed(0)}/s (${count} in ${seconds.toFixed(3)} s)`);
  return perSecond;
}

describe.skipIf(!process.env.MODELNET_BENCH)(
  `data timings${ON_DEMAND}`,
  { timeout: 120_000 },
  () => {
    it.skipIf(!existsSync(MODELNET10))(
      `ModelNetH5: load ModelNet10 and read samples${existsSync(MODELNET10) ? '' : ` (skipped: ${MODELNET10} is missing)`}`,
      async () => {
        let start = performance.now();
        await ensureH5();
        console.log(`h5wasm init: ${(performance.now() - start).toFixed(0)} ms`);
        start = performance.now();
        const train = new ModelNetH5({ dataRoot: MODELNET10, split: 'train' });
        console.log(
          `ModelNet10 train (${train.length} shapes) loaded in ${(performance.now() - start).toFixed(0)} ms`,
        );
        start = performance.now();
        const half = new ModelNetH5({ dataRoot: MODELNET10, split: 'train', numPoints: 512 });
        console.log(
          `ModelNet10 train at 512 points loaded in ${(performance.now() - start).toFixed(0)} ms`,
        );
        expect(half.length).toBe(3991);
        rate('get() plain', 20000, (i) => train.get(i % train.length));
        const augmented = new ModelNetH5({ dataRoot: MODELNET10, split: 'train', augment: RECIPE });
        rate('get() scale+shift', 20000, (i) => augmented.get(i % augmented.length));
        const full = new ModelNetH5({
          dataRoot: MODELNET10,
          split: 'train',
          augment: {
            rotate: true,
            scale: true,
            shift: true,
            jitter: true,
            dropout: true,
            shuffle: true,
          },
        });
        rate('get() all six augmentations', 20000, (i) => full.get(i % full.length));
      },
    );

    it('SyntheticShapes and FPS', () => {
      const shapes = new SyntheticShapes({ samplesPerClass: 1000 });
      rate('SyntheticShapes get()', 5000, (i) => shapes.get(i));
      const cloud = shapes.get(0).points;
      const big = new Float32Array(10000 * 6);
      for (let i = 0; i < big.length; i++) big[i] = cloud[i % cloud.length]! + Math.sin(i) * 0.01;
      rate('FPS 10,000 -> 1,024 points', 50, () => farthestPointSample(big, 6, 1024));
    });
  },
);

describe.skipIf(!process.env.MODELNET_BENCH)(`text layout${ON_DEMAND}`, () => {
  it('ModelNetNormalResampled on 10,000-point files', () => {
    const root = mkdtempSync(join(tmpdir(), 'modelnet-bench-'));
    try {
      writeTextTree(root, { classes: { chair: [20, 0] }, points: 10000 });
      for (const sampling of ['first', 'fps'] as const) {
        const set = new ModelNetNormalResampled({ dataRoot: root, sampling, useNormals: true });
        rate(`ModelNetNormalResampled get() (${sampling}, 1,024 of 10,000)`, 20, (i) => set.get(i));
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!process.env.MODELNET_BENCH)(`augmentation steps${ON_DEMAND}`, () => {
  it('each step alone', () => {
    const shapes = new SyntheticShapes({ samplesPerClass: 1 });
    const base = shapes.get(0).points;
    for (const step of ['rotate', 'scale', 'shift', 'jitter', 'dropout', 'shuffle'] as const) {
      const steps = resolveAugment({ [step]: true });
      const rng = createRng(1);
      rate(`augment ${step}`, 5000, () => applyAugment(base.slice(), 3, steps, rng));
    }
  });
});
