// A synthetic ModelNet-like dataset for bench/dataloader.mjs: `length` clouds of `points` xyz
// points (float32), held in memory like a preloaded ModelNet split, with PointNet's training
// augmentation applied on every get(): a random rotation about the up axis, a random scale and
// shift, and clipped Gaussian jitter. The main thread and each worker import this module
// (`createDataset(options)` is the data loader's worker-module contract).

// train's mulberry32 (its own module, light enough for every worker thread to import).
import { createRng as rng } from '../packages/train/dist/data/sampler.js';

/** A standard normal draw (Box–Muller). */
function gaussian(random) {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function createDataset(options = {}) {
  const length = options.length ?? 1024;
  const points = options.points ?? 1024;
  const classes = options.classes ?? 40;
  const base = [];
  for (let index = 0; index < length; index += 1) {
    const random = rng(index + 1);
    const cloud = new Float32Array(points * 3);
    for (let i = 0; i < cloud.length; i += 1) cloud[i] = random() * 2 - 1;
    base.push(cloud);
  }
  let calls = 0;
  return {
    length,
    get(index) {
      calls += 1;
      const random = rng(index * 1_000_003 + calls);
      const source = base[index];
      const out = new Float32Array(points * 3);
      const angle = random() * 2 * Math.PI;
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const scale = 0.8 + random() * 0.45;
      const shift = [random() * 0.2 - 0.1, random() * 0.2 - 0.1, random() * 0.2 - 0.1];
      for (let p = 0; p < points; p += 1) {
        const x = source[p * 3];
        const y = source[p * 3 + 1];
        const z = source[p * 3 + 2];
        const jitter = () => Math.max(-0.05, Math.min(0.05, 0.01 * gaussian(random)));
        out[p * 3] = (cos * x + sin * z) * scale + shift[0] + jitter();
        out[p * 3 + 1] = y * scale + shift[1] + jitter();
        out[p * 3 + 2] = (-sin * x + cos * z) * scale + shift[2] + jitter();
      }
      return { points: { data: out, shape: [points, 3] }, label: index % classes };
    },
  };
}
