/**
 * gorilla-core's `plain_train.py`, function by function, with gorilla-ts's building blocks: the
 * teaching example of a hand-written training loop. The product (the ModelNet demo's `train`)
 * runs the same steps on the toolkit's `Trainer`; read this file to see what the Trainer does,
 * or copy it when you want the loop in your own hands. Adapt the places marked `FIXME`.
 *
 *   getParser() → main(args) → doTrain(model, cfg, logger)
 *
 * Differences from the seed, each fixing one of its bugs: `epoch`/`iter` start at 1/0 without a
 * checkpoint; `--resume` continues at the next epoch with the same iteration count and data
 * position; the epoch timer restarts every epoch; the saved loss is the epoch's mean; losses are
 * buffered as numbers, not tensors; the data order changes every epoch; `epoch_latest` is a hard
 * link to the epoch's file, not a second copy, and old epoch files are pruned (`max_keep`).
 *
 * Run: `pnpm --filter plain-train-example build && node dist/plain-train.js --epochs 2`.
 */
import { join } from 'node:path';
import {
  Config,
  type DefaultArgs,
  defaultArgumentParser,
  mergeCfgAndArgs,
  type ParsedArgs,
  parseArgs,
} from '@gorilla-ts/config';
import { launch } from '@gorilla-ts/dist';
import { type PointNetCls, withRegularization } from '@gorilla-ts/models-pointnet';
import { buildLoss, buildModel } from '@gorilla-ts/registry';
import {
  allReduceGradients,
  broadcastParameters,
  buildDataloader,
  buildLrScheduler,
  buildOptimizer,
  type Criterion,
  checkpointName,
  collectLogger,
  type DataLoaderState,
  findLatestCheckpoint,
  HistoryBuffer,
  initBackend,
  LATEST_CHECKPOINT,
  type Logger,
  linkCheckpoint,
  parameterCount,
  pruneCheckpoints,
  resume,
  saveCheckpoint,
  setRandomSeed,
  TensorBoardWriter,
  Timer,
} from '@gorilla-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { type PointBatch, pointCollate, SyntheticPointClouds } from './synthetic.js';

/** The config sections this script reads (the seed's names). */
interface PlainConfig {
  model: { type: string; [key: string]: unknown };
  optimizer: { type: string; [key: string]: unknown };
  lr_scheduler: { type: string; [key: string]: unknown };
  loss: { type: string; [key: string]: unknown };
  dataset: { samples_per_class?: number; num_points?: number };
  dataloader: { batch_size: number; [key: string]: unknown };
  epochs: number;
  seed?: number;
  /** Epoch files kept beside `epoch_latest` (0: all, as the seed). Defaults to 3. */
  max_keep?: number;
  logRoot?: string;
  resume?: boolean;
}

type Args = ParsedArgs<DefaultArgs & { epochs?: number; logRoot?: string }>;

/**
 * The seed's `get_parser()`: the standard options (`--config`, `--resume`, `--num-gpus`, ...)
 * plus this script's own. FIXME: add yours; `mergeCfgAndArgs` copies them into the config.
 */
export function getParser(): Command {
  return defaultArgumentParser({
    name: 'plain-train',
    description: "gorilla-core's plain_train.py with gorilla-ts",
    defaultConfig: 'config/default.yaml',
  })
    .option('--epochs <n>', 'epochs to train (overrides the config)', Number)
    .option('--log-root <dir>', 'the folder of the log folders (default: log)');
}

/** The seed's `main(args)`: config, logger, seed, backend, model, then {@link doTrain}. */
export async function main(args: Args): Promise<void> {
  const cfg = mergeCfgAndArgs(await Config.fromFile(args.options.config!), args);
  const config = cfg.toObject() as unknown as PlainConfig;
  // log/<config name>/<timestamp>.log, the seed's `collect_logger`.
  const { logDir, logger } = collectLogger({ root: config.logRoot ?? 'log', prefix: 'default' });
  setRandomSeed(config.seed ?? 0, { logger: (line) => logger.info(line) });
  await initBackend({ logger: (line) => logger.info(line) });

  logger.info('=> creating model ...');
  const model = buildModel<PointNetCls>(config.model); // FIXME: your model
  logger.info(`#classifier parameters: ${parameterCount(model).get('') ?? 0}`);
  await doTrain(model, config, logDir, logger);
}

/** The seed's `do_train(model, cfg, logger)`: the loop, written out. */
export async function doTrain(
  model: PointNetCls,
  config: PlainConfig,
  logDir: string,
  logger: Logger,
): Promise<void> {
  model.train();
  const optimizer = buildOptimizer(model, config.optimizer);
  const lrScheduler = buildLrScheduler(optimizer, config.lr_scheduler);
  // FIXME: your loss. `withRegularization` adds PointNet's feature-transform term.
  const criterion = withRegularization(buildLoss<Criterion>(config.loss));

  // Resume: the seed's `get_checkpoint` + `gorilla.resume`.
  let epoch = 1;
  let iter = 0;
  let loaderState: DataLoaderState | undefined;
  const checkpoint = config.resume ? await findLatestCheckpoint(logDir) : undefined;
  if (checkpoint !== undefined) {
    const { meta, extra } = await resume({
      model,
      filename: checkpoint,
      optimizer,
      scheduler: lrScheduler,
      logger: (line) => logger.info(line),
    });
    epoch = (meta.epoch as number) + 1;
    iter = meta.iter as number;
    loaderState = (extra as { loader?: DataLoaderState } | undefined)?.loader;
  }
  await broadcastParameters(model); // every process starts from rank 0's weights

  // Data. FIXME: your data set and batches (`batch.points`, `batch.labels`).
  const datasetOptions = {
    samplesPerClass: config.dataset.samples_per_class ?? 32,
    numPoints: config.dataset.num_points ?? 128,
    seed: config.seed ?? 0,
  };
  const trainSet = new SyntheticPointClouds({ ...datasetOptions, split: 'train' });
  const testSet = new SyntheticPointClouds({ ...datasetOptions, split: 'test' });
  const trainLoader = buildDataloader(trainSet, config.dataloader, {
    shuffle: true,
    dropLast: true,
    collate: pointCollate,
  });
  if (loaderState !== undefined) trainLoader.loadStateDict(loaderState);
  const testLoader = buildDataloader(testSet, config.dataloader, { collate: pointCollate });

  const writer = new TensorBoardWriter(logDir);
  const lossBuffer = new HistoryBuffer();
  const iterTime = new HistoryBuffer();
  const dataTime = new HistoryBuffer();
  const kept: string[] = [];

  while (epoch <= config.epochs) {
    trainLoader.setEpoch(epoch); // a new order every epoch
    const epochTimer = new Timer();
    const iterTimer = new Timer();
    let i = trainLoader.batchIndex;
    for await (const batch of trainLoader) {
      dataTime.update(iterTimer.sinceLast());
      // FIXME: your forward step and loss.
      const { value, grads } = tf.variableGrads(() => {
        const output = model.forward(batch.points); // { logits, regularization? }
        const [loss] = criterion({ ...output, labels: batch.labels });
        return loss as tf.Scalar;
      }, model.parameters());
      // Average the gradients over the processes (the identity with one), then update.
      const reduced = await allReduceGradients(grads);
      optimizer.step(reduced);
      const loss = (await value.data())[0]!;
      tf.dispose([value, batch.points, batch.labels, ...Object.values(grads), ...reduced.values()]);

      lossBuffer.update(loss);
      const lr = optimizer.getLr();
      iter += 1;
      writer.update({ 'train/loss': loss, lr }, iter);
      iterTime.update(iterTimer.sinceStart());
      iterTimer.reset();
      i += 1;
      if (i % 10 === 0 || i === trainLoader.length) {
        logger.info(
          `epoch: ${epoch}/${config.epochs} iter: ${i}/${trainLoader.length} lr: ${lr.toFixed(6)} ` +
            `loss: ${lossBuffer.latest.toFixed(4)}(${lossBuffer.avg.toFixed(4)}) ` +
            `data_time: ${dataTime.latest.toFixed(2)}(${dataTime.avg.toFixed(2)}) ` +
            `iter_time: ${iterTime.latest.toFixed(2)}(${iterTime.avg.toFixed(2)})`,
        );
      }
    }
    lrScheduler.step();
    const epochLoss = lossBuffer.avg;
    logger.info(
      `epoch: ${epoch}/${config.epochs}, train loss: ${epochLoss.toFixed(4)}, time: ${epochTimer.sinceStart().toFixed(1)}s`,
    );
    const accuracy = await evaluate(model, testLoader);
    logger.info(`epoch: ${epoch}, validation accuracy: ${(accuracy * 100).toFixed(2)}%`);
    writer.addScalar('val/accuracy', accuracy, epoch);

    // Checkpoints: the library's naming, linking and pruning (the Trainer's CheckpointHook uses
    // the same helpers). epoch_00003.safetensors, epoch_latest.safetensors linked to it.
    const name = checkpointName('epoch', epoch);
    const file = join(logDir, name);
    await saveCheckpoint({
      model,
      filename: file,
      optimizer,
      scheduler: lrScheduler,
      meta: { epoch, iter, loss: epochLoss, accuracy },
      extra: { loader: trainLoader.stateDict() },
    });
    logger.info(`Saving ${file}`);
    await linkCheckpoint(file, join(logDir, LATEST_CHECKPOINT));
    kept.push(name);
    const maxKeep = config.max_keep ?? 3;
    if (maxKeep > 0) await pruneCheckpoints(logDir, kept.splice(0, kept.length - maxKeep));
    writer.flush();

    lossBuffer.clear();
    iterTime.clear();
    dataTime.clear();
    epoch += 1;
  }
  writer.close();
  await trainLoader.close();
}

/** Overall accuracy on `loader` in evaluation mode. */
async function evaluate(
  model: PointNetCls,
  loader: AsyncIterable<PointBatch> & { setEpoch(epoch: number): void },
): Promise<number> {
  model.eval();
  let correct = 0;
  let total = 0;
  try {
    loader.setEpoch(0);
    for await (const batch of loader) {
      const hits = tf.tidy(() =>
        tf.sum(
          tf.cast(
            tf.equal(tf.argMax(model.forward(batch.points).logits, -1), batch.labels),
            'int32',
          ),
        ),
      );
      correct += (await hits.data())[0]!;
      total += batch.labels.size;
      tf.dispose([hits, batch.points, batch.labels]);
    }
  } finally {
    model.train();
  }
  return total > 0 ? correct / total : Number.NaN;
}

// The seed's `if __name__ == "__main__"`: parse, then launch (one process calls main directly).
const args = parseArgs<Args['options']>(getParser(), process.argv.slice(2));
await launch(main, args.options.numGpus, {
  numMachines: args.options.numMachines,
  machineRank: args.options.machineRank,
  distUrl: args.options.distUrl,
  args,
});
