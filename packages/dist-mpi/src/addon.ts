/** Loading the native MPI addon, and why it is unavailable when it is. */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { BackendReduceOp, NumericArray } from '@gorilla-ts/dist';
import { DistError } from '@gorilla-ts/dist';

/** What `MPI_Init_thread` and `MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)` found. */
export interface MpiInfo {
  rank: number;
  size: number;
  localRank: number;
  localSize: number;
  /** The thread level MPI provides (`funneled` is what the binding asks for). */
  threadLevel: 'single' | 'funneled' | 'serialized' | 'multiple' | 'unknown';
  /** `MPI_Get_library_version`, e.g. `Open MPI v4.1.4, ...`. */
  library: string;
  /** `MPI_Get_processor_name`: this machine's name. */
  processor: string;
}

/**
 * The native binding (native/mpi_binding.cc). Every function but `libraryVersion`, `abort` and
 * `finalizeSync` queues one job for the binding's MPI thread and returns a Promise; jobs run in
 * call order.
 */
export interface MpiAddon {
  init(): Promise<MpiInfo>;
  allReduce(buffer: NumericArray, op: BackendReduceOp): Promise<void>;
  broadcast(buffer: NumericArray, root: number): Promise<void>;
  allGather(buffer: NumericArray): Promise<ArrayBuffer>;
  gather(buffer: NumericArray, root: number): Promise<ArrayBuffer | null>;
  allGatherBytes(bytes: Uint8Array): Promise<{ data: ArrayBuffer; sizes: Int32Array }>;
  barrier(): Promise<void>;
  finalize(): Promise<void>;
  finalizeSync(): void;
  abort(code: number): never;
  libraryVersion(): string;
}

/** Where `pnpm build` (scripts/build-addon.mjs) puts the addon. */
const DEFAULT_ADDON_PATH = fileURLToPath(
  new URL('../native/build/Release/gorilla_dist_mpi.node', import.meta.url),
);

type Loaded = { addon: MpiAddon; reason?: undefined } | { addon?: undefined; reason: string };
let loaded: Loaded | undefined;

/** The addon's path: `GORILLA_DIST_MPI_ADDON` (a custom build, or tests), else the built one. */
export function addonPath(): string {
  return process.env.GORILLA_DIST_MPI_ADDON || DEFAULT_ADDON_PATH;
}

function load(): Loaded {
  if (loaded) return loaded;
  const path = addonPath();
  try {
    loaded = { addon: createRequire(import.meta.url)(path) as MpiAddon };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    loaded = {
      reason:
        code === 'MODULE_NOT_FOUND'
          ? `its native addon is not built (${path} is missing)`
          : `its native addon could not be loaded (${message})`,
    };
  }
  return loaded;
}

/** Whether the MPI addon is built and loads (MPI's shared library included). */
export function isMpiAvailable(): boolean {
  return load().addon !== undefined;
}

/** Why the MPI backend is unavailable, or `undefined` when it is available. */
export function mpiUnavailableReason(): string | undefined {
  return load().reason;
}

/** `MPI_Get_library_version` of the MPI the addon was linked with, or `undefined`. */
export function mpiLibraryVersion(): string | undefined {
  return load().addon?.libraryVersion();
}

/** The addon, or the one clear error saying how to get it. */
export function requireAddon(): MpiAddon {
  const result = load();
  if (result.addon) return result.addon;
  throw new DistError(
    'DIST_BACKEND_UNAVAILABLE',
    `the mpi backend of @gorilla-ts/dist-mpi is unavailable: ${result.reason}. Install ` +
      'OpenMPI (Debian/Ubuntu: apt-get install libopenmpi-dev openmpi-bin; on a cluster, ' +
      '`module load openmpi`) and a C++ compiler, then rebuild the addon: ' +
      '`npm rebuild @gorilla-ts/dist-mpi` (in the gorilla-ts repository: ' +
      '`pnpm --filter @gorilla-ts/dist-mpi build`)',
  );
}
