/**
 * The `train` command: gorilla-core's `plain_train.py` (PointNet on ModelNet, optionally on
 * several processes) on gorilla-ts: `getParser` → `main` → `doTrain`, where `doTrain` hands the
 * loop to the toolkit's `Trainer` (one loop for the toolkit; the seed's hand-written loop, written
 * out function by function, is the teaching example `examples/plain-train`). Adapt the places
 * marked `FIXME` to your task, as in the seed.
 *
 * Differences from the seed, each fixing one of its bugs: `--resume` only loads a checkpoint that
 * exists and continues exactly where it stopped (data order and position, optimizer, scheduler,
 * random state); the saved loss is the epoch's mean; the parameter count is the total; the
 * samplers and augmentations change every epoch; after a resume every rank holds the same
 * weights; a NaN loss stops the run; the config is never written to by the builders.
 */
import { join, resolve } from 'node:path';
import { type DefaultArgs, defaultArgumentParser, type ParsedArgs } from '@gorilla-ts/config';
import {
  broadcastObject,
  DistributedSampler,
  detectMpiLauncher,
  getRank,
  getWorldSize,
  isMainProcess,
  launch,
  setCudaVisibleDevices,
} from '@gorilla-ts/dist';
import type { PointNetCls } from '@gorilla-ts/models-pointnet';
import { buildModel } from '@gorilla-ts/registry';
import {
  ConfusionMatrixEvaluator,
  collectLogger,
  detectGpu,
  initBackend,
  LATEST_CHECKPOINT,
  type Logger,
  parameterCount,
  setRandomSeed,
  TensorBoardHook,
  Trainer,
} from '@gorilla-ts/train';
import { type Command, Option } from 'commander';
import { APP_CONFIG_KEYS, type AppConfig, loadAppConfig } from './config-schema.js';
import { ConfusionImageHook } from './confusion-image-hook.js';
import {
  buildPointCloudDataset,
  buildTestLoader,
  buildTrainLoader,
  checkModelFitsData,
  type PointBatch,
} from './data.js';
import { AppError, parseCommandArgs, reportUserErrors } from './errors.js';
import { BEST_CHECKPOINT, DEFAULT_CONFIG } from './paths.js';
import { backupRun, configName, latestCheckpoint, readCheckpointMetadata } from './run-files.js';
import { RunRecordHook } from './run-record.js';
import { runLocationLines } from './run-summary.js';
// Importing the data sets registers ModelNetH5, ModelNetNormalResampled and SyntheticShapes in
// DATASETS; @gorilla-ts/models-pointnet registers PointNetCls in MODELS.
import './datasets/index.js';

/** What `main` receives: the parsed command line. */
export type TrainArgs = ParsedArgs<DefaultArgs & { distBackend?: 'tcp' | 'mpi' }>;

/** The run's log folder and logger, handed from `main` to `doTrain`. */
export interface RunContext {
  /** `log/<config name>/`: the log file, TensorBoard events, backup and checkpoints. */
  logDir: string;
  logger: Logger;
}

/**
 * The command line. FIXME: add the options your script needs to the standard ones, e.g.
 * `.option('--lr <x>', 'learning rate', Number)`; `mergeCfgAndArgs` copies them into the config.
 *
 * The standard ones (`defaultArgumentParser`) hold what distributed training needs
 * (`--num-gpus`, `--num-machines`, `--machine-rank`, `--dist-url`) and `--config` (here the
 * embedded synthetic config by default), `--resume`, `--eval-only`, `--backend`, `--seed`, and
 * trailing `key=value` overrides (`optimizer.lr=5e-4`).
 */
export function getParser(): Command {
  return defaultArgumentParser({
    name: 'train',
    description: 'Train PointNet on ModelNet (or the synthetic default), like plain_train.py',
    defaultConfig: DEFAULT_CONFIG,
  }).addOption(
    new Option(
      '--dist-backend <name>',
      'process-group backend: tcp (built in) or mpi (run under mpirun/srun; needs OpenMPI). Defaults to mpi under an MPI launcher, else tcp',
    ).choices(['tcp', 'mpi']),
  );
}

/** One process's work: config, logger, backup, seed, backend, model, then {@link doTrain}. */
export async function main(args: TrainArgs): Promise<void> {
  const configPath = args.options.config ?? DEFAULT_CONFIG;
  // Read the config (its `_base_` chain resolved), apply the options the user passed and the
  // key=value overrides, and check all of it, every section included: every problem is listed
  // with its key and where it was set, before anything is created.
  const { cfg, config } = await loadAppConfig(configPath, args);

  // The logger and the run's folder: log/<config name>/<timestamp>.log (files on rank 0 only).
  const { logDir, logFile, logger } = collectLogger({
    root: config.logRoot,
    prefix: configName(configPath),
  });
  const locations = { logDir, logFile };
  for (const line of runLocationLines(locations, 'start')) logger.info(line);

  // Back up the code and the config files next to the logs. FIXME: list your own files.
  backupRun(join(logDir, 'backup'), cfg, logger);

  // Seed weight initialisation, dropout and data order. The same seed on every rank: the
  // DistributedSampler gives each rank different samples.
  setRandomSeed(config.seed, { logger: (line) => logger.info(line) });

  // tensorflow-gpu → tensorflow (tfjs-node) → wasm → cpu, or the one asked for; logged.
  await initBackend({
    ...(config.backend === undefined ? {} : { backend: config.backend }),
    logger: (line) => logger.info(line),
  });
  if (getWorldSize() > 1) logger.info(`process ${getRank()} of ${getWorldSize()}`);

  logger.info('=> creating model ...');
  // FIXME: your model; `buildModel` builds it from `cfg.model` through the MODELS registry.
  const model = buildModel<PointNetCls>(config.model);
  // Optional: print the model, or count its parameters ('' is the total).
  // logger.info(parameterCountTable(model));
  logger.info(`#classifier parameters: ${parameterCount(model).get('') ?? 0}`);

  await doTrain(model, config, { logDir, logger });
  for (const line of runLocationLines(locations, 'end')) logger.info(line);
}

/**
 * Trains `model` as `config` says, on the toolkit's `Trainer` (`Trainer.fromConfig`): the
 * optimizer, scheduler and loss from their config sections; the data through the app's data
 * sets; the Trainer's hooks for everything around the step: the epoch's sampler and augmentation
 * seed, the NaN guard (a non-finite loss stops the run, naming the iteration and the last good
 * checkpoint), the learning-rate steps, the BatchNorm sync, a validation pass per epoch
 * (`ConfusionMatrixEvaluator`: accuracy, mean class accuracy, per-class table), progress and
 * log lines, TensorBoard, and checkpoints (`epoch_latest` and `epoch_best` as hard links, the
 * epoch files pruned to `checkpoint.maxKeep`). The seed's hand-written loop is the teaching
 * example `examples/plain-train`.
 */
export async function doTrain(
  model: PointNetCls,
  config: AppConfig,
  run: RunContext,
): Promise<void> {
  const { logDir, logger } = run;

  // Data. FIXME: your data sets; `dataset.split` picks the split, `augment` applies to train.
  const trainSet = await buildPointCloudDataset(config.dataset, 'train');
  checkModelFitsData(model, trainSet);
  const testSet = config.validate
    ? await buildPointCloudDataset(config.dataset, 'test')
    : undefined;
  // With several processes each rank takes its share of every epoch's permutation.
  const sampler =
    getWorldSize() > 1
      ? new DistributedSampler(trainSet, { shuffle: true, seed: config.seed })
      : undefined;
  const trainLoader = buildTrainLoader(
    trainSet,
    { seed: config.seed, ...config.dataloader },
    sampler,
  );
  const testLoader = testSet && buildTestLoader(testSet, config.dataloader);
  const itersPerEpoch = trainLoader.length;
  logger.info(
    `data: ${trainSet.length} training samples` +
      (testSet ? `, ${testSet.length} test samples` : '') +
      `, ${trainSet.numClasses} classes, ${trainSet.numPoints} points × ${trainSet.channels}; ` +
      `${itersPerEpoch} iterations per epoch` +
      (getWorldSize() > 1 ? ` on each of ${getWorldSize()} processes` : ''),
  );
  if (itersPerEpoch === 0) {
    throw new AppError(
      'APP_DATA_MISMATCH',
      `The training split has ${sampler?.length ?? trainSet.length} samples per process, fewer than one batch ` +
        `(dataloader.batch_size ${trainLoader.batchSize}); lower the batch size or use more data.`,
    );
  }

  // The checkpoint to continue from (--resume, --eval-only): epoch_latest, the same on every rank.
  const checkpoint = config.resume || config.evalOnly ? await agreedCheckpoint(logDir) : undefined;
  if (config.resume && checkpoint === undefined) {
    logger.warn(`--resume: no ${LATEST_CHECKPOINT} in ${logDir} yet; starting from scratch`);
  }
  if (checkpoint !== undefined) checkResumable(checkpoint);

  // The Trainer: optimizer, lr_scheduler, loss and epochs from the config; the model, loaders,
  // logger and hooks built here. The loss sees the model's whole output ({ logits,
  // regularization }): PointNet's feature-transform term is added by the Trainer.
  const evaluator = new ConfusionMatrixEvaluator({
    numClasses: trainSet.numClasses,
    classNames: trainSet.classNames,
  });
  const trainer: Trainer<PointNetCls, PointBatch> = Trainer.fromConfig<PointNetCls, PointBatch>(
    {
      optimizer: config.optimizer,
      lr_scheduler: config.lr_scheduler,
      loss: config.loss,
      epochs: config.epochs,
      defaultHooks: {
        logger: { progressSecs: config.progressSecs, interval: itersPerEpoch },
        tensorboard: { interval: 1 },
        checkpoint: {
          interval: 1,
          maxKeep: config.checkpoint.maxKeep,
          saveBest: 'val/acc',
          bestFile: BEST_CHECKPOINT,
        },
      },
    },
    {
      model,
      trainLoader,
      ...(testLoader === undefined ? {} : { valLoader: testLoader }),
      evaluator,
      // The labelled confusion matrix in TensorBoard's Images tab, through the run's writer.
      hooks: [
        new RunRecordHook({
          // A checkpoint of the previous loop holds no CheckpointHook state: without the best
          // epoch from its meta, the first resumed epoch would replace epoch_best even when worse.
          onBestFromMeta: ({ accuracy, epoch }) =>
            trainer.hooks.get('CheckpointHook')?.loadStateDict?.({
              kept: [],
              best: { value: accuracy, iter: epoch * itersPerEpoch },
            }),
        }),
        new ConfusionImageHook(evaluator, () => {
          const hook = trainer.hooks.get('TensorBoardHook');
          return hook instanceof TensorBoardHook ? hook.writer : undefined;
        }),
      ],
      workDir: logDir,
      logger,
      config,
      ...(checkpoint === undefined ? {} : { resume: checkpoint }),
    },
  );

  if (config.evalOnly) {
    if (checkpoint === undefined) {
      throw new AppError(
        'APP_NO_CHECKPOINT',
        `--eval-only: no ${LATEST_CHECKPOINT} in ${logDir} to evaluate.`,
      );
    }
    await trainer.resumeFrom(checkpoint);
    if (testLoader !== undefined) await trainer.evaluate();
    await trainLoader.close();
    return;
  }
  try {
    await trainer.fit();
  } finally {
    await trainLoader.close();
  }
  logger.info(
    `classify in the browser: pnpm --filter modelnet-viewer dev --open "/?checkpoint=/@fs${resolve(logDir, LATEST_CHECKPOINT)}"`,
  );
}

/**
 * The checkpoint to resume from: `epoch_latest` in the log folder when rank 0 sees it, the same
 * choice on every rank (on several machines, the log folder must be on a shared file system).
 */
async function agreedCheckpoint(logDir: string): Promise<string | undefined> {
  const path = isMainProcess() ? (latestCheckpoint(logDir) ?? null) : null;
  const agreed = getWorldSize() > 1 ? await broadcastObject(path) : path;
  return agreed ?? undefined;
}

/**
 * Refuses, with one message, a checkpoint `--resume` cannot continue: one without a training
 * position (not saved by `train`). Checkpoints of the demo's previous loop (`meta.epoch`,
 * `meta.iter`, no trainer state) resume: they were saved at the end of an epoch, which is where
 * the Trainer restarts from `meta.iter`.
 */
function checkResumable(filename: string): void {
  const metadata = readCheckpointMetadata(filename);
  const meta = JSON.parse(metadata?.meta ?? '{}') as Record<string, unknown>;
  if (!Number.isInteger(meta.epoch) || !Number.isInteger(meta.iter)) {
    throw new AppError(
      'APP_NO_CHECKPOINT',
      `${filename} has no training position (meta.epoch and meta.iter): it was not saved by this command. ` +
        'Load it for evaluation with the test command instead.',
    );
  }
}

/**
 * The `train` command: parse the command line, then run {@link main} on `--num-gpus` processes.
 * Called at the top level of the CLI script, unconditionally: `launch` re-runs the script for
 * each worker, and the same call then runs `main` in the worker.
 */
export async function trainCommand(argv: readonly string[]): Promise<void> {
  const args = parseCommandArgs<TrainArgs['options']>(getParser(), argv, APP_CONFIG_KEYS);
  // The whole config is checked before anything starts; its numGpus, numMachines, machineRank
  // and distUrl hold unless the command line sets them.
  const { config } = await loadAppConfig(args.options.config ?? DEFAULT_CONFIG, args);
  const { numGpus, numMachines, machineRank, distUrl } = config;
  // Under mpirun/srun the MPI launcher started every process: join its world through the MPI
  // backend (an optional package, loaded only then).
  const backend = config.distBackend ?? (detectMpiLauncher() ? 'mpi' : 'tcp');
  if (backend === 'mpi') await import('@gorilla-ts/dist-mpi');
  // Optional: pick GPUs with free memory. Only where GPUs exist and none were chosen: on a CPU
  // machine this never waits (the seed's version blocked until enough GPUs were free).
  if (
    backend === 'tcp' &&
    detectGpu() &&
    process.env.CUDA_VISIBLE_DEVICES === undefined &&
    !process.env.RANK
  ) {
    await setCudaVisibleDevices({ numGpu: numGpus, memoryNeedMB: 2000 });
  }
  // The launcher: with one process it calls main here; otherwise it starts one worker per
  // process, which run main in a process group (gradients are averaged over it).
  await launch(reportUserErrors(main), numGpus, {
    numMachines,
    machineRank,
    distUrl,
    args,
    backend,
    ...(config.oversubscribe === undefined ? {} : { oversubscribe: config.oversubscribe }),
  });
}
