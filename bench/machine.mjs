// The machine a benchmark ran on, for the header line of bench/pointnet.mjs and
// bench/gemm-ceiling.mjs: ratios against PyTorch and fractions of a ceiling change with the CPU,
// its load and PyTorch's build, so every run prints them beside its measurements.
//
//   import { machineHeader, loadavg } from './machine.mjs';
//   console.log(JSON.stringify(await machineHeader({ bench: 'pointnet', python })));
//
// The header is one JSON line (`"kind":"header"`): the CPU model and flags that matter for GEMM
// (from /proc/cpuinfo), logical cores, memory, /proc/loadavg at start (the end is printed by
// `footer`), Node, the tfjs-node / libtensorflow versions when installed, and PyTorch's build
// configuration (`torch.__config__.show()`, oneDNN / MKL availability, threads) from
// bench/pointnet_torch.py --config when a Python with torch is given.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../', import.meta.url);

/** /proc/loadavg (1, 5, 15 minutes, running/total tasks), or os.loadavg() elsewhere. */
export function loadavg() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  }
}

/** The CPU model, the SIMD flags GEMM kernels use, and logical cores. */
export function cpuInfo() {
  let model = os.cpus()[0]?.model ?? 'unknown';
  let flags = [];
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    model = /^model name\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? model;
    const all = (/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/);
    flags = ['avx', 'avx2', 'fma', 'avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_tile'].filter(
      (flag) => all.includes(flag),
    );
  } catch {
    // not Linux
  }
  return { cpuModel: model, cpuFlags: flags, logicalCores: os.cpus().length };
}

function packageVersion(name) {
  try {
    const require = createRequire(new URL('packages/train/package.json', ROOT));
    return require(`${name}/package.json`).version;
  } catch {
    return undefined;
  }
}

/** PyTorch's build configuration through bench/pointnet_torch.py --config, or why not. */
export function torchConfig(python) {
  if (python === undefined) return { skipped: 'no Python with torch given' };
  const script = fileURLToPath(new URL('./pointnet_torch.py', import.meta.url));
  const run = spawnSync(python, [script, '--config'], { encoding: 'utf8', timeout: 120_000 });
  const line = run.stdout?.split('\n').find((text) => text.startsWith('{'));
  if (run.status !== 0 || line === undefined)
    return { error: (run.stderr ?? '').trim().split('\n').pop() || `exit ${run.status}` };
  const { kind: _kind, ...config } = JSON.parse(line);
  return config;
}

/** The header line's object. */
export function machineHeader({ bench, python, options = {} }) {
  return {
    kind: 'header',
    bench,
    date: new Date().toISOString(),
    ...cpuInfo(),
    memoryGB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    loadavgStart: loadavg(),
    node: process.version,
    tfjsNode: packageVersion('@tensorflow/tfjs-node'),
    tfjsCore: packageVersion('@tensorflow/tfjs-core'),
    options,
    torch: torchConfig(python),
  };
}

/** The footer line's object: the load at the end (a busy machine reads slower). */
export function machineFooter(bench, started) {
  return {
    kind: 'footer',
    bench,
    loadavgEnd: loadavg(),
    wallSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
}
