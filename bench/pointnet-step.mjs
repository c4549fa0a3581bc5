// Training-step benchmark of @gorilla-ts/models-pointnet (build it and @gorilla-ts/train first).
//
//   node bench/pointnet-step.mjs                       # every backend × both formulations
//   node bench/pointnet-step.mjs --backend wasm --formulation fused --steps 3
//   node bench/pointnet-step.mjs --full                # the full PointNet (both T-Nets)
//   node bench/pointnet-step.mjs --optimizer none      # forward + backward only (or sgd)
//
// One step = forward + backward (tf.variableGrads) + an Adam update (tfjs-core's tf.train.adam,
// lr 1e-3) of PointNetCls in training mode, default config (vanilla, 40 classes, 811,048
// parameters), batch 32 × 1,024 points. Each (backend, formulation) runs in its own process, so
// memory figures and backend state do not leak between measurements. Prints one JSON line per
// measurement: the median and best step time, samples/s (batch / median), peak resident memory,
// then one line per backend with the speed-up of `fused` over `autodiff` (tfjs's stock
// gradients of the same layers written as plain ops).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
function option(name, fallback) {
  const index = argv.indexOf(`--${name}`);
  return index === -1 ? fallback : argv[index + 1];
}

const batch = Number(option('batch', 32));
const points = Number(option('points', 1024));
const steps = Number(option('steps', 5));
const warmup = Number(option('warmup', 2));
const full = argv.includes('--full');
const optimizerName = option('optimizer', 'adam');
const backends = option('backend', 'tensorflow,wasm,cpu').split(',');
const formulations = option('formulation', 'autodiff,fused').split(',');

if (argv.includes('--child')) {
  await child(option('backend'), option('formulation'));
} else {
  const results = [];
  for (const backend of backends) {
    for (const formulation of formulations) {
      const args = [
        fileURLToPath(import.meta.url),
        '--child',
        '--backend',
        backend,
        '--formulation',
        formulation,
      ];
      args.push('--batch', String(batch), '--points', String(points), '--steps', String(steps));
      args.push('--warmup', String(warmup));
      if (full) args.push('--full');
      args.push('--optimizer', optimizerName);
      const run = spawnSync(process.execPath, args, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const line = run.stdout.split('\n').find((text) => text.startsWith('{'));
      if (run.status !== 0 || line === undefined) {
        const error = (run.stderr.trim().split('\n').pop() ?? '').slice(0, 300);
        console.log(JSON.stringify({ backend, formulation, error: error || `exit ${run.status}` }));
        continue;
      }
      console.log(line);
      results.push(JSON.parse(line));
    }
  }
  for (const backend of backends) {
    const stock = results.find((r) => r.backend === backend && r.formulation === 'autodiff');
    const fused = results.find((r) => r.backend === backend && r.formulation === 'fused');
    if (stock && fused) {
      const speedup = Number((fused.samplesPerSecond / stock.samplesPerSecond).toFixed(2));
      console.log(JSON.stringify({ backend, speedupFusedOverAutodiff: speedup }));
    }
  }
}

async function child(backend, formulation) {
  const train = await import('../packages/train/dist/index.js');
  await train.initBackend({ backend, logger: () => {} });
  // The same tfjs-core instance the model package imports.
  const tf = createRequire(new URL('../packages/models-pointnet/package.json', import.meta.url))(
    '@tensorflow/tfjs-core',
  );
  const { PointNetCls } = await import('../packages/models-pointnet/dist/index.js');
  train.setRandomSeed(0);
  const options = {
    formulation,
    ...(full ? { inputTransform: true, featureTransform: true } : {}),
  };
  const model = new PointNetCls(options);
  model.train();
  const numClasses = model.options.numClasses;
  const x = tf.randomNormal([batch, points, 3], 0, 1, 'float32', 1);
  const labels = tf.oneHot(tf.randomUniform([batch], 0, numClasses, 'int32', 2), numClasses);
  const optimizer =
    optimizerName === 'none'
      ? undefined
      : optimizerName === 'sgd'
        ? tf.train.sgd(1e-3)
        : tf.train.adam(1e-3);
  const variables = model.parameters();
  let peakRss = 0;
  const times = [];
  for (let step = 0; step < warmup + steps; step += 1) {
    const start = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const output = model.forward(x);
      const loss = tf.losses.softmaxCrossEntropy(labels, output.logits);
      return output.regularization === undefined ? loss : tf.add(loss, output.regularization);
    }, variables);
    optimizer?.applyGradients(grads);
    value.dataSync();
    value.dispose();
    for (const grad of Object.values(grads)) grad.dispose();
    if (step >= warmup) times.push(performance.now() - start);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(
    JSON.stringify({
      backend,
      formulation,
      model: full ? 'full' : 'vanilla',
      optimizer: optimizerName,
      batch,
      points,
      steps,
      medianMs: Math.round(median),
      bestMs: Math.round(times[0]),
      samplesPerSecond: Number((batch / (median / 1000)).toFixed(2)),
      peakRssMB: Math.round(peakRss / 2 ** 20),
      tensors: tf.memory().numTensors,
    }),
  );
}
