import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHM_BYTES_PER_RANK } from '@gorilla-ts/dist';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../src/doctor/index.js';

/** The built bin (the `test` task builds first). */
const CLI = fileURLToPath(new URL('../dist/doctor/cli.js', import.meta.url));
/** @gorilla-ts/dist's stand-in nvidia-smi, printing output recorded on an H200. */
const FAKE_NVIDIA_SMI = fileURLToPath(
  new URL('../../dist/test/fixtures/nvidia-smi/', import.meta.url),
);
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

function doctor(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env, cwd, timeout: 240_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

describe('gorilla-ts doctor', () => {
  let report: DoctorReport;
  let text: string;
  beforeAll(async () => {
    // This machine as it is (with or without a GPU).
    const env = process.env;
    const [json, plain] = await Promise.all([
      doctor(['doctor', '--json'], env),
      doctor(['doctor', '--no-load'], env),
    ]);
    expect(json.code, json.stderr).toBe(0);
    expect(plain.code, plain.stderr).toBe(0);
    report = JSON.parse(json.stdout) as DoctorReport;
    text = plain.stdout;
  }, 300_000);

  it('reports this machine: Node, every backend loaded in a child process, CPU, threads, versions', () => {
    expect(report.node.version).toBe(process.version);
    expect(report.backends.map((backend) => backend.name)).toEqual([
      'tensorflow-gpu',
      'tensorflow',
      'wasm',
      'cpu',
    ]);
    const cpu = report.backends.find((backend) => backend.name === 'cpu')!;
    expect(cpu).toMatchObject({ packageName: '@tensorflow/tfjs-backend-cpu', loads: true });
    expect(cpu.version).toMatch(/^\d+\.\d+\.\d+/);
    for (const backend of report.backends) {
      // Installed ones were loaded (true or false with the reason); missing ones say so.
      if (backend.version === null) expect(backend.loads).toBeNull();
      else if (backend.loads === false) expect(backend.error).toBeTruthy();
      else expect(backend.loads).toBe(true);
    }
    expect(report.cpu.cores).toBe(availableParallelism());
    expect(report.cpu.model).not.toBe('');
    const intra = process.env.TF_NUM_INTRAOP_THREADS;
    expect(report.tensorflowThreads.intraOp).toBe(
      intra ?? `default (${availableParallelism()}, one per core)`,
    );
    expect(report.packages['@gorilla-ts/train']).toBe(VERSION);
    expect(report.packages['@tensorflow/tfjs-core']).toMatch(/^4\./);
    expect(report.gpuBackend.cudaLibraries.map((library) => library.name)).toContain(
      'libcudart.so.11.0',
    );
  });

  it("/dev/shm: free space and how many local ranks fit at dist's bytes per rank", () => {
    expect(report.shm.bytesPerRank).toBe(SHM_BYTES_PER_RANK);
    expect(SHM_BYTES_PER_RANK).toBe(8 * 1024 * 1024);
    let total: number | null = null;
    try {
      const stats = statfsSync('/dev/shm');
      total = stats.blocks * stats.bsize;
    } catch {
      // no /dev/shm (macOS): reported as null
    }
    expect(report.shm.totalBytes).toBe(total);
    if (total !== null) {
      expect(report.shm.ranksThatFit).toBe(Math.floor(report.shm.freeBytes! / SHM_BYTES_PER_RANK));
    }
  });

  it('prints the same facts as aligned text; --no-load leaves the backends unloaded', () => {
    expect(text).toContain(`version                       ${process.version}`);
    expect(text).toMatch(/cpu {27}\d+\.\d+\.\d+, not loaded {2}\[@tensorflow\/tfjs-backend-cpu\]/);
    expect(text).toContain(`@gorilla-ts/train             ${VERSION}`);
    expect(text).toContain('per local rank');
    expect(text).toContain('libcudnn.so.8');
  });

  it('lists the GPUs of a recorded H200 nvidia-smi and gives the GPU backend its real reason', async () => {
    const env = { ...process.env, PATH: `${FAKE_NVIDIA_SMI}${delimiter}${process.env.PATH}` };
    const { code, stdout, stderr } = await doctor(['doctor', '--json', '--no-load'], env);
    expect(code, stderr).toBe(0);
    const withGpu = JSON.parse(stdout) as DoctorReport;
    expect(withGpu.gpus).toEqual({
      nvidiaSmi: 'found',
      devices: [
        {
          index: 0,
          name: 'NVIDIA H200',
          uuid: 'GPU-2cf37f14-4405-ac65-4900-fe34c2ec0462',
          memoryFreeMiB: 143156,
        },
      ],
    });
    // A GPU is listed now, so "no GPU" is no longer the reason.
    expect(withGpu.gpuBackend.skippedBecause ?? '').not.toContain('no GPU');
    const gpuBackend = withGpu.backends[0]!;
    if (gpuBackend.version === null) {
      expect(withGpu.gpuBackend.skippedBecause).toContain('is not installed');
    } else if (withGpu.gpuBackend.cudaLibraries.some((library) => library.path === null)) {
      expect(withGpu.gpuBackend.skippedBecause).toContain(
        'TensorFlow will run on the CPU: missing',
      );
    }
    const plain = await doctor(['doctor', '--no-load'], env);
    expect(plain.stdout).toContain(
      'gpu 0                         NVIDIA H200, 143156 MiB free (GPU-2cf37f14-4405-ac65-4900-fe34c2ec0462)',
    );
  }, 120_000);

  it("run in a project that has @gorilla-ts/dist-mpi, reports its addon and MPI's library version", async () => {
    // apps/modelnet-demo depends on dist-mpi; this package does not (doctor also looks in the cwd's project).
    const project = fileURLToPath(new URL('../../../apps/modelnet-demo/', import.meta.url));
    const { code, stdout, stderr } = await doctor(
      ['doctor', '--json', '--no-load'],
      process.env,
      project,
    );
    expect(code, stderr).toBe(0);
    const inProject = JSON.parse(stdout) as DoctorReport;
    expect(inProject.packages['@gorilla-ts/dist-mpi']).toBe(VERSION);
    expect(inProject.mpi.addon).not.toBeNull();
    const addon = fileURLToPath(
      new URL('../../dist-mpi/native/build/Release/gorilla_dist_mpi.node', import.meta.url),
    );
    if (existsSync(addon)) {
      expect(inProject.mpi.addon).toMatchObject({ built: true });
      expect(inProject.mpi.addon!.libraryVersion).toMatch(/MPI/);
    } else {
      expect(inProject.mpi.addon!.reason).toBeTruthy();
    }
  }, 120_000);

  it('an unknown option exits with 2 and says so', async () => {
    const { code, stderr } = await doctor(['doctor', '--jsn']);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option '--jsn'");
    expect(stderr).toContain('--json');
  }, 60_000);
});
