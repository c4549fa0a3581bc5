import { DistributedSampler, getWorldSize, InferenceSampler } from '@gorilla-ts/dist';
import { type BuildConfig, MODELS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { buildDataloader, buildDataset, type DataLoaderConfig } from '../data/build.js';
import type { Dataset } from '../data/dataset.js';
import { Module } from '../nn/module.js';
import type { OptimizerConfig } from '../optim/build.js';
import { setRandomSeed } from '../random/seed.js';
import type { SchedulerConfig } from '../scheduler/build.js';
import { EVALUATORS } from './confusion-evaluator.js';
import type { DefaultHooksConfig } from './default-hooks.js';
import { TrainerError, type TrainerIssue } from './errors.js';
import type { Evaluator } from './evaluator.js';
import type { ClipGradOptions } from './gradients.js';
import type { LoadFromOption, TrainerOptions, TrainLoader } from './options.js';

/**
 * The training sections of a config, as {@link Trainer.fromConfig} reads them. Other keys are
 * ignored (the app's own). `model`, `optimizer`, `dataset` and `dataloader` are required unless
 * the overrides bring the model, optimizer or train loader already built. The seed's names `lr_scheduler`, `epochs` and `log_dir` are accepted
 * beside `lrScheduler`, `maxEpochs` and `workDir`.
 */
export interface TrainerConfig {
  /** `MODELS` config of the model. */
  model?: BuildConfig;
  /** The optimizer (`buildOptimizer`). */
  optimizer?: OptimizerConfig;
  /** The scheduler (`buildLrScheduler`); also `lr_scheduler`. */
  lrScheduler?: SchedulerConfig;
  /** The seed's name of `lrScheduler`. */
  lr_scheduler?: SchedulerConfig;
  /** `LOSSES` config of the loss. */
  loss?: BuildConfig;
  /** `DATASETS` config(s) of the training set (`buildDataset`). */
  dataset?: BuildConfig | BuildConfig[];
  /** `DATASETS` config(s) of the evaluation set. */
  valDataset?: BuildConfig | BuildConfig[];
  /** The training loader (`buildDataloader`: `batch_size`, `shuffle`, ...). */
  dataloader?: DataLoaderConfig;
  /** The evaluation loader. Defaults to the training loader's batch size, in order. */
  valDataloader?: DataLoaderConfig;
  /** Epochs (also `maxEpochs`), or `maxIters`. */
  epochs?: number;
  maxEpochs?: number;
  maxIters?: number;
  /** Also `log_dir`. */
  workDir?: string;
  /** The seed's name of `workDir`. */
  log_dir?: string;
  /** Seeds every generator before the model is built (`setRandomSeed`). */
  seed?: number;
  resume?: boolean | 'auto' | string;
  loadFrom?: LoadFromOption;
  accumulateSteps?: number;
  clipGrad?: ClipGradOptions;
  defaultHooks?: DefaultHooksConfig | false;
  /** Extra hooks, as `HOOKS` configs. */
  hooks?: BuildConfig[];
  /** The evaluator, as an `EVALUATORS` config (`{ type: 'ConfusionMatrixEvaluator', numClasses: 10 }`). Defaults to a `ClassificationEvaluator`. */
  evaluator?: BuildConfig;
}

const buildConfig = z.looseObject({ type: z.unknown() });
const oneOrMany = z.union([buildConfig, z.array(buildConfig).min(1)]);
const positive = z.number().int().positive().optional();
const SCHEMA = z.looseObject({
  model: buildConfig.optional(),
  optimizer: z.looseObject({ type: z.string() }).optional(),
  lrScheduler: z.looseObject({ type: z.string() }).optional(),
  lr_scheduler: z.looseObject({ type: z.string() }).optional(),
  loss: buildConfig.optional(),
  dataset: oneOrMany.optional(),
  valDataset: oneOrMany.optional(),
  dataloader: z.looseObject({}).optional(),
  valDataloader: z.looseObject({}).optional(),
  epochs: positive,
  maxEpochs: positive,
  maxIters: positive,
  workDir: z.string().optional(),
  log_dir: z.string().optional(),
  seed: z.number().int().nonnegative().optional(),
  resume: z.union([z.boolean(), z.string()]).optional(),
  loadFrom: z
    .union([
      z.string(),
      z.looseObject({
        filename: z.string(),
        strict: z.boolean().optional(),
        stripPrefix: z.union([z.string(), z.array(z.string())]).optional(),
        rename: z.record(z.string(), z.string()).optional(),
      }),
    ])
    .optional(),
  accumulateSteps: positive,
  clipGrad: z
    .union([
      z.strictObject({
        maxNorm: z.number().positive(),
        normType: z.number().positive().optional(),
      }),
      z.strictObject({ value: z.number().positive() }),
    ])
    .optional(),
  defaultHooks: z.union([z.literal(false), z.record(z.string(), z.unknown())]).optional(),
  hooks: z.array(buildConfig).optional(),
  evaluator: buildConfig.optional(),
});

/**
 * Builds trainer options from a config (a plain object or anything with `toObject()`, such as
 * `@gorilla-ts/config`'s `Config`): seeds the generators, then builds the model, optimizer,
 * scheduler, loss, datasets, loaders and hooks through the registries. With more than one rank
 * the training loader shards through a `DistributedSampler` (shuffled as `dataloader.shuffle`
 * says); the evaluation loader always goes through an `InferenceSampler`, so each sample is
 * evaluated exactly once. Objects in `overrides` are used instead of building from the config.
 * The config is never modified. @internal (use `Trainer.fromConfig`)
 *
 * @throws {@link TrainerError} `TRAINER_INVALID` listing every invalid key.
 */
export function trainerOptionsFromConfig<M extends Module<never, unknown>, B>(
  config: TrainerConfig | { toObject(): unknown },
  overrides: Partial<TrainerOptions<M, B>> = {},
): TrainerOptions<M, B> {
  const raw =
    typeof (config as { toObject?: unknown }).toObject === 'function'
      ? (config as { toObject(): unknown }).toObject()
      : config;
  const record = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const required = {
    model: 'model',
    optimizer: 'optimizer',
    dataset: 'trainLoader',
    dataloader: 'trainLoader',
  } as const;
  const issues: TrainerIssue[] = Object.entries(required)
    .filter(([key, override]) => record[key] === undefined && overrides[override] === undefined)
    .map(([key]) => ({ path: key, message: 'required (or pass it built in the overrides)' }));
  const parsed = SCHEMA.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      issues.push({ path: issue.path.join('.') || '(config)', message: issue.message });
    }
    throw TrainerError.fromIssues('TRAINER_INVALID', 'Invalid trainer config', issues);
  }
  const cfg = parsed.data as unknown as TrainerConfig & {
    lr_scheduler?: SchedulerConfig;
    log_dir?: string;
  };
  if (cfg.lrScheduler && cfg.lr_scheduler) {
    issues.push({ path: 'lr_scheduler', message: 'give lrScheduler or lr_scheduler, not both' });
  }
  if (cfg.epochs && cfg.maxEpochs) {
    issues.push({ path: 'epochs', message: 'give epochs or maxEpochs, not both' });
  }
  if ((cfg.epochs ?? cfg.maxEpochs) && cfg.maxIters) {
    issues.push({ path: 'maxIters', message: 'give epochs or maxIters, not both' });
  }
  if (issues.length > 0) {
    throw TrainerError.fromIssues('TRAINER_INVALID', 'Invalid trainer config', issues);
  }
  if (cfg.seed !== undefined) setRandomSeed(cfg.seed);
  const model = overrides.model ?? MODELS.build(cfg.model!);
  if (!(model instanceof Module)) {
    throw TrainerError.fromIssues('TRAINER_INVALID', 'Invalid trainer config', [
      { path: 'model', message: `'${String(cfg.model?.type)}' did not build a Module` },
    ]);
  }
  const scheduler = cfg.lrScheduler ?? cfg.lr_scheduler;
  const distributed = getWorldSize() > 1;
  const trainLoader = overrides.trainLoader ?? buildTrainLoader<B>(cfg, distributed);
  const valLoader =
    overrides.valLoader ?? (cfg.valDataset === undefined ? undefined : buildValLoader<B>(cfg));
  const maxEpochs = cfg.epochs ?? cfg.maxEpochs;
  const evaluator =
    overrides.evaluator ??
    (cfg.evaluator === undefined
      ? undefined
      : EVALUATORS.build(cfg.evaluator as BuildConfig<Evaluator>));
  const options: TrainerOptions<M, B> = {
    model: model as M,
    optimizer: overrides.optimizer ?? cfg.optimizer!,
    trainLoader,
    config: raw,
    ...defined({
      scheduler,
      loss: cfg.loss,
      valLoader,
      maxEpochs,
      maxIters: cfg.maxIters,
      workDir: cfg.workDir ?? cfg.log_dir,
      resume: cfg.resume,
      loadFrom: cfg.loadFrom,
      accumulateSteps: cfg.accumulateSteps,
      clipGrad: cfg.clipGrad,
      defaultHooks: cfg.defaultHooks,
      hooks: cfg.hooks,
      evaluator,
    }),
  };
  return { ...options, ...defined(overrides) } as TrainerOptions<M, B>;
}

function buildTrainLoader<B>(cfg: TrainerConfig, distributed: boolean): TrainLoader<B> {
  const dataset = buildDataset(cfg.dataset!) as Dataset<unknown>;
  const loaderConfig = (cfg.dataloader ?? {}) as Record<string, unknown>;
  const sampler = distributed
    ? new DistributedSampler(dataset, {
        shuffle: loaderConfig.shuffle === true,
        seed: (loaderConfig.seed as number | undefined) ?? cfg.seed ?? 0,
      })
    : undefined;
  return buildDataloader(
    dataset,
    cfg.dataloader!,
    sampler === undefined ? {} : { sampler },
  ) as unknown as TrainLoader<B>;
}

function buildValLoader<B>(cfg: TrainerConfig): AsyncIterable<B> {
  const dataset = buildDataset(cfg.valDataset!) as Dataset<unknown>;
  const train = (cfg.dataloader ?? {}) as Record<string, unknown>;
  const loaderConfig = cfg.valDataloader ?? {
    batch_size: (train.batch_size ?? train.batchSize) as number | undefined,
  };
  return buildDataloader(dataset, loaderConfig, {
    shuffle: false,
    dropLast: false,
    sampler: new InferenceSampler(dataset),
  }) as unknown as AsyncIterable<B>;
}

function defined<O extends object>(object: O): Partial<O> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as Partial<O>;
}
