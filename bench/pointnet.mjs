// Training-throughput benchmark of PointNet (issue 8): gorilla-ts against a bare tfjs loop and
// against PyTorch, on this machine, in one run. `pnpm bench:pointnet` builds the packages and
// runs it; by hand (after `turbo run build`):
//
//   node bench/pointnet.mjs                        # everything (about 5 minutes on 2 cores)
//   node bench/pointnet.mjs --rounds 2             # every measurement twice, interleaved; best kept
//   node bench/pointnet.mjs --steps 20 --warmup 3  # tfjs-node and PyTorch steps (--wasm-steps,
//                                                  # --cpu-steps for the slower backends)
//   node bench/pointnet.mjs --tf-warmup 25         # warm-up steps of the tfjs-node lines
//   node bench/pointnet.mjs --only trainer,bare,dp # groups: pytorch trainer bare loop dp
//   node bench/pointnet.mjs --backends tensorflow  # only the backends named (and PyTorch)
//   node bench/pointnet.mjs --no-torch             # without PyTorch
//   node bench/pointnet.mjs --model full           # models: vanilla full (default: both)
//
// Models (`--model`): `vanilla` is measured in every group; `full`, the paper's PointNet with both
// T-Nets (the input 3×3 and feature 64×64 transforms and the feature transform's orthogonality
// term; 3,471,473 parameters, ~3× the vanilla FLOPs), in the trainer and bare groups (TensorFlow's
// default threads on tfjs-node, and wasm) and against PyTorch eager and compiled; its lines are
// named `full/...`.
// The first line (`"kind":"header"`, bench/machine.mjs) names the machine: CPU model and flags,
// cores, load average, tfjs and PyTorch versions and PyTorch's BLAS / oneDNN configuration; the
// last (`"kind":"footer"`) the load average at the end. PyTorch runs eager (2 and 1 threads) and
// under `torch.compile` (inductor, 2 threads; skipped with the reason when no C++ compiler).
//
// Model: PointNet vanilla, default config (gorilla3d's PointNetCls: 3 → 64 → 128 → 1024 per-point,
// max pool, 512 → 256 → 40; 811,048 parameters), training mode, batch 32 × 1,024 points.
// One step = forward + backward + Adam (lr 1e-3) + reading the loss back (what a loop logs).
//
// Each measurement runs in its own process(es), so that memory figures and backend state never
// leak between them:
//   pytorch  bench/pointnet_torch.py: the same architecture in PyTorch (torch.optim.Adam) on one
//            fixed batch, 2 threads and 1 thread. The script finds PyTorch (--python, the venv
//            /tmp/torchenv or --torch-venv, python3) or installs it: pip into that venv (the
//            local wheel index), else `apt-get install -y python3-torch`; else it is skipped
//            with a note.
//   trainer  `Trainer` from @gorilla-ts/train with its default forward (the modelnet-demo's
//            `train` path; default hooks but checkpoints and TensorBoard, logging to stderr) fed
//            by its `DataLoader` (shuffle, prefetch 2) over an in-memory
//            dataset: what `trainer.fit()` users run. Step time = interval between successive
//            `afterStep` calls, so data loading and every hook count; `phasesMs` splits it into
//            compute (batch, forward, backward), gradient all-reduce, optimizer and the rest.
//   loop     the hand-written loop (examples/plain-train, formerly the demo's), statement for
//            statement: DataLoader batch → tf.variableGrads(model.forward + criterion) →
//            allReduceGradients → Adam.step → await loss.data() → dispose.
//   bare     the same model with no toolkit around it: one fixed batch, PointNetCls.forward +
//            tf.losses.softmaxCrossEntropy in tf.variableGrads, tfjs-core's tf.train.adam,
//            loss.dataSync(). The reference for "our overhead".
//   dp2      the trainer on 2 data-parallel processes (`launch` from @gorilla-ts/dist, TCP
//            process group), each with batch 32 (global 64) and TF_NUM_INTRAOP_THREADS=1,
//            TF_NUM_INTEROP_THREADS=1; `half`: batch 16 each (global 32, PyTorch's batch);
//            `threads-default`: TensorFlow's default threads in each (oversubscribed); `mpi`: the
//            MPI backend of @gorilla-ts/dist-mpi under mpirun (when mpirun and the addon exist).
// On tfjs-node the trainer and bare loop run with TensorFlow's default threads (2 intra-op,
// 2 inter-op here) and with 1 × 1 and 2 × 1 (intra × inter) threads, set through
// TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS; every tfjs-node line reports the threads it
// actually has by name (`tfThreads`: TensorFlow's inter-op pool threads are `tf_Compute`, its
// intra-op (Eigen) pool threads keep the name `node`) and its CPU time over wall time, which
// verifies that the variables are honoured.
//
// Output: one JSON line per measurement (`"kind":"measurement"`: median and best step time,
// samples/s = processes × batch / median step, peak resident memory from
// process.resourceUsage().maxRSS or Python's getrusage, per process and summed over processes,
// with the file-backed (shared library) part of a tfjs process's resident memory, tensors left
// per step, /proc/loadavg before and after, the 10th and 90th percentile step times; for the
// data-parallel lines `allReduceSplitMs`: the all-reduce phase split, step by step on a clock the
// processes share, into the arrival skew (how long after the first rank the last one finished its
// compute) and the collective after it did), then one line per ratio (`"kind":"ratio"`) with its
// target and whether it is met. Progress and diagnostics go to stderr.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { machineFooter, machineHeader } from './machine.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
function option(name, fallback) {
  const index = argv.indexOf(`--${name}`);
  return index === -1 ? fallback : argv[index + 1];
}

const BATCH = Number(option('batch', 32));
const POINTS = Number(option('points', 1024));
const CLASSES = 40;
const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = new URL('../', import.meta.url);

const loadavg = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  }
};
/** The `q`-quantile of `values` (nearest rank). */
const quantile = (values, q) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
const median = (values) => quantile(values, 0.5);
const round = (x, digits = 2) => Number(x.toFixed(digits));

if (option('child') !== undefined) {
  await child(option('child'));
} else {
  await parent();
}

// ------------------------------------------------------------------------------------------------
// Parent: plan, run each measurement in its own process, aggregate, print ratios.

async function parent() {
  const steps = Number(option('steps', 20));
  const warmup = Number(option('warmup', 3));
  // tfjs-node lines warm up longer, so that they measure the steady state: a data-parallel step
  // reads its 3.2 MB of gradients into a fresh ArrayBuffer, and until V8 first collects those
  // (after ~64 MB of them, ~20 steps) every read lands in new pages; on the development VM, where
  // a page fault costs ~12 µs, that is ~10 ms a step, and the collective itself is 2.6× slower.
  // Every tfjs-node line gets the same warm-up, so that ratios compare like with like.
  const tfWarmup = Number(option('tf-warmup', 25));
  const wasmSteps = Number(option('wasm-steps', 8));
  const cpuSteps = Number(option('cpu-steps', 2));
  const rounds = Number(option('rounds', 1));
  const installed = installedBackends();
  const backends = (option('backends') ?? 'tensorflow,wasm,cpu')
    .split(',')
    .filter((name) => installed.includes(name));
  const models = (option('model') ?? 'vanilla,full').split(',');
  const only = option('only')?.split(',');
  const want = (group) => only === undefined || only.includes(group);
  for (const name of ['tensorflow', 'wasm', 'cpu']) {
    if (!installed.includes(name)) note(`backend ${name} is not installed: skipped`);
  }

  const threads = (intra, inter) => ({
    TF_NUM_INTRAOP_THREADS: String(intra),
    TF_NUM_INTEROP_THREADS: String(inter),
  });
  const stepsFor = (backend) =>
    backend === 'cpu'
      ? { steps: cpuSteps, warmup: 1 }
      : backend === 'wasm'
        ? { steps: wasmSteps, warmup: 2 }
        : { steps, warmup: tfWarmup };

  /** @type {Array<{name: string, group: string, impl: string, backend?: string, env?: object, world?: number, batch?: number, threads?: string, steps: number, warmup: number, torchThreads?: number}>} */
  const plan = [];
  // PyTorch first: the reference, measured next to the tfjs-node runs it is compared with.
  let python;
  if (want('pytorch') && !flag('no-torch')) {
    python = await ensureTorch();
    if (python !== undefined) {
      for (const model of models) {
        for (const torchThreads of model === 'vanilla' ? [2, 1] : [2]) {
          plan.push({ group: 'pytorch', impl: 'pytorch', model, torchThreads, steps, warmup });
        }
        plan.push({ group: 'pytorch', impl: 'pytorch', model, torchThreads: 2, compile: true });
        // Inductor compiles forward and backward in the first step; at least one warm-up step.
        Object.assign(plan[plan.length - 1], { steps, warmup: Math.max(warmup, 1) });
      }
    }
  }
  console.log(
    JSON.stringify(
      machineHeader({
        bench: 'pointnet',
        python,
        options: { models, steps, warmup, tfWarmup, rounds },
      }),
    ),
  );
  const benchStarted = performance.now();
  for (const backend of backends) {
    const base = { backend, ...stepsFor(backend) };
    if (backend === 'tensorflow') {
      for (const [label, env] of [
        ['default', {}],
        ['1x1', threads(1, 1)],
        ['2x1', threads(2, 1)],
      ]) {
        if (want('trainer'))
          plan.push({ ...base, group: 'trainer', impl: 'trainer', threads: label, env });
        if (want('bare')) plan.push({ ...base, group: 'bare', impl: 'bare', threads: label, env });
      }
      if (want('loop')) plan.push({ ...base, group: 'loop', impl: 'loop', threads: 'default' });
      if (want('dp')) {
        plan.push({
          ...base,
          group: 'dp',
          impl: 'trainer',
          world: 2,
          threads: '1x1',
          env: threads(1, 1),
        });
        plan.push({
          ...base,
          group: 'dp',
          impl: 'trainer',
          world: 2,
          batch: BATCH / 2,
          threads: '1x1',
          env: threads(1, 1),
          variant: 'half',
        });
        plan.push({ ...base, group: 'dp', impl: 'trainer', world: 2, threads: 'default', env: {} });
        const skipMpi = await mpiSkipReason();
        if (skipMpi === undefined) {
          plan.push({
            ...base,
            group: 'dp',
            impl: 'trainer',
            world: 2,
            threads: '1x1',
            env: threads(1, 1),
            distBackend: 'mpi',
          });
        } else note(`data-parallel run on MPI skipped: ${skipMpi}`);
      }
    } else {
      if (want('trainer')) plan.push({ ...base, group: 'trainer', impl: 'trainer' });
      if (want('bare')) plan.push({ ...base, group: 'bare', impl: 'bare' });
      if (want('loop') && backend !== 'cpu') plan.push({ ...base, group: 'loop', impl: 'loop' });
    }
  }
  // The full model: trainer and bare loop with TensorFlow's default threads, and on wasm.
  if (models.includes('full')) {
    for (const backend of backends.filter((name) => name !== 'cpu')) {
      const base = { backend, model: 'full', ...stepsFor(backend) };
      const threadsLabel = backend === 'tensorflow' ? { threads: 'default', env: {} } : {};
      for (const impl of ['trainer', 'bare']) {
        if (want(impl)) plan.push({ ...base, group: impl, impl, ...threadsLabel });
      }
    }
  }
  if (!models.includes('vanilla')) {
    for (let i = plan.length - 1; i >= 0; i -= 1) {
      if ((plan[i].model ?? 'vanilla') === 'vanilla') plan.splice(i, 1);
    }
  }
  for (const entry of plan) entry.name = measurementName(entry);

  // With --rounds N every measurement runs N times, the rounds interleaved; the best round (the
  // least disturbed by other load on the machine) stands for it, every round's samples/s beside.
  const results = new Map();
  for (let r = 0; r < rounds; r += 1) {
    for (const entry of plan) {
      note(`round ${r + 1}/${rounds}: ${entry.name} (load average ${loadavg().split(' ')[0]})`);
      const result =
        entry.impl === 'pytorch' ? await runTorch(python, entry) : await runNode(entry);
      if (result === undefined) continue;
      const previous = results.get(entry.name);
      const all = [...(previous?.rounds ?? []), result.samplesPerSecond];
      const best =
        previous === undefined || result.samplesPerSecond > previous.samplesPerSecond
          ? result
          : previous;
      results.set(entry.name, {
        ...best,
        ...(rounds > 1 ? { rounds: all, medianOfRoundsSamplesPerSecond: median(all) } : {}),
      });
    }
  }
  for (const entry of plan) {
    if (results.has(entry.name)) console.log(JSON.stringify(results.get(entry.name)));
  }
  printRatios(results);
  console.log(JSON.stringify(machineFooter('pointnet', benchStarted)));
}

function measurementName(entry) {
  const prefix = (entry.model ?? 'vanilla') === 'vanilla' ? '' : `${entry.model}/`;
  if (entry.impl === 'pytorch')
    return `${prefix}pytorch/${entry.torchThreads}thread${entry.compile ? '/compile' : ''}`;
  const world = entry.world ?? 1;
  const parts = [world > 1 ? `dp${world}` : entry.impl, entry.backend];
  if (entry.threads !== undefined) parts.push(`threads-${entry.threads}`);
  if (entry.variant !== undefined) parts.push(entry.variant);
  if (entry.distBackend !== undefined) parts.push(entry.distBackend);
  return prefix + parts.join('/');
}

function installedBackends() {
  const require = createRequire(new URL('packages/train/package.json', ROOT));
  const names = [];
  for (const [name, pkg] of [
    ['tensorflow', '@tensorflow/tfjs-node'],
    ['wasm', '@tensorflow/tfjs-backend-wasm'],
    ['cpu', '@tensorflow/tfjs-backend-cpu'],
  ]) {
    try {
      require.resolve(pkg);
      names.push(name);
    } catch {
      // not installed
    }
  }
  return names;
}

function note(text) {
  process.stderr.write(`[bench:pointnet] ${text}\n`);
}

/** Runs a command; resolves { code, stdout, stderr }. */
function exec(command, args, options = {}) {
  return new Promise((resolve) => {
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    proc.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    proc.on('error', (error) => resolve({ code: -1, stdout, stderr: `${stderr}${error.message}` }));
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function runNode(entry) {
  const world = entry.world ?? 1;
  const batch = entry.batch ?? BATCH;
  const args = [SCRIPT, '--child', entry.impl, '--backend', entry.backend];
  args.push('--steps', String(entry.steps), '--warmup', String(entry.warmup));
  args.push('--batch', String(batch), '--points', String(POINTS), '--world', String(world));
  args.push('--model', entry.model ?? 'vanilla');
  const env = { ...process.env, ...entry.env, TF_CPP_MIN_LOG_LEVEL: '2' };
  let command = process.execPath;
  if (entry.distBackend === 'mpi') {
    // mpirun starts the ranks; launch() then runs in each of them (see @gorilla-ts/dist-mpi).
    args.push('--dist-backend', 'mpi');
    const flags = (await openMpi()) ? ['--allow-run-as-root', '--oversubscribe'] : [];
    for (const name of Object.keys(entry.env ?? {})) flags.push('-x', name);
    args.unshift(...flags, '-np', String(world), process.execPath);
    command = 'mpirun';
  }
  const before = loadavg();
  const started = performance.now();
  const run = await exec(command, args, { env });
  const after = loadavg();
  const lines = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
  if (run.code !== 0 || lines.length !== world) {
    const error = (run.stderr.trim().split('\n').slice(-3).join(' | ') || `exit ${run.code}`).slice(
      0,
      500,
    );
    console.log(JSON.stringify({ kind: 'measurement', name: entry.name, error }));
    return undefined;
  }
  // Ranks step in lockstep (the all-reduce); the slowest rank's median sets the pace.
  const medianMs = Math.max(...lines.map((line) => line.medianMs));
  const first = lines.find((line) => line.rank === 0) ?? lines[0];
  return {
    kind: 'measurement',
    name: entry.name,
    model: entry.model ?? 'vanilla',
    impl: entry.impl === 'trainer' && world > 1 ? 'trainer (data-parallel)' : entry.impl,
    backend: entry.backend,
    processes: world,
    ...(world > 1 ? { distBackend: entry.distBackend ?? 'tcp' } : {}),
    threads: entry.threads ?? 'default',
    batchPerProcess: batch,
    points: POINTS,
    steps: entry.steps,
    medianMs: round(medianMs, 1),
    bestMs: round(Math.max(...lines.map((line) => line.bestMs)), 1),
    samplesPerSecond: round((world * batch) / (medianMs / 1000)),
    peakRssMB: Math.max(...lines.map((line) => line.peakRssMB)),
    totalPeakRssMB: lines.reduce((sum, line) => sum + line.peakRssMB, 0),
    ...(first.rssFileMB === undefined
      ? {}
      : {
          // The file-backed part of the resident memory (mostly libtensorflow's code, ~290 MiB):
          // the same physical pages in every process.
          rssFileMB: first.rssFileMB,
          ...(world > 1
            ? {
                totalPeakRssLibrariesOnceMB:
                  lines.reduce((sum, line) => sum + line.peakRssMB, 0) -
                  (world - 1) * Math.min(...lines.map((line) => line.rssFileMB)),
              }
            : {}),
        }),
    tensorLeakPerStep: Math.max(...lines.map((line) => line.tensorLeakPerStep)),
    cpuPerWall: first.cpuPerWall,
    ...(first.tfThreads === undefined ? {} : { tfThreads: first.tfThreads }),
    ...(first.phasesMs === undefined
      ? {}
      : { phasesMs: world > 1 ? lines.map((line) => line.phasesMs) : first.phasesMs }),
    stepMsP10: Math.max(...lines.map((line) => line.stepMsP10)),
    stepMsP90: Math.max(...lines.map((line) => line.stepMsP90)),
    ...(lines.every((line) => line.reduceTimes !== undefined)
      ? { allReduceSplitMs: splitAllReduce(lines.map((line) => line.reduceTimes)) }
      : {}),
    wallSeconds: round((performance.now() - started) / 1000, 1),
    loadavgBefore: before,
    loadavgAfter: after,
  };
}

/**
 * Splits the data-parallel all-reduce phase, step by step, into the arrival skew (the last rank
 * to finish its compute arrives this long after the first, which waits for it) and the
 * collective after everyone arrived (last arrival to last end). Medians (and the skew's 90th
 * percentile) over the measured steps. (Session 6's version took the median of every rank's own
 * wait; with 2 ranks one of the two waits 0 ms at every step, which hid the skew.)
 */
function splitAllReduce(perRank) {
  const steps = Math.min(...perRank.map((times) => times.length));
  const skew = [];
  const collective = [];
  for (let step = 0; step < steps; step += 1) {
    const arrivals = perRank.map((times) => times[step][0]);
    const lastArrival = Math.max(...arrivals);
    skew.push(lastArrival - Math.min(...arrivals));
    collective.push(Math.max(...perRank.map((times) => times[step][1])) - lastArrival);
  }
  return {
    arrivalSkew: round(median(skew), 1),
    arrivalSkewP90: round(quantile(skew, 0.9), 1),
    collective: round(median(collective), 1),
  };
}

/** Why the data-parallel run on MPI cannot happen here, or `undefined` (as bench/allreduce.mjs). */
async function mpiSkipReason() {
  const version = await exec('mpirun', ['--version']);
  if (version.code !== 0) return 'mpirun is not on PATH';
  try {
    const mpi = await import(new URL('packages/dist-mpi/dist/index.js', ROOT).href);
    if (!mpi.isMpiAvailable()) return mpi.mpiUnavailableReason();
  } catch (error) {
    return `@gorilla-ts/dist-mpi is not built (${error.message})`;
  }
  return undefined;
}

async function openMpi() {
  return /Open MPI/.test((await exec('mpirun', ['--version'])).stdout);
}

// ------------------------------------------------------------------------------------------------
// PyTorch: find or install it, then run bench/pointnet_torch.py.

async function ensureTorch() {
  const probe = async (python) =>
    (await exec(python, ['-c', 'import torch; print(torch.__version__)'])).code === 0;
  const venv = option('torch-venv', '/tmp/torchenv');
  const venvPython = `${venv}/bin/python`;
  const candidates = [option('python'), venvPython, 'python3'].filter(Boolean);
  for (const python of candidates) {
    if (existsSync(python) || !python.includes('/')) {
      if (await probe(python)) return python;
    }
  }
  // 1. The local pip index (a CPU wheel), into a virtual environment.
  note(`PyTorch not found; installing it into ${venv} with pip`);
  if (!existsSync(venvPython)) await exec('python3', ['-m', 'venv', venv]);
  if (existsSync(venvPython)) {
    const pip = await exec(venvPython, ['-m', 'pip', 'install', '--quiet', 'torch']);
    if (pip.code === 0 && (await probe(venvPython))) return venvPython;
    note(`pip install torch failed: ${pip.stderr.trim().split('\n').pop() ?? ''}`);
  }
  // 2. Debian's package.
  note('trying apt-get install -y python3-torch');
  const apt = await exec('apt-get', ['install', '-y', 'python3-torch']);
  if (apt.code === 0 && (await probe('python3'))) return 'python3';
  note(`apt-get install python3-torch failed: ${apt.stderr.trim().split('\n').pop() ?? ''}`);
  console.log(
    JSON.stringify({
      kind: 'measurement',
      name: 'pytorch',
      skipped: 'PyTorch is not installed and neither pip nor apt-get could install it',
    }),
  );
  return undefined;
}

async function runTorch(python, entry) {
  const args = [fileURLToPath(new URL('./pointnet_torch.py', import.meta.url))];
  args.push('--threads', String(entry.torchThreads), '--batch', String(BATCH));
  args.push('--points', String(POINTS), '--steps', String(entry.steps));
  args.push('--warmup', String(entry.warmup), '--model', entry.model ?? 'vanilla');
  if (entry.compile) args.push('--compile');
  const before = loadavg();
  const started = performance.now();
  const run = await exec(python, args, {
    env: { ...process.env, OMP_NUM_THREADS: String(entry.torchThreads) },
  });
  const after = loadavg();
  const line = run.stdout.split('\n').find((text) => text.startsWith('{'));
  if (run.code !== 0 || line === undefined) {
    const error = (run.stderr.trim().split('\n').pop() ?? `exit ${run.code}`).slice(0, 500);
    console.log(JSON.stringify({ kind: 'measurement', name: entry.name, error }));
    return undefined;
  }
  const result = JSON.parse(line);
  if (result.skipped !== undefined) {
    console.log(JSON.stringify({ kind: 'measurement', name: entry.name, skipped: result.skipped }));
    return undefined;
  }
  return {
    kind: 'measurement',
    name: entry.name,
    model: result.model,
    impl: result.mode === 'compile' ? 'pytorch (torch.compile)' : 'pytorch',
    backend: `torch ${result.torch}`,
    processes: 1,
    threads: `${result.threads}x${result.interopThreads}`,
    batchPerProcess: result.batch,
    points: result.points,
    steps: result.steps,
    medianMs: result.medianMs,
    bestMs: result.bestMs,
    samplesPerSecond: result.samplesPerSecond,
    peakRssMB: result.peakRssMB,
    totalPeakRssMB: result.peakRssMB,
    ...(result.compileSeconds === undefined ? {} : { compileSeconds: result.compileSeconds }),
    wallSeconds: round((performance.now() - started) / 1000, 1),
    loadavgBefore: before,
    loadavgAfter: after,
  };
}

// ------------------------------------------------------------------------------------------------
// Ratios against the targets.

function printRatios(results) {
  const get = (name) => results.get(name);
  const ratio = (name, value, target, met, detail) =>
    console.log(
      JSON.stringify({
        kind: 'ratio',
        name,
        value: value === undefined ? null : round(value, 3),
        target,
        met: value === undefined ? null : met(value),
        ...detail,
      }),
    );
  const torch2 = get('pytorch/2thread');
  const torch1 = get('pytorch/1thread');
  // Our trainer using both cores: the better of 1 process × 2 threads (TensorFlow's default, or
  // 2 intra × 1 inter) and 2 data-parallel processes × 1 thread.
  const bothCores = [
    'trainer/tensorflow/threads-default',
    'trainer/tensorflow/threads-2x1',
    'dp2/tensorflow/threads-1x1',
  ]
    .map(get)
    .filter(Boolean)
    .sort((a, b) => b.samplesPerSecond - a.samplesPerSecond);
  const best = bothCores[0];
  ratio(
    'trainerVsPytorch2Threads',
    best && torch2 ? best.samplesPerSecond / torch2.samplesPerSecond : undefined,
    '>= 1.0',
    (v) => v >= 1.0,
    {
      ours: best && { name: best.name, samplesPerSecond: best.samplesPerSecond },
      pytorch: torch2 && { name: torch2.name, samplesPerSecond: torch2.samplesPerSecond },
      ...(torch1 && { pytorch1Thread: torch1.samplesPerSecond }),
    },
  );
  const trainer1 = get('trainer/tensorflow/threads-1x1');
  if (trainer1 && torch1) {
    ratio(
      'trainer1ThreadVsPytorch1Thread',
      trainer1.samplesPerSecond / torch1.samplesPerSecond,
      'info (per-thread speed)',
      () => true,
      { ours: trainer1.samplesPerSecond, pytorch: torch1.samplesPerSecond },
    );
  }
  for (const suffix of [
    'tensorflow/threads-default',
    'tensorflow/threads-1x1',
    'tensorflow/threads-2x1',
    'wasm',
    'cpu',
  ]) {
    const bare = get(`bare/${suffix}`);
    for (const impl of ['trainer', 'loop']) {
      const ours = get(`${impl}/${suffix}`);
      if (!bare || !ours) continue;
      ratio(
        `${impl}OverheadOverBare/${suffix}`,
        bare.samplesPerSecond / ours.samplesPerSecond - 1,
        impl === 'trainer' ? '<= 0.05' : 'info',
        (v) => impl !== 'trainer' || v <= 0.05,
        { ours: ours.samplesPerSecond, bare: bare.samplesPerSecond },
      );
    }
  }
  const dp = get('dp2/tensorflow/threads-1x1');
  const dpHalf = get('dp2/tensorflow/threads-1x1/half');
  const dpDefault = get('dp2/tensorflow/threads-default');
  const dpMpi = get('dp2/tensorflow/threads-1x1/mpi');
  const bare1 = get('bare/tensorflow/threads-1x1');
  ratio(
    'dp2SpeedupOver1SingleThreadProcess',
    dp && trainer1 ? dp.samplesPerSecond / trainer1.samplesPerSecond : undefined,
    '>= 1.7',
    (v) => v >= 1.7,
    {
      dp: dp?.samplesPerSecond,
      singleThreadTrainer: trainer1?.samplesPerSecond,
      ...(bare1 &&
        dp && { speedupOverBare1Thread: round(dp.samplesPerSecond / bare1.samplesPerSecond, 3) }),
      ...(dpHalf &&
        trainer1 && {
          globalBatch32Speedup: round(dpHalf.samplesPerSecond / trainer1.samplesPerSecond, 3),
        }),
      ...(dpDefault &&
        trainer1 && {
          defaultThreadsSpeedup: round(dpDefault.samplesPerSecond / trainer1.samplesPerSecond, 3),
        }),
      ...(dpMpi &&
        trainer1 && { mpiSpeedup: round(dpMpi.samplesPerSecond / trainer1.samplesPerSecond, 3) }),
    },
  );
  // Peak memory against PyTorch's (2 threads): one training process (the trainer with
  // TensorFlow's default threads, as the 3.1 GB figure was), and, separately, the
  // 2 data-parallel processes together (each process's maxRSS summed, so the ~290 MiB of shared
  // library pages count twice; `librariesCountedOnce` counts them once).
  const trainerDefault = get('trainer/tensorflow/threads-default');
  ratio(
    'peakRssOverPytorch',
    trainerDefault && torch2 ? trainerDefault.peakRssMB / torch2.peakRssMB : undefined,
    '<= 1.5',
    (v) => v <= 1.5,
    {
      ours: trainerDefault && { name: trainerDefault.name, peakRssMB: trainerDefault.peakRssMB },
      pytorchPeakRssMB: torch2?.peakRssMB,
    },
  );
  ratio(
    'peakRssOverPytorch/dp2Total',
    dp && torch2 ? dp.totalPeakRssMB / torch2.peakRssMB : undefined,
    '<= 1.5',
    (v) => v <= 1.5,
    {
      ours: dp && { name: dp.name, totalPeakRssMB: dp.totalPeakRssMB },
      pytorchPeakRssMB: torch2?.peakRssMB,
      ...(dp?.totalPeakRssLibrariesOnceMB !== undefined &&
        torch2 && {
          librariesCountedOnce: round(dp.totalPeakRssLibrariesOnceMB / torch2.peakRssMB, 3),
        }),
    },
  );
  const wasm = get('trainer/wasm');
  ratio('wasmSamplesPerSecond', wasm?.samplesPerSecond, '>= 7', (v) => v >= 7, {
    ...(get('bare/wasm') && { bare: get('bare/wasm').samplesPerSecond }),
  });
}

// ------------------------------------------------------------------------------------------------
// Children: one measurement in this process (or, with --world > 1, in launched workers).

async function child(kind) {
  const world = Number(option('world', 1));
  if (world > 1) {
    const dist = await import(new URL('packages/dist/dist/index.js', ROOT).href);
    const backend = option('dist-backend', 'tcp');
    if (backend === 'mpi') await import(new URL('packages/dist-mpi/dist/index.js', ROOT).href);
    await dist.launch(() => measure(kind), world, { backend });
  } else {
    await measure(kind);
  }
}

async function measure(kind) {
  const backend = option('backend');
  const steps = Number(option('steps'));
  const warmup = Number(option('warmup'));
  const batch = Number(option('batch'));
  const points = Number(option('points'));
  const train = await import(new URL('packages/train/dist/index.js', ROOT).href);
  const dist = await import(new URL('packages/dist/dist/index.js', ROOT).href);
  await train.initBackend({ backend, logger: () => {} });
  // The same tfjs-core instance the packages import.
  const tf = createRequire(new URL('packages/models-pointnet/package.json', ROOT))(
    '@tensorflow/tfjs-core',
  );
  const { PointNetCls } = await import(
    new URL('packages/models-pointnet/dist/index.js', ROOT).href
  );
  train.setRandomSeed(0);
  const full = option('model', 'vanilla') === 'full';
  const model = new PointNetCls({
    numClasses: CLASSES,
    ...(full ? { inputTransform: true, featureTransform: true } : {}),
  });
  model.train();
  const total = warmup + steps;
  const rank = dist.getRank();
  const worldSize = dist.getWorldSize();

  // An in-memory dataset: `total` batches per process, and a few more so that the loader's
  // prefetching is in its steady state up to the last measured step (for the tensor counts). Its
  // samples cycle through a pool of 256 random clouds (3 MiB), the same in every process, so that
  // memory figures do not grow with the number of steps or processes.
  const length = (total + 3) * batch * worldSize;
  const pool = Math.min(length, 256);
  const clouds = new Float32Array(pool * points * 3);
  let seed = 12345;
  for (let i = 0; i < clouds.length; i += 1) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    clouds[i] = seed / 2 ** 31 - 1;
  }
  const dataset = {
    length,
    get: (index) => {
      const slot = index % pool;
      return {
        points: train.ndarray(clouds.subarray(slot * points * 3, (slot + 1) * points * 3), [
          points,
          3,
        ]),
        labels: index % CLASSES,
      };
    },
  };
  const loader = () =>
    new train.DataLoader(dataset, {
      batchSize: batch,
      shuffle: worldSize === 1,
      seed: 0,
      dropLast: true,
      ...(worldSize > 1
        ? { sampler: new dist.DistributedSampler(dataset, { shuffle: true, seed: 0 }) }
        : {}),
    });

  const times = [];
  const tensors = [];
  let cpuStart;
  let wallStart;
  const phases = [];
  const stepEnds = [];
  const mark = (() => {
    let last = performance.now();
    let step = 0;
    return () => {
      const now = performance.now();
      if (step === warmup - 1 || (warmup === 0 && step === 0)) {
        cpuStart = process.cpuUsage();
        wallStart = now;
      }
      if (step >= warmup) times.push(now - last);
      tensors.push(tf.memory().numTensors);
      stepEnds.push(now);
      last = now;
      step += 1;
    };
  })();

  if (kind === 'trainer') {
    const logger = train.getLogger({ name: 'bench', stream: process.stderr, level: 'warn' });
    const trainer = new train.Trainer({
      model,
      optimizer: { type: 'Adam', lr: 1e-3 },
      loss: { type: 'CrossEntropyLoss' },
      trainLoader: loader(),
      maxIters: total,
      workDir: os.tmpdir(),
      logger,
      defaultHooks: { checkpoint: false, tensorboard: false },
      // The Trainer's default forward: PointNetCls's { logits, regularization } goes to the loss.
      hooks: [{ afterStep: () => mark() }],
    });
    // Time the phases of a step inside the real trainer: compute (batch, forward, backward), the
    // gradient all-reduce (with several processes, including the wait for the slower rank), the
    // optimizer, and the rest (loss all-reduce, hooks).
    const reduce = trainer.reduceGradients.bind(trainer);
    trainer.reduceGradients = async (grads) => {
      const start = performance.now();
      const out = await reduce(grads);
      phases.push({ reduceStart: start, reduceEnd: performance.now() });
      return out;
    };
    const step = trainer.optimizer.step.bind(trainer.optimizer);
    trainer.optimizer.step = (grads) => {
      const start = performance.now();
      step(grads);
      phases[phases.length - 1].optimizer = performance.now() - start;
    };
    await trainer.fit();
  } else if (kind === 'loop') {
    // examples/plain-train/src/plain-train.ts, the body of `for await (const batch of trainLoader)`.
    const optimizer = new train.Adam({ params: model.namedParameters(), lr: 1e-3 });
    const criterion = train.crossEntropyLoss(); // what buildLoss({ type: 'CrossEntropyLoss' }) builds
    const trainLoader = loader();
    let done = 0;
    for await (const b of trainLoader) {
      const { value, grads } = tf.variableGrads(() => {
        const output = model.forward(b.points);
        const [loss] = criterion({ ...output, labels: b.labels });
        return loss;
      }, model.parameters());
      const reduced = await train.allReduceGradients(grads);
      optimizer.step(reduced);
      await value.data();
      tf.dispose([value, b.points, b.labels, ...Object.values(grads), ...reduced.values()]);
      mark();
      done += 1;
      if (done === total) break;
    }
    await trainLoader.close();
  } else if (kind === 'bare') {
    const x = tf.randomNormal([batch, points, 3], 0, 1, 'float32', 1);
    const labels = tf.oneHot(tf.randomUniform([batch], 0, CLASSES, 'int32', 2), CLASSES);
    const optimizer = tf.train.adam(1e-3);
    const variables = model.parameters();
    for (let step = 0; step < total; step += 1) {
      const { value, grads } = tf.variableGrads(() => {
        const output = model.forward(x);
        const loss = tf.losses.softmaxCrossEntropy(labels, output.logits);
        return output.regularization === undefined ? loss : tf.add(loss, output.regularization);
      }, variables);
      optimizer.applyGradients(grads);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
      mark();
    }
  } else {
    throw new Error(`unknown child ${kind}`);
  }

  const cpu = process.cpuUsage(cpuStart);
  const wall = performance.now() - wallStart;
  const measured = tensors.slice(warmup - 1);
  const result = {
    rank,
    medianMs: median(times),
    bestMs: Math.min(...times),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    ...memoryStatus(),
    tensorLeakPerStep:
      measured.length > 1
        ? (measured[measured.length - 1] - measured[0]) / (measured.length - 1)
        : 0,
    cpuPerWall: round((cpu.user + cpu.system) / 1000 / wall),
    ...(kind === 'trainer' ? { phasesMs: phaseMedians(phases, stepEnds, warmup) } : {}),
    // Step-time spread: in lockstep, data-parallel ranks wait for each other's slow steps.
    stepMsP10: round(quantile(times, 0.1), 1),
    stepMsP90: round(quantile(times, 0.9), 1),
    // With several processes: when each measured step's all-reduce began and ended, on a clock
    // every process of this machine shares (ms since the epoch), for the parent to split the
    // phase into waiting for the slower rank and the collective itself.
    ...(kind === 'trainer' && worldSize > 1
      ? {
          reduceTimes: phases
            .slice(Math.max(warmup, 1))
            .map(({ reduceStart, reduceEnd }) => [
              performance.timeOrigin + reduceStart,
              performance.timeOrigin + reduceEnd,
            ]),
        }
      : {}),
  };
  if (backend === 'tensorflow') result.tfThreads = threadCensus();
  console.log(JSON.stringify(result));
}

/** Medians of the data-parallel step's phases, over the measured steps. */
function phaseMedians(phases, stepEnds, warmup) {
  const compute = [];
  const allReduce = [];
  const optimizer = [];
  const rest = [];
  for (let step = Math.max(warmup, 1); step < stepEnds.length; step += 1) {
    const phase = phases[step];
    if (phase === undefined) continue;
    compute.push(phase.reduceStart - stepEnds[step - 1]);
    allReduce.push(phase.reduceEnd - phase.reduceStart);
    optimizer.push(phase.optimizer);
    rest.push(stepEnds[step] - phase.reduceEnd - phase.optimizer);
  }
  const at = (values) => round(median(values), 1);
  return {
    compute: at(compute),
    allReduce: at(allReduce),
    optimizer: at(optimizer),
    rest: at(rest),
  };
}

/** Resident memory now, split into anonymous and file-backed (shared library) pages, in MiB. */
function memoryStatus() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const field = (name) =>
      Math.round(Number(status.match(new RegExp(`${name}:\\s+(\\d+)`))[1]) / 1024);
    return { rssAnonMB: field('RssAnon'), rssFileMB: field('RssFile') };
  } catch {
    return {};
  }
}

/** This process's threads by name: TensorFlow's inter-op pool threads are `tf_Compute`. */
function threadCensus() {
  try {
    const counts = {};
    for (const task of readdirSync('/proc/self/task')) {
      const name = readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim();
      counts[name] = (counts[name] ?? 0) + 1;
    }
    return counts;
  } catch {
    return undefined;
  }
}
