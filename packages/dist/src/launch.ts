import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createSecret, readSecret, SECRET_ENV, SECRET_FILE_ENV, SECRET_HINT } from './auth.js';
import { selectBackendName } from './backend-registry.js';
import { checkTimeoutMs, ENV, parseDistUrl, readDistEnv, resolveHost } from './env.js';
import { DistError, type WorkerErrorInfo, WorkerFailedError } from './errors.js';
import { listVisibleGpuIds } from './gpu.js';
import { RendezvousServer } from './rendezvous.js';
import { removeRunFiles, sharedMemoryDir } from './shm.js';
import { isWorkerErrorMessage, runInProcess, runWorker } from './worker.js';

/** Options of {@link launch}. */
export interface LaunchOptions<A> {
  /** Number of machines taking part. Defaults to 1. */
  numMachines?: number;
  /** This machine's index in `[0, numMachines)`; machine 0 hosts the rendezvous. Defaults to 0. */
  machineRank?: number;
  /**
   * Where the processes meet: `tcp://host:port` (the same on every machine; `host` is machine
   * 0's address), or `auto` for a free port on 127.0.0.1 (single machine only). Defaults to `auto`.
   */
  distUrl?: string;
  /** The argument passed to `main`. Defaults to `undefined`. */
  args?: A;
  /**
   * Collective and rendezvous timeout in the workers, in ms (sets GORILLA_DIST_TIMEOUT_MS).
   * Defaults to GORILLA_DIST_TIMEOUT_MS, else 30 minutes.
   */
  timeoutMs?: number;
  /** How long stopped workers get between SIGTERM and SIGKILL, in ms. Defaults to 5,000. */
  killGraceMs?: number;
  /**
   * The process-group backend: `tcp` (built in) or a registered name such as `mpi` (import
   * `@gorilla-ts/dist-mpi`). With any backend other than `tcp`, the processes come from that
   * backend's launcher (`mpirun -np 4 node train.js`): `launch()` runs `main` in this process and
   * spawns nothing. Defaults to `GORILLA_DIST_BACKEND`, else `mpi` when an MPI launcher started
   * this process (`OMPI_COMM_WORLD_SIZE`, `PMI_SIZE`, `PMIX_RANK`, or a Slurm step of several
   * tasks once `mpi` is registered) and `RANK` is unset, else `tcp`.
   */
  backend?: string;
  /**
   * Whether to start more processes on this machine than it has devices (visible GPUs, or CPU
   * cores when no GPU is visible); otherwise `launch()` refuses with `DIST_INVALID_ARGUMENT`.
   * Defaults to `GORILLA_DIST_OVERSUBSCRIBE=1`, else `false`.
   */
  oversubscribe?: boolean;
}

function checkInteger(
  name: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `${name} must be an integer ${range}, got ${value}`,
    );
  }
}

/**
 * Runs `main(args)` on `numGpus` processes per machine, all joined in one process group.
 *
 * - A world of one (`numMachines * numGpus === 1`) calls `main` in this process: no group, the
 *   collectives are identities.
 * - Otherwise this process becomes the launcher: it re-runs this program's entry script
 *   (`process.argv[1]`, with the same `process.execArgv` and arguments) once per local rank,
 *   with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT,
 *   GORILLA_DIST_WORKER=1 and, where GPUs are visible, CUDA_VISIBLE_DEVICES set to one device.
 *   The script must therefore call `launch()` at its top level (like `torch.multiprocessing`
 *   spawn): in a worker, the same call sees those variables, joins the group and runs `main`,
 *   then ends the worker process. Each worker recomputes `args` itself; share anything random or
 *   rank-dependent through `broadcastObject`.
 * - A process started by an outside launcher that sets RANK, WORLD_SIZE, MASTER_ADDR and
 *   MASTER_PORT joins the same way; there `launch()` resolves after `main` (rank 0 hosts the
 *   rendezvous).
 * - With another backend (`backend: 'mpi'`, `GORILLA_DIST_BACKEND=mpi`, or a process started by
 *   `mpirun`/`srun`), the launcher of that backend started every process: `launch()` joins the
 *   group in this process, runs `main`, destroys the group and resolves (when `main` throws, the
 *   backend's `abort` ends the job and the error is rethrown). `numGpus` is not used then.
 *
 * The launcher gives its workers the job's secret (`GORILLA_DIST_SECRET`, else the file named by
 * `GORILLA_DIST_SECRET_FILE`, else a fresh random one; with `numMachines > 1` it must be set, the
 * same on every machine), with which every connection of the group authenticates. It refuses more
 * processes than this machine has devices (visible GPUs, else CPU cores) unless `oversubscribe`,
 * and fails at once when the host of `distUrl` does not resolve.
 *
 * When a worker throws, exits non-zero or is killed, the launcher stops the others (SIGTERM, then
 * SIGKILL after `killGraceMs`) and rejects with a {@link WorkerFailedError} naming the rank and its
 * error. SIGINT, SIGTERM or SIGHUP to the launcher stop all workers and reject with
 * `DIST_INTERRUPTED`. Workers exit by themselves when the launcher dies.
 *
 * @param main - The work of one process; may be async.
 * @param numGpus - Processes per machine (one per GPU; on CPU-only machines, the process count).
 */
export async function launch<A = undefined>(
  main: (args: A) => unknown,
  numGpus: number,
  options: LaunchOptions<A> = {},
): Promise<void> {
  const { numMachines = 1, machineRank = 0, distUrl = 'auto' } = options;
  checkInteger('numGpus', numGpus, 1);
  checkInteger('numMachines', numMachines, 1);
  checkInteger('machineRank', machineRank, 0, numMachines - 1);
  if (distUrl === 'auto' && numMachines > 1) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `distUrl 'auto' works on a single machine only; with numMachines = ${numMachines} pass ` +
        `the same 'tcp://<machine 0 address>:<port>' to every machine`,
    );
  }
  const url = distUrl === 'auto' ? { host: '127.0.0.1', port: 0 } : parseDistUrl(distUrl);
  const timeoutMs = options.timeoutMs === undefined ? undefined : checkTimeoutMs(options.timeoutMs);
  const killGraceMs = options.killGraceMs ?? 5000;
  const backend = selectBackendName(options.backend);
  if (backend !== 'tcp') {
    return runInProcess(main, options.args as A, backend, {
      timeoutMs,
      requestedWorldSize: numMachines * numGpus,
    });
  }
  const env = readDistEnv();
  if (env) return runWorker(main, options.args as A, env, timeoutMs);
  const worldSize = numMachines * numGpus;
  if (worldSize === 1) {
    await main(options.args as A);
    return;
  }
  const script = process.argv[1];
  if (!script) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      'launch() with more than one process re-runs the entry script, but process.argv[1] is ' +
        'empty (node -e or a REPL?): put the launch() call in a script file and run that',
    );
  }
  const gpuIds = await listVisibleGpuIds();
  const oversubscribe = options.oversubscribe ?? process.env[ENV.oversubscribe] === '1';
  checkDeviceCount(numGpus, gpuIds, oversubscribe);
  const secret = readSecret() ?? (numMachines > 1 ? undefined : createSecret());
  if (secret === undefined) {
    throw new DistError(
      'DIST_AUTH_FAILED',
      `launch() on ${numMachines} machines needs the job's secret in ${SECRET_ENV}, the same on ` +
        `every machine: ${SECRET_HINT}`,
    );
  }
  if (distUrl !== 'auto') await resolveHost(url.host, `distUrl ${distUrl}`);
  let server: RendezvousServer | undefined;
  let port = url.port;
  if (machineRank === 0) {
    server = new RendezvousServer(worldSize, secret);
    port = await server.listen(url.host, url.port);
  }
  // Names this machine's shared-memory files, so that whatever a killed worker left is found.
  const runId = randomBytes(6).toString('hex');
  try {
    if (gpuIds.length > 0 && numGpus > gpuIds.length) {
      process.stderr.write(
        `[gorilla-dist] warning: ${numGpus} processes share ${gpuIds.length} visible GPU(s)\n`,
      );
    }
    const specs = Array.from({ length: numGpus }, (_, localRank) => {
      const childEnv: NodeJS.ProcessEnv = {
        ...process.env,
        [SECRET_ENV]: secret,
        [SECRET_FILE_ENV]: undefined,
        [ENV.runId]: runId,
        [ENV.rank]: String(machineRank * numGpus + localRank),
        [ENV.localRank]: String(localRank),
        [ENV.worldSize]: String(worldSize),
        [ENV.localWorldSize]: String(numGpus),
        [ENV.machineRank]: String(machineRank),
        [ENV.masterAddr]: url.host,
        [ENV.masterPort]: String(port),
        [ENV.worker]: '1',
      };
      if (timeoutMs !== undefined) childEnv[ENV.timeoutMs] = String(timeoutMs);
      if (gpuIds.length > 0) childEnv[ENV.cudaVisibleDevices] = gpuIds[localRank % gpuIds.length];
      return { rank: machineRank * numGpus + localRank, localRank, env: childEnv };
    });
    const argv = [...workerExecArgv(), script, ...process.argv.slice(2)];
    await supervise(specs, argv, killGraceMs);
  } finally {
    server?.close();
    // Files of workers killed in the middle of the shared-memory handshake (see shm.ts).
    removeRunFiles(runId, sharedMemoryDir());
  }
}

/**
 * Refuses more local processes than devices: visible GPUs, or CPU cores without GPUs (each
 * worker computes on its own device; more only compete for it), unless `oversubscribe`.
 */
function checkDeviceCount(numGpus: number, gpuIds: string[], oversubscribe: boolean): void {
  const devices = gpuIds.length > 0 ? gpuIds.length : availableParallelism();
  if (numGpus <= devices || oversubscribe) return;
  const what =
    gpuIds.length > 0
      ? `the ${devices} visible GPU${devices === 1 ? '' : 's'} of this machine`
      : `the ${devices} CPU core${devices === 1 ? '' : 's'} of this machine (no GPU is visible)`;
  throw new DistError(
    'DIST_INVALID_ARGUMENT',
    `numGpus = ${numGpus} processes per machine is more than ${what}: use at most ${devices}, or ` +
      `pass oversubscribe: true (--oversubscribe, GORILLA_DIST_OVERSUBSCRIBE=1) to start them anyway`,
  );
}

/** `process.execArgv` without debugger flags, whose port would clash between workers. */
function workerExecArgv(): string[] {
  return process.execArgv.filter((arg) => !/^--inspect(-brk|-port|-wait)?(=|$)/.test(arg));
}

interface Worker {
  rank: number;
  localRank: number;
  child: ChildProcess;
  done: boolean;
  stoppedByLauncher: boolean;
  reported: WorkerErrorInfo | undefined;
}

interface Failure {
  worker: Worker;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** Error codes that a worker reports when another one failed first. */
const SECONDARY_CODES = new Set(['DIST_PEER_LOST', 'DIST_GROUP_BROKEN']);

function supervise(
  specs: Array<{ rank: number; localRank: number; env: NodeJS.ProcessEnv }>,
  argv: string[],
  killGraceMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const failures: Failure[] = [];
    let interrupted: NodeJS.Signals | undefined;
    let stopping = false;
    let killTimer: NodeJS.Timeout | undefined;

    const alive = (): Worker[] => workers.filter((worker) => !worker.done);
    const killAll = (signal: NodeJS.Signals): void => {
      for (const worker of alive()) {
        worker.stoppedByLauncher = true;
        worker.child.kill(signal);
      }
    };
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      killAll('SIGTERM');
      killTimer = setTimeout(() => killAll('SIGKILL'), killGraceMs);
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (interrupted) killAll('SIGKILL');
      else {
        interrupted = signal;
        stop();
      }
    };
    const onExit = (): void => killAll('SIGKILL');
    const cleanup = (): void => {
      clearTimeout(killTimer);
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal);
      process.off('exit', onExit);
    };
    const finish = (): void => {
      if (alive().length > 0) return;
      cleanup();
      if (interrupted) {
        reject(
          new DistError(
            'DIST_INTERRUPTED',
            `launch() received ${interrupted} and stopped its ${workers.length} workers`,
          ),
        );
      } else if (failures.length > 0) reject(failureError(failures));
      else resolve();
    };

    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
    process.on('exit', onExit);
    const workers: Worker[] = specs.map(({ rank, localRank, env }) => {
      const child = spawn(process.execPath, argv, {
        env,
        stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      });
      const worker: Worker = {
        rank,
        localRank,
        child,
        done: false,
        stoppedByLauncher: false,
        reported: undefined,
      };
      child.on('message', (message) => {
        if (!isWorkerErrorMessage(message)) return;
        worker.reported = message.error;
      });
      const ended = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
        if (worker.done) return;
        worker.done = true;
        const failed = worker.reported !== undefined || exitCode !== 0;
        if (failed && !(worker.stoppedByLauncher && worker.reported === undefined)) {
          failures.push({ worker, exitCode, signal });
          stop();
        }
        finish();
      };
      child.on('error', (error) => {
        worker.reported ??= { name: error.name, message: `could not start: ${error.message}` };
        // A process that never started emits no 'close'.
        if (child.pid === undefined) ended(null, null);
      });
      child.on('close', ended);
      return worker;
    });
  });
}

function failureError(failures: Failure[]): WorkerFailedError {
  const primary =
    failures.find((f) => !SECONDARY_CODES.has(f.worker.reported?.code ?? '')) ?? failures[0]!;
  const { worker, exitCode, signal } = primary;
  const who = `rank ${worker.rank} (local rank ${worker.localRank}, pid ${worker.child.pid})`;
  const error = worker.reported;
  let message = error
    ? `${who} failed: ${error.name}: ${error.message}`
    : signal
      ? `${who} was killed by ${signal}`
      : `${who} exited with code ${exitCode}`;
  const others = failures.filter((f) => f !== primary).map((f) => f.worker.rank);
  if (others.length > 0)
    message += ` (then rank${others.length > 1 ? 's' : ''} ${others.join(', ')} failed too)`;
  message += '; the launcher stopped the other workers';
  return new WorkerFailedError(
    {
      rank: worker.rank,
      localRank: worker.localRank,
      pid: worker.child.pid,
      exitCode,
      signal,
      workerError: error,
    },
    message,
  );
}
