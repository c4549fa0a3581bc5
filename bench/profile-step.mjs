// Per-op profile of one PointNet training step on tfjs-node (issue 19): where the time goes.
//
//   node bench/profile-step.mjs                      # vanilla, 2 warm-up steps, 3 profiled
//   node bench/profile-step.mjs --model full --steps 1 --warmup 1 --top 20
//
// The step is the bare loop of bench/pointnet.mjs and bench/gemm-ceiling.mjs (fixed batch
// 32 × 1,024, `tf.variableGrads` of the forward + softmax cross-entropy (+ the orthogonality term
// for the full model), tfjs-core's Adam, `dataSync` of the loss), run inside `tf.profile`. On
// tfjs-node every kernel runs synchronously and is timed by the backend (`process.hrtime` around
// the TensorFlow op), so a kernel's time is its own. Kernels are grouped by name (`_FusedMatMul`,
// `BatchMatMul`, `Mul`, `ReluGrad`, ...), their time summed over the profiled steps and divided by
// the number of steps.
//
// Prints one JSON line per kernel name (`"kind":"profile-kernel"`, the top N by time: ms per step,
// share of the step, calls per step, and the input shapes that cost the most), a
// `"kind":"profile-total"` line (wall time of a profiled step, the time inside kernels, the rest:
// JavaScript, tape and tfjs bookkeeping, kernels outside the top N) between a header and a
// footer line (bench/machine.mjs: machine and load), then the same as a markdown table.
// Profiling adds bookkeeping to every kernel, so the profiled step is slower than an unprofiled
// one, and the bookkeeping's allocations land between kernels: some elementwise kernels read 10-30×
// their standalone time this way (a [32768,64] Sub: 15.5 ms per step profiled, 0.56 ms alone).
//
//   node bench/profile-step.mjs --level op           # TensorFlow ops, not tfjs kernels
//
// `--level op` times every TensorFlow op the step runs instead, without tf.profile: it wraps
// tfjs-node's binding (`executeOp`, which runs one op to completion), so the step is otherwise
// unchanged. Ops are grouped by TensorFlow's name (`BatchMatMulV2`, `Mul`, `ArgMax`, ...); a tfjs
// kernel can run several (tfjs-node's `_FusedMatMul` is a product, an add and a ReLU). Input
// shapes are not known at that level. `profile-total` then splits the wall time of a step into
// ops and the rest (JavaScript: the tape, tfjs bookkeeping, the model's code).
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
const model = option('model', 'vanilla');
const steps = Number(option('steps', 3));
const warmup = Number(option('warmup', 2));
const top = Number(option('top', 15));
const level = option('level', 'kernel');
if (!['kernel', 'op'].includes(level)) throw new Error(`--level: kernel or op, not ${level}`);
const ROOT = new URL('../', import.meta.url);
const started = performance.now();
const round = (x, digits = 2) => Number(x.toFixed(digits));
const print = (object) => console.log(JSON.stringify(object));

const header = machineHeader({
  bench: 'profile-step',
  options: { model, steps, warmup, top, level },
});
print(header);
const train = await import(new URL('packages/train/dist/index.js', ROOT).href);
await train.initBackend({ backend: 'tensorflow', logger: () => {} });
const tf = createRequire(new URL('packages/models-pointnet/package.json', ROOT))(
  '@tensorflow/tfjs-core',
);
const { PointNetCls } = await import(new URL('packages/models-pointnet/dist/index.js', ROOT).href);

train.setRandomSeed(0);
const net = new PointNetCls({
  numClasses: CLASSES,
  ...(model === 'full' ? { inputTransform: true, featureTransform: true } : {}),
});
net.train();
const x = tf.randomNormal([BATCH, POINTS, 3], 0, 1, 'float32', 1);
const labels = tf.oneHot(tf.randomUniform([BATCH], 0, CLASSES, 'int32', 2), CLASSES);
const optimizer = tf.train.adam(1e-3);

function step() {
  const { value, grads } = tf.variableGrads(() => {
    const output = net.forward(x);
    const loss = tf.losses.softmaxCrossEntropy(labels, output.logits);
    return output.regularization === undefined ? loss : tf.add(loss, output.regularization);
  }, net.parameters());
  optimizer.applyGradients(grads);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
}

for (let i = 0; i < warmup; i += 1) step();
const byName = new Map();
const scopes = new Set();
let wallMs = 0;
let kernelMs = 0;
/** Adds one timed kernel or op to its name's entry. */
function record(name, ms, shapes) {
  kernelMs += ms;
  const entry = byName.get(name) ?? { ms: 0, calls: 0, shapes: new Map() };
  entry.ms += ms;
  entry.calls += 1;
  if (shapes !== undefined) entry.shapes.set(shapes, (entry.shapes.get(shapes) ?? 0) + ms);
  byName.set(name, entry);
}
if (level === 'op') {
  // The binding's own properties are read-only: the backend gets a stand-in that times
  // executeOp and inherits everything else.
  const backend = tf.backend();
  const binding = backend.binding;
  backend.binding = Object.create(binding, {
    executeOp: {
      value: (name, ...rest) => {
        const start = performance.now();
        const outputs = binding.executeOp(name, ...rest);
        record(name, performance.now() - start);
        return outputs;
      },
    },
  });
  for (let i = 0; i < steps; i += 1) {
    const start = performance.now();
    step();
    wallMs += performance.now() - start;
  }
  backend.binding = binding;
} else {
  for (let i = 0; i < steps; i += 1) {
    const start = performance.now();
    const info = await tf.profile(() => step());
    wallMs += performance.now() - start;
    for (const kernel of info.kernels) {
      // tf.profile also records scopes that run other kernels inside (a `customGrad` function is
      // an "unnamed scope", an op such as `fusedMatMul__op` wraps its kernel): counting them would
      // count their kernels twice. Only registered kernels of the backend are kept.
      if (tf.getKernel(kernel.name, tf.getBackend()) === undefined) {
        scopes.add(kernel.name);
        continue;
      }
      const shapes = kernel.inputShapes.map((shape) => `[${shape}]`).join('×');
      record(kernel.name, kernel.kernelTimeMs, shapes);
    }
  }
}
const stepWall = wallMs / steps;
const stepKernels = kernelMs / steps;
const rows = [...byName.entries()]
  .map(([name, entry]) => ({
    kind: 'profile-kernel',
    model,
    level,
    kernel: name,
    msPerStep: round(entry.ms / steps, 1),
    shareOfKernelTime: round(entry.ms / kernelMs, 3),
    callsPerStep: round(entry.calls / steps, 1),
    topInputShapes: [...entry.shapes.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([shapes, ms]) => `${shapes}: ${round(ms / steps, 1)} ms`),
  }))
  .sort((a, b) => b.msPerStep - a.msPerStep);
for (const row of rows.slice(0, top)) print(row);
const total = {
  kind: 'profile-total',
  model,
  level,
  batch: BATCH,
  points: POINTS,
  profiledSteps: steps,
  kernelsPerStep: round([...byName.values()].reduce((n, e) => n + e.calls, 0) / steps),
  kernelNames: byName.size,
  // With --level op the step runs unprofiled but for one clock reading around each op.
  profiledStepWallMs: round(stepWall, 1),
  kernelMsPerStep: round(stepKernels, 1),
  outsideKernelsMsPerStep: round(stepWall - stepKernels, 1),
  scopesNotCounted: [...scopes],
  topKernelsShare: round(
    rows.slice(0, top).reduce((n, row) => n + row.msPerStep, 0) / stepKernels,
    3,
  ),
};
print(total);
const footer = machineFooter('profile-step', started);
print(footer);

// The markdown table (for the README's performance section).
const lines = [
  `Per-${level === 'op' ? 'TensorFlow-op' : 'kernel'} profile of one ${model} PointNet training step (batch ${BATCH} × ${POINTS} points,`,
  `bare loop, tfjs-node ${header.tfjsNode}, ${steps} profiled step(s)) on ${header.cpuModel},`,
  `${header.logicalCores} cores, load average ${header.loadavgStart.split(' ')[0]} at start,`,
  `${footer.loadavgEnd.split(' ')[0]} at end. Profiled step ${total.profiledStepWallMs} ms,`,
  `${total.kernelMsPerStep} ms of it in ${total.kernelsPerStep} kernels.`,
  '',
  '| Kernel | ms / step | share of kernel time | calls / step | costliest input shapes |',
  '| --- | ---: | ---: | ---: | --- |',
  ...rows
    .slice(0, top)
    .map(
      (row) =>
        `| \`${row.kernel}\` | ${row.msPerStep} | ${(row.shareOfKernelTime * 100).toFixed(1)} % | ${row.callsPerStep} | ${row.topInputShapes[0] ?? ''} |`,
    ),
];
console.log(`\n${lines.join('\n')}`);
