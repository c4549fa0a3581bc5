import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DistributedSampler } from '@gorilla-ts/dist';
import { DATASETS } from '@gorilla-ts/registry';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  buildDataloader,
  buildDataset,
  ConcatDataset,
  DataLoader,
  DataLoaderError,
  type Dataset,
  defaultCollate,
  ndarray,
  permutation,
  RandomSampler,
  RepeatDataset,
  type Sampler,
} from '../src/index.js';
import { BACKEND_HOOK_TIMEOUT } from './train1-helpers.js';

const FIXTURE = new URL('./fixtures/point-dataset.mjs', import.meta.url);

interface PointSample {
  points: { data: Float32Array; shape: number[] };
  label: number;
  id: string;
}
interface FixtureModule {
  createDataset(options?: Record<string, unknown>): Dataset<PointSample>;
}

let fixture: FixtureModule;

beforeAll(async () => {
  await tf.setBackend('cpu');
  fixture = (await import(FIXTURE.href)) as FixtureModule;
}, BACKEND_HOOK_TIMEOUT);

/** A dataset whose item is its index. */
function range(length: number): Dataset<number> {
  return { length, get: (index) => index };
}

/** All batches of one epoch, as plain arrays (tensors disposed). */
async function epochOf<T>(loader: DataLoader<T, unknown>): Promise<number[][]> {
  const batches: number[][] = [];
  for await (const batch of loader) {
    batches.push(Array.from((batch as tf.Tensor).dataSync()));
    tf.dispose(batch as tf.Tensor);
  }
  return batches;
}

describe('DataLoader: order, batching, determinism', () => {
  test('sequential batches; the last one partial unless dropLast', async () => {
    const loader = new DataLoader(range(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    expect(await epochOf(loader)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    const dropping = new DataLoader(range(10), { batchSize: 4, dropLast: true });
    expect(dropping.length).toBe(2);
    expect(await epochOf(dropping)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
  });

  test('seeded shuffle: covers every index once, same for the same (seed, epoch), new each epoch', async () => {
    const make = (seed: number) =>
      new DataLoader(range(103), { batchSize: 8, shuffle: true, seed });
    const a = make(1);
    const b = make(1);
    const first = await epochOf(a);
    expect(first.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(await epochOf(b)).toEqual(first);
    expect(a.epoch).toBe(1); // a full iteration advances the epoch
    const second = await epochOf(a);
    expect(second).not.toEqual(first);
    expect(second.flat().sort((x, y) => x - y)).toEqual(first.flat().sort((x, y) => x - y));
    b.setEpoch(1);
    expect(await epochOf(b)).toEqual(second);
    expect((await epochOf(make(2))).flat()).not.toEqual(first.flat());
    expect(first.flat()).toEqual(permutation(103, 1, 0));
  });

  test('setEpoch picks the order; same epoch keeps the position', async () => {
    const loader = new DataLoader(range(20), { batchSize: 5, shuffle: true, seed: 7 });
    loader.setEpoch(3);
    const epoch3 = await epochOf(loader);
    expect(epoch3.flat()).toEqual(permutation(20, 7, 3));
    expect(loader.epoch).toBe(4);
    loader.setEpoch(4);
    expect(loader.batchIndex).toBe(0);
    expect(() => loader.setEpoch(-1)).toThrow(DataLoaderError);
  });

  test('a custom sampler (any iterable with setEpoch) decides the order', async () => {
    const epochs: number[] = [];
    const sampler: Sampler = {
      length: 4,
      setEpoch: (epoch) => epochs.push(epoch),
      *[Symbol.iterator]() {
        yield* [9, 7, 5, 3];
      },
    };
    const loader = new DataLoader(range(10), { batchSize: 3, sampler, shuffle: true });
    expect(loader.length).toBe(2);
    expect(await epochOf(loader)).toEqual([[9, 7, 5], [3]]);
    expect(await epochOf(loader)).toEqual([[9, 7, 5], [3]]);
    expect(epochs).toEqual([0, 1]);
  });

  test("@gorilla-ts/dist's DistributedSampler: disjoint shards, reshuffled every epoch", async () => {
    const shards = [0, 1].map(
      (rank) =>
        new DataLoader(range(10), {
          batchSize: 2,
          sampler: new DistributedSampler(10, { numReplicas: 2, rank, seed: 4 }),
        }),
    );
    const epoch0 = await Promise.all(shards.map((loader) => epochOf(loader)));
    expect(shards[0]!.length).toBe(3);
    expect(epoch0.flat(2).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const epoch1 = await Promise.all(shards.map((loader) => epochOf(loader)));
    expect(epoch1).not.toEqual(epoch0);
    expect(shards[0]!.stateDict()).toEqual({
      epoch: 2,
      batchIndex: 0,
      seed: 0,
      sampler: { epoch: 1, seed: 4 },
    });
  });

  test('invalid options are refused', () => {
    expect(() => new DataLoader(range(3), { batchSize: 0 })).toThrow(
      /batchSize must be a positive integer/,
    );
    expect(() => new DataLoader(range(3), { prefetch: -1 })).toThrow(/prefetch/);
    expect(() => new DataLoader(range(3), { numWorkers: 2 })).toThrow(/needs workerModule/);
  });

  test('a second iteration while one is open is refused', async () => {
    const loader = new DataLoader(range(4), { batchSize: 1 });
    const first = loader[Symbol.asyncIterator]();
    tf.dispose((await first.next()).value as tf.Tensor);
    await expect(loader[Symbol.asyncIterator]().next()).rejects.toThrow(/already running/);
    await first.return?.();
    expect(await epochOf(loader)).toHaveLength(3); // the broken-off epoch resumes where it was
  });
});

describe('defaultCollate', () => {
  test('stacks point clouds (float32), labels (int32), strings; nested objects and tuples', () => {
    const samples = [0, 1, 2].map((index) => ({
      points: ndarray(new Float32Array(6).fill(index), [2, 3]),
      label: index,
      weight: index + 0.5,
      flag: index % 2 === 0,
      name: `s${index}`,
      pair: [new Int32Array([index, index]), [index, index * 2]] as const,
    }));
    const batch = defaultCollate(samples);
    expect(batch.points.shape).toEqual([3, 2, 3]);
    expect(batch.points.dtype).toBe('float32');
    expect(batch.label.dtype).toBe('int32');
    expect(Array.from(batch.label.dataSync())).toEqual([0, 1, 2]);
    expect(batch.weight.dtype).toBe('float32');
    expect(batch.flag.dtype).toBe('bool');
    expect(batch.name).toEqual(['s0', 's1', 's2']);
    expect(batch.pair[0].shape).toEqual([3, 2]);
    expect(batch.pair[0].dtype).toBe('int32');
    expect(batch.pair[1].shape).toEqual([3, 2]);
    expect(Array.from(batch.pair[1].dataSync())).toEqual([0, 0, 1, 2, 2, 4]);
    tf.dispose(batch as unknown as tf.TensorContainer);
  });

  test('tensors are stacked; nested number arrays keep their shape', () => {
    const stacked = defaultCollate([tf.ones([2, 2]), tf.zeros([2, 2])]);
    expect(stacked.shape).toEqual([2, 2, 2]);
    const nested = defaultCollate([
      [
        [1, 2],
        [3, 4.5],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    expect(nested.shape).toEqual([2, 2, 2]);
    expect(nested.dtype).toBe('float32');
    tf.dispose([stacked, nested]);
  });

  test('mismatched samples name the field and the sample', () => {
    const a = { points: ndarray(new Float32Array(6), [2, 3]) };
    const b = { points: ndarray(new Float32Array(3), [1, 3]) };
    expect(() => defaultCollate([a, b])).toThrowErrorMatchingInlineSnapshot(
      `[DataLoaderError: defaultCollate: batch.points of sample 1 does not fit sample 0: expected float data of shape [2, 3], got an ndarray of shape [1, 3].]`,
    );
    expect(() => defaultCollate([{ x: 1 }, { y: 1 }])).toThrow(
      /batch of sample 1 does not fit sample 0: expected an object with 'x'/,
    );
    expect(() => defaultCollate([null])).toThrow(/cannot batch batch \(null\)/);
    expect(() => defaultCollate([])).toThrow(/empty/);
    expect(() => ndarray(new Float32Array(5), [2, 3])).toThrow(RangeError);
  });
});

describe('prefetching', () => {
  /** A slow async dataset that records when each item starts and finishes loading. */
  function slowDataset(length: number, delayMs: (index: number) => number) {
    const log: string[] = [];
    const dataset: Dataset<number> = {
      length,
      get: async (index) => {
        log.push(`start ${index}`);
        await new Promise((resolve) => setTimeout(resolve, delayMs(index)));
        log.push(`end ${index}`);
        return index;
      },
    };
    return { dataset, log };
  }

  test('keeps N batches loading while one is consumed, in order even when later ones finish first', async () => {
    const { dataset, log } = slowDataset(12, (index) => (12 - index) * 3);
    const loader = new DataLoader(dataset, { batchSize: 2, prefetch: 3 });
    const seenAtYield: number[] = [];
    const batches: number[][] = [];
    for await (const batch of loader) {
      seenAtYield.push(log.filter((entry) => entry.startsWith('start')).length);
      batches.push(Array.from(batch.dataSync()));
      tf.dispose(batch);
      await new Promise((resolve) => setTimeout(resolve, 5)); // "compute"
    }
    expect(batches).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
      [8, 9],
      [10, 11],
    ]);
    // When batch k is handed out, batches k+1..k+3 have started loading (capped at the end).
    expect(seenAtYield).toEqual([8, 10, 12, 12, 12, 12]);
    // Later items finished before earlier ones: the loads really overlapped.
    expect(log.indexOf('end 7')).toBeLessThan(log.indexOf('end 0'));
  });

  test('prefetch 0 loads each batch only when asked for', async () => {
    const { dataset, log } = slowDataset(6, () => 1);
    const loader = new DataLoader(dataset, { batchSize: 2, prefetch: 0 });
    const seenAtYield: number[] = [];
    for await (const batch of loader) {
      seenAtYield.push(log.filter((entry) => entry.startsWith('start')).length);
      tf.dispose(batch);
    }
    expect(seenAtYield).toEqual([2, 4, 6]);
  });

  test('a break disposes the batches loaded ahead', async () => {
    const loader = new DataLoader(range(40), { batchSize: 4, prefetch: 4 });
    const before = tf.memory().numTensors;
    for await (const batch of loader) {
      tf.dispose(batch);
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(loader.batchIndex).toBe(1);
  });

  test('a failing item rejects at its turn, with its own error', async () => {
    const dataset: Dataset<number> = {
      length: 6,
      get: async (index) => {
        if (index === 4) throw new Error('disk on fire');
        return index;
      },
    };
    const loader = new DataLoader(dataset, { batchSize: 2, prefetch: 2 });
    const seen: number[][] = [];
    await expect(
      (async () => {
        for await (const batch of loader) {
          seen.push(Array.from(batch.dataSync()));
          tf.dispose(batch);
        }
      })(),
    ).rejects.toThrow('disk on fire');
    expect(seen).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });
});

describe('mid-epoch resume', () => {
  test('a resumed loader skips the consumed batches and continues in the same order', async () => {
    const options = { batchSize: 3, shuffle: true, seed: 11 } as const;
    const reference = new DataLoader(range(20), options);
    reference.setEpoch(2);
    const full = await epochOf(reference);

    const interrupted = new DataLoader(range(20), options);
    interrupted.setEpoch(2);
    let consumed = 0;
    for await (const batch of interrupted) {
      tf.dispose(batch);
      consumed += 1;
      if (consumed === 3) break;
    }
    const saved = JSON.parse(JSON.stringify(interrupted.stateDict()));
    expect(saved).toEqual({ epoch: 2, batchIndex: 3, seed: 11 });

    const resumed = new DataLoader(range(20), { ...options, seed: 999 });
    resumed.loadStateDict(saved);
    resumed.setEpoch(2); // a training loop calling setEpoch(epoch) keeps the position
    expect(await epochOf(resumed)).toEqual(full.slice(3));
    expect(resumed.stateDict()).toEqual({ epoch: 3, batchIndex: 0, seed: 11 });
    resumed.setEpoch(3);
    reference.setEpoch(3);
    expect(await epochOf(resumed)).toEqual(await epochOf(reference));
  });

  test('a custom sampler state travels with the loader state', () => {
    const sampler = new RandomSampler(10, { seed: 5 });
    const loader = new DataLoader(range(10), { sampler });
    expect(loader.stateDict()).toEqual({ epoch: 0, batchIndex: 0, seed: 0, sampler: { seed: 5 } });
    const other = new RandomSampler(10);
    new DataLoader(range(10), { sampler: other }).loadStateDict({
      epoch: 0,
      batchIndex: 0,
      seed: 0,
      sampler: { seed: 5 },
    });
    expect(other.seed).toBe(5);
  });

  test('malformed or out-of-range states are refused', () => {
    const loader = new DataLoader(range(10), { batchSize: 5 });
    expect(() => loader.loadStateDict({ epoch: -1, batchIndex: 0, seed: 0 })).toThrow(
      DataLoaderError,
    );
    expect(() => loader.loadStateDict({ epoch: 0, batchIndex: 3, seed: 0 })).toThrow(
      /past the end/,
    );
    try {
      loader.loadStateDict({} as never);
    } catch (error) {
      expect((error as DataLoaderError).code).toBe('DATA_STATE_INVALID');
    }
  });
});

describe('worker threads', () => {
  const loaders: Array<DataLoader<unknown, unknown>> = [];
  afterEach(async () => {
    await Promise.all(loaders.splice(0).map((loader) => loader.close()));
  });

  test('workers produce the same batches as the main thread', async () => {
    const options = { length: 37, points: 32 };
    const dataset = fixture.createDataset(options);
    const common = { batchSize: 5, shuffle: true, seed: 3 } as const;
    const main = new DataLoader(dataset, common);
    const threaded = new DataLoader(dataset, {
      ...common,
      numWorkers: 2,
      workerModule: FIXTURE,
      workerOptions: options,
      prefetch: 4,
    });
    loaders.push(threaded as DataLoader<unknown, unknown>);
    for (let epoch = 0; epoch < 2; epoch += 1) {
      const fromMain: unknown[] = [];
      for await (const batch of main) {
        fromMain.push({
          points: Array.from(batch.points.dataSync()),
          label: Array.from(batch.label.dataSync()),
          id: batch.id,
        });
        tf.dispose(batch as unknown as tf.TensorContainer);
      }
      const fromWorkers: unknown[] = [];
      for await (const batch of threaded) {
        expect(batch.points.shape.slice(1)).toEqual([32, 3]);
        expect(batch.label.dtype).toBe('int32');
        fromWorkers.push({
          points: Array.from(batch.points.dataSync()),
          label: Array.from(batch.label.dataSync()),
          id: batch.id,
        });
        tf.dispose(batch as unknown as tf.TensorContainer);
      }
      expect(fromWorkers).toHaveLength(8);
      expect(fromWorkers).toEqual(fromMain);
    }
  });

  test('a worker error names the worker and the indices; a length mismatch is refused', async () => {
    const failing = new DataLoader(fixture.createDataset({ length: 10 }), {
      batchSize: 2,
      numWorkers: 1,
      workerModule: FIXTURE.pathname,
      workerOptions: { length: 10, failAt: 5 },
    });
    loaders.push(failing as DataLoader<unknown, unknown>);
    const run = async (loader: DataLoader<PointSample>) => {
      for await (const batch of loader) tf.dispose(batch as unknown as tf.TensorContainer);
    };
    await expect(run(failing)).rejects.toThrow(
      /data worker 0 .* failed to load indices \[4, 5\]:\nError: cannot read sample 5/s,
    );

    const mismatched = new DataLoader(fixture.createDataset({ length: 10 }), {
      batchSize: 2,
      numWorkers: 1,
      workerModule: FIXTURE,
      workerOptions: { length: 10, lengthDelta: 1 },
    });
    loaders.push(mismatched as DataLoader<unknown, unknown>);
    await expect(run(mismatched)).rejects.toThrow(
      /built a dataset of length 11, the loader's has 10/,
    );
  });
});

describe('ConcatDataset, RepeatDataset, buildDataset, buildDataloader', () => {
  class RangeDataset implements Dataset<number> {
    readonly length: number;
    readonly offset: number;
    constructor(options: { length: number; offset?: number }) {
      this.length = options.length;
      this.offset = options.offset ?? 0;
    }
    get(index: number): number {
      return this.offset + index;
    }
  }

  beforeAll(() => {
    DATASETS.register('TestRange', RangeDataset, { force: true });
    DATASETS.register('NotADataset', class NotADataset {}, { force: true });
  });
  afterAll(() => {
    DATASETS.unregister('TestRange');
    DATASETS.unregister('NotADataset');
  });

  test('ConcatDataset and RepeatDataset index correctly, with no CLASSES requirement', async () => {
    const concat = new ConcatDataset([range(3), range(0), range(2)]);
    expect(concat.length).toBe(5);
    expect([0, 1, 2, 3, 4].map((i) => concat.get(i))).toEqual([0, 1, 2, 0, 1]);
    expect(() => concat.get(5)).toThrow(RangeError);
    const repeat = new RepeatDataset(range(3), 2);
    expect(repeat.length).toBe(6);
    expect([0, 1, 2, 3, 4, 5].map((i) => repeat.get(i))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(() => new RepeatDataset(range(3), 0)).toThrow(RangeError);
  });

  test('buildDataset: one config, a list (concatenated), RepeatDataset; never mutates', () => {
    const one = buildDataset<number>({ type: 'TestRange', length: 3 });
    expect(one.length).toBe(3);
    const configs = Object.freeze([
      Object.freeze({ type: 'TestRange', length: 2 }),
      Object.freeze({ type: 'TestRange', length: 2, offset: 10 }),
    ]);
    const list = buildDataset<number>(configs);
    expect(list).toBeInstanceOf(ConcatDataset);
    expect([0, 1, 2, 3].map((i) => list.get(i))).toEqual([0, 1, 10, 11]);
    const repeat = buildDataset<number>({
      type: 'RepeatDataset',
      times: 3,
      dataset: { type: 'TestRange', length: 2 },
    });
    expect(repeat.length).toBe(6);
    expect(() => buildDataset({ type: 'RepeatDataset', times: 3 })).toThrow(/needs 'dataset'/);
    expect(() => buildDataset({ type: 'NotADataset' })).toThrow(/not a dataset/);
    expect(() => buildDataset({ type: 'TestRang' })).toThrow(/Did you mean 'TestRange'/);
  });

  test('buildDataloader: snake_case or camelCase, options win, the config is never written', async () => {
    const cfg = Object.freeze({ batch_size: 4, num_workers: 0, shuffle: false });
    const loader = buildDataloader<number>({ type: 'TestRange', length: 10 }, cfg, {
      shuffle: true,
      dropLast: true,
      seed: 1,
    });
    expect(cfg).toEqual({ batch_size: 4, num_workers: 0, shuffle: false });
    expect(loader.batchSize).toBe(4);
    expect(loader.length).toBe(2);
    expect((await epochOf(loader)).flat()).toEqual(permutation(10, 1, 0).slice(0, 8));
    const camel = buildDataloader(range(10), { batchSize: 5, dropLast: true });
    expect(camel.length).toBe(2);
  });

  test("buildDataloader uses the dataset's own collate and a given sampler", async () => {
    const dataset = Object.assign(range(4), { collate: (samples: number[]) => samples.join(',') });
    const sampler: Sampler = {
      *[Symbol.iterator]() {
        yield* [3, 2, 1, 0];
      },
    };
    const loader = buildDataloader<number, string>(dataset, { batch_size: 2 }, { sampler });
    const batches: string[] = [];
    for await (const batch of loader) batches.push(batch);
    expect(batches).toEqual(['3,2', '1,0']);
  });

  test('buildDataloader reports every bad key at once', () => {
    expect(() =>
      buildDataloader(range(4), { batch_size: 0, num_workers: 'two', pin_memory: true } as never),
    ).toThrow(DataLoaderError);
    try {
      buildDataloader(range(4), { batch_size: 0, num_workers: 'two', pin_memory: true } as never);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('batch_size');
      expect(message).toContain('num_workers');
      expect(message).toContain('pin_memory');
    }
    expect(() => buildDataloader(range(4), {})).toThrow(/'batch_size' is required/);
    expect(() => buildDataloader(range(4), { batch_size: 2, batchSize: 2 })).toThrow(/not both/);
  });
});
