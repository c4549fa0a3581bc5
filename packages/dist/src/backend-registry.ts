/**
 * Process-group backends by name: the built-in `tcp`, and those other packages register (e.g.
 * `@gorilla-ts/dist-mpi` registers `mpi` when imported), so that this package never depends on
 * them. Also the detection of MPI launchers (`mpirun`, `srun`) from their environment.
 */
import type { ProcessGroupBackend } from './backend.js';
import { DistError } from './errors.js';

/** What a registered backend factory receives from `initProcessGroup` or `launch`. */
export interface BackendFactoryOptions {
  /**
   * Collective timeout in ms (option `timeoutMs`, else `GORILLA_DIST_TIMEOUT_MS`); `undefined`
   * lets the backend choose.
   */
  timeoutMs?: number;
}

/** Builds a backend; called by `initProcessGroup({ backend: name })` and `launch()`. */
export type ProcessGroupBackendFactory = (options: BackendFactoryOptions) => ProcessGroupBackend;

/** Options of {@link registerProcessGroupBackend}. */
export interface RegisterBackendOptions {
  /** Replace a backend already registered under this name. Defaults to false (that throws). */
  override?: boolean;
}

/** Packages that provide a backend when imported, for the message when one is missing. */
const KNOWN_PACKAGES: Readonly<Record<string, string>> = { mpi: '@gorilla-ts/dist-mpi' };

const REGISTRY_KEY = Symbol.for('gorilla-ts.dist.backends');
type Registry = Map<string, ProcessGroupBackendFactory>;

/** One registry per process, shared by duplicate installs of this package. */
function registry(): Registry {
  const holder = globalThis as typeof globalThis & { [REGISTRY_KEY]?: Registry };
  holder[REGISTRY_KEY] ??= new Map();
  return holder[REGISTRY_KEY];
}

/**
 * Makes a backend available by name to `initProcessGroup({ backend: name })`, to `launch(main, n,
 * { backend: name })` and to `GORILLA_DIST_BACKEND=name`. Backend packages call it when imported.
 * A name already registered throws unless `override` is set; `tcp` is built in.
 */
export function registerProcessGroupBackend(
  name: string,
  factory: ProcessGroupBackendFactory,
  options: RegisterBackendOptions = {},
): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || name === 'tcp') {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `registerProcessGroupBackend: name must be lower-case letters, digits and '-', and not ` +
        `the built-in 'tcp'; got ${JSON.stringify(name)}`,
    );
  }
  if (registry().has(name) && !options.override) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `registerProcessGroupBackend: a backend named '${name}' is already registered; pass ` +
        `{ override: true } to replace it`,
    );
  }
  registry().set(name, factory);
}

/** The backend names that can be asked for: `tcp` and the registered ones. */
export function listProcessGroupBackends(): string[] {
  return ['tcp', ...[...registry().keys()].sort()];
}

/** Builds the registered backend `name`, or explains what to install or import. */
export function createRegisteredBackend(
  name: string,
  options: BackendFactoryOptions,
): ProcessGroupBackend {
  const factory = registry().get(name);
  if (factory) return factory(options);
  const known = KNOWN_PACKAGES[name];
  if (known) {
    throw new DistError(
      'DIST_BACKEND_UNAVAILABLE',
      `the '${name}' process-group backend is not registered: install ${known} and import it ` +
        `before launch() or initProcessGroup() (\`import '${known}'\` in the program, or ` +
        `\`node --import ${known} app.js\`)`,
    );
  }
  throw new DistError(
    'DIST_INVALID_ARGUMENT',
    `unknown process-group backend ${JSON.stringify(name)}; available: ` +
      `${listProcessGroupBackends().join(', ')}`,
  );
}

/** An MPI launcher detected from the environment of this process. */
export interface MpiLauncherInfo {
  /**
   * `openmpi` (Open MPI's mpirun), `pmi` (MPICH or Intel MPI's mpiexec, `srun --mpi=pmi2`),
   * `pmix` (PMIx: `srun --mpi=pmix`, prterun) or `slurm` (any `srun` job step with several tasks).
   */
  launcher: 'openmpi' | 'pmi' | 'pmix' | 'slurm';
  /** The variable that gave it away, e.g. `OMPI_COMM_WORLD_SIZE`. */
  variable: string;
  /** Number of processes, when the launcher says. */
  worldSize: number | undefined;
}

type Env = Record<string, string | undefined>;

function positiveInt(raw: string | undefined): number | undefined {
  const value = Number(raw);
  return raw !== undefined && raw !== '' && Number.isInteger(value) && value >= 1
    ? value
    : undefined;
}

/**
 * Whether this process was started by an MPI launcher: `OMPI_COMM_WORLD_SIZE` (Open MPI),
 * `PMI_SIZE` (MPICH, Intel MPI, PMI-2), `PMIX_RANK` (PMIx), or `SLURM_PROCID` in a job step of
 * several tasks (`SLURM_STEP_NUM_TASKS`). `undefined` when none is set.
 */
export function detectMpiLauncher(env: Env = process.env): MpiLauncherInfo | undefined {
  if (env.OMPI_COMM_WORLD_SIZE !== undefined) {
    return {
      launcher: 'openmpi',
      variable: 'OMPI_COMM_WORLD_SIZE',
      worldSize: positiveInt(env.OMPI_COMM_WORLD_SIZE),
    };
  }
  if (env.PMI_SIZE !== undefined) {
    return { launcher: 'pmi', variable: 'PMI_SIZE', worldSize: positiveInt(env.PMI_SIZE) };
  }
  const slurmSize = positiveInt(env.SLURM_STEP_NUM_TASKS);
  if (env.PMIX_RANK !== undefined) {
    return { launcher: 'pmix', variable: 'PMIX_RANK', worldSize: slurmSize };
  }
  if (env.SLURM_PROCID !== undefined && slurmSize !== undefined && slurmSize > 1) {
    return { launcher: 'slurm', variable: 'SLURM_PROCID', worldSize: slurmSize };
  }
  return undefined;
}

/**
 * The backend to use: `requested` if given, else `GORILLA_DIST_BACKEND`, else `tcp` when `RANK`
 * and `WORLD_SIZE` are set (a `launch()` worker or a torchrun-style launcher), else `mpi` when an
 * MPI launcher started more than one process (a plain Slurm step only when `mpi` is registered,
 * since `srun` also starts one TCP launcher per machine), else `tcp`.
 */
export function selectBackendName(requested: string | undefined, env: Env = process.env): string {
  const explicit = requested ?? (env.GORILLA_DIST_BACKEND || undefined);
  if (explicit !== undefined) return explicit;
  if (env.RANK !== undefined && env.WORLD_SIZE !== undefined) return 'tcp';
  const mpi = detectMpiLauncher(env);
  if (!mpi || mpi.worldSize === 1) return 'tcp';
  if (mpi.launcher === 'slurm' && !registry().has('mpi')) return 'tcp';
  return 'mpi';
}
