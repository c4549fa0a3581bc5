import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DistError } from './errors.js';

/** Default collective and rendezvous timeout: 30 minutes, as in PyTorch. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

/** Largest delay `setTimeout` accepts (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Environment variables read and written by `launch` and `initProcessGroup`. */
export const ENV = {
  rank: 'RANK',
  localRank: 'LOCAL_RANK',
  worldSize: 'WORLD_SIZE',
  localWorldSize: 'LOCAL_WORLD_SIZE',
  machineRank: 'GROUP_RANK',
  masterAddr: 'MASTER_ADDR',
  masterPort: 'MASTER_PORT',
  timeoutMs: 'GORILLA_DIST_TIMEOUT_MS',
  sharedMemory: 'GORILLA_DIST_SHM',
  worker: 'GORILLA_DIST_WORKER',
  oversubscribe: 'GORILLA_DIST_OVERSUBSCRIBE',
  runId: 'GORILLA_DIST_RUN_ID',
  sharedMemoryDir: 'GORILLA_DIST_SHM_DIR',
  cudaVisibleDevices: 'CUDA_VISIBLE_DEVICES',
} as const;

/** The distributed settings found in the environment of a worker. */
export interface DistEnv {
  rank: number;
  worldSize: number;
  localRank: number | undefined;
  localSize: number | undefined;
  masterAddr: string;
  masterPort: number;
  timeoutMs: number | undefined;
  /** Whether this process was spawned by `launch()` (`GORILLA_DIST_WORKER=1`). */
  spawnedByLaunch: boolean;
}

type Env = Record<string, string | undefined>;

function readInt(env: Env, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `environment variable ${name}=${JSON.stringify(raw)} must be an integer >= ${min}`,
    );
  }
  return value;
}

/**
 * Reads RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (and LOCAL_RANK, LOCAL_WORLD_SIZE,
 * GORILLA_DIST_TIMEOUT_MS when present). Returns `undefined` when RANK or WORLD_SIZE is unset,
 * i.e. when this process is not a worker of a distributed run.
 */
export function readDistEnv(env: Env = process.env): DistEnv | undefined {
  const rank = readInt(env, ENV.rank, 0);
  const worldSize = readInt(env, ENV.worldSize, 1);
  if (rank === undefined || worldSize === undefined) return undefined;
  if (rank >= worldSize) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `RANK=${rank} must be smaller than WORLD_SIZE=${worldSize}`,
    );
  }
  const masterAddr = env[ENV.masterAddr] || '127.0.0.1';
  const masterPort = readInt(env, ENV.masterPort, 1);
  if (masterPort === undefined && worldSize > 1) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `RANK and WORLD_SIZE are set but MASTER_PORT is not: set MASTER_ADDR and MASTER_PORT ` +
        `to the address where rank 0 hosts the rendezvous`,
    );
  }
  return {
    rank,
    worldSize,
    localRank: readInt(env, ENV.localRank, 0),
    localSize: readInt(env, ENV.localWorldSize, 1),
    masterAddr,
    masterPort: masterPort ?? 0,
    timeoutMs: readTimeoutMs(env),
    spawnedByLaunch: env[ENV.worker] === '1',
  };
}

/** Reads GORILLA_DIST_TIMEOUT_MS, or `undefined` when unset. */
export function readTimeoutMs(env: Env = process.env): number | undefined {
  return readInt(env, ENV.timeoutMs, 1);
}

/** Checks a timeout option and clamps it to what timers support. */
export function checkTimeoutMs(timeoutMs: number, name = 'timeoutMs'): number {
  if (!(timeoutMs > 0)) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `${name} must be a positive number of milliseconds, got ${timeoutMs}`,
    );
  }
  return Math.min(timeoutMs, MAX_TIMER_MS);
}

/** Host and port of a `tcp://host:port` URL. */
export interface HostPort {
  host: string;
  port: number;
}

/** Parses `tcp://host:port` (IPv6 hosts in brackets: `tcp://[::1]:29500`). */
export function parseDistUrl(url: string): HostPort {
  const match = /^tcp:\/\/(\[[^\]]+\]|[^:/[\]]+):(\d+)\/?$/.exec(url);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || !(port >= 1 && port <= 65535)) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `distUrl ${JSON.stringify(url)} is not valid: expected 'auto' or 'tcp://host:port' ` +
        `with a port between 1 and 65535, e.g. 'tcp://10.0.0.1:29500'`,
    );
  }
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** Whether `host` names this machine's loopback interface. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Formats `host:port`, with brackets around IPv6 hosts. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Checks that `host` resolves, retrying a temporary resolver failure (`EAI_AGAIN`) for 5 s.
 * Throws a `DIST_INVALID_ARGUMENT` {@link DistError} naming the host and `what` (e.g. `distUrl
 * tcp://no-such-host:29500`) when it does not.
 */
export async function resolveHost(host: string, what: string): Promise<void> {
  if (isIP(host) !== 0) return;
  const started = Date.now();
  for (;;) {
    try {
      await lookup(host);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      if (code === 'EAI_AGAIN' && Date.now() - started < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      throw new DistError(
        'DIST_INVALID_ARGUMENT',
        `${what}: cannot resolve the host ${JSON.stringify(host)} (${code}): give the address ` +
          `(or a resolvable name) of machine 0`,
        { cause: error },
      );
    }
  }
}
