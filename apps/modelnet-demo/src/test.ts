/**
 * The `test` command (run through `pnpm --filter modelnet-demo eval`): evaluates a checkpoint on
 * the test split and reports the overall accuracy, the mean class accuracy, a per-class table
 * and the confusion matrix, written as a PNG heatmap and a CSV file beside the checkpoint (or in
 * `--out`).
 *
 * The model and data come from the config saved in the checkpoint, or from `--config` when
 * given; `key=value` overrides apply on top (e.g. `dataset.dataRoot=/data/modelnet40`).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  Config,
  type DefaultArgs,
  defaultArgumentParser,
  mergeCfgAndArgs,
  type ParsedArgs,
} from '@gorilla-ts/config';
import { getWorldSize, isMainProcess, launch } from '@gorilla-ts/dist';
import type { PointNetCls } from '@gorilla-ts/models-pointnet';
import { buildModel } from '@gorilla-ts/registry';
import {
  checkCheckpointConfig,
  initBackend,
  loadCheckpoint,
  readCheckpoint,
  setRandomSeed,
} from '@gorilla-ts/train';
import type { Command } from 'commander';
import { APP_CONFIG_KEYS, validateAppConfig } from './config-schema.js';
import { confusionImages } from './confusion-image.js';
import { buildPointCloudDataset, buildTestLoader, checkModelFitsData } from './data.js';
import { AppError, parseCommandArgs, reportUserErrors } from './errors.js';
import { confusionCsv, confusionMetrics, evaluate, perClassTable, percent } from './evaluate.js';
import { CHECKPOINT_EXTENSION, DEFAULT_CONFIG, LATEST_CHECKPOINT } from './paths.js';
import { evalReportHtml, readRunHistory } from './report.js';
import { configName, readCheckpointMetadata } from './run-files.js';
import './datasets/index.js';

/** The options of `test` beside the standard ones. */
export interface TestOptions extends DefaultArgs {
  /** The checkpoint to evaluate. Defaults to `<logRoot>/<config name>/epoch_latest.safetensors`. */
  checkpoint?: string;
  /** Where the confusion matrix files go. Defaults to the checkpoint's folder. */
  out?: string;
}

/** Options of `test` that are not config keys. */
const TEST_ONLY_KEYS = { checkpoint: false, out: false } as const;

/** The command line: the standard options plus `--checkpoint` and `--out`. */
export function getParser(): Command {
  return defaultArgumentParser({
    name: 'test',
    description:
      'Evaluate a checkpoint on the test split: accuracies, the confusion matrix and an HTML report (alias: eval)',
    // Training-only options: evaluation neither resumes nor trains.
    omit: ['resume', 'evalOnly'],
  })
    .option(
      '--checkpoint <path>',
      `checkpoint to evaluate (default: log/<config name>/${LATEST_CHECKPOINT})`,
    )
    .option(
      '--out <dir>',
      'folder for the confusion matrix (SVG, PNG, CSV) and the HTML report (default: beside the checkpoint)',
    );
}

/**
 * Which checkpoint and which config: `--checkpoint`, else the latest checkpoint of the config's
 * run (`log/<config name>/epoch_latest.safetensors`); `--config`, else the config saved in the
 * checkpoint (what it was trained with). A stored config is data only: one that names code to
 * run (`dataloader.worker_module`, ...) is refused, see `checkCheckpointConfig`.
 */
async function resolveInputs(
  args: ParsedArgs<TestOptions>,
): Promise<{ checkpoint: string; cfg: Config }> {
  const { config: configPath, checkpoint: given } = args.options;
  const fileCfg = configPath === undefined ? undefined : await Config.fromFile(configPath);
  const logRoot = typeof fileCfg?.logRoot === 'string' ? fileCfg.logRoot : 'log';
  const checkpoint =
    given ?? join(logRoot, configName(configPath ?? DEFAULT_CONFIG), LATEST_CHECKPOINT);
  if (given === undefined && !existsSync(checkpoint)) {
    throw new AppError(
      'APP_NO_CHECKPOINT',
      `No checkpoint at ${resolve(checkpoint)}: train first (pnpm --filter modelnet-demo train` +
        `${configPath === undefined ? '' : ` --config ${configPath}`}) or pass --checkpoint <file>.`,
    );
  }
  if (fileCfg !== undefined) return { checkpoint, cfg: fileCfg };
  const metadata = readCheckpointMetadata(checkpoint);
  // Not a readable checkpoint: let the reader say what is wrong with it.
  if (metadata === undefined) await readCheckpoint(checkpoint);
  if (metadata?.config === undefined) {
    throw new AppError(
      'APP_NO_CHECKPOINT',
      `${checkpoint} holds no config (it was not saved by the train command): pass --config to say how to build the model and data.`,
    );
  }
  // A checkpoint is data: its config may not name code to run (a worker module, say).
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata.config);
  } catch {
    throw new AppError(
      'APP_NO_CHECKPOINT',
      `${checkpoint}: its stored config is not JSON: pass --config to say how to build the model and data.`,
    );
  }
  const stored = checkCheckpointConfig(
    parsed as Parameters<typeof checkCheckpointConfig>[0],
    checkpoint,
  );
  return { checkpoint, cfg: new Config(stored) };
}

/** Evaluates the checkpoint; rank 0 prints the report and writes the files. */
export async function main(args: ParsedArgs<TestOptions>): Promise<void> {
  const { checkpoint, cfg } = await resolveInputs(args);
  const merged = mergeCfgAndArgs(cfg, args, { keys: TEST_ONLY_KEYS });
  const config = validateAppConfig(merged, args, TEST_ONLY_KEYS);
  setRandomSeed(config.seed);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await initBackend({
    ...(config.backend === undefined ? {} : { backend: config.backend }),
    logger: log,
  });

  const model = buildModel<PointNetCls>(config.model);
  await loadCheckpoint(model, checkpoint);
  const testSet = await buildPointCloudDataset(config.dataset, 'test');
  checkModelFitsData(model, testSet);
  const loader = buildTestLoader(testSet, config.dataloader);
  const matrix = await evaluate(model, loader, testSet.numClasses);
  await loader.close();
  if (!isMainProcess()) return;

  const metrics = confusionMetrics(matrix);
  const outDir = resolve(args.options.out ?? dirname(checkpoint));
  const stem = `${basename(checkpoint, CHECKPOINT_EXTENSION)}_confusion`;
  mkdirSync(outDir, { recursive: true });
  const png = join(outDir, `${stem}.png`);
  const svg = join(outDir, `${stem}.svg`);
  const csv = join(outDir, `${stem}.csv`);
  const html = join(outDir, `${basename(checkpoint, CHECKPOINT_EXTENSION)}_report.html`);
  const images = confusionImages(matrix, testSet.classNames, {
    title: `Confusion matrix: ${basename(checkpoint)}`,
  });
  writeFileSync(png, images.png);
  writeFileSync(svg, images.svg);
  writeFileSync(csv, confusionCsv(matrix, testSet.classNames));
  writeFileSync(
    html,
    evalReportHtml({
      checkpoint: resolve(checkpoint),
      metrics,
      classNames: testSet.classNames,
      confusionSvg: images.svg,
      history: readRunHistory(dirname(resolve(checkpoint))),
    }),
  );

  const lines = [
    `checkpoint: ${resolve(checkpoint)}`,
    `test samples: ${metrics.total}${getWorldSize() > 1 ? ` (on ${getWorldSize()} processes)` : ''}`,
    `overall accuracy: ${percent(metrics.overallAccuracy)}`,
    `mean class accuracy: ${percent(metrics.meanClassAccuracy)}`,
    '',
    perClassTable(metrics, testSet.classNames),
    '',
    `confusion matrix: ${svg}`,
    `confusion matrix: ${png}`,
    `confusion matrix: ${csv}`,
    `report: ${html}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The `test` command: parse, then evaluate on `--num-gpus` processes (1 by default). */
export async function testCommand(argv: readonly string[]): Promise<void> {
  const args = parseCommandArgs<TestOptions>(
    getParser(),
    argv,
    APP_CONFIG_KEYS.filter((key) => key !== 'resume' && key !== 'evalOnly'),
  );
  const { numGpus, numMachines, machineRank, distUrl, oversubscribe } = args.options;
  await launch(reportUserErrors(main), numGpus, {
    numMachines,
    machineRank,
    distUrl,
    args,
    ...(oversubscribe === undefined ? {} : { oversubscribe }),
  });
}
