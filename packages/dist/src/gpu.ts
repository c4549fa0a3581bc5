import { execFile } from 'node:child_process';
import { DistError, type GpuInfo, GpuUnavailableError } from './errors.js';

/** Options of {@link setCudaVisibleDevices}. */
export interface SetCudaVisibleDevicesOptions {
  /** Use exactly these GPUs (no query, no wait). Defaults to choosing free ones. */
  gpuIds?: number | string | ReadonlyArray<number | string>;
  /** How many GPUs to choose when `gpuIds` is not given. Defaults to 1. */
  numGpu?: number;
  /** Free memory a GPU needs, in MiB, to be chosen. Defaults to 11,000. */
  memoryNeedMB?: number;
  /** How long to wait for enough GPUs to become free, in ms. Defaults to 60,000. */
  timeoutMs?: number;
  /** Pause between two queries while waiting, in ms. Defaults to 2,000. */
  pollMs?: number;
  /**
   * Returns the output of `nvidia-smi --query-gpu=index,memory.free --format=csv,noheader,nounits`.
   * Defaults to running that command. Tests replace it.
   */
  query?: () => Promise<string>;
  /** Where CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER are written. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

const NVIDIA_SMI_TIMEOUT_MS = 15_000;

function runNvidiaSmi(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('nvidia-smi', args, { timeout: NVIDIA_SMI_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(
          new GpuUnavailableError(
            [],
            'nvidia-smi was not found: this machine has no NVIDIA driver, so no GPU can be ' +
              'selected. Run without setCudaVisibleDevices (on CPU), or install the driver',
            { cause: error },
          ),
        );
      }
      reject(
        new GpuUnavailableError(
          [],
          `nvidia-smi failed: ${(stderr || stdout || error.message).trim()}`,
          { cause: error },
        ),
      );
    });
  });
}

/** The query that {@link setCudaVisibleDevices} runs by default. */
export function queryGpuMemory(): Promise<string> {
  return runNvidiaSmi(['--query-gpu=index,memory.free', '--format=csv,noheader,nounits']);
}

/** Parses `index, memory.free` CSV lines (no header, no units); unreadable memory counts as 0. */
export function parseGpuQuery(output: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const [index, free] = line.split(',').map((field) => field.trim());
    if (index === undefined || !/^\d+$/.test(index)) {
      throw new GpuUnavailableError(
        gpus,
        `cannot read nvidia-smi output line ${JSON.stringify(line)}: expected "index, memory.free"`,
      );
    }
    const memoryFreeMB = Number(free);
    gpus.push({
      index: Number(index),
      memoryFreeMB: Number.isFinite(memoryFreeMB) ? memoryFreeMB : 0,
    });
  }
  return gpus;
}

function describeGpus(gpus: readonly GpuInfo[]): string {
  return gpus.map((gpu) => `gpu ${gpu.index}: ${gpu.memoryFreeMB} MB free`).join(', ');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Chooses GPUs and sets `CUDA_VISIBLE_DEVICES` (and `CUDA_DEVICE_ORDER=PCI_BUS_ID`, so indices
 * match nvidia-smi's). With `gpuIds`, uses those. Otherwise queries nvidia-smi and takes the first
 * `numGpu` GPUs (in index order) with at least `memoryNeedMB` MiB free, polling every `pollMs`
 * until `timeoutMs` has passed. Call it before `launch()`: the workers inherit the variable and
 * each takes its own device from it.
 *
 * Fails with a {@link GpuUnavailableError} when nvidia-smi is missing or lists no GPU, when
 * `numGpu` exceeds the number of GPUs (at once), or when too few are free after the wait.
 *
 * @returns The ids written to `CUDA_VISIBLE_DEVICES`.
 */
export async function setCudaVisibleDevices(
  options: SetCudaVisibleDevicesOptions = {},
): Promise<string[]> {
  const env = options.env ?? process.env;
  const apply = (ids: string[]): string[] => {
    env.CUDA_DEVICE_ORDER = 'PCI_BUS_ID';
    env.CUDA_VISIBLE_DEVICES = ids.join(',');
    return ids;
  };
  if (options.gpuIds !== undefined) {
    const list = Array.isArray(options.gpuIds) ? options.gpuIds : [options.gpuIds];
    const ids = list.flatMap((id) => String(id).split(',')).map((id) => id.trim());
    if (ids.length === 0 || ids.some((id) => id === '')) {
      throw new DistError(
        'DIST_INVALID_ARGUMENT',
        `gpuIds must name at least one GPU, got ${JSON.stringify(options.gpuIds)}`,
      );
    }
    return apply(ids);
  }
  const numGpu = options.numGpu ?? 1;
  const memoryNeedMB = options.memoryNeedMB ?? 11_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = options.pollMs ?? 2_000;
  if (!Number.isInteger(numGpu) || numGpu < 1) {
    throw new DistError('DIST_INVALID_ARGUMENT', `numGpu must be an integer >= 1, got ${numGpu}`);
  }
  if (!(memoryNeedMB >= 0) || !(timeoutMs >= 0) || !(pollMs > 0)) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      'memoryNeedMB and timeoutMs must be >= 0 and pollMs > 0 ' +
        `(got ${memoryNeedMB}, ${timeoutMs}, ${pollMs})`,
    );
  }
  const query = options.query ?? queryGpuMemory;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gpus = parseGpuQuery(await query());
    if (gpus.length === 0) {
      throw new GpuUnavailableError(gpus, 'nvidia-smi lists no GPU: no GPU can be selected');
    }
    if (numGpu > gpus.length) {
      throw new GpuUnavailableError(
        gpus,
        `asked for ${numGpu} GPUs but this machine has ${gpus.length} (${describeGpus(gpus)})`,
      );
    }
    const free = gpus.filter((gpu) => gpu.memoryFreeMB >= memoryNeedMB);
    if (free.length >= numGpu) return apply(free.slice(0, numGpu).map((gpu) => String(gpu.index)));
    if (Date.now() + pollMs > deadline) {
      throw new GpuUnavailableError(
        gpus,
        `only ${free.length} of the ${numGpu} GPUs asked for have ${memoryNeedMB} MB free after ` +
          `waiting ${timeoutMs} ms (${describeGpus(gpus)}): free some memory, lower ` +
          'memoryNeedMB or numGpu, or raise timeoutMs',
      );
    }
    await sleep(pollMs);
  }
}

/**
 * The GPU ids this process may use: `CUDA_VISIBLE_DEVICES` when set, else the GPUs `nvidia-smi -L`
 * lists, else none.
 */
export async function listVisibleGpuIds(
  env: Record<string, string | undefined> = process.env,
): Promise<string[]> {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined) {
    return visible
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== '');
  }
  try {
    const output = await runNvidiaSmi(['-L']);
    return [...output.matchAll(/^GPU (\d+):/gm)].map((match) => match[1]!);
  } catch {
    return [];
  }
}
