// One process: no group, or a group of one. The collectives are identities and launch() calls main.
import { afterEach, describe, expect, it } from 'vitest';
import {
  allGather,
  allGatherObject,
  allReduce,
  barrier,
  broadcast,
  broadcastObject,
  DistError,
  destroyProcessGroup,
  gather,
  getLocalRank,
  getLocalSize,
  getRank,
  getWorldSize,
  initProcessGroup,
  isInitialized,
  isMainProcess,
  launch,
  masterOnly,
  type NumericArray,
  reduceDict,
  synchronize,
  TcpBackend,
} from '../src/index.js';

afterEach(async () => {
  await destroyProcessGroup();
});

async function expectIdentities(): Promise<void> {
  expect([getRank(), getWorldSize(), getLocalRank(), getLocalSize()]).toEqual([0, 1, 0, 1]);
  expect(isMainProcess()).toBe(true);
  for (const op of ['sum', 'mean', 'max', 'min'] as const) {
    const buffer = Float32Array.of(1, 2, 3);
    expect(await allReduce(buffer, op)).toBe(buffer);
    expect(buffer).toEqual(Float32Array.of(1, 2, 3));
  }
  const ints = Int32Array.of(7, -3);
  expect(await allReduce(ints, 'mean')).toEqual(Int32Array.of(7, -3));
  expect(await broadcast(Float64Array.of(4), 0)).toEqual(Float64Array.of(4));
  const input = Uint8Array.of(9);
  const gathered = await allGather(input);
  expect(gathered).toEqual([Uint8Array.of(9)]);
  expect(gathered[0]).not.toBe(input);
  expect(await gather(Float32Array.of(1))).toEqual([Float32Array.of(1)]);
  expect(await reduceDict({ loss: 0.5, acc: 1 })).toEqual({ acc: 1, loss: 0.5 });
  expect(await allGatherObject({ a: [1, 'x'], when: new Date(0) })).toEqual([
    { a: [1, 'x'], when: '1970-01-01T00:00:00.000Z' },
  ]);
  expect(await broadcastObject({ seed: 3 })).toEqual({ seed: 3 });
  await barrier();
  await synchronize();
  expect(masterOnly((x: number) => x + 1)(1)).toBe(2);
}

describe('without a process group', () => {
  it('describes a world of one and the collectives are identities', async () => {
    expect(isInitialized()).toBe(false);
    await expectIdentities();
  });

  it('validates arguments the same way as with a group', async () => {
    await expect(allReduce([1, 2] as unknown as NumericArray)).rejects.toThrow(
      'allReduce expects a typed array (Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Uint8Array, Uint16Array, Uint32Array), got Array',
    );
    await expect(allReduce(Float32Array.of(1), 'avg' as 'mean')).rejects.toThrow(
      'allReduce: unknown op "avg"; expected one of sum, mean, max, min',
    );
    await expect(broadcast(Float32Array.of(1), 1)).rejects.toThrow(
      'broadcast: src must be a rank in [0, 1), got 1',
    );
    await expect(allGatherObject(undefined)).rejects.toThrow(
      'allGatherObject expects a JSON value',
    );
  });
});

describe('initProcessGroup with one rank', () => {
  it('joins without a network and keeps identities', async () => {
    await initProcessGroup({ rank: 0, worldSize: 1 });
    expect(isInitialized()).toBe(true);
    await expectIdentities();
    await destroyProcessGroup();
    expect(isInitialized()).toBe(false);
  });

  it('accepts a backend object and refuses a second init', async () => {
    await initProcessGroup({ backend: new TcpBackend({ rank: 0, worldSize: 1 }) });
    const error = await initProcessGroup().catch((e: unknown) => e);
    expect(DistError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'DIST_ALREADY_INITIALIZED' });
  });
});

describe('launch with a world of one', () => {
  it('calls main in this process with args', async () => {
    const calls: unknown[] = [];
    await launch(
      async (args: { lr: number }) => {
        calls.push([args, process.pid, getWorldSize()]);
      },
      1,
      { args: { lr: 0.1 } },
    );
    expect(calls).toEqual([[{ lr: 0.1 }, process.pid, 1]]);
  });

  it('propagates the error of main', async () => {
    await expect(
      launch(() => {
        throw new Error('bad config');
      }, 1),
    ).rejects.toThrow('bad config');
  });

  it('rejects invalid options before running anything', async () => {
    const main = (): void => {
      throw new Error('must not run');
    };
    await expect(launch(main, 0)).rejects.toThrow('numGpus must be an integer >= 1, got 0');
    await expect(launch(main, 1, { numMachines: 2, machineRank: 0 })).rejects.toThrow(
      "distUrl 'auto' works on a single machine only; with numMachines = 2 pass the same 'tcp://<machine 0 address>:<port>' to every machine",
    );
    await expect(
      launch(main, 1, { numMachines: 2, machineRank: 2, distUrl: 'tcp://h:1' }),
    ).rejects.toThrow('machineRank must be an integer in [0, 1], got 2');
    await expect(launch(main, 1, { distUrl: 'http://x:80' })).rejects.toMatchObject({
      code: 'DIST_INVALID_ARGUMENT',
      message: expect.stringContaining("expected 'auto' or 'tcp://host:port'"),
    });
  });
});
