import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GpuUnavailableError,
  parseGpuQuery,
  queryGpuMemory,
  setCudaVisibleDevices,
} from '../src/index.js';

/** Output recorded on a real H200 machine, and a stand-in nvidia-smi that prints it. */
const recorded = fileURLToPath(new URL('./fixtures/nvidia-smi/', import.meta.url));

const answers = (...outputs: string[]) => {
  let calls = 0;
  const query = async (): Promise<string> => outputs[Math.min(calls++, outputs.length - 1)]!;
  return { query, calls: () => calls };
};

describe('parseGpuQuery', () => {
  it('reads index and free memory, tolerating blanks and [N/A]', () => {
    expect(parseGpuQuery('0, 11019\n1, 24000\r\n2, [N/A]\n\n')).toEqual([
      { index: 0, memoryFreeMB: 11019 },
      { index: 1, memoryFreeMB: 24000 },
      { index: 2, memoryFreeMB: 0 },
    ]);
  });

  it('rejects unreadable output', () => {
    expect(() => parseGpuQuery('No devices were found')).toThrow(
      'cannot read nvidia-smi output line "No devices were found"',
    );
  });
});

describe('output recorded on a real NVIDIA H200 (driver 580.159.04)', () => {
  const savedPath = process.env.PATH;
  beforeEach(() => {
    process.env.PATH = `${recorded}${delimiter}${savedPath ?? ''}`;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('parses the recorded query: GPU 0 with 143,156 MB free', () => {
    const output = readFileSync(`${recorded}h200-query-gpu.txt`, 'utf8');
    expect(parseGpuQuery(output)).toEqual([{ index: 0, memoryFreeMB: 143156 }]);
  });

  it('runs nvidia-smi through PATH and selects the GPU', async () => {
    expect(parseGpuQuery(await queryGpuMemory())).toEqual([{ index: 0, memoryFreeMB: 143156 }]);
    const env: Record<string, string | undefined> = {};
    expect(await setCudaVisibleDevices({ numGpu: 1, memoryNeedMB: 80_000, env })).toEqual(['0']);
    expect(env).toEqual({ CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: '0' });
    // Two GPUs asked of a one-GPU machine: a bounded wait, then every GPU's state.
    await expect(
      setCudaVisibleDevices({ numGpu: 2, memoryNeedMB: 1, env: {}, timeoutMs: 0 }),
    ).rejects.toMatchObject({
      code: 'DIST_GPU_UNAVAILABLE',
      message: expect.stringContaining('gpu 0: 143156 MB free'),
    });
  });
});

describe('setCudaVisibleDevices', () => {
  it('takes the first free GPUs in index order and sets the variables', async () => {
    const env: Record<string, string | undefined> = {};
    const { query } = answers('0, 500\n1, 12000\n2, 30000\n3, 16000');
    const ids = await setCudaVisibleDevices({ numGpu: 2, memoryNeedMB: 11000, query, env });
    expect(ids).toEqual(['1', '2']);
    expect(env).toEqual({ CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: '1,2' });
  });

  it('waits for GPUs to become free, polling', async () => {
    const env: Record<string, string | undefined> = {};
    const fake = answers('0, 100\n1, 100', '0, 100\n1, 100', '0, 100\n1, 9000');
    const ids = await setCudaVisibleDevices({
      memoryNeedMB: 8000,
      query: fake.query,
      env,
      pollMs: 5,
      timeoutMs: 5000,
    });
    expect(ids).toEqual(['1']);
    expect(fake.calls()).toBe(3);
  });

  it('gives up after the bounded wait with the state of every GPU', async () => {
    const fake = answers('0, 100\n1, 20000');
    const error = await setCudaVisibleDevices({
      numGpu: 2,
      memoryNeedMB: 1000,
      query: fake.query,
      env: {},
      pollMs: 10,
      timeoutMs: 50,
    }).catch((e: unknown) => e);
    expect(GpuUnavailableError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatchInlineSnapshot(
      `"only 1 of the 2 GPUs asked for have 1000 MB free after waiting 50 ms (gpu 0: 100 MB free, gpu 1: 20000 MB free): free some memory, lower memoryNeedMB or numGpu, or raise timeoutMs"`,
    );
    expect(fake.calls()).toBeGreaterThan(1);
    expect(fake.calls()).toBeLessThan(10);
  });

  it('fails at once when asked for more GPUs than exist (no modulo, no wait)', async () => {
    const fake = answers('0, 40000\n1, 40000');
    await expect(
      setCudaVisibleDevices({ numGpu: 4, query: fake.query, env: {}, timeoutMs: 60_000 }),
    ).rejects.toThrow(
      'asked for 4 GPUs but this machine has 2 (gpu 0: 40000 MB free, gpu 1: 40000 MB free)',
    );
    expect(fake.calls()).toBe(1);
  });

  it('fails when nvidia-smi lists no GPU', async () => {
    await expect(setCudaVisibleDevices({ query: async () => '', env: {} })).rejects.toMatchObject({
      code: 'DIST_GPU_UNAVAILABLE',
      message: 'nvidia-smi lists no GPU: no GPU can be selected',
    });
  });

  it('uses explicit gpuIds without querying', async () => {
    const env: Record<string, string | undefined> = {};
    const query = async (): Promise<string> => {
      throw new Error('must not query');
    };
    expect(await setCudaVisibleDevices({ gpuIds: [3, '5'], query, env })).toEqual(['3', '5']);
    expect(env.CUDA_VISIBLE_DEVICES).toBe('3,5');
    expect(await setCudaVisibleDevices({ gpuIds: '0,1', query, env })).toEqual(['0', '1']);
    await expect(setCudaVisibleDevices({ numGpu: 0, env })).rejects.toThrow(
      'numGpu must be an integer >= 1, got 0',
    );
  });

  it('queries the real nvidia-smi: a clear error without a driver, ids with one', async () => {
    let hasNvidiaSmi = true;
    try {
      execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore' });
    } catch {
      hasNvidiaSmi = false;
    }
    const env: Record<string, string | undefined> = {};
    const result = setCudaVisibleDevices({ numGpu: 1, memoryNeedMB: 1, env, timeoutMs: 0 });
    if (hasNvidiaSmi) {
      expect(await result).toHaveLength(1);
      expect(env.CUDA_VISIBLE_DEVICES).toMatch(/^\d+$/);
    } else {
      await expect(result).rejects.toMatchObject({
        code: 'DIST_GPU_UNAVAILABLE',
        message: expect.stringContaining(
          'nvidia-smi was not found: this machine has no NVIDIA driver',
        ),
      });
    }
  });
});
