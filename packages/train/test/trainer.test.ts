import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATASETS, MODELS } from '@gorilla-ts/registry';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  crossEntropyLoss,
  type ForwardContext,
  type Logger,
  type Module,
  NonFiniteLossError,
  readCheckpoint,
  SGD,
  StepLR,
  setRandomSeed,
  Trainer,
  type TrainerOptions,
} from '../src/index.js';
import {
  fakeClock,
  maxDifference,
  memoryLogger,
  tempDir,
  tf,
  toyDataset,
  toyLoader,
  toyModel,
  useCpu,
  weightsOf,
} from './fixtures/trainer/toy.js';
import { BACKEND_HOOK_TIMEOUT } from './train1-helpers.js';

type Batch = { inputs: tf.Tensor; labels: tf.Tensor };

let work: { dir: string; remove: () => void };
let logger: Logger;
let lines: string[];

beforeAll(async () => {
  await useCpu();
  work = tempDir();
  ({ logger, lines } = memoryLogger('trainer-test'));
}, BACKEND_HOOK_TIMEOUT);
afterAll(() => {
  logger.close();
  work.remove();
});
afterEach(() => {
  lines.length = 0;
});

let runs = 0;
/** A fresh work dir under the suite's temp dir. */
function workDir(): string {
  runs += 1;
  return join(work.dir, `run${runs}`);
}

/** Options for a quiet toy run: seed 3, SGD with momentum, 40 samples in batches of 8. */
function toyOptions(
  overrides: Partial<TrainerOptions<Module<never, unknown>, Batch>> = {},
): TrainerOptions<Module<never, unknown>, Batch> {
  setRandomSeed(3);
  const model = toyModel(0.2);
  return {
    model,
    optimizer: { type: 'SGD', lr: 0.1, momentum: 0.9 },
    loss: crossEntropyLoss(),
    trainLoader: toyLoader(40, 8) as unknown as TrainerOptions<
      Module<never, unknown>,
      Batch
    >['trainLoader'],
    maxEpochs: 3,
    workDir: workDir(),
    logger,
    now: fakeClock(),
    defaultHooks: { tensorboard: false },
    ...overrides,
  };
}

describe('Trainer against the explicit loop', () => {
  test('trains a toy model to the same weights as the explicit loop with the same seed', async () => {
    // The explicit loop, as a user would write it (the seed's do_train, function by function).
    setRandomSeed(3);
    const model = toyModel(0.2);
    const optimizer = new SGD({ params: model.namedParameters(), lr: 0.1, momentum: 0.9 });
    const scheduler = new StepLR({ optimizer, stepSize: 1, gamma: 0.5 });
    const criterion = crossEntropyLoss();
    const loader = toyLoader(40, 8);
    for (let epoch = 0; epoch < 3; epoch += 1) {
      for await (const batch of loader) {
        const { inputs, labels } = batch as unknown as Batch;
        const loss = optimizer.minimize(
          () => criterion({ logits: model.apply(inputs), labels })[0] as tf.Scalar,
        );
        tf.dispose([loss, inputs, labels]);
      }
      scheduler.step();
    }
    const explicit = weightsOf(model);

    const options = toyOptions();
    const trainer = new Trainer({
      ...options,
      scheduler: { type: 'StepLR', stepSize: 1, gamma: 0.5 },
    });
    const result = await trainer.fit();
    expect(result).toMatchObject({ status: 'finished', iterations: 15, epochs: 3 });
    expect(weightsOf(trainer.model)).toEqual(explicit);
    expect(trainer.scheduler?.lastEpoch).toBe(3);
    expect(trainer.optimizer.getLr()).toBeCloseTo(0.1 * 0.5 ** 3, 12);
  });

  test('accumulating 2 batches of 4 gives the steps of batches of 8, counted per step', async () => {
    const run = async (batchSize: number, accumulateSteps: number) => {
      setRandomSeed(11);
      const model = toyModel(0); // no dropout, no BatchNorm: the two are the same computation
      const trainer = new Trainer({
        model,
        optimizer: { type: 'SGD', lr: 0.2, momentum: 0.5 },
        scheduler: {
          type: 'LinearLR',
          by: 'iteration',
          startFactor: 1,
          endFactor: 0.2,
          totalIters: 8,
        },
        loss: crossEntropyLoss(),
        // 36 samples: 9 batches of 4 (the last iteration accumulates just one) or 5 of 8.
        trainLoader: toyLoader(36, batchSize) as unknown as TrainerOptions<
          Module<never, unknown>,
          Batch
        >['trainLoader'],
        accumulateSteps,
        maxEpochs: 2,
        workDir: workDir(),
        logger,
        defaultHooks: { tensorboard: false, checkpoint: false },
      });
      await trainer.fit();
      return { trainer, weights: weightsOf(model), lrs: trainer.metrics.history('lr')!.values };
    };
    const big = await run(8, 1);
    const accumulated = await run(4, 2);
    expect(accumulated.trainer.itersPerEpoch).toBe(5);
    expect(big.trainer.itersPerEpoch).toBe(5);
    expect(maxDifference(accumulated.weights, big.weights)).toBeLessThan(1e-6);
    // A scheduler "iteration" is an optimizer step, not a batch.
    expect(accumulated.trainer.optimizer.iterations).toBe(10);
    expect(accumulated.trainer.scheduler!.lastEpoch).toBe(10);
    expect(accumulated.lrs).toEqual(big.lrs);
    expect(accumulated.trainer.stepResult?.microBatches).toBe(1);
  });

  test('clips gradients by total norm and by value before the step', async () => {
    const step = async (clipGrad: TrainerOptions['clipGrad'] | undefined) => {
      setRandomSeed(5);
      const model = toyModel(0);
      const trainer = new Trainer({
        ...toyOptions({
          model,
          optimizer: { type: 'SGD', lr: 1 },
          maxEpochs: undefined,
          maxIters: 1,
        }),
        ...(clipGrad === undefined ? {} : { clipGrad }),
        defaultHooks: false,
      });
      const before = weightsOf(model);
      await trainer.fit();
      const after = weightsOf(model);
      // With SGD at lr 1, the step is exactly minus the (clipped) gradient.
      const grads = Object.fromEntries(
        Object.entries(before).map(([name, values]) => [
          name,
          values.map((value, index) => value - after[name]![index]!),
        ]),
      );
      return { grads, gradNorm: trainer.stepResult?.gradNorm };
    };
    const raw = (await step(undefined)).grads;
    const norm = Math.hypot(...Object.values(raw).flat());
    const byNorm = await step({ maxNorm: norm / 4 });
    expect(byNorm.gradNorm).toBeCloseTo(norm, 4);
    for (const [name, values] of Object.entries(raw)) {
      values.forEach((value, index) => {
        expect(byNorm.grads[name]![index]).toBeCloseTo(value / 4, 5);
      });
    }
    const limit = Math.max(...Object.values(raw).flat().map(Math.abs)) / 3;
    const byValue = await step({ value: limit });
    for (const [name, values] of Object.entries(raw)) {
      values.forEach((value, index) => {
        expect(byValue.grads[name]![index]).toBeCloseTo(
          Math.max(-limit, Math.min(limit, value)),
          5,
        );
      });
    }
  });
});

describe('fit()', () => {
  test('frees every tensor it creates (accumulation, clipping, evaluation, checkpoints)', async () => {
    const options = toyOptions({
      optimizer: { type: 'SGD', lr: 0.1 }, // no momentum: no optimizer slots
      accumulateSteps: 2,
      clipGrad: { maxNorm: 1 },
      valLoader: toyLoader(9, 4, {
        shuffle: false,
        offset: 300,
      }) as unknown as AsyncIterable<Batch>,
      maxEpochs: 2,
    });
    const before = tf.memory().numTensors;
    await new Trainer(options).fit();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('refuses a re-entrant fit() and train(), and can run again afterwards', async () => {
    const trainer = new Trainer(toyOptions({ maxEpochs: 1, defaultHooks: false }));
    const first = trainer.fit();
    await expect(trainer.fit()).rejects.toMatchInlineSnapshot(
      `[TrainerError: fit() is already running on this trainer; await it before calling fit() again (or use a second Trainer).]`,
    );
    await expect(trainer.train(0, 5)).rejects.toMatchObject({ code: 'TRAINER_REENTRANT' });
    await expect(first).resolves.toMatchObject({ status: 'finished', iterations: 5 });
    expect(trainer.running).toBe(false);
    // Nothing left to do: a second fit() returns at once, still finished.
    await expect(trainer.fit()).resolves.toMatchObject({ status: 'finished', iterations: 5 });
  });

  test('the NaN guard stops at the bad step, names the last good checkpoint, and cleans up', async () => {
    let calls = 0;
    const forward = ({ model, batch, criterion }: ForwardContext<Batch>) => {
      const logits = (model as unknown as { apply(x: tf.Tensor): tf.Tensor }).apply(batch.inputs);
      const [loss] = criterion!({ logits, labels: batch.labels });
      calls += 1;
      return { loss: calls === 7 ? tf.mul(loss, Number.NaN) : loss };
    };
    const events: string[] = [];
    const options = toyOptions({
      forward,
      defaultHooks: { tensorboard: false, checkpoint: { byEpoch: false, interval: 3 } },
      hooks: [
        {
          name: 'recorder',
          afterSaveCheckpoint: (_trainer, file) => {
            events.push(`saved ${file.split('/').pop()}`);
          },
          afterRun: (trainer) => {
            events.push(`afterRun ${trainer.status}`);
          },
        },
      ],
    });
    const trainer = new Trainer(options);
    const error = await trainer.fit().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(NonFiniteLossError);
    const message = (error as Error).message.replaceAll(options.workDir!, '<workDir>');
    expect(message).toMatchInlineSnapshot(
      `"The training loss is NaN at iteration 7 (epoch 2); training stopped. The last good checkpoint is <workDir>/iter_00006.safetensors: resume from it (resume: '<workDir>/iter_00006.safetensors') with a lower learning rate or gradient clipping (clipGrad)."`,
    );
    expect(error).toMatchObject({ code: 'LOSS_NOT_FINITE', iteration: 7, epoch: 2 });
    expect(events).toEqual([
      'saved iter_00003.safetensors',
      'saved iter_00006.safetensors',
      'afterRun failed',
    ]);
    expect(trainer.status).toBe('failed');
    expect(trainer.running).toBe(false);
    expect(readdirSync(options.workDir!).filter((name) => name.endsWith('.safetensors'))).toEqual([
      'epoch_latest.safetensors',
      'iter_00003.safetensors',
      'iter_00006.safetensors',
    ]);
    expect(lines.some((line) => line.includes('ERROR: The training loss is NaN'))).toBe(true);
  });

  test('save, rebuild, resume: a run stopped mid-epoch continues to the same weights', async () => {
    const scheduler = { type: 'StepLR', stepSize: 1, gamma: 0.7 };
    const checkpoint = { byEpoch: false, interval: 4, maxKeep: 2 };
    const straight = new Trainer(
      toyOptions({ scheduler, defaultHooks: { tensorboard: false, checkpoint } }),
    );
    await straight.fit();

    // Stopped after iteration 7 (mid-epoch 2): the checkpoint hook saves the stop.
    const dir = workDir();
    const stopped = new Trainer(
      toyOptions({
        scheduler,
        workDir: dir,
        defaultHooks: { tensorboard: false, checkpoint },
        hooks: [
          { afterStep: (trainer) => (trainer.iter === 6 ? trainer.stop('test') : undefined) },
        ],
      }),
    );
    await expect(stopped.fit()).resolves.toMatchObject({ status: 'stopped', iterations: 7 });
    expect(stopped.lastCheckpoint).toBe(join(dir, 'iter_00007.safetensors'));

    // A new process would rebuild everything (other initial weights: seed 99) and resume.
    const rebuilt = toyOptions({
      scheduler,
      workDir: dir,
      defaultHooks: { tensorboard: false, checkpoint },
    });
    setRandomSeed(99);
    const resumed = new Trainer({ ...rebuilt, model: toyModel(0.2), resume: 'auto' });
    const result = await resumed.fit();
    expect(resumed.startIter).toBe(7);
    expect(result).toMatchObject({ status: 'finished', iterations: 15 });
    expect(weightsOf(resumed.model)).toEqual(weightsOf(straight.model));
    expect(resumed.scheduler?.lastEpoch).toBe(3);
    // keep-last-2 continued from the saved list: iter 4 was pruned by the resumed run.
    expect(readdirSync(dir).filter((name) => name.startsWith('iter_'))).toEqual([
      'iter_00012.safetensors',
      'iter_00015.safetensors',
    ]);
    expect(lines.some((line) => line.includes('Resumed from') && line.includes('7 of 15'))).toBe(
      true,
    );
  });

  test('loadFrom loads the weights only and starts from iteration 0', async () => {
    const first = new Trainer(toyOptions({ maxEpochs: 1 }));
    await first.fit();
    const file = first.lastCheckpoint!;
    const seen: { iter?: number; weights?: Record<string, number[]>; steps?: number } = {};
    setRandomSeed(42);
    const second = new Trainer({
      ...toyOptions({ maxEpochs: 1 }),
      model: toyModel(0.2),
      loadFrom: file,
      resume: 'auto', // an empty work dir: nothing to resume, so loadFrom applies
      hooks: [
        {
          beforeRun: (trainer) => {
            seen.iter = trainer.iter;
            seen.weights = weightsOf(trainer.model);
            seen.steps = trainer.optimizer.iterations;
          },
        },
      ],
    });
    await second.fit();
    expect(seen).toEqual({ iter: 0, weights: weightsOf(first.model), steps: 0 });
    expect(lines.some((line) => line.includes('loadFrom: weights only'))).toBe(true);
  });

  test('a run of maxIters ends mid-epoch, with a last checkpoint that records the position', async () => {
    const options = toyOptions({ maxEpochs: undefined, maxIters: 7 });
    const trainer = new Trainer(options);
    const result = await trainer.fit();
    expect(result).toMatchObject({ status: 'finished', iterations: 7, epochs: 1 });
    expect(trainer.maxEpochs).toBe(2);
    const saved = await readCheckpoint(join(options.workDir!, 'epoch_latest.safetensors'));
    tf.dispose([...saved.tensors.values()]);
    expect(JSON.parse(saved.metadata.meta!)).toEqual({ epoch: 1, iter: 7 });
    expect(JSON.parse(saved.metadata.extra!).trainer).toEqual({
      iter: 7,
      epoch: 1,
      itersPerEpoch: 5,
      accumulateSteps: 1,
      loader: { epoch: 1, batchIndex: 2, seed: 7 },
    });
    expect(existsSync(join(options.workDir!, 'iter_00007.safetensors'))).toBe(true);
  });
});

describe('options and config', () => {
  test('invalid options are reported all at once', () => {
    expect(
      () =>
        new Trainer({
          model: {} as never,
          optimizer: { lr: 1 } as never,
          trainLoader: { length: 0, [Symbol.asyncIterator]: () => ({}) as never },
          maxEpochs: 0,
          maxIters: 3,
          accumulateSteps: 1.5,
          clipGrad: { maxNorm: 1, value: 2 },
        }),
    ).toThrowErrorMatchingInlineSnapshot(`
      [TrainerError: Invalid trainer options:
        - model: expected a Module (the model to train)
        - optimizer: expected an Optimizer or a config { type: 'SGD' | 'Adam' | ..., lr }
        - trainLoader: expected a positive integer \`length\` (batches per epoch), got 0
        - maxEpochs: give maxEpochs or maxIters, not both
        - maxEpochs: expected a positive integer, got 0
        - accumulateSteps: expected a positive integer, got 1.5
        - clipGrad: expected { maxNorm: number > 0, normType? } or { value: number > 0 }]
    `);
  });

  describe('Trainer.fromConfig', () => {
    beforeAll(() => {
      DATASETS.register('TrainerTestToy', (options: { length: number; offset?: number }) =>
        toyDataset(options.length, options.offset),
      );
      MODELS.register('TrainerTestMlp', (options: { dropout?: number }) =>
        toyModel(options.dropout),
      );
    });
    afterAll(() => {
      DATASETS.unregister('TrainerTestToy');
      MODELS.unregister('TrainerTestMlp');
    });

    const config = () => ({
      seed: 3,
      model: { type: 'TrainerTestMlp', dropout: 0.2 },
      optimizer: { type: 'SGD', lr: 0.1, momentum: 0.9 },
      lr_scheduler: { type: 'StepLR', stepSize: 1, gamma: 0.5 },
      loss: { type: 'CrossEntropyLoss' },
      dataset: { type: 'TrainerTestToy', length: 40 },
      valDataset: { type: 'TrainerTestToy', length: 21, offset: 500 },
      dataloader: { batch_size: 8, shuffle: true, seed: 7 },
      epochs: 3,
      workDir: workDir(),
      defaultHooks: { tensorboard: false, checkpoint: { maxKeep: 1, saveBest: 'val/acc' } },
      hooks: [{ type: 'EarlyStoppingHook', monitor: 'val/acc', patience: 10 }],
      app: { anything: 'else is ignored' },
    });

    test('builds everything through the registries and trains like the object form', async () => {
      const cfg = config();
      const trainer = Trainer.fromConfig<Module<never, unknown>, Batch>(
        { toObject: () => structuredClone(cfg) },
        { logger, now: fakeClock() },
      );
      expect(trainer.hooks.all.map((hook) => `${hook.name}:${hook.priority}`)).toEqual([
        'NanGuardHook:0',
        'IterationTimerHook:10',
        'BatchNormSyncHook:30',
        'EvalHook:40',
        'DistSamplerSeedHook:50',
        'LrSchedulerHook:50',
        'LoggerHook:60',
        'EarlyStoppingHook:70',
        'CheckpointHook:90',
      ]);
      const result = await trainer.fit();
      expect(result.status).toBe('finished');
      expect(result.metrics['val/samples']).toBe(21);

      const object = new Trainer({
        ...toyOptions({ scheduler: { type: 'StepLR', stepSize: 1, gamma: 0.5 } }),
      });
      await object.fit();
      expect(weightsOf(trainer.model)).toEqual(weightsOf(object.model));
      expect(readdirSync(cfg.workDir).filter((name) => name.endsWith('.safetensors'))).toEqual([
        'best_val_acc.safetensors',
        'epoch_00003.safetensors',
        'epoch_latest.safetensors',
      ]);
      // The config is stored in the checkpoint for the record.
      const saved = await readCheckpoint(join(cfg.workDir, 'epoch_latest.safetensors'));
      tf.dispose([...saved.tensors.values()]);
      expect(JSON.parse(saved.metadata.config!).app).toEqual({ anything: 'else is ignored' });
    });

    test('an invalid config lists every problem', () => {
      const { optimizer: _optimizer, ...rest } = config();
      expect(() =>
        Trainer.fromConfig({ ...rest, epochs: 0, maxIters: 5, dataloader: 3 } as never),
      ).toThrowErrorMatchingInlineSnapshot(`
        [TrainerError: Invalid trainer config:
          - optimizer: required (or pass it built in the overrides)
          - dataloader: Invalid input: expected object, received number
          - epochs: Too small: expected number to be >0]
      `);
    });
  });
});
