// All-reduce benchmark of @gorilla-ts/dist's TCP backend (build the package first).
//
//   node bench/allreduce.mjs                 # 2 and 4 local ranks, one after the other
//   node bench/allreduce.mjs --world 4 --iters 50 --numel 811048
//
// Prints one JSON line per measurement: the all-reduce (sum) of `numel` float32 values (811,048 =
// PointNet's gradients) with its median latency, algorithm bandwidth (bytes / time) and bus
// bandwidth (2 (n-1)/n * bytes / time, comparable across world sizes), and, from the same run, a
// memcpy of the same buffer (TypedArray.set) as the local-memory ceiling.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  allGather,
  allReduce,
  barrier,
  getRank,
  getWorldSize,
  launch,
} from '../packages/dist/dist/index.js';

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

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
  for (let i = 0; i < warmup; i++) await allReduce(buffer, 'sum');
  for (let i = 0; i < iters; i++) {
    await barrier();
    const start = now();
    await allReduce(buffer, 'sum');
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
      backend: 'tcp',
      op: 'sum',
      ...common,
      median_ms: round(ms),
      p10_ms: round(quantile(slowest, 0.1)),
      p90_ms: round(quantile(slowest, 0.9)),
      algbw_GBps: round(bytes / ms / 1e6),
      busbw_GBps: round(((2 * (n - 1)) / n) * (bytes / ms / 1e6)),
    }),
  );
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

if (world === 0) {
  const script = fileURLToPath(import.meta.url);
  for (const n of [2, 4]) {
    const args = [script, '--world', String(n), '--iters', String(iters), '--numel', String(numel)];
    const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
} else {
  await launch(main, world);
}
