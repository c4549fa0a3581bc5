import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  CheckpointHook,
  crossEntropyLoss,
  DistSamplerSeedHook,
  type Evaluator,
  type Hook,
  HookBase,
  HookList,
  isPeriodEnd,
  type Logger,
  type Metrics,
  type Module,
  PRIORITY,
  readCheckpoint,
  readEventFile,
  resolvePriority,
  setRandomSeed,
  Trainer,
  type TrainerOptions,
  toHook,
} from '../src/index.js';
import {
  fakeClock,
  memoryLogger,
  tempDir,
  tf,
  toyLoader,
  toyModel,
  useCpu,
} from './fixtures/trainer/toy.js';
import { BACKEND_HOOK_TIMEOUT } from './train1-helpers.js';

type Batch = { inputs: tf.Tensor; labels: tf.Tensor };
type Loader = TrainerOptions<Module<never, unknown>, Batch>['trainLoader'];

let work: { dir: string; remove: () => void };
let logger: Logger;
let lines: string[];
let runs = 0;

beforeAll(async () => {
  await useCpu();
  work = tempDir('gorilla-hooks-');
  ({ logger, lines } = memoryLogger('hooks-test'));
}, BACKEND_HOOK_TIMEOUT);
afterAll(() => {
  logger.close();
  work.remove();
});
afterEach(() => {
  lines.length = 0;
});

function workDir(): string {
  runs += 1;
  return join(work.dir, `run${runs}`);
}

/** An evaluator that reports the given metrics, one record per evaluation. */
function scripted(records: Array<Record<string, number>>): Evaluator {
  let index = 0;
  return {
    reset() {},
    process() {},
    partial: () => null,
    summarize: () => records[Math.min(index++, records.length - 1)]!,
  };
}

/** A toy run: 16 samples in batches of 8 (2 iterations per epoch), an 8-sample val set. */
function options(
  overrides: Partial<TrainerOptions<Module<never, unknown>, Batch>> = {},
): TrainerOptions<Module<never, unknown>, Batch> {
  setRandomSeed(3);
  return {
    model: toyModel(0),
    optimizer: { type: 'SGD', lr: 0.1 },
    loss: crossEntropyLoss(),
    trainLoader: toyLoader(16, 8) as unknown as Loader,
    valLoader: toyLoader(8, 8, { shuffle: false, offset: 100 }) as unknown as Loader,
    maxEpochs: 2,
    workDir: workDir(),
    logger,
    now: fakeClock(),
    defaultHooks: { tensorboard: false },
    ...overrides,
  };
}

describe('the period rule', () => {
  test.each([
    // done, interval, last, expected
    [1, 1, undefined, true],
    [2, 1, undefined, true],
    [1, 3, undefined, false],
    [2, 3, undefined, false],
    [3, 3, undefined, true],
    [6, 3, undefined, true],
    [7, 3, undefined, false],
    [7, 3, 7, true], // the last unit always ends a period
    [6, 3, 7, true],
    [5, 3, 7, false],
    [3, 0, undefined, false], // 0 disables, even at the end
    [3, 0, 3, false],
    [2, -1, 2, false],
    [0, 1, undefined, false], // nothing done yet
  ])('isPeriodEnd(%i, %i, %s) is %s', (done, interval, last, expected) => {
    expect(isPeriodEnd(done, interval, last)).toBe(expected);
  });
});

describe('priorities and the hook list', () => {
  test('named levels and numbers; stable order for equal priorities', () => {
    expect(PRIORITY).toMatchObject({ HIGHEST: 0, NORMAL: 50, VERY_LOW: 90, LOWEST: 100 });
    expect(resolvePriority('ABOVE_NORMAL')).toBe(40);
    expect(resolvePriority(-5)).toBe(-5);
    expect(() => resolvePriority('MEDIUM' as never)).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: Unknown hook priority "MEDIUM": expected a number or one of HIGHEST, VERY_HIGH, HIGH, ABOVE_NORMAL, NORMAL, BELOW_NORMAL, LOW, VERY_LOW, LOWEST.]`,
    );
    const hooks = [
      toHook({ name: 'a', priority: 'LOW' }, 0),
      toHook({ name: 'b' }, 1),
      toHook({ name: 'c', priority: 5 }, 2),
      toHook({ name: 'd', priority: 'NORMAL' }, 3),
      toHook({ type: 'EarlyStoppingHook', priority: 'HIGH' }, 4),
    ];
    const list = new HookList(hooks, 0);
    expect(list.all.map((hook) => `${hook.name}:${hook.priority}`)).toEqual([
      'c:5',
      'EarlyStoppingHook:30',
      'b:50',
      'd:50',
      'a:70',
    ]);
    // Hooks marked 'main' are left out on other ranks.
    const main = toHook({ name: 'printer', ranks: 'main' }, 5);
    expect(new HookList([...hooks, main], 1).active).not.toContain(main);
    expect(new HookList([...hooks, main], 0).active).toContain(main);
  });

  test('duplicate names and unknown callbacks are refused with a hint', () => {
    expect(
      () => new HookList([toHook({ name: 'x' }, 0), toHook({ name: 'x' }, 1)], 0),
    ).toThrowErrorMatchingInlineSnapshot(
      `[TrainerError: Hook names must be unique (checkpoints key each hook's state by its name): 'x' appear more than once. Give each a distinct \`name\`.]`,
    );
    expect(() =>
      toHook({ onEpochEnds: () => {}, afterstep: () => {} } as never, 2),
    ).toThrowErrorMatchingInlineSnapshot(
      `[TrainerError: hooks[2] has unknown callback 'onEpochEnds' (did you mean 'onEpochEnd', 'onEpochBegin'?), 'afterstep' (did you mean 'afterStep'?). A hook object may have: beforeRun, beforeEpoch, beforeStep, afterStep, afterEpoch, beforeEval, afterEval, beforeSaveCheckpoint, afterSaveCheckpoint, afterLoadCheckpoint, afterRun, onTrainBegin, onTrainEnd, onEpochBegin, onEpochEnd, onBatchBegin, onBatchEnd, name, priority, ranks, stateDict, loadStateDict.]`,
    );
  });
});

describe('hooks fire in order', () => {
  class Recorder extends HookBase {
    constructor(
      name: string,
      priority: number,
      readonly log: string[],
    ) {
      super({ name, priority });
    }
    #record(point: string, trainer: Trainer) {
      this.log.push(`${this.name}.${point}@${trainer.iter}`);
    }
    override beforeRun(trainer: Trainer) {
      this.#record('beforeRun', trainer);
    }
    override beforeEpoch(trainer: Trainer) {
      this.#record('beforeEpoch', trainer);
    }
    override beforeStep(trainer: Trainer) {
      this.#record('beforeStep', trainer);
    }
    override afterStep(trainer: Trainer) {
      this.#record('afterStep', trainer);
    }
    override afterEpoch(trainer: Trainer) {
      this.#record('afterEpoch', trainer);
    }
    override beforeEval(trainer: Trainer) {
      this.#record('beforeEval', trainer);
    }
    override afterEval(trainer: Trainer, metrics: Metrics) {
      this.#record(`afterEval(${Object.keys(metrics).join(',')})`, trainer);
    }
    override beforeSaveCheckpoint(trainer: Trainer) {
      this.#record('beforeSaveCheckpoint', trainer);
    }
    override afterSaveCheckpoint(trainer: Trainer, filename: string) {
      this.#record(`afterSaveCheckpoint(${filename.split('/').pop()})`, trainer);
    }
    override afterRun(trainer: Trainer) {
      this.#record(`afterRun(${trainer.status})`, trainer);
    }
  }

  test('every hook point, in priority order, around the built-in hooks', async () => {
    const log: string[] = [];
    const tfjs: string[] = [];
    const trainer = new Trainer(
      options({
        evaluator: scripted([{ acc: 0.5 }, { acc: 0.6 }]),
        hooks: [
          new Recorder('last', PRIORITY.LOWEST, log),
          new Recorder('first', -1, log),
          {
            name: 'tfjs',
            onTrainBegin: () => tfjs.push('trainBegin'),
            onEpochBegin: (epoch) => tfjs.push(`epochBegin ${epoch}`),
            onBatchEnd: (batch, logs) => tfjs.push(`batchEnd ${batch} loss ${typeof logs.loss}`),
            onEpochEnd: (epoch, logs) => tfjs.push(`epochEnd ${epoch} val/acc ${logs['val/acc']}`),
            onTrainEnd: () => tfjs.push('trainEnd'),
          },
        ],
      }),
    );
    await trainer.fit();
    const epoch = (start: number) => [
      `first.beforeEpoch@${start}`,
      `last.beforeEpoch@${start}`,
      `first.beforeStep@${start}`,
      `last.beforeStep@${start}`,
      `first.afterStep@${start}`,
      `last.afterStep@${start}`,
      `first.beforeStep@${start + 1}`,
      `last.beforeStep@${start + 1}`,
      `first.afterStep@${start + 1}`,
      `last.afterStep@${start + 1}`,
      // 'first' runs before the EvalHook and CheckpointHook; 'last' after them.
      `first.afterEpoch@${start + 1}`,
      `first.beforeEval@${start + 1}`,
      `last.beforeEval@${start + 1}`,
      `first.afterEval(val/acc)@${start + 1}`,
      `last.afterEval(val/acc)@${start + 1}`,
      `first.beforeSaveCheckpoint@${start + 1}`,
      `last.beforeSaveCheckpoint@${start + 1}`,
      `first.afterSaveCheckpoint(epoch_0000${start / 2 + 1}.safetensors)@${start + 1}`,
      `last.afterSaveCheckpoint(epoch_0000${start / 2 + 1}.safetensors)@${start + 1}`,
      `last.afterEpoch@${start + 1}`,
    ];
    expect(log).toEqual([
      'first.beforeRun@0',
      'last.beforeRun@0',
      ...epoch(0),
      ...epoch(2),
      'first.afterRun(finished)@4',
      'last.afterRun(finished)@4',
    ]);
    expect(tfjs).toEqual([
      'trainBegin',
      'epochBegin 0',
      'batchEnd 0 loss number',
      'batchEnd 1 loss number',
      'epochEnd 0 val/acc 0.5',
      'epochBegin 1',
      'batchEnd 0 loss number',
      'batchEnd 1 loss number',
      'epochEnd 1 val/acc 0.6',
      'trainEnd',
    ]);
  });
});

describe('CheckpointHook', () => {
  test('keeps the last K, keeps epoch_latest current, and keeps the best by a metric', async () => {
    const dir = workDir();
    const trainer = new Trainer(
      options({
        workDir: dir,
        maxEpochs: 4,
        evaluator: scripted([{ acc: 0.5 }, { acc: 0.8 }, { acc: 0.6 }, { acc: 0.7 }]),
        defaultHooks: { tensorboard: false, checkpoint: { maxKeep: 2, saveBest: 'val/acc' } },
      }),
    );
    await trainer.fit();
    expect(readdirSync(dir).filter((name) => name.endsWith('.safetensors'))).toEqual([
      'best_val_acc.safetensors',
      'epoch_00003.safetensors',
      'epoch_00004.safetensors',
      'epoch_latest.safetensors',
    ]);
    // epoch_latest is the newest checkpoint itself (a hard link), not a second write.
    expect(statSync(join(dir, 'epoch_latest.safetensors')).ino).toBe(
      statSync(join(dir, 'epoch_00004.safetensors')).ino,
    );
    const best = await readCheckpoint(join(dir, 'best_val_acc.safetensors'));
    tf.dispose([...best.tensors.values()]);
    expect(JSON.parse(best.metadata.meta!)).toEqual({ epoch: 2, iter: 4 });
    expect(JSON.parse(best.metadata.extra!).hooks.CheckpointHook).toEqual({
      kept: ['epoch_00001.safetensors', 'epoch_00002.safetensors'],
      best: { value: 0.8, iter: 4 },
    });
    expect(lines.some((line) => line.includes('New best val/acc = 0.8'))).toBe(true);
  });

  test('a lower-is-better metric, a best between periodic saves, and iteration periods', async () => {
    const dir = workDir();
    const trainer = new Trainer(
      options({
        workDir: dir,
        maxEpochs: 3,
        evaluator: scripted([{ loss: 0.9 }, { loss: 0.4 }, { loss: 0.5 }]),
        defaultHooks: {
          tensorboard: false,
          checkpoint: { byEpoch: false, interval: 3, saveBest: 'val/loss', saveLatest: false },
        },
      }),
    );
    await trainer.fit();
    expect(readdirSync(dir).filter((name) => name.endsWith('.safetensors'))).toEqual([
      'best_val_loss.safetensors',
      'iter_00003.safetensors',
      'iter_00006.safetensors',
    ]);
    const best = await readCheckpoint(join(dir, 'best_val_loss.safetensors'));
    tf.dispose([...best.tensors.values()]);
    expect(JSON.parse(best.metadata.meta!).iter).toBe(4);
    expect(new CheckpointHook({ saveBest: 'val/loss' }).stateDict()).toEqual({
      kept: [],
      best: null,
    });
  });
});

describe('EarlyStoppingHook', () => {
  test('stops after `patience` evaluations without improvement, saving the last state', async () => {
    const dir = workDir();
    const trainer = new Trainer(
      options({
        workDir: dir,
        maxEpochs: 10,
        evaluator: scripted([
          { acc: 0.5 },
          { acc: 0.6 },
          { acc: 0.55 },
          { acc: 0.58 },
          { acc: 0.9 },
        ]),
        hooks: [{ type: 'EarlyStoppingHook', monitor: 'val/acc', patience: 2 }],
      }),
    );
    const result = await trainer.fit();
    expect(result).toMatchObject({ status: 'stopped', iterations: 8, epochs: 4 });
    expect(trainer.stopReason).toMatchInlineSnapshot(
      `"early stopping: val/acc has not improved on 0.6 for 2 evaluations"`,
    );
    expect(trainer.lastCheckpoint).toBe(join(dir, 'epoch_00004.safetensors'));
    const saved = await readCheckpoint(trainer.lastCheckpoint!);
    tf.dispose([...saved.tensors.values()]);
    expect(JSON.parse(saved.metadata.extra!).hooks.EarlyStoppingHook).toEqual({
      best: 0.6,
      wait: 2,
    });
    expect(lines.some((line) => line.includes('Training stopped (early stopping'))).toBe(true);
  });
});

describe('LrSchedulerHook', () => {
  const lrsOf = async (scheduler: TrainerOptions['scheduler'], evaluator?: Evaluator) => {
    const trainer = new Trainer(
      options({
        maxEpochs: 3,
        scheduler,
        ...(evaluator === undefined ? { valLoader: undefined } : { evaluator }),
        defaultHooks: { tensorboard: false, checkpoint: false },
      }),
    );
    await trainer.fit();
    return trainer.metrics.history('lr')!.values.map((lr) => Number(lr.toFixed(6)));
  };

  test('steps per epoch or per iteration, as the scheduler says', async () => {
    expect(await lrsOf({ type: 'StepLR', stepSize: 1, gamma: 0.5 })).toEqual([
      0.1, 0.1, 0.05, 0.05, 0.025, 0.025,
    ]);
    expect(await lrsOf({ type: 'StepLR', by: 'iteration', stepSize: 1, gamma: 0.5 })).toEqual([
      0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125,
    ]);
  });

  test('steps ReduceLROnPlateau after each evaluation with the monitored metric', async () => {
    const plateau = { type: 'ReduceLROnPlateau', patience: 0, factor: 0.5 };
    expect(await lrsOf(plateau, scripted([{ loss: 1 }, { loss: 1 }, { loss: 1 }]))).toEqual([
      0.1, 0.1, 0.1, 0.1, 0.05, 0.05,
    ]);
  });
});

describe('logging hooks', () => {
  test('LoggerHook writes text and JSON lines; TensorBoardHook writes scalars', async () => {
    const dir = workDir();
    const files = memoryLogger('hooks-files', join(dir, 'run.log'));
    try {
      const trainer = new Trainer(
        options({
          workDir: dir,
          logger: files.logger,
          evaluator: scripted([{ acc: 0.25 }, { acc: 0.75 }]),
          defaultHooks: {
            logger: { interval: 3, bar: false },
            tensorboard: { interval: 2 },
            checkpoint: false,
          },
        }),
      );
      await trainer.fit();
    } finally {
      files.logger.close();
    }
    const records = readFileSync(join(dir, 'run.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => `${record.mode} ${record.epoch} ${record.iter}`)).toEqual([
      'val 1 2',
      'epoch 1 2',
      'train 2 3',
      'train 2 4', // the last iteration always logs
      'val 2 4',
      'epoch 2 4',
    ]);
    expect(Object.keys(records[2]!).sort()).toEqual([
      'data_time',
      'epoch',
      'eta',
      'iter',
      'iter_time',
      'loss',
      'loss_ce',
      'lr',
      'mode',
      'time',
    ]);
    const text = readFileSync(join(dir, 'run.log'), 'utf8');
    expect(text).toContain('INFO: epoch 1/2 iter 1/2 |');
    expect(text).toContain('INFO: Evaluation after iteration 4: val/acc 0.7500');
    expect(text).toMatch(
      /INFO: epoch: 2\/2, train loss: \d\.\d{4}, lr: 0\.100000, iter_time: \d+\.\d{3}s, data_time: \d+\.\d{3}s, time: \d+\.\ds/,
    );

    const [events] = readdirSync(dir).filter((name) => name.startsWith('events.out.tfevents'));
    const scalars = readEventFile(join(dir, events!)).flatMap((event) =>
      event.values.map((value) => `${value.tag}@${event.step}`),
    );
    expect(scalars.filter((name) => name.startsWith('train/loss@'))).toEqual([
      'train/loss@2',
      'train/loss@4',
    ]);
    expect(scalars.filter((name) => name.startsWith('val/'))).toEqual(['val/acc@2', 'val/acc@4']);
    expect(scalars).toContain('lr@2');
    expect(scalars).toContain('train/ce@4');
  });

  test('IterationTimerHook times steps and data with the injected clock', async () => {
    const trainer = new Trainer(
      options({
        valLoader: undefined,
        now: fakeClock(0.5),
        defaultHooks: { logger: false, tensorboard: false, checkpoint: false },
      }),
    );
    await trainer.fit();
    // beforeStep stamps t; the batch is fetched between t+0.5 and t+1; afterStep reads t+1.5.
    expect(trainer.metrics.history('iter_time')!.values).toEqual([1.5, 1.5, 1.5, 1.5]);
    expect(trainer.metrics.history('data_time')!.values).toEqual([0.5, 0.5, 0.5, 0.5]);
  });
});

describe('DistSamplerSeedHook', () => {
  test('sets the epoch on the loader, its sampler and its dataset before each epoch', async () => {
    const calls: string[] = [];
    const inner = toyLoader(16, 8);
    const loader = {
      length: inner.length,
      sampler: { setEpoch: (epoch: number) => calls.push(`sampler ${epoch}`) },
      dataset: { setEpoch: (epoch: number) => calls.push(`dataset ${epoch}`) },
      setEpoch: (epoch: number) => {
        calls.push(`loader ${epoch}`);
        inner.setEpoch(epoch);
      },
      [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator](),
    };
    const trainer = new Trainer(
      options({
        trainLoader: loader as unknown as Loader,
        valLoader: undefined,
        defaultHooks: false,
        hooks: [new DistSamplerSeedHook()],
      }),
    );
    await trainer.fit();
    expect(calls).toEqual([
      'loader 0',
      'sampler 0',
      'dataset 0',
      'loader 1',
      'sampler 1',
      'dataset 1',
    ]);
  });
});

// Type-level check: a plain object with typed hook methods is a valid hook spec.
const _typed: Partial<Hook> = { afterStep: (trainer: Trainer) => void trainer.iter };
void _typed;
