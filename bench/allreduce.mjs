// All-reduce benchmark of @gorilla-ts/dist's TCP backend and, beside it in the same run, of the
// MPI backend of @gorilla-ts/dist-mpi (build the packages first).
//
//   node bench/allreduce.mjs                 # 2 and 4 local ranks: TCP, then MPI (under mpirun)
//   node bench/allreduce.mjs --world 4 --iters 50 --numel 811048
//   mpirun -np 4 node bench/allreduce.mjs --world 4 --backend mpi
//   node bench/allreduce.mjs --world 2 --dist /tmp/old-dist --label old   # another build of dist
//   GORILLA_DIST_SHM=0 node bench/allreduce.mjs --world 2                # TCP even on one host
//
// Prints one JSON line per measurement: the all-reduce (`--op`, default sum) of `numel` float32
// values (811,048 = PointNet's gradients) with its backend, median latency, algorithm bandwidth (bytes / time) and
// bus bandwidth (2 (n-1)/n * bytes / time, comparable across world sizes), and, from the same
// run, a memcpy of the same buffer (TypedArray.set) as the local-memory ceiling. The MPI runs are
// skipped, with the reason on stderr, when mpirun or the MPI addon is missing.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

function stringOption(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

// `--dist <dir>` benchmarks another build of @gorilla-ts/dist (e.g. a copy of an older dist/
// folder), so that two versions can be compared in one session, interleaved (TCP runs only).
const distDir = stringOption('dist', undefined);
const { allGather, allReduce, barrier, getRank, getWorldSize, launch } = await import(
  distDir === undefined
    ? '../packages/dist/dist/index.js'
    : pathToFileURL(`${distDir.replace(/\/$/, '')}/index.js`).href
);
const label = stringOption('label', undefined);
const op = stringOption('op', 'sum');

const backendIndex = process.argv.indexOf('--backend');
const backend = backendIndex === -1 ? 'tcp' : process.argv[backendIndex + 1];
const mpiPackage = new URL('../packages/dist-mpi/dist/index.js', import.meta.url);

const world = option('world', 0);
const iters = option('iters', 50);
const warmup = option('warmup', 5);
const numel = option('numel', 811_048);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const quantile = (values, q) =>
  [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))];
const now = () => Number(process.hrtime.bigint()) / 1e6;
const round = (x, digits = 4) => Number(x.toPrecision(digits));

async function main() {
  const rank = getRank();
  const n = getWorldSize();
  const buffer = new Float32Array(numel).fill(rank + 1);
  const times = new Float64Array(iters);
  for (let i = 0; i < warmup; i++) await allReduce(buffer, op);
  for (let i = 0; i < iters; i++) {
    await barrier();
    const start = now();
    await allReduce(buffer, op);
    times[i] = now() - start;
  }
  // An iteration lasts as long as its slowest rank.
  const all = await allGather(times);
  if (rank !== 0) return;
  const slowest = Array.from({ length: iters }, (_, i) => Math.max(...all.map((t) => t[i])));
  const bytes = numel * 4;
  const ms = median(slowest);
  const common = { world: n, numel, bytes, iters, node: process.version, cpus: os.cpus().length };
  console.log(
    JSON.stringify({
      bench: 'allreduce',
      backend,
      ...(label === undefined ? {} : { label }),
      ...(process.env.GORILLA_DIST_SHM === undefined
        ? {}
        : { GORILLA_DIST_SHM: process.env.GORILLA_DIST_SHM }),
      op,
      ...common,
      median_ms: round(ms),
      p10_ms: round(quantile(slowest, 0.1)),
      p90_ms: round(quantile(slowest, 0.9)),
      algbw_GBps: round(bytes / ms / 1e6),
      busbw_GBps: round(((2 * (n - 1)) / n) * (bytes / ms / 1e6)),
    }),
  );
  if (backend !== 'tcp') return;
  const src = new Float32Array(numel).fill(1);
  const dst = new Float32Array(numel);
  const copies = [];
  for (let i = 0; i < warmup + iters; i++) {
    const start = now();
    dst.set(src);
    if (i >= warmup) copies.push(now() - start);
  }
  const copyMs = median(copies);
  console.log(
    JSON.stringify({
      bench: 'memcpy',
      ...common,
      median_ms: round(copyMs),
      GBps: round(bytes / copyMs / 1e6),
    }),
  );
}

/** Why the MPI runs cannot happen here, or `undefined`. */
async function mpiSkipReason() {
  const version = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) return 'mpirun is not on PATH';
  try {
    const mpi = await import(mpiPackage.href);
    if (!mpi.isMpiAvailable()) return mpi.mpiUnavailableReason();
  } catch (error) {
    return `@gorilla-ts/dist-mpi is not built (${error.message})`;
  }
  return undefined;
}

if (world === 0) {
  const script = fileURLToPath(import.meta.url);
  const skipMpi = distDir === undefined ? await mpiSkipReason() : 'not with --dist';
  if (skipMpi) process.stderr.write(`allreduce bench: MPI runs skipped: ${skipMpi}\n`);
  const openMpi = /Open MPI/.test(spawnSync('mpirun', ['--version'], { encoding: 'utf8' }).stdout);
  for (const n of [2, 4]) {
    const args = [script, '--world', String(n), '--iters', String(iters), '--numel', String(numel)];
    for (const name of ['dist', 'label', 'op']) {
      const value = stringOption(name, undefined);
      if (value !== undefined) args.push(`--${name}`, value);
    }
    const runs = [[process.execPath, args]];
    if (!skipMpi) {
      const flags = openMpi ? ['--allow-run-as-root', '--oversubscribe'] : [];
      runs.push([
        'mpirun',
        [...flags, '-np', String(n), process.execPath, ...args, '--backend', 'mpi'],
      ]);
    }
    for (const [command, commandArgs] of runs) {
      const result = spawnSync(command, commandArgs, { stdio: 'inherit' });
      if (result.status !== 0) process.exit(result.status ?? 1);
    }
  }
} else {
  if (backend === 'mpi') await import(mpiPackage.href);
  // 4 ranks are measured on 2-core machines too: more processes than cores, on purpose.
  await launch(main, world, { backend, oversubscribe: true });
}
