// Trains a tiny classifier on synthetic data, stepping through epochs `--from` .. `--to`,
// optionally resuming from `--resume` first and saving to `--save` after each epoch. Writes the
// per-step losses and the final weights as JSON to `--out`. Used by resume.test.ts to check
// that a killed-and-resumed run equals one that never stopped.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import {
  BatchNorm1d,
  buildLrScheduler,
  buildOptimizer,
  crossEntropyLoss,
  Dropout,
  getRandomGenerator,
  initBackend,
  Linear,
  RandomGenerator,
  ReLU,
  resume,
  Sequential,
  saveCheckpoint,
  setRandomSeed,
} from '../../dist/index.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    to: { type: 'string' },
    optimizer: { type: 'string', default: 'Adam' },
    save: { type: 'string' },
    resume: { type: 'string' },
    out: { type: 'string' },
  },
});
const info = await initBackend({ backend: args.backend, logger: () => {} });
setRandomSeed(2024);

// Synthetic data from its own generator: 48 samples, 6 features, 3 classes.
const SAMPLES = 48;
const BATCH = 8;
const data = new RandomGenerator(7);
const features = Array.from({ length: SAMPLES }, () =>
  Array.from({ length: 6 }, () => data.normal()),
);
const targets = features.map((row) => (row[0] + row[1] > 0.5 ? 0 : row[2] > 0 ? 1 : 2));

const model = new Sequential({
  layers: [
    new Linear({ inFeatures: 6, outFeatures: 16 }),
    new BatchNorm1d({ numFeatures: 16 }),
    new ReLU(),
    new Dropout({ p: 0.2 }),
    new Linear({ inFeatures: 16, outFeatures: 3 }),
  ],
});
const optimizer = buildOptimizer(model, {
  type: args.optimizer,
  lr: 0.01,
  weightDecay: 1e-4,
  ...(args.optimizer === 'SGD' ? { momentum: 0.9, nesterov: true } : {}),
  paramGroups: [{ prefix: '4.', lrMult: 2, decayMult: 0 }],
});
const scheduler = buildLrScheduler(optimizer, {
  type: 'CosineAnnealingLR',
  tMax: 12,
  by: 'iteration',
  warmup: { iters: 3, factor: 0.1 },
});
const criterion = crossEntropyLoss({ labelSmoothing: 0.1 });

let epoch = 1;
let iter = 0;
if (args.resume) {
  const { meta } = await resume({
    model,
    filename: args.resume,
    optimizer,
    scheduler,
    logger: () => {},
  });
  epoch = meta.epoch + 1;
  iter = meta.iter;
}
const losses = [];
const lastEpoch = Number(args.to);
for (; epoch <= lastEpoch; epoch++) {
  model.train();
  const order = getRandomGenerator().permutation(SAMPLES);
  for (let start = 0; start < SAMPLES; start += BATCH) {
    const batch = order.slice(start, start + BATCH);
    const x = tf.tensor2d(batch.map((i) => features[i]));
    const y = tf.tensor1d(
      batch.map((i) => targets[i]),
      'int32',
    );
    // No per-step read-back: the losses are read once at the end.
    losses.push(optimizer.minimize(() => criterion({ logits: model.forward(x), labels: y })[0]));
    scheduler.step();
    iter += 1;
    tf.dispose([x, y]);
  }
  if (args.save)
    await saveCheckpoint({
      model,
      filename: args.save,
      optimizer,
      scheduler,
      meta: { epoch, iter },
    });
}
const result = {
  backend: info.name,
  losses: await Promise.all(losses.map(async (loss) => (await loss.data())[0])),
  weights: Object.fromEntries(
    await Promise.all(
      [...model.stateDict()].map(async ([name, variable]) => [
        name,
        Array.from(await variable.data()),
      ]),
    ),
  ),
  lrs: optimizer.getLrs(),
  iter,
};
writeFileSync(args.out, JSON.stringify(result));
