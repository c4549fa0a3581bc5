/**
 * The `train` command: gorilla-core's `plain_train.py` (PointNet on ModelNet, optionally on
 * several processes) written with gorilla-ts, function by function: `getParser` → `main` →
 * `doTrain`, with the loop written out instead of hidden in a trainer, so that it reads as a
 * template. Adapt the places marked `FIXME` to your task, as in the seed.
 *
 * Differences from the seed, each fixing one of its bugs: `epoch`/`iter` start at 1/0 without a
 * checkpoint; `--resume` only loads a checkpoint that exists and continues at the next epoch and
 * the same iteration count; the epoch timer restarts every epoch; the saved loss is the epoch's
 * mean (computed before the buffers are cleared); the parameter count is the total, not a sum
 * over prefixes; losses are buffered as numbers, not tensors; the ETA counts what is left; the
 * learning rate prints with 6 decimals; the samplers and augmentations change every epoch; after
 * a resume every rank holds the same weights; the config is never written to by the builders.
 */
import { join, resolve } from 'node:path';
import { type DefaultArgs, defaultArgumentParser, type ParsedArgs } from '@gorilla-ts/config';
import {
  allReduce,
  broadcastObject,
  DistributedSampler,
  detectMpiLauncher,
  getRank,
  getWorldSize,
  isMainProcess,
  launch,
  setCudaVisibleDevices,
  synchronize,
} from '@gorilla-ts/dist';
import { type PointNetCls, withRegularization } from '@gorilla-ts/models-pointnet';
import { buildLoss, buildModel } from '@gorilla-ts/registry';
import {
  allReduceGradients,
  broadcastParameters,
  buildLrScheduler,
  buildOptimizer,
  type Criterion,
  collectLogger,
  type DataLoaderState,
  detectGpu,
  EpochProgress,
  HistoryBuffer,
  initBackend,
  type Logger,
  parameterCount,
  removeStaleTemporaries,
  resume,
  saveCheckpoint,
  setRandomSeed,
  syncBuffers,
  TensorBoardWriter,
  Timer,
} from '@gorilla-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import { type Command, Option } from 'commander';
import { APP_CONFIG_KEYS, type AppConfig, loadAppConfig } from './config-schema.js';
import { writeConfusionImage } from './confusion-image.js';
import {
  buildPointCloudDataset,
  buildTestLoader,
  buildTrainLoader,
  checkModelFitsData,
} from './data.js';
import type { PointCloudDataset } from './datasets/index.js';
import { AppError, parseCommandArgs, reportUserErrors } from './errors.js';
import { confusionMetrics, evaluate, percent } from './evaluate.js';
import {
  BEST_CHECKPOINT,
  DEFAULT_CONFIG,
  epochCheckpointName,
  LATEST_CHECKPOINT,
} from './paths.js';
import { backupRun, configName, latestCheckpoint } from './run-files.js';
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
 * Trains `model` as `config` says: optimizer, scheduler and loss; resume; data; TensorBoard;
 * then one loop iteration per batch and, after each epoch, the scheduler step, a validation
 * pass and a checkpoint.
 */
export async function doTrain(
  model: PointNetCls,
  config: AppConfig,
  run: RunContext,
): Promise<void> {
  const { logDir, logger } = run;
  model.train();

  // Optimizer, learning-rate schedule and loss from their config sections (never written to).
  const optimizer = buildOptimizer(model, config.optimizer);
  const lrScheduler = buildLrScheduler(optimizer, config.lr_scheduler);
  // FIXME: your loss. `withRegularization` adds the model's own term when it returns one
  // (PointNet's feature-transform regularisation); the criterion returns [loss, lossOut].
  const criterion = withRegularization(buildLoss<Criterion>(config.loss));

  // Resume: weights, optimizer, scheduler, random state and data position of the last epoch.
  let epoch = 1; // the epoch to run next, 1-based
  let iter = 0; // iterations done so far, over all epochs
  let loaderState: DataLoaderState | undefined;
  let best: BestEpoch | undefined; // the highest validation accuracy so far and its epoch
  // Temporaries of a checkpoint write a kill interrupted in an earlier run (rank 0 only).
  removeStaleTemporaries(logDir, { logger: (line) => logger.info(line) });
  const checkpoint = config.resume || config.evalOnly ? await agreedCheckpoint(logDir) : undefined;
  if (config.resume && checkpoint === undefined) {
    logger.warn(`--resume: no ${LATEST_CHECKPOINT} in ${logDir} yet; starting from scratch`);
  }
  if (checkpoint !== undefined) {
    const { meta, extra } = await resume({
      model,
      filename: checkpoint,
      optimizer,
      scheduler: lrScheduler,
      logger: (line) => logger.info(line),
    });
    const position = checkpointPosition(checkpoint, meta, extra);
    epoch = position.epoch + 1; // meta.epoch is the epoch the checkpoint finished
    iter = position.iter; // meta.iter counts the iterations done: no index is skipped
    loaderState = position.loader;
    best = bestEpochOf(meta);
    logger.info(`resumed after epoch ${position.epoch} (iteration ${iter})`);
  }
  // Every rank starts from rank 0's weights (after a resume too: the seed restored them on
  // rank 0 only). A no-op with one process.
  await broadcastParameters(model);

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
  if (loaderState !== undefined) trainLoader.loadStateDict(loaderState);
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

  if (config.evalOnly) {
    if (checkpoint === undefined) {
      throw new AppError(
        'APP_NO_CHECKPOINT',
        `--eval-only: no ${LATEST_CHECKPOINT} in ${logDir} to evaluate.`,
      );
    }
    if (testSet && testLoader) await validate(model, testSet, testLoader, epoch - 1, logger);
    return;
  }

  // TensorBoard: events.out.tfevents.* in the log folder (rank 0 only).
  const writer = new TensorBoardWriter(logDir);

  // Buffers of numbers (never tensors: a buffered tensor would keep its graph alive).
  const lossBuffer = new HistoryBuffer();
  const iterTime = new HistoryBuffer();
  const dataTime = new HistoryBuffer();
  const runTimer = new Timer();
  let lastAccuracy: number | undefined;

  while (epoch <= config.epochs) {
    // A new order (the loader hands the epoch to the DistributedSampler) and new augmentations
    // every epoch: the seed never called set_epoch, so every epoch repeated the first one's order.
    trainLoader.setEpoch(epoch);
    sampler?.setEpoch(epoch);
    trainSet.setEpoch(epoch);
    const epochTimer = new Timer(); // restarts every epoch
    const iterTimer = new Timer();
    const firstIter = trainLoader.batchIndex; // not 0 after a mid-epoch resume
    const progress = isMainProcess()
      ? new EpochProgress({
          total: itersPerEpoch,
          epoch,
          epochs: config.epochs,
          startIter: firstIter,
          everySecs: config.progressSecs,
          write: (line) => logger.info(line),
        })
      : undefined;

    let i = firstIter;
    for await (const batch of trainLoader) {
      dataTime.update(iterTimer.sinceLast());

      // FIXME: your forward step and loss. Points [B, N, C], labels [B].
      const { value, grads } = tf.variableGrads(() => {
        const output = model.forward(batch.points); // { logits [B, classes], regularization? }
        const [loss] = criterion({ ...output, labels: batch.labels });
        return loss as tf.Scalar;
      }, model.parameters());
      // FIXME: the part to replace ends here.

      // Average the gradients over the processes (the identity with one), then update.
      const reduced = await allReduceGradients(grads);
      optimizer.step(reduced);
      const loss = (await value.data())[0]!;
      tf.dispose([value, batch.points, batch.labels, ...Object.values(grads), ...reduced.values()]);

      lossBuffer.update(loss);
      const lr = optimizer.getLr();
      iter += 1;
      writer.update({ 'train/loss': loss, lr }, iter);
      if (lrScheduler.by === 'iteration') lrScheduler.step();

      iterTime.update(iterTimer.sinceStart());
      iterTimer.reset();
      // The ETA counts the iterations left: (epochs - epoch) · itersPerEpoch + (itersPerEpoch - i - 1).
      progress?.update(i, { loss: lossBuffer.average(20), lr, dataTime: dataTime.latest });
      i += 1;
    }
    progress?.stop();
    await synchronize();

    // The schedule steps once an epoch (unless it is driven by iterations, above).
    if (lrScheduler.by === 'epoch') lrScheduler.step();

    // The epoch's mean loss over every process, read before the buffers are cleared.
    const epochLoss = await meanOverRanks(lossBuffer.sum, lossBuffer.count);
    const epochTime = epochTimer.sinceStart();
    logger.info(
      `epoch: ${epoch}/${config.epochs}, train loss: ${epochLoss.toFixed(4)}, ` +
        `lr: ${optimizer.getLr().toFixed(6)}, iter_time: ${iterTime.avg.toFixed(3)}s, ` +
        `data_time: ${dataTime.avg.toFixed(3)}s, time: ${epochTime.toFixed(1)}s`,
    );
    writer.addScalar('train/epoch_loss', epochLoss, epoch);

    // BatchNorm statistics differ per process: average them before evaluating and saving.
    await syncBuffers(model);
    let accuracy: { overall: number; meanClass: number } | undefined;
    if (testSet && testLoader) {
      accuracy = await validate(model, testSet, testLoader, epoch, logger, writer);
      writer.addScalar('val/accuracy', accuracy.overall, epoch);
      writer.addScalar('val/mean_class_accuracy', accuracy.meanClass, epoch);
      lastAccuracy = accuracy.overall;
      if (best === undefined || accuracy.overall > best.accuracy) {
        best = { accuracy: accuracy.overall, epoch };
      }
      logger.info(`best validation accuracy: ${percent(best.accuracy)} (epoch ${best.epoch})`);
    }

    // Checkpoint: epoch_00001.safetensors ... and epoch_latest.safetensors (rank 0 writes).
    const meta = {
      epoch,
      iter,
      loss: epochLoss,
      time: epochTime,
      ...(accuracy === undefined ? {} : { accuracy: accuracy.overall }),
      ...(best === undefined ? {} : { bestAccuracy: best.accuracy, bestEpoch: best.epoch }),
    };
    const names = [epochCheckpointName(epoch), LATEST_CHECKPOINT];
    if (best !== undefined && best.epoch === epoch) names.push(BEST_CHECKPOINT);
    for (const name of names) {
      await saveCheckpoint({
        model,
        filename: join(logDir, name),
        optimizer,
        scheduler: lrScheduler,
        meta,
        config,
        extra: { loader: trainLoader.stateDict() },
      });
    }
    logger.info(`Saving ${join(logDir, epochCheckpointName(epoch))}`);
    logger.metrics({
      epoch,
      iter,
      loss: epochLoss,
      lr: optimizer.getLr(),
      epochSeconds: epochTime,
      ...(accuracy === undefined
        ? {}
        : { accuracy: accuracy.overall, meanClassAccuracy: accuracy.meanClass }),
      ...(best === undefined ? {} : { bestAccuracy: best.accuracy, bestEpoch: best.epoch }),
    });
    writer.flush();

    lossBuffer.clear();
    iterTime.clear();
    dataTime.clear();
    epoch += 1;
  }
  writer.close();
  await trainLoader.close();
  logger.info(
    `training done in ${runTimer.sinceStart().toFixed(1)}s` +
      (lastAccuracy === undefined ? '' : `; validation accuracy ${percent(lastAccuracy)}`) +
      (best === undefined ? '' : `, best ${percent(best.accuracy)} at epoch ${best.epoch}`),
  );
  logger.info(
    `classify in the browser: pnpm --filter modelnet-viewer dev --open "/?checkpoint=/@fs${resolve(logDir, LATEST_CHECKPOINT)}"`,
  );
}

/** Evaluates on the test split (every rank its shard) and logs the accuracies. */
async function validate(
  model: PointNetCls,
  testSet: PointCloudDataset,
  testLoader: ReturnType<typeof buildTestLoader>,
  epoch: number,
  logger: Logger,
  writer?: TensorBoardWriter,
): Promise<{ overall: number; meanClass: number }> {
  const matrix = await evaluate(model, testLoader, testSet.numClasses);
  const metrics = confusionMetrics(matrix);
  // The labelled confusion matrix in TensorBoard's Images tab (rank 0 writes).
  if (writer !== undefined && isMainProcess()) {
    writeConfusionImage(writer, matrix, testSet.classNames, epoch);
  }
  logger.info(
    `epoch: ${epoch}, validation accuracy: ${percent(metrics.overallAccuracy)}, ` +
      `mean class accuracy: ${percent(metrics.meanClassAccuracy)} (${metrics.total} samples)`,
  );
  return { overall: metrics.overallAccuracy, meanClass: metrics.meanClassAccuracy };
}

/** The highest validation accuracy so far and the epoch that reached it. */
interface BestEpoch {
  accuracy: number;
  epoch: number;
}

/** The best epoch recorded in a checkpoint's meta (absent in checkpoints of older runs). */
function bestEpochOf(meta: Record<string, unknown>): BestEpoch | undefined {
  const { bestAccuracy, bestEpoch } = meta;
  return typeof bestAccuracy === 'number' && Number.isInteger(bestEpoch)
    ? { accuracy: bestAccuracy, epoch: bestEpoch as number }
    : undefined;
}

/** `sum / count` over every process (one all-reduce); NaN when nothing was counted. */
async function meanOverRanks(sum: number, count: number): Promise<number> {
  const totals = await allReduce(Float64Array.of(sum, count), 'sum');
  return totals[1]! > 0 ? totals[0]! / totals[1]! : Number.NaN;
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

/** Reads `{ epoch, iter }` and the loader position from a checkpoint's meta and extra. */
function checkpointPosition(
  filename: string,
  meta: Record<string, unknown>,
  extra: unknown,
): { epoch: number; iter: number; loader: DataLoaderState | undefined } {
  const { epoch, iter } = meta;
  if (!Number.isInteger(epoch) || !Number.isInteger(iter)) {
    throw new AppError(
      'APP_NO_CHECKPOINT',
      `${filename} has no training position (meta.epoch and meta.iter): it was not saved by this command. ` +
        'Load it for evaluation with the test command instead.',
    );
  }
  const loader = (extra as { loader?: DataLoaderState } | undefined)?.loader;
  return { epoch: epoch as number, iter: iter as number, loader };
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
