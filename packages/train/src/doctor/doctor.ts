/**
 * `gorilla-ts doctor`: what this machine offers gorilla-ts, for bug reports (as gorilla-core's
 * `collect_env_info` and `python -m torch.utils.collect_env`).
 *
 * @packageDocumentation
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, availableParallelism, cpus, platform, release } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { queryGpuMemory, SHM_BYTES_PER_RANK, SHM_DIR } from '@gorilla-ts/dist';
import { BACKENDS, type BackendName, detectGpu } from '../backend/init-backend.js';

/** One TensorFlow.js backend as found here. */
export interface DoctorBackend {
  name: BackendName;
  packageName: string;
  /** The installed version, or `null` when the package is not installed. */
  version: string | null;
  /** Whether it loads and runs an op (checked in a child process), `null` when not installed. */
  loads: boolean | null;
  /** The first line of the load failure. */
  error?: string;
  /** The native backends: the version of the TensorFlow C library the addon loaded. */
  libtensorflow?: string;
}

/** A CUDA/cuDNN library TensorFlow opens at run time, and where it was found. */
export interface DoctorLibrary {
  name: string;
  /** What it is for (`CUDA runtime`, `cuDNN`, ...). */
  role: string;
  /** The path found, or `null`. */
  path: string | null;
}

/** A GPU listed by `nvidia-smi`. */
export interface DoctorGpu {
  index: number;
  name: string;
  uuid?: string;
  memoryFreeMiB?: number;
}

/** Everything `doctor` reports (`--json` prints this object). */
export interface DoctorReport {
  node: { version: string; platform: string; arch: string; release: string };
  backends: DoctorBackend[];
  /** tfjs-node-gpu: the CUDA libraries libtensorflow looks for, and why the GPU backend would be skipped. */
  gpuBackend: {
    libtensorflowExpected: string;
    cudaLibraries: DoctorLibrary[];
    /** `null` when `auto` would use the GPU backend. */
    skippedBecause: string | null;
    /** Anything else worth knowing (a libtensorflow that is not the GPU build it expects). */
    notes: string[];
  };
  tensorflowThreads: { intraOp: string; interOp: string };
  cpu: { model: string; cores: number; features: string[] };
  gpus: { nvidiaSmi: 'found' | 'not found' | 'failed'; error?: string; devices: DoctorGpu[] };
  mpi: {
    mpirun: string | null;
    /** `@gorilla-ts/dist-mpi`: `null` when not installed. */
    addon: { built: boolean; libraryVersion?: string; reason?: string } | null;
  };
  shm: {
    dir: string;
    totalBytes: number | null;
    freeBytes: number | null;
    bytesPerRank: number;
    /** How many local ranks' shared-memory files fit in the free space. */
    ranksThatFit: number | null;
  };
  packages: Record<string, string | null>;
}

/** Options of {@link collectDoctorReport} (for tests). */
export interface DoctorOptions {
  /** Environment to read (`TF_NUM_*`, `LD_LIBRARY_PATH`); defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Skip loading the backends in child processes (faster; `loads` is then `null`). */
  skipLoad?: boolean;
}

/**
 * The libraries TensorFlow 2.9 (the libtensorflow that `@tensorflow/tfjs-node-gpu` 4.x downloads,
 * built for CUDA 11.2 and cuDNN 8.1) opens with `dlopen` when it looks for a GPU. Without any of
 * them it runs on the CPU.
 */
export const CUDA_LIBRARIES: ReadonlyArray<{ name: string; role: string }> = [
  { name: 'libcuda.so.1', role: 'NVIDIA driver' },
  { name: 'libcudart.so.11.0', role: 'CUDA 11 runtime' },
  { name: 'libcublas.so.11', role: 'cuBLAS 11' },
  { name: 'libcublasLt.so.11', role: 'cuBLASLt 11' },
  { name: 'libcufft.so.10', role: 'cuFFT 10' },
  { name: 'libcurand.so.10', role: 'cuRAND 10' },
  { name: 'libcusolver.so.11', role: 'cuSOLVER 11' },
  { name: 'libcusparse.so.11', role: 'cuSPARSE 11' },
  { name: 'libcudnn.so.8', role: 'cuDNN 8' },
];

/** The libtensorflow that `@tensorflow/tfjs-node-gpu` 4.x downloads. */
const LIBTENSORFLOW_GPU_VERSION = '2.9.1';

const PACKAGES = [
  '@gorilla-ts/registry',
  '@gorilla-ts/config',
  '@gorilla-ts/dist',
  '@gorilla-ts/dist-mpi',
  '@gorilla-ts/train',
  '@gorilla-ts/models-pointnet',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
] as const;

/** The CPU instruction sets that matter to TensorFlow's kernels. */
const CPU_FEATURES = [
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'f16c',
  'avx512f',
  'avx512_vnni',
  'avx512_bf16',
  'avx_vnni',
  'amx_bf16',
  'amx_tile',
  'asimd',
  'sve',
];

const LOAD_TIMEOUT_MS = 120_000;
const COMMAND_TIMEOUT_MS = 15_000;

/** Finds a package from this package, then from the current directory (the user's project). */
function resolvers(): NodeJS.Require[] {
  return [createRequire(import.meta.url), createRequire(join(process.cwd(), 'package.json'))];
}

function packageInfo(name: string): { version: string; dir: string } | null {
  for (const require of resolvers()) {
    try {
      const file = require.resolve(`${name}/package.json`);
      const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version: string };
      return { version, dir: dirname(file) };
    } catch {
      // not resolvable from here: try the next place
    }
  }
  return null;
}

/**
 * A package's ESM entry file: its `exports['.']` `import`/`default` condition, else `module` or
 * `main` (a `require.resolve` would miss ESM-only packages).
 */
function resolveEntry(name: string): string | null {
  const info = packageInfo(name);
  if (info === null) return null;
  type Exports = string | { import?: Exports; default?: Exports; node?: Exports };
  const manifest = JSON.parse(readFileSync(join(info.dir, 'package.json'), 'utf8')) as {
    exports?: Exports | Record<string, Exports>;
    module?: string;
    main?: string;
  };
  const pick = (value: Exports | undefined): string | undefined =>
    typeof value === 'string' || value === undefined
      ? value
      : (pick(value.node) ?? pick(value.import) ?? pick(value.default));
  const exported = manifest.exports;
  const root =
    typeof exported === 'object' && exported !== null && '.' in exported
      ? pick((exported as Record<string, Exports>)['.'])
      : pick(exported as Exports | undefined);
  const entry = root ?? manifest.main ?? 'index.js';
  const path = join(info.dir, entry);
  return existsSync(path) ? path : null;
}

function run(
  command: string,
  args: readonly string[],
  options: { timeout?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ ok: boolean; stdout: string; stderr: string; missing: boolean }> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      {
        timeout: options.timeout ?? COMMAND_TIMEOUT_MS,
        env: options.env ?? process.env,
        maxBuffer: 4 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        resolve({
          ok: error === null,
          stdout: String(stdout),
          stderr: String(stderr),
          missing: (error as NodeJS.ErrnoException | null)?.code === 'ENOENT',
        });
      },
    );
  });
}

/** Loads a backend package in a child process and runs one op there. */
const PROBE = `
const [url, tfName] = process.argv.slice(1);
try {
  const module = await import(url);
  let tf = module.default ?? module;
  if (typeof tf.setBackend !== 'function') tf = await import(process.argv[3]);
  if (!(await tf.setBackend(tfName))) throw new Error("the '" + tfName + "' backend failed to initialise");
  const sum = tf.sum(tf.tensor([1, 2, 3])).dataSync()[0];
  if (sum !== 6) throw new Error('1 + 2 + 3 gave ' + sum);
  const binding = tf.backend().binding;
  process.stdout.write(JSON.stringify({ ok: true, libtensorflow: binding?.TF_Version }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error?.message ?? error).split('\\n')[0] }));
}
`;

async function probeBackend(name: BackendName, skipLoad: boolean): Promise<DoctorBackend> {
  const { packageName, tfName } = BACKENDS[name];
  const info = packageInfo(packageName);
  const base: DoctorBackend = { name, packageName, version: info?.version ?? null, loads: null };
  if (info === null || skipLoad) return base;
  const entry = resolveEntry(packageName);
  const core = resolveEntry('@tensorflow/tfjs-core');
  if (entry === null || core === null) {
    return { ...base, loads: false, error: `cannot resolve ${packageName}'s entry point` };
  }
  const result = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      PROBE,
      pathToFileURL(entry).href,
      tfName,
      pathToFileURL(core).href,
    ],
    { timeout: LOAD_TIMEOUT_MS, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } },
  );
  try {
    const reply = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as {
      ok: boolean;
      error?: string;
      libtensorflow?: string;
    };
    if (!reply.ok) return { ...base, loads: false, error: reply.error ?? 'failed' };
    return {
      ...base,
      loads: true,
      ...(reply.libtensorflow === undefined ? {} : { libtensorflow: reply.libtensorflow }),
    };
  } catch {
    const why = (result.stderr || result.stdout).trim().split('\n').pop() ?? '';
    return { ...base, loads: false, error: `the test process failed: ${why || 'no output'}` };
  }
}

/** Directories the dynamic loader searches: LD_LIBRARY_PATH, the ldconfig cache, CUDA's usual homes. */
async function findLibraries(env: Record<string, string | undefined>): Promise<DoctorLibrary[]> {
  const cache = new Map<string, string>();
  const ldconfig = await run(existsSync('/sbin/ldconfig') ? '/sbin/ldconfig' : 'ldconfig', ['-p']);
  for (const line of ldconfig.stdout.split('\n')) {
    const match = /^\s*(\S+) \(.*\) => (\S+)$/.exec(line);
    if (match && !cache.has(match[1]!)) cache.set(match[1]!, match[2]!);
  }
  const directories = [
    ...(env.LD_LIBRARY_PATH ?? '').split(delimiter).filter((dir) => dir !== ''),
    '/usr/local/cuda/lib64',
    '/usr/local/cuda/targets/x86_64-linux/lib',
  ];
  return CUDA_LIBRARIES.map(({ name, role }) => {
    const inPath = directories.map((dir) => join(dir, name)).find((path) => existsSync(path));
    return { name, role, path: inPath ?? cache.get(name) ?? null };
  });
}

function cpuFeatures(): string[] {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(text)?.[1]?.split(/\s+/) ?? [];
    return CPU_FEATURES.filter((feature) => flags.includes(feature));
  } catch {
    return [];
  }
}

async function listGpus(): Promise<DoctorReport['gpus']> {
  const listed = await run('nvidia-smi', ['-L']);
  if (listed.missing) return { nvidiaSmi: 'not found', devices: [] };
  if (!listed.ok) {
    return {
      nvidiaSmi: 'failed',
      error: (listed.stderr || listed.stdout).trim().split('\n')[0] ?? '',
      devices: [],
    };
  }
  const devices: DoctorGpu[] = [];
  for (const line of listed.stdout.split('\n')) {
    const match = /^GPU (\d+): (.*?)(?: \(UUID: ([^)]+)\))?$/.exec(line.trim());
    if (match) {
      devices.push({
        index: Number(match[1]),
        name: match[2]!,
        ...(match[3] === undefined ? {} : { uuid: match[3] }),
      });
    }
  }
  try {
    for (const line of (await queryGpuMemory()).split('\n')) {
      const [index, free] = line.split(',').map((field) => Number(field.trim()));
      const device = devices.find((gpu) => gpu.index === index);
      if (device !== undefined && Number.isFinite(free)) device.memoryFreeMiB = free!;
    }
  } catch {
    // The list is still worth reporting without the memory.
  }
  return { nvidiaSmi: 'found', devices };
}

async function describeMpi(): Promise<DoctorReport['mpi']> {
  const mpirun = await run('mpirun', ['--version']);
  const version = mpirun.ok ? (mpirun.stdout.trim().split('\n')[0] ?? null) : null;
  const entry = resolveEntry('@gorilla-ts/dist-mpi');
  if (entry === null) return { mpirun: version, addon: null };
  try {
    const mpi = (await import(pathToFileURL(entry).href)) as {
      isMpiAvailable(): boolean;
      mpiUnavailableReason(): string | undefined;
      mpiLibraryVersion(): string | undefined;
    };
    if (!mpi.isMpiAvailable()) {
      return {
        mpirun: version,
        addon: { built: false, reason: mpi.mpiUnavailableReason() ?? 'unknown' },
      };
    }
    const library = mpi.mpiLibraryVersion()?.trim().split('\n')[0];
    return {
      mpirun: version,
      addon: { built: true, ...(library === undefined ? {} : { libraryVersion: library }) },
    };
  } catch (error) {
    return { mpirun: version, addon: { built: false, reason: (error as Error).message } };
  }
}

async function describeShm(): Promise<DoctorReport['shm']> {
  try {
    const stats = await statfs(SHM_DIR);
    const free = stats.bavail * stats.bsize;
    return {
      dir: SHM_DIR,
      totalBytes: stats.blocks * stats.bsize,
      freeBytes: free,
      bytesPerRank: SHM_BYTES_PER_RANK,
      ranksThatFit: Math.floor(free / SHM_BYTES_PER_RANK),
    };
  } catch {
    return {
      dir: SHM_DIR,
      totalBytes: null,
      freeBytes: null,
      bytesPerRank: SHM_BYTES_PER_RANK,
      ranksThatFit: null,
    };
  }
}

function threads(value: string | undefined, cores: number): string {
  return value === undefined || value === '' ? `default (${cores}, one per core)` : value;
}

function gpuSkipReason(
  gpuBackend: DoctorBackend,
  libraries: readonly DoctorLibrary[],
  hasGpu: boolean,
): string | null {
  if (!hasGpu) return 'no GPU: nvidia-smi -L lists none and /dev/nvidia0 does not exist';
  if (gpuBackend.version === null) {
    return `${gpuBackend.packageName} is not installed (npm i ${gpuBackend.packageName})`;
  }
  if (gpuBackend.loads === false)
    return `${gpuBackend.packageName} fails to load: ${gpuBackend.error}`;
  const missing = libraries.filter((library) => library.path === null).map((l) => l.name);
  if (missing.length > 0) {
    return `it loads, but TensorFlow will run on the CPU: missing ${missing.join(', ')} (CUDA 11.2 / cuDNN 8.1 for libtensorflow 2.9; add their directory to LD_LIBRARY_PATH)`;
  }
  return null;
}

function gpuNotes(gpuBackend: DoctorBackend): string[] {
  const loaded = gpuBackend.libtensorflow;
  if (loaded === undefined || loaded === LIBTENSORFLOW_GPU_VERSION) return [];
  return [
    `${gpuBackend.packageName} loaded libtensorflow ${loaded}, not the ${LIBTENSORFLOW_GPU_VERSION} GPU build its installer downloads: its deps/lib was replaced (a CPU-only build runs on the CPU).`,
  ];
}

/**
 * Collects the report: Node, each tfjs backend (loaded in a child process each, so a crashing
 * native addon cannot take this process down), the CUDA libraries, TensorFlow's thread settings,
 * the CPU, the GPUs (`nvidia-smi`), MPI, `/dev/shm`, and the package versions.
 */
export async function collectDoctorReport(options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const cores = availableParallelism();
  const names = Object.keys(BACKENDS) as BackendName[];
  const [backends, cudaLibraries, gpus, mpi, shm] = await Promise.all([
    Promise.all(names.map((name) => probeBackend(name, options.skipLoad ?? false))),
    findLibraries(env),
    listGpus(),
    describeMpi(),
    describeShm(),
  ]);
  const hasGpu = gpus.devices.length > 0 || detectGpu();
  return {
    node: { version: process.version, platform: platform(), arch: arch(), release: release() },
    backends,
    gpuBackend: {
      libtensorflowExpected: `${LIBTENSORFLOW_GPU_VERSION} (GPU build: CUDA 11.2, cuDNN 8.1)`,
      cudaLibraries,
      skippedBecause: gpuSkipReason(backends[0]!, cudaLibraries, hasGpu),
      notes: gpuNotes(backends[0]!),
    },
    tensorflowThreads: {
      intraOp: threads(env.TF_NUM_INTRAOP_THREADS, cores),
      interOp: threads(env.TF_NUM_INTEROP_THREADS, cores),
    },
    cpu: { model: cpus()[0]?.model.trim() ?? 'unknown', cores, features: cpuFeatures() },
    gpus,
    mpi,
    shm,
    packages: Object.fromEntries(
      PACKAGES.map((name) => [name, packageInfo(name)?.version ?? null]),
    ),
  };
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const size = (bytes: number | null) =>
  bytes === null
    ? 'unknown'
    : bytes >= GiB
      ? `${(bytes / GiB).toFixed(1)} GiB`
      : `${Math.round(bytes / MiB)} MiB`;

/** The report as aligned text, one fact a line. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  const row = (key: string, value: string) => lines.push(`  ${key.padEnd(30)}${value}`);
  lines.push('gorilla-ts doctor');
  lines.push('');
  lines.push('Node.js');
  row(
    'version',
    `${report.node.version} (${report.node.platform}-${report.node.arch}, ${report.node.release})`,
  );
  lines.push('');
  lines.push('TensorFlow.js backends (best first)');
  for (const backend of report.backends) {
    const state =
      backend.version === null
        ? 'not installed'
        : backend.loads === null
          ? `${backend.version}, not loaded`
          : backend.loads
            ? `${backend.version}, loads${backend.libtensorflow === undefined ? '' : ` (libtensorflow ${backend.libtensorflow})`}`
            : `${backend.version}, FAILS to load: ${backend.error}`;
    row(backend.name, `${state}  [${backend.packageName}]`);
  }
  lines.push('');
  lines.push(
    `tfjs-node-gpu: the CUDA libraries that libtensorflow ${report.gpuBackend.libtensorflowExpected} opens`,
  );
  for (const library of report.gpuBackend.cudaLibraries) {
    row(library.name, library.path === null ? `not found  (${library.role})` : library.path);
  }
  row(
    'GPU backend',
    report.gpuBackend.skippedBecause === null
      ? 'usable'
      : `skipped: ${report.gpuBackend.skippedBecause}`,
  );
  for (const note of report.gpuBackend.notes) row('note', note);
  lines.push('');
  lines.push('TensorFlow threads');
  row('TF_NUM_INTRAOP_THREADS', report.tensorflowThreads.intraOp);
  row('TF_NUM_INTEROP_THREADS', report.tensorflowThreads.interOp);
  lines.push('');
  lines.push('CPU');
  row('model', `${report.cpu.model} (${report.cpu.cores} cores)`);
  row('features', report.cpu.features.join(' ') || 'unknown');
  lines.push('');
  lines.push('GPUs (nvidia-smi)');
  if (report.gpus.nvidiaSmi !== 'found') {
    row(
      'nvidia-smi',
      report.gpus.nvidiaSmi + (report.gpus.error === undefined ? '' : `: ${report.gpus.error}`),
    );
  } else if (report.gpus.devices.length === 0) {
    row('devices', 'none');
  }
  for (const gpu of report.gpus.devices) {
    const free = gpu.memoryFreeMiB === undefined ? '' : `, ${gpu.memoryFreeMiB} MiB free`;
    row(`gpu ${gpu.index}`, `${gpu.name}${free}${gpu.uuid === undefined ? '' : ` (${gpu.uuid})`}`);
  }
  lines.push('');
  lines.push('MPI');
  row('mpirun', report.mpi.mpirun ?? 'not found');
  const addon = report.mpi.addon;
  row(
    '@gorilla-ts/dist-mpi',
    addon === null
      ? 'not installed'
      : addon.built
        ? `addon built${addon.libraryVersion === undefined ? '' : `, ${addon.libraryVersion}`}`
        : `addon unavailable: ${addon.reason}`,
  );
  lines.push('');
  lines.push('Shared memory');
  const { shm } = report;
  row(
    shm.dir,
    shm.totalBytes === null
      ? 'not available (the TCP backend uses sockets only)'
      : `${size(shm.freeBytes)} free of ${size(shm.totalBytes)}; ${size(shm.bytesPerRank)} per local rank: ${shm.ranksThatFit} ranks fit`,
  );
  lines.push('');
  lines.push('Packages');
  for (const [name, version] of Object.entries(report.packages))
    row(name, version ?? 'not installed');
  return `${lines.join('\n')}\n`;
}
