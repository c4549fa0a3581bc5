/** The worker side of `launch()`: join the group, run `main`, report how it ended. */
import type { DistEnv } from './env.js';
import { describeError, type WorkerErrorInfo } from './errors.js';
import { listVisibleGpuIds } from './gpu.js';
import {
  abortProcessGroup,
  destroyProcessGroup,
  getLocalRank,
  getLocalSize,
  getWorldSize,
  initProcessGroup,
} from './process-group.js';

/** IPC message a worker sends its launcher before exiting on an error. */
export interface WorkerErrorMessage {
  type: 'gorilla-dist:error';
  rank: number;
  error: WorkerErrorInfo;
}

/** Whether `value` is a {@link WorkerErrorMessage}. */
export function isWorkerErrorMessage(value: unknown): value is WorkerErrorMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'gorilla-dist:error'
  );
}

let watching = false;

/**
 * Exits this worker when its launcher goes away (the IPC channel closes, or the parent process
 * disappears), so that no worker outlives a killed launcher. The channel is unreferenced: it does
 * not keep the worker alive by itself.
 */
function watchLauncher(rank: number): void {
  if (watching) return;
  watching = true;
  const leave = (): void => {
    process.stderr.write(`[gorilla-dist] rank ${rank}: the launcher has gone away; exiting\n`);
    process.exit(1);
  };
  if (process.send) {
    process.channel?.unref();
    process.once('disconnect', leave);
  }
  const parent = process.ppid;
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') leave();
    }
  }, 1000).unref();
}

/** Resolves once what was written to stdout and stderr has been handed over (pipes on macOS). */
function flushStdio(): Promise<void> {
  const flush = (stream: NodeJS.WriteStream): Promise<void> =>
    new Promise((resolve) => {
      if (!stream.writable) return resolve();
      const timer = setTimeout(resolve, 1000);
      stream.write('', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  return Promise.all([flush(process.stdout), flush(process.stderr)]).then(() => {});
}

function report(rank: number, error: unknown): Promise<void> {
  const info = describeError(error);
  process.stderr.write(
    `[gorilla-dist] rank ${rank} failed: ${info.stack ?? `${info.name}: ${info.message}`}\n`,
  );
  const send = process.send?.bind(process);
  if (!send || !process.connected) return Promise.resolve();
  const message: WorkerErrorMessage = { type: 'gorilla-dist:error', rank, error: info };
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    send(message, undefined, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Runs `main(args)` inside a process group built from the environment. In a worker spawned by
 * `launch()` it then ends the process (code 0, or 1 after reporting the error to the launcher),
 * so code after `launch()` runs only in the launcher. In a worker of an outside launcher it
 * resolves (or rethrows), after destroying the group.
 */
export async function runWorker<A>(
  main: (args: A) => unknown,
  args: A,
  env: DistEnv,
  timeoutMs: number | undefined,
): Promise<void> {
  if (env.spawnedByLaunch) watchLauncher(env.rank);
  try {
    await initProcessGroup(timeoutMs === undefined ? {} : { timeoutMs });
    await main(args);
  } catch (error) {
    if (!env.spawnedByLaunch) {
      await destroyProcessGroup().catch(() => {});
      throw error;
    }
    await report(env.rank, error);
    await flushStdio();
    // No goodbye: exiting drops the connections, and the other ranks see a crash.
    process.exit(1);
  }
  await destroyProcessGroup();
  if (env.spawnedByLaunch) {
    await flushStdio();
    process.exit(0);
  }
}

/**
 * Runs `main(args)` in this process inside a group of the named backend (e.g. `mpi`), whose
 * processes were started by an outside launcher (`mpirun`, `srun`): join, run `main`, destroy the
 * group, resolve. When `main` fails, the group is aborted (the backend's `abort`, which for MPI
 * ends the whole job) and the error is rethrown. Where several GPUs are visible, each rank keeps
 * one in `CUDA_VISIBLE_DEVICES`, chosen by its local rank, as `launch()` does for its workers.
 */
export async function runInProcess<A>(
  main: (args: A) => unknown,
  args: A,
  backend: string,
  options: { timeoutMs: number | undefined; requestedWorldSize: number },
): Promise<void> {
  await initProcessGroup({
    backend,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const worldSize = getWorldSize();
  if (options.requestedWorldSize > 1 && options.requestedWorldSize !== worldSize) {
    process.stderr.write(
      `[gorilla-dist] warning: launch() asked for ${options.requestedWorldSize} processes, but ` +
        `the ${backend} backend runs one per process of its launcher: ${worldSize} here\n`,
    );
  }
  const gpuIds = await listVisibleGpuIds();
  if (gpuIds.length > 1) {
    if (getLocalSize() > gpuIds.length && getLocalRank() === 0) {
      process.stderr.write(
        `[gorilla-dist] warning: ${getLocalSize()} processes share ${gpuIds.length} visible GPU(s)\n`,
      );
    }
    process.env.CUDA_VISIBLE_DEVICES = gpuIds[getLocalRank() % gpuIds.length];
  }
  try {
    await main(args);
  } catch (error) {
    await abortProcessGroup(error);
    throw error;
  }
  await destroyProcessGroup();
}
