import {
  attributeIssues,
  Config,
  type ConfigIssue,
  ConfigValidationError,
  mergeCfgAndArgs,
  type ParsedArgs,
  safeValidateConfig,
  toConfigIssues,
} from '@gorilla-ts/config';
import {
  DATASETS,
  HOOKS,
  LOSSES,
  MODELS,
  OPTIMIZERS,
  type Registry,
  type RegistryIssue,
  SCHEDULERS,
} from '@gorilla-ts/registry';
import { dataLoaderConfigSchema } from '@gorilla-ts/train';
import { z } from 'zod';
// The entries the sections name: PointNetCls in MODELS, the data sets in DATASETS (the
// optimizers, schedulers and losses register with @gorilla-ts/train).
import '@gorilla-ts/models-pointnet';
import './datasets/index.js';

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
  /** Allow more local processes than devices (`--oversubscribe`). */
  oversubscribe: z.boolean().optional(),
  /** The process-group backend: `tcp` (built in) or `mpi` (under `mpirun`/`srun`). */
  distBackend: z.enum(['tcp', 'mpi']).optional(),
  /** `tensorflow-gpu`, `tensorflow`, `wasm`, `cpu` or `auto` (checked by `initBackend`). */
  backend: z.string().optional(),
});

/** The top-level keys of the app's config (for the `--epochs 3` → `use epochs=3` hint). */
export const APP_CONFIG_KEYS: readonly string[] = Object.keys(appConfigSchema.shape);

/** The validated config the commands work with. */
export type AppConfig = z.output<typeof appConfigSchema>;

/** A config section built through a registry, and how its builder calls `build`. */
interface RegistrySection {
  readonly registry: Registry<unknown>;
  /** Keys the app's builder takes out before `build` (`by` of the scheduler). */
  readonly stripped?: readonly string[];
  /** Arguments the builder adds (`params` of an optimizer). */
  readonly provided?: readonly string[];
  readonly defaults?: Record<string, unknown>;
}

/** Every section of the app's config that a registry builds, with how it is built. */
const REGISTRY_SECTIONS: Readonly<Record<string, RegistrySection>> = {
  model: { registry: MODELS },
  optimizer: { registry: OPTIMIZERS, stripped: ['paramGroups'], provided: ['params'] },
  lr_scheduler: { registry: SCHEDULERS, stripped: ['by'], provided: ['optimizer'] },
  loss: { registry: LOSSES },
  dataset: { registry: DATASETS, defaults: { split: 'train' } },
};

/** The app's config file, merged with the command line and checked as a whole. */
export interface LoadedAppConfig {
  /** The effective config (file, `_base_` chain and command line merged). */
  readonly cfg: Config;
  /** The same, validated, with its defaults applied. */
  readonly config: AppConfig;
}

/**
 * Checks the whole effective config before anything is created or started: the top-level keys
 * against {@link appConfigSchema}, the data loader's keys, and every registry-built section
 * (`model`, `optimizer`, `lr_scheduler`, `loss`, `dataset`, `hooks`) against its entry's schema.
 * Every problem is reported at once, in one {@link ConfigValidationError}, each blamed on the
 * file (`configs/x.yaml: model.num_clases: unknown key, did you mean num_classes?`) or on the
 * command line (`command line: epochs=two: expected a number`).
 */
export function validateAppConfig(
  cfg: Config,
  args: ParsedArgs<object> | undefined,
  keys?: Readonly<Record<string, string | false>>,
): AppConfig {
  const data = cfg.toObject() as Record<string, unknown>;
  const attribute = (issues: ConfigIssue[]) =>
    attributeIssues(issues, { filename: cfg.filename, args, keys });
  const top = safeValidateConfig(cfg, appConfigSchema, { args, keys });
  const issues: ConfigIssue[] = top.success ? [] : [...top.error.issues];
  const fromRegistry = (found: readonly RegistryIssue[]): ConfigIssue[] =>
    attribute(
      found.map((issue) => ({
        path: issue.path.split('.'),
        code: issue.code,
        expected: undefined,
        received: '',
        message: `${issue.path}: ${issue.message}`,
      })),
    );
  for (const [key, section] of Object.entries(REGISTRY_SECTIONS)) {
    const value = data[key];
    if (value === undefined || typeof value !== 'object' || value === null) continue; // the schema says
    const rest: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const stripped of section.stripped ?? []) delete rest[stripped];
    issues.push(
      ...fromRegistry(
        section.registry.validate(rest, key, {
          ...(section.provided === undefined ? {} : { provided: section.provided }),
          ...(section.defaults === undefined ? {} : { defaults: section.defaults }),
        }),
      ),
    );
  }
  if (Array.isArray(data.hooks)) {
    data.hooks.forEach((hook, index) => {
      issues.push(...fromRegistry(HOOKS.validate(hook, `hooks.${index}`)));
    });
  }
  if (typeof data.dataloader === 'object' && data.dataloader !== null) {
    const loader = dataLoaderConfigSchema.safeParse(data.dataloader);
    if (!loader.success) {
      const found = toConfigIssues(
        loader.error.issues.map((issue) => ({ ...issue, path: ['dataloader', ...issue.path] })),
        data,
      );
      issues.push(...attribute(found));
    }
  }
  if (issues.length > 0 || !top.success) {
    throw new ConfigValidationError(issues, cfg.filename, top.error);
  }
  return top.data;
}

/**
 * Reads the config file (its `_base_` chain resolved), merges the command line over it
 * (options left at their defaults never override the file) and checks it all with
 * {@link validateAppConfig}. Nothing is created or started.
 */
export async function loadAppConfig(
  configPath: string,
  args: ParsedArgs<object>,
  keys?: Readonly<Record<string, string | false>>,
): Promise<LoadedAppConfig> {
  const cfg = mergeCfgAndArgs(await Config.fromFile(configPath), args, keys ? { keys } : {});
  return { cfg, config: validateAppConfig(cfg, args, keys) };
}
