// Data-loader benchmark of @gorilla-ts/train (build the package first: pnpm build).
//
//   node bench/dataloader.mjs
//   node bench/dataloader.mjs --batch 32 --points 1024 --batches 48 --steps 4
//
// Prints one JSON line per measurement:
// - `dataloader`: samples/s that the DataLoader delivers as collated tensors (float32 [B, N, 3]
//   point clouds, int32 labels) from a synthetic ModelNet-like dataset whose get() applies
//   PointNet's augmentation (rotation, scale, shift, clipped jitter), on the main thread and with
//   worker threads, prefetching 2 batches;
// - `pointnet-step`: samples/s of one PointNet (classification, both T-Nets, no BatchNorm)
//   forward + backward + SGD update on the same batch size with tfjs-node, measured in this run;
// - `train-loop`: that step fed by the loader vs. fed one fixed batch (the loader's cost on the
//   critical path);
// - `summary`: the loader's rate over the step's rate (the goal is at least 10x), and over the
//   60 samples/s PyTorch reference.
import { createRequire } from 'node:module';
import os from 'node:os';

const option = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const batchSize = option('batch', 32);
const points = option('points', 1024);
const batches = option('batches', 48);
const steps = option('steps', 4);
const classes = 40;

const trainDir = new URL('../packages/train/', import.meta.url);
const require = createRequire(new URL('package.json', trainDir));
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-node'); // registers the 'tensorflow' backend on the same tfjs-core
await tf.setBackend('tensorflow');
const { DataLoader } = await import(new URL('dist/index.js', trainDir).href);
const datasetModule = new URL('./point-cloud-dataset.mjs', import.meta.url);
const { createDataset } = await import(datasetModule.href);

const now = () => performance.now() / 1000;
const round = (x, digits = 4) => Number(x.toPrecision(digits));
const emit = (record) => console.log(JSON.stringify(record));
const datasetOptions = { length: batchSize * batches, points, classes };
const dataset = createDataset(datasetOptions);

/** Samples/s of one full pass of the loader (after a one-batch warm-up of the workers). */
async function measureLoader(numWorkers) {
  const loader = new DataLoader(dataset, {
    batchSize,
    shuffle: true,
    seed: 1,
    prefetch: 2,
    numWorkers,
    ...(numWorkers > 0 && { workerModule: datasetModule, workerOptions: datasetOptions }),
  });
  for await (const batch of loader) {
    tf.dispose(batch);
    break; // warm-up: workers built their datasets
  }
  loader.setEpoch(1);
  const start = now();
  let samples = 0;
  for await (const batch of loader) {
    samples += batch.label.shape[0];
    tf.dispose(batch);
  }
  const seconds = now() - start;
  await loader.close();
  return { samples, seconds, samplesPerSec: samples / seconds };
}

/** PointNet classification: shared MLPs as dense layers on [B*N, C], max-pool, FC head. */
function createPointNet() {
  const dense = (inputs, outputs) => ({
    w: tf.variable(tf.randomNormal([inputs, outputs], 0, Math.sqrt(2 / inputs))),
    b: tf.variable(tf.zeros([outputs])),
  });
  const mlp = (sizes) => sizes.slice(1).map((size, i) => dense(sizes[i], size));
  const net = {
    inputTNet: { shared: mlp([3, 64, 128, 1024]), head: mlp([1024, 512, 256, 9]) },
    conv1: mlp([3, 64, 64]),
    featureTNet: { shared: mlp([64, 64, 128, 1024]), head: mlp([1024, 512, 256, 64 * 64]) },
    conv2: mlp([64, 64, 128, 1024]),
    head: mlp([1024, 512, 256, classes]),
  };
  const apply = (layers, x, lastRelu = true) =>
    layers.reduce((h, { w, b }, i) => {
      const y = tf.add(tf.matMul(h, w), b);
      return i < layers.length - 1 || lastRelu ? tf.relu(y) : y;
    }, x);
  const tnet = (t, x, B, N, k) => {
    const features = apply(t.shared, x); // [B*N, 1024]
    const pooled = tf.max(tf.reshape(features, [B, N, 1024]), 1);
    const matrix = tf.reshape(apply(t.head, pooled, false), [B, k, k]);
    return tf.add(matrix, tf.eye(k).expandDims(0));
  };
  const transform = (x, matrix, B, N, k) =>
    tf.reshape(tf.matMul(tf.reshape(x, [B, N, k]), matrix), [B * N, k]);
  const forward = (cloud) => {
    const [B, N] = cloud.shape;
    let x = tf.reshape(cloud, [B * N, 3]);
    x = transform(x, tnet(net.inputTNet, x, B, N, 3), B, N, 3);
    x = apply(net.conv1, x);
    x = transform(x, tnet(net.featureTNet, x, B, N, 64), B, N, 64);
    x = apply(net.conv2, x, false);
    const global = tf.max(tf.reshape(x, [B, N, 1024]), 1);
    return apply(net.head, global, false);
  };
  const variables = [net.inputTNet, net.featureTNet]
    .flatMap((t) => [...t.shared, ...t.head])
    .concat(net.conv1, net.conv2, net.head)
    .flatMap(({ w, b }) => [w, b]);
  const parameters = variables.reduce((sum, v) => sum + v.size, 0);
  const optimizer = tf.train.sgd(0.01);
  const step = (batch) =>
    tf.tidy(() => {
      const labels = tf.oneHot(batch.label, classes);
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, forward(batch.points)),
        true,
        variables,
      );
      return loss.dataSync()[0];
    });
  return { step, parameters };
}

const cores = os.availableParallelism?.() ?? os.cpus().length;
const common = { batchSize, points, backend: tf.getBackend(), cores, node: process.version };

const loaderRuns = [];
for (const numWorkers of [0, 1, 2]) {
  const run = await measureLoader(numWorkers);
  loaderRuns.push({ numWorkers, ...run });
  emit({
    bench: 'dataloader',
    ...common,
    numWorkers,
    prefetch: 2,
    samples: run.samples,
    seconds: round(run.seconds),
    samplesPerSec: round(run.samplesPerSec),
  });
}

const pointnet = createPointNet();
const fixed = (() => {
  const items = Array.from({ length: batchSize }, (_, i) => dataset.get(i));
  const data = new Float32Array(batchSize * points * 3);
  items.forEach((item, i) => {
    data.set(item.points.data, i * points * 3);
  });
  return {
    points: tf.tensor3d(data, [batchSize, points, 3]),
    label: tf.tensor1d(
      items.map((item) => item.label),
      'int32',
    ),
  };
})();
pointnet.step(fixed); // warm-up
const stepStart = now();
for (let i = 0; i < steps; i += 1) pointnet.step(fixed);
const stepSeconds = (now() - stepStart) / steps;
const stepRate = batchSize / stepSeconds;
emit({
  bench: 'pointnet-step',
  ...common,
  parameters: pointnet.parameters,
  steps,
  secondsPerStep: round(stepSeconds),
  samplesPerSec: round(stepRate),
});

// The same step fed by the loader (workers, prefetch 2): the loader's share of the critical path.
const fedLoader = new DataLoader(dataset, {
  batchSize,
  shuffle: true,
  prefetch: 2,
  numWorkers: 2,
  workerModule: datasetModule,
  workerOptions: datasetOptions,
});
let fedSteps = 0;
let fedStart = 0;
let waiting = 0;
let waitStart = now();
for await (const batch of fedLoader) {
  waiting += now() - waitStart;
  if (fedSteps === 0) {
    waiting = 0;
    fedStart = now(); // the first batch (worker start-up) is not counted
  }
  pointnet.step(batch);
  tf.dispose(batch);
  fedSteps += 1;
  if (fedSteps > steps) break;
  waitStart = now();
}
await fedLoader.close();
const fedSeconds = (now() - fedStart) / steps;
emit({
  bench: 'train-loop',
  ...common,
  numWorkers: 2,
  steps,
  secondsPerStepFedByLoader: round(fedSeconds),
  secondsPerStepFixedBatch: round(stepSeconds),
  secondsWaitingForDataPerStep: round(waiting / steps),
});

const best = loaderRuns.reduce((a, b) => (b.samplesPerSec > a.samplesPerSec ? b : a));
const mainThread = loaderRuns[0];
emit({
  bench: 'summary',
  ...common,
  pointnetSamplesPerSec: round(stepRate),
  loaderSamplesPerSecMainThread: round(mainThread.samplesPerSec),
  loaderSamplesPerSecBest: round(best.samplesPerSec),
  bestNumWorkers: best.numWorkers,
  ratioMainThread: round(mainThread.samplesPerSec / stepRate, 3),
  ratioBest: round(best.samplesPerSec / stepRate, 3),
  ratioVsPytorch60: round(best.samplesPerSec / 60, 3),
  goal: 10,
  pass: mainThread.samplesPerSec >= 10 * stepRate && best.samplesPerSec >= 10 * 60,
});
tf.dispose([fixed.points, fixed.label]);
