// How close a PointNet training step comes to the machine's float32 GEMM ceiling (issue 19).
//
//   node bench/gemm-ceiling.mjs                          # vanilla and full, 3 rounds
//   node bench/gemm-ceiling.mjs --model vanilla --rounds 1 --steps 2 --warmup 1 --reps 2
//   node bench/gemm-ceiling.mjs --flops-only             # the per-layer FLOP count, no timing
//
// Prints, one JSON line each:
// - `header`: the machine (bench/machine.mjs: CPU model and flags, cores, load average, versions).
// - `flops` (one per layer and model): the floating-point operations one training step of our
//   formulation (packages/models-pointnet/src/kernels.ts, `formulation: 'fused'`) spends in that
//   layer, forward and backward, each product written out (`2·m·k·n` for an `[m,k]×[k,n]`
//   product; column sums are products `1ᵀx` there too), then a `flops-total` line per model
//   beside `denseFormulationFlops`, the count of the textbook formulation (every layer's product
//   forward and its two products backward, as PyTorch runs it). Elementwise passes (BatchNorm's
//   folding, ReLU gradients, Adam's ~10 operations per parameter) are not counted: they are
//   memory-bound and are what the per-op profile (bench/profile-step.mjs) shows.
// - `gemm` (one per shape): TensorFlow's own MatMul through tfjs-node (`tf.matMul` on the
//   `tensorflow` backend, each product followed by `dataSync`) on PointNet's largest layer,
//   M = batch·points rows: the forward product `[M,128]×[128,1024]` and the two backward
//   products `[128,M]×[M,1024]` (the weight gradient, `transposeA`) and `[M,1024]×[1024,128]`
//   (the input gradient, `transposeB`): median GFLOP/s over every product of every round.
//   The ceiling is the best of the three medians.
// - `step` (one per model): the median time of the bare training step (fixed batch,
//   `tf.variableGrads` of the model's forward + softmax cross-entropy (+ the orthogonality
//   term), tfjs-core's Adam, `dataSync` of the loss), measured in the same rounds, interleaved
//   with the products; achieved GFLOP/s = counted FLOPs / median step time, and `ceilingFraction`,
//   that over the ceiling (the goal: >= 0.6 for the vanilla model).
// - `products-only` (one per model): the step's products alone (every `[m,k]×[k,n]` product of
//   the FLOP count, back to back through tf.matMul), in the same rounds:
//   their share of the step and `reachableCeilingFraction`, the step's FLOPs over their time over
//   the ceiling: the most a step of this formulation can reach on TensorFlow's kernels, were
//   everything besides the products free.
// - `footer`: the load average at the end.
// Threads: TensorFlow's defaults unless TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS are set.
import { createRequire } from 'node:module';
import { machineFooter, machineHeader } from './machine.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const index = argv.indexOf(`--${name}`);
  return index === -1 ? fallback : argv[index + 1];
};
const BATCH = Number(option('batch', 32));
const POINTS = Number(option('points', 1024));
const CLASSES = 40;
const models = option('model', 'vanilla,full').split(',');
const rounds = Number(option('rounds', 3));
const steps = Number(option('steps', 5));
const warmup = Number(option('warmup', 2));
const reps = Number(option('reps', 3));
const ROOT = new URL('../', import.meta.url);
const started = performance.now();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (x, digits = 2) => Number(x.toFixed(digits));
const print = (object) => console.log(JSON.stringify(object));

// ------------------------------------------------------------------------------------------------
// FLOPs of one training step, per layer, from the kernels.

/** `2·m·k·n`, with the product's shape for the output. */
const product = (what, m, k, n) => ({
  what,
  shape: `[${m},${k}]x[${k},${n}]`,
  flops: 2 * m * k * n,
  mkn: [m, k, n],
});

/** convBnReluTrain: relu(BatchNorm(x W + b)), BatchNorm folded into the product. */
function convBnRelu(M, cin, cout, inputGradient) {
  const forward = [
    product('column sum 1ᵀx', 1, M, cin),
    product('covariance xcᵀxc', cin, M, cin),
    product('Σ·W', cin, cin, cout),
    product('mean·W', 1, cin, cout),
    product("fused x·W' + shift, relu", M, cin, cout),
  ];
  const backward = [product('column sum 1ᵀdA', 1, M, cout), product('xᵀ·dA (dW)', cin, M, cout)];
  if (inputGradient) {
    backward.push(
      product('K = W·diag·Wᵀ', cin, cout, cin),
      product('x·K + q (BatchNorm correction)', M, cin, cin),
      product('mean·K', 1, cin, cin),
      product("dA·W'ᵀ (dx)", M, cout, cin),
    );
  }
  return { forward, backward, dense: denseLayer(M, cin, cout, inputGradient) };
}

/** convBnMaxPoolTrain: max over points of BatchNorm(x W + b), by argmax. */
function convBnMaxPool(M, B, cin, cout, inputGradient) {
  const forward = [
    product('column sum 1ᵀx', 1, M, cin),
    product('covariance xcᵀxc', cin, M, cin),
    product('Σ·W', cin, cin, cout),
    product('mean·W', 1, cin, cout),
    product('argmax product Wᵀ·xᵀ', cout, cin, M),
    {
      what: 'gathered rows · W, summed',
      shape: `[${B},${cout},${cin}]`,
      flops: 2 * B * cout * cin,
    },
  ];
  const backward = [
    {
      what: 'gathered rows · s (dW, sparse)',
      shape: `[${B},${cout},${cin}]`,
      flops: B * cout * cin,
    },
    product('sum over batch 1ᵀ(·)', 1, B, cout * cin),
    product('column sum 1ᵀs', 1, B, cout),
  ];
  if (inputGradient) {
    backward.push(
      product('K = W·diag·Wᵀ', cin, cout, cin),
      product('x·K + q (BatchNorm correction)', M, cin, cin),
      product('mean·K', 1, cin, cin),
      {
        what: 's·Wᵀ scatter-added (dx, sparse)',
        shape: `[${B},${cout},${cin}]`,
        flops: 2 * B * cout * cin,
      },
    );
  }
  return { forward, backward, dense: denseLayer(M, cin, cout, inputGradient) };
}

/** linearProduct: x Wᵀ; backward dx = dy W and dW = dyᵀ x. */
function linear(B, cin, cout) {
  return {
    forward: [product('x·Wᵀ', B, cin, cout)],
    backward: [product('dy·W (dx)', B, cout, cin), product('dyᵀ·x (dW)', cout, B, cin)],
    dense: denseLayer(B, cin, cout, true),
  };
}

/** transformRows: [B,N,k]×[B,k,k] batched; dx only where the rows carry a gradient. */
function transform(M, k, inputGradient) {
  const backward = [product('xᵀ·dy per sample (dA)', k, M, k)];
  if (inputGradient) backward.push(product('dy·Aᵀ (dx)', M, k, k));
  return { forward: [product('x·A per sample', M, k, k)], backward, dense: undefined };
}

/** The textbook count: forward product, its weight gradient and (where needed) input gradient. */
function denseLayer(m, cin, cout, inputGradient) {
  return 2 * m * cin * cout * (inputGradient ? 3 : 2);
}

function layersOf(model, B, N) {
  const M = B * N;
  const layers = [];
  const tnet = (name, k, inputGradient) => {
    layers.push([`${name}.conv0 ${k}→64`, convBnRelu(M, k, 64, inputGradient)]);
    layers.push([`${name}.conv1 64→128`, convBnRelu(M, 64, 128, true)]);
    layers.push([`${name}.conv2 128→1024 max`, convBnMaxPool(M, B, 128, 1024, true)]);
    layers.push([`${name}.fc0 1024→512`, linear(B, 1024, 512)]);
    layers.push([`${name}.fc1 512→256`, linear(B, 512, 256)]);
    layers.push([`${name}.fc2 256→${k * k}`, linear(B, 256, k * k)]);
  };
  const full = model === 'full';
  if (full) {
    tnet('input_transform', 3, false);
    layers.push(['input transform 3×3', transform(M, 3, false)]);
  }
  layers.push(['conv0 3→64', convBnRelu(M, 3, 64, full)]);
  if (full) {
    tnet('feature_transform', 64, true);
    layers.push(['feature transform 64×64', transform(M, 64, true)]);
    layers.push([
      'orthogonality A·Aᵀ',
      {
        forward: [product('A·Aᵀ per sample', B * 64, 64, 64)],
        backward: [product('2 products per sample', B * 64, 64, 128)],
        dense: undefined,
      },
    ]);
  }
  layers.push(['conv1 64→128', convBnRelu(M, 64, 128, true)]);
  layers.push(['conv2 128→1024 max', convBnMaxPool(M, B, 128, 1024, true)]);
  layers.push(['fc0 1024→512', linear(B, 1024, 512)]);
  layers.push(['fc1 512→256', linear(B, 512, 256)]);
  layers.push([`fc2 256→${CLASSES}`, linear(B, 256, CLASSES)]);
  return layers;
}

const sum = (items) => items.reduce((total, item) => total + item.flops, 0);
const gflop = (flops) => round(flops / 1e9, 4);

function countFlops(model) {
  let forward = 0;
  let backward = 0;
  let dense = 0;
  for (const [layer, counts] of layersOf(model, BATCH, POINTS)) {
    const f = sum(counts.forward);
    const b = sum(counts.backward);
    forward += f;
    backward += b;
    dense += counts.dense ?? f + b;
    print({
      kind: 'flops',
      model,
      layer,
      forwardGFLOP: gflop(f),
      backwardGFLOP: gflop(b),
      forward: counts.forward.map((p) => `${p.what} ${p.shape}: ${gflop(p.flops)}`),
      backward: counts.backward.map((p) => `${p.what} ${p.shape}: ${gflop(p.flops)}`),
    });
  }
  const total = forward + backward;
  print({
    kind: 'flops-total',
    model,
    batch: BATCH,
    points: POINTS,
    forwardGFLOP: gflop(forward),
    backwardGFLOP: gflop(backward),
    stepGFLOP: gflop(total),
    perSampleGFLOP: gflop(total / BATCH),
    denseFormulationGFLOP: gflop(dense),
  });
  return total;
}

const flops = Object.fromEntries(models.map((model) => [model, countFlops(model)]));
if (argv.includes('--flops-only')) process.exit(0);

// ------------------------------------------------------------------------------------------------
// Timing: GEMM shapes and training steps, interleaved rounds.

print(machineHeader({ bench: 'gemm-ceiling', options: { models, rounds, steps, warmup, reps } }));
const train = await import(new URL('packages/train/dist/index.js', ROOT).href);
await train.initBackend({ backend: 'tensorflow', logger: () => {} });
const tf = createRequire(new URL('packages/models-pointnet/package.json', ROOT))(
  '@tensorflow/tfjs-core',
);
const { PointNetCls } = await import(new URL('packages/models-pointnet/dist/index.js', ROOT).href);
if (tf.getBackend() !== 'tensorflow') throw new Error(`backend ${tf.getBackend()}, not tensorflow`);

const M = BATCH * POINTS;
const shapes = [
  { name: 'forward [M,128]x[128,1024]', a: [M, 128], b: [128, 1024], ta: false, tb: false },
  { name: 'dW [128,M]x[M,1024]', a: [M, 128], b: [M, 1024], ta: true, tb: false },
  { name: 'dx [M,1024]x[1024,128]', a: [M, 1024], b: [128, 1024], ta: false, tb: true },
].map((shape) => {
  const [m, k] = shape.ta ? [shape.a[1], shape.a[0]] : shape.a;
  const n = shape.tb ? shape.b[0] : shape.b[1];
  return { ...shape, flops: 2 * m * k * n, times: [], readback: [] };
});

// tfjs-node runs TensorFlow eagerly and synchronously: `tf.matMul` returns once the CPU kernel
// has finished, so the product's own time is the call's. `dataSync` then copies the result into
// JavaScript (128 MiB for the forward shape), timed separately (`readbackMs`): the training step
// never reads such a product back, so the ceiling is the product's time alone.
function timeGemm(shape) {
  const a = tf.randomNormal(shape.a, 0, 1, 'float32', 1);
  const b = tf.randomNormal(shape.b, 0, 1, 'float32', 2);
  tf.matMul(a, b, shape.ta, shape.tb).dispose(); // warm-up (allocation, thread pool)
  for (let i = 0; i < reps; i += 1) {
    const start = performance.now();
    const c = tf.matMul(a, b, shape.ta, shape.tb);
    const computed = performance.now();
    c.dataSync();
    shape.times.push(computed - start);
    shape.readback.push(performance.now() - computed);
    c.dispose();
  }
  tf.dispose([a, b]);
}

train.setRandomSeed(0);
const runs = models.map((model) => {
  const net = new PointNetCls({
    numClasses: CLASSES,
    ...(model === 'full' ? { inputTransform: true, featureTransform: true } : {}),
  });
  net.train();
  const x = tf.randomNormal([BATCH, POINTS, 3], 0, 1, 'float32', 3);
  const labels = tf.oneHot(tf.randomUniform([BATCH], 0, CLASSES, 'int32', 4), CLASSES);
  return { model, net, x, labels, optimizer: tf.train.adam(1e-3), times: [] };
});

function step(run) {
  const start = performance.now();
  const { value, grads } = tf.variableGrads(() => {
    const output = run.net.forward(run.x);
    const loss = tf.losses.softmaxCrossEntropy(run.labels, output.logits);
    return output.regularization === undefined ? loss : tf.add(loss, output.regularization);
  }, run.net.parameters());
  run.optimizer.applyGradients(grads);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
  return performance.now() - start;
}

// The step's products alone: every `[m,k]×[k,n]` product the FLOP count lists, run back to back
// through tf.matMul in the plain orientation (the kernels transpose some operands inside the
// product, which is never faster), on operands made once (2.6 GB for both models together; made
// after the first round's steps, so that the steps' peak memory is read before them). The sum is the least a step of this formulation can take on TensorFlow's
// kernels, so stepFLOPs / that time / ceiling is the highest ceiling fraction reachable if
// everything besides the products were free. (Operands made afresh for every run instead doubled
// the time here: the outputs then land in pages the process touches for the first time, which a
// training step, whose allocations TensorFlow recycles from step to step, does not pay.)
for (const run of runs) {
  run.products = layersOf(run.model, BATCH, POINTS)
    .flatMap(([, counts]) => [...counts.forward, ...counts.backward])
    .filter((item) => item.mkn !== undefined)
    .map((item) => item.mkn);
  run.productTimes = [];
}
let stepPeakRssMB;

function productsOnly(run) {
  stepPeakRssMB ??= Math.round(process.resourceUsage().maxRSS / 1024);
  run.operands ??= run.products.map(([m, k, n]) => [
    tf.randomNormal([m, k], 0, 1, 'float32', 5),
    tf.randomNormal([k, n], 0, 1, 'float32', 6),
  ]);
  const start = performance.now();
  // tfjs-node runs each op to completion before it returns.
  for (const [a, b] of run.operands) tf.matMul(a, b).dispose();
  return performance.now() - start;
}

for (const run of runs) for (let i = 0; i < warmup; i += 1) step(run);
const loads = [];
for (let r = 0; r < rounds; r += 1) {
  loads.push(Number.parseFloat(machineFooter('', started).loadavgEnd));
  for (const shape of shapes) timeGemm(shape);
  for (const run of runs) for (let i = 0; i < steps; i += 1) run.times.push(step(run));
  for (const run of runs) {
    // At least 3 unmeasured runs: the first ones write their outputs into pages new to the process.
    if (r === 0) for (let i = 0; i < Math.max(warmup, 3); i += 1) productsOnly(run);
    for (let i = 0; i < steps; i += 1) run.productTimes.push(productsOnly(run));
  }
}

const gflops = (f, ms) => round(f / (ms / 1000) / 1e9, 1);
for (const shape of shapes) {
  const ms = median(shape.times);
  shape.gflops = gflops(shape.flops, ms);
  print({
    kind: 'gemm',
    shape: shape.name,
    M,
    op: `tf.matMul(a, b, ${shape.ta}, ${shape.tb}) on tfjs-node`,
    GFLOP: gflop(shape.flops),
    medianMs: round(ms, 1),
    bestMs: round(Math.min(...shape.times), 1),
    medianGFLOPs: shape.gflops,
    bestGFLOPs: gflops(shape.flops, Math.min(...shape.times)),
    readbackMs: round(median(shape.readback), 1),
    products: shape.times.length,
  });
}
const ceiling = Math.max(...shapes.map((shape) => shape.gflops));
for (const run of runs) {
  const ms = median(run.times);
  const achieved = gflops(flops[run.model], ms);
  print({
    kind: 'step',
    model: run.model,
    impl: 'bare (fixed batch, variableGrads + tfjs Adam + dataSync)',
    batch: BATCH,
    points: POINTS,
    steps: run.times.length,
    medianMs: round(ms, 1),
    bestMs: round(Math.min(...run.times), 1),
    samplesPerSecond: round(BATCH / (ms / 1000)),
    stepGFLOP: gflop(flops[run.model]),
    achievedGFLOPs: achieved,
    ceilingGFLOPs: ceiling,
    ceilingFraction: round(achieved / ceiling, 3),
    target: run.model === 'vanilla' ? '>= 0.6' : 'info',
    // The process's peak before the products' operands existed (it includes the GEMM shapes').
    peakRssMB: stepPeakRssMB,
    loadavgPerRound: loads,
  });
  const productsMs = median(run.productTimes);
  print({
    kind: 'products-only',
    model: run.model,
    products: run.products.length,
    medianMs: round(productsMs, 1),
    bestMs: round(Math.min(...run.productTimes), 1),
    shareOfStep: round(productsMs / ms, 3),
    productsGFLOPs: gflops(flops[run.model], productsMs),
    reachableCeilingFraction: round(gflops(flops[run.model], productsMs) / ceiling, 3),
  });
}
print(machineFooter('gemm-ceiling', started));
