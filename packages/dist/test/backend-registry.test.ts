// Backends by name, and the detection of MPI launchers: what lets @gorilla-ts/dist-mpi plug in.
import { afterEach, describe, expect, it } from 'vitest';
import { selectBackendName } from '../src/backend-registry.js';
import {
  DistError,
  destroyProcessGroup,
  detectMpiLauncher,
  getRank,
  getWorldSize,
  initProcessGroup,
  launch,
  listProcessGroupBackends,
  type ProcessGroupBackend,
  registerProcessGroupBackend,
} from '../src/index.js';

afterEach(async () => {
  await destroyProcessGroup();
});

/** A one-rank backend that records what happens to it (a stand-in for a real transport). */
class RecordingBackend implements ProcessGroupBackend {
  readonly name = 'recording';
  readonly rank = 0;
  readonly worldSize = 1;
  readonly localRank = 0;
  readonly localSize = 1;
  readonly events: string[] = [];
  constructor(readonly timeoutMs: number | undefined) {}
  async init(): Promise<void> {
    this.events.push('init');
  }
  async allReduce(): Promise<void> {}
  async broadcast(): Promise<void> {}
  async allGather<T>(buffer: T): Promise<T[]> {
    return [buffer];
  }
  async barrier(): Promise<void> {}
  async destroy(): Promise<void> {
    this.events.push('destroy');
  }
  async abort(reason: unknown): Promise<void> {
    this.events.push(`abort: ${(reason as Error).message}`);
  }
}

const created: RecordingBackend[] = [];
registerProcessGroupBackend('recording', ({ timeoutMs }) => {
  const backend = new RecordingBackend(timeoutMs);
  created.push(backend);
  return backend;
});

describe('registerProcessGroupBackend', () => {
  it('lists tcp and the registered names', () => {
    expect(listProcessGroupBackends()).toEqual(['tcp', 'recording']);
  });

  it('refuses duplicates unless overridden, and bad or built-in names', () => {
    const factory = () => new RecordingBackend(undefined);
    expect(() => registerProcessGroupBackend('recording', factory)).toThrow(
      "registerProcessGroupBackend: a backend named 'recording' is already registered; pass { override: true } to replace it",
    );
    expect(() => registerProcessGroupBackend('tcp', factory)).toThrow(
      `registerProcessGroupBackend: name must be lower-case letters, digits and '-', and not the built-in 'tcp'; got "tcp"`,
    );
    expect(() => registerProcessGroupBackend('My Backend', factory)).toThrow('got "My Backend"');
  });

  it('initProcessGroup({ backend: name }) builds it with the timeout', async () => {
    await initProcessGroup({ backend: 'recording', timeoutMs: 1234 });
    const backend = created.at(-1)!;
    expect(backend.timeoutMs).toBe(1234);
    expect(backend.events).toEqual(['init']);
    await destroyProcessGroup();
    expect(backend.events).toEqual(['init', 'destroy']);
  });

  it('names what to import for mpi, and what exists for unknown names', async () => {
    const mpi = await initProcessGroup({ backend: 'mpi' }).catch((e: unknown) => e);
    expect(DistError.isInstance(mpi)).toBe(true);
    expect(mpi).toMatchObject({
      code: 'DIST_BACKEND_UNAVAILABLE',
      message:
        "the 'mpi' process-group backend is not registered: install @gorilla-ts/dist-mpi and import it before launch() or initProcessGroup() (`import '@gorilla-ts/dist-mpi'` in the program, or `node --import @gorilla-ts/dist-mpi app.js`)",
    });
    await expect(initProcessGroup({ backend: 'nccl' })).rejects.toMatchObject({
      code: 'DIST_INVALID_ARGUMENT',
      message: 'unknown process-group backend "nccl"; available: tcp, recording',
    });
  });
});

describe('launch with a registered backend', () => {
  it('runs main in this process, then destroys the group', async () => {
    const seen: unknown[] = [];
    await launch(
      (args: { lr: number }) => {
        seen.push([args, getRank(), getWorldSize()]);
      },
      1,
      { backend: 'recording', args: { lr: 0.1 } },
    );
    expect(seen).toEqual([[{ lr: 0.1 }, 0, 1]]);
    expect(created.at(-1)!.events).toEqual(['init', 'destroy']);
  });

  it('keeps one of several visible GPUs, chosen by the local rank', async () => {
    const saved = process.env.CUDA_VISIBLE_DEVICES;
    process.env.CUDA_VISIBLE_DEVICES = '3,5';
    try {
      let seen: string | undefined;
      await launch(
        () => {
          seen = process.env.CUDA_VISIBLE_DEVICES;
        },
        1,
        { backend: 'recording' },
      );
      expect(seen).toBe('3');
    } finally {
      if (saved === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
      else process.env.CUDA_VISIBLE_DEVICES = saved;
    }
  });

  it('aborts the group (not destroy) when main throws, and rethrows', async () => {
    await expect(
      launch(
        () => {
          throw new Error('boom');
        },
        1,
        { backend: 'recording' },
      ),
    ).rejects.toThrow('boom');
    expect(created.at(-1)!.events).toEqual(['init', 'abort: boom']);
  });
});

describe('detectMpiLauncher', () => {
  it.each([
    [{}, undefined],
    [
      { OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_RANK: '1' },
      { launcher: 'openmpi', variable: 'OMPI_COMM_WORLD_SIZE', worldSize: 4 },
    ],
    [
      { PMI_SIZE: '2', PMI_RANK: '0' },
      { launcher: 'pmi', variable: 'PMI_SIZE', worldSize: 2 },
    ],
    [
      { PMIX_RANK: '0', SLURM_STEP_NUM_TASKS: '8', SLURM_PROCID: '0' },
      { launcher: 'pmix', variable: 'PMIX_RANK', worldSize: 8 },
    ],
    [
      { SLURM_PROCID: '3', SLURM_STEP_NUM_TASKS: '4' },
      { launcher: 'slurm', variable: 'SLURM_PROCID', worldSize: 4 },
    ],
    // An sbatch script, or a one-task step, is no MPI launch.
    [{ SLURM_PROCID: '0', SLURM_NTASKS: '4' }, undefined],
    [{ SLURM_PROCID: '0', SLURM_STEP_NUM_TASKS: '1' }, undefined],
  ])('%j -> %j', (env, expected) => {
    expect(detectMpiLauncher(env)).toEqual(expected);
  });
});

describe('selectBackendName', () => {
  it.each([
    ['explicit wins', 'tcp', { OMPI_COMM_WORLD_SIZE: '2' }, 'tcp'],
    ['GORILLA_DIST_BACKEND next', undefined, { GORILLA_DIST_BACKEND: 'mpi' }, 'mpi'],
    ['plain process', undefined, {}, 'tcp'],
    ['mpirun -np 2', undefined, { OMPI_COMM_WORLD_SIZE: '2' }, 'mpi'],
    ['mpirun -np 1', undefined, { OMPI_COMM_WORLD_SIZE: '1' }, 'tcp'],
    ['srun --mpi=pmix', undefined, { PMIX_RANK: '0' }, 'mpi'],
    [
      'RANK/WORLD_SIZE (launch workers, torchrun)',
      undefined,
      { RANK: '0', WORLD_SIZE: '2', OMPI_COMM_WORLD_SIZE: '2' },
      'tcp',
    ],
    // A Slurm step of several tasks is MPI only once the mpi backend is registered (it is not
    // here): srun also starts one TCP launcher per machine.
    [
      'srun without MPI registered',
      undefined,
      { SLURM_PROCID: '0', SLURM_STEP_NUM_TASKS: '2' },
      'tcp',
    ],
  ])('%s', (_, requested, env, expected) => {
    expect(selectBackendName(requested, env)).toBe(expected);
  });
});
