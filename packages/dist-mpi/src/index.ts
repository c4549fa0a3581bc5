/**
 * `@gorilla-ts/dist-mpi`: the MPI backend of `@gorilla-ts/dist`, for data-parallel training on
 * clusters launched with `mpirun` or `srun`. Importing this module registers the backend under the
 * name `mpi`: `launch()` and `initProcessGroup()` then select it with `backend: 'mpi'`,
 * `GORILLA_DIST_BACKEND=mpi`, or by themselves when an MPI launcher started the process.
 */
import { registerProcessGroupBackend } from '@gorilla-ts/dist';
import { MpiBackend } from './mpi-backend.js';

/** The version of this package. */
export const VERSION = '0.1.0';

export type { MpiInfo } from './addon.js';
export { isMpiAvailable, mpiLibraryVersion, mpiUnavailableReason } from './addon.js';
export type { MpiBackendOptions } from './mpi-backend.js';
export { MpiBackend } from './mpi-backend.js';

// Overrides a registration by another copy of this package (duplicate installs): either works.
registerProcessGroupBackend('mpi', (options) => new MpiBackend(options), { override: true });
