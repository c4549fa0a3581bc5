import { z } from 'zod';

/**
 * A section built through a registry (`MODELS`, `DATASETS`, `OPTIMIZERS`, ...): a `type` and the
 * options of that type, which the registry validates when it builds it.
 */
const buildSection = z.looseObject({ type: z.string().min(1) });

/**
 * The app's config, after `_base_` resolution and the command line (`mergeCfgAndArgs`). Unknown
 * top-level keys are errors, so a typo (`epoch: 10`) is reported instead of ignored. The sections
 * keep the seed's names (`lr_scheduler`, `dataloader`); their contents are checked by the
 * builders (`MODELS.build`, `buildDataloader`, ...), which name the key and what was expected.
 */
export const appConfigSchema = z.strictObject({
  /** The network, built with `MODELS` (`PointNetCls`). */
  model: buildSection,
  /**
   * The data set, built with `DATASETS` once per split: `split: 'train'` (with `augment`) and
   * `split: 'test'` (without `augment`).
   */
  dataset: buildSection,
  /** `buildDataloader` options: `batch_size` (per process), `num_workers`, `prefetch`, ... */
  dataloader: z.record(z.string(), z.unknown()),
  /** `buildOptimizer`: `type` (`Adam`, `SGD`, ...), `lr`, `weightDecay`, `paramGroups`, ... */
  optimizer: buildSection,
  /** `buildLrScheduler`: `type` (`StepLR`, ...), its options, and `by: epoch | iteration`. */
  lr_scheduler: buildSection,
  /** `LOSSES`. Defaults to `{ type: CrossEntropyLoss }`. */
  loss: buildSection.default({ type: 'CrossEntropyLoss' }),
  /** Epochs to train. */
  epochs: z.number().int().positive(),
  /** Seed of weight initialisation, dropout and data order. Defaults to 0. */
  seed: z.number().int().nonnegative().default(0),
  /** Evaluate on the test split after every epoch. Defaults to true. */
  validate: z.boolean().default(true),
  /** Folder holding the runs' log folders (`<logRoot>/<config name>/`). Defaults to `log`. */
  logRoot: z.string().min(1).default('log'),
  /**
   * Checkpoints: `maxKeep` epoch files (`epoch_00001.safetensors`, ...) are kept beside
   * `epoch_latest` and `epoch_best` (hard links, no extra copies); `0` keeps every epoch's file,
   * as the seed did. Defaults to `{ maxKeep: 1 }`.
   */
  checkpoint: z
    .strictObject({ maxKeep: z.number().int().nonnegative().default(1) })
    .default({ maxKeep: 1 }),
  /** How often the progress line is printed when stderr is not a terminal, in seconds. Defaults to 10. */
  progressSecs: z.number().positive().default(10),
  // The command line's options (`defaultArgumentParser`), merged in by `mergeCfgAndArgs`.
  resume: z.boolean().default(false),
  evalOnly: z.boolean().default(false),
  numGpus: z.number().int().positive().default(1),
  numMachines: z.number().int().positive().default(1),
  machineRank: z.number().int().nonnegative().default(0),
  distUrl: z.string().default('auto'),
  /** The process-group backend: `tcp` (built in) or `mpi` (under `mpirun`/`srun`). */
  distBackend: z.enum(['tcp', 'mpi']).optional(),
  /** `tensorflow-gpu`, `tensorflow`, `wasm`, `cpu` or `auto` (checked by `initBackend`). */
  backend: z.string().optional(),
});

/** The validated config the commands work with. */
export type AppConfig = z.output<typeof appConfigSchema>;
