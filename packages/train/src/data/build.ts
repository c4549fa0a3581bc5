import { type BuildConfig, DATASETS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { DataLoaderError } from '../errors.js';
import { DataLoader, type DataLoaderOptions } from './data-loader.js';
import { ConcatDataset, type Dataset, RepeatDataset } from './dataset.js';
import type { Sampler } from './sampler.js';

/**
 * Builds a dataset from its config with the `DATASETS` registry, after gorilla's
 * `build_dataset`: a list builds each and concatenates them ({@link ConcatDataset});
 * `{ type: 'RepeatDataset', dataset, times }` repeats the inner one ({@link RepeatDataset}).
 * The config is never modified. No `CLASSES` attribute is required.
 *
 * @throws the registry's errors (unknown type, invalid arguments), and {@link DataLoaderError}
 *   when what was built is not a dataset (no numeric `length` or no `get`).
 */
export function buildDataset<T = unknown>(
  cfg: BuildConfig | readonly BuildConfig[],
  defaults?: Record<string, unknown>,
): Dataset<T> {
  if (Array.isArray(cfg)) {
    return new ConcatDataset(cfg.map((item: BuildConfig) => buildDataset<T>(item, defaults)));
  }
  const config = cfg as BuildConfig;
  if (config.type === 'RepeatDataset') {
    const { dataset, times } = config;
    if (typeof dataset !== 'object' || dataset === null || typeof times !== 'number') {
      throw new DataLoaderError(
        "buildDataset: a RepeatDataset config needs 'dataset' (a dataset config) and 'times' (a positive integer).",
      );
    }
    return new RepeatDataset(buildDataset<T>(dataset as BuildConfig, defaults), times);
  }
  const built = DATASETS.build(config, defaults);
  if (!isDataset(built)) {
    throw new DataLoaderError(
      `buildDataset: '${String(config.type)}' built something that is not a dataset: it needs a numeric 'length' and a 'get(index)' method.`,
    );
  }
  return built as Dataset<T>;
}

const optionalInt = (min: number) => z.number().int().min(min).optional();

/**
 * The data-loader section of a config; gorilla's snake_case keys or camelCase ones. Exported so
 * that an app can check a whole config before building anything.
 */
export const LOADER_CONFIG = z.strictObject({
  batch_size: optionalInt(1),
  batchSize: optionalInt(1),
  num_workers: optionalInt(0),
  numWorkers: optionalInt(0),
  shuffle: z.boolean().optional(),
  drop_last: z.boolean().optional(),
  dropLast: z.boolean().optional(),
  seed: z.number().int().optional(),
  prefetch: optionalInt(0),
  worker_module: z.string().optional(),
  workerModule: z.string().optional(),
  worker_options: z.unknown().optional(),
  workerOptions: z.unknown().optional(),
});

/** The data-loader section of a config, as {@link buildDataloader} reads it. */
export type DataLoaderConfig = z.input<typeof LOADER_CONFIG>;

/** Options of {@link buildDataloader}: anything here wins over the config. */
export interface BuildDataloaderOptions<T, B> extends DataLoaderOptions<T, B> {
  /** The index order (e.g. a `DistributedSampler`). Defaults to the loader's own. */
  sampler?: Sampler;
}

/**
 * Builds a {@link DataLoader} from the `dataloader` section of a config, after gorilla's
 * `build_dataloader`. `dataset` may be a dataset or a dataset config (built with
 * {@link buildDataset}). The config takes `batch_size` (required), `num_workers`, `shuffle`,
 * `drop_last`, `seed`, `prefetch`, `worker_module` and `worker_options`, in snake_case or
 * camelCase; `options` (the seed's `shuffle=True, drop_last=True` keyword arguments, a
 * `sampler`, a `collate`) win over it. A dataset's own `collate` method is used when no
 * `collate` is given. The config is never modified.
 *
 * @throws {@link DataLoaderError} listing every invalid key of the config.
 */
export function buildDataloader<T, B = unknown>(
  dataset: Dataset<T> | BuildConfig | readonly BuildConfig[],
  cfg: Readonly<DataLoaderConfig>,
  options: BuildDataloaderOptions<T, B> = {},
): DataLoader<T, B> {
  const parsed = LOADER_CONFIG.safeParse(cfg);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  - ${issue.path.join('.') || '(config)'}: ${issue.message}`,
    );
    throw new DataLoaderError(`Invalid data-loader config:\n${lines.join('\n')}`, {
      cause: parsed.error,
    });
  }
  const config = parsed.data;
  const pick = <K extends keyof typeof config>(snake: K, camel: K) => {
    if (config[snake] !== undefined && config[camel] !== undefined) {
      throw new DataLoaderError(
        `Invalid data-loader config: give '${String(snake)}' or '${String(camel)}', not both.`,
      );
    }
    return config[snake] ?? config[camel];
  };
  const batchSize = options.batchSize ?? (pick('batch_size', 'batchSize') as number | undefined);
  if (batchSize === undefined) {
    throw new DataLoaderError("Invalid data-loader config: 'batch_size' is required.");
  }
  const built: Dataset<T> = isDataset(dataset) ? dataset : buildDataset<T>(dataset as BuildConfig);
  const datasetCollate = (built as { collate?: unknown }).collate;
  const loaderOptions: DataLoaderOptions<T, B> = {
    batchSize,
    numWorkers: (pick('num_workers', 'numWorkers') as number | undefined) ?? 0,
    shuffle: config.shuffle ?? false,
    dropLast: (pick('drop_last', 'dropLast') as boolean | undefined) ?? false,
    seed: config.seed ?? 0,
    prefetch: config.prefetch ?? 2,
    ...defined({
      workerModule: pick('worker_module', 'workerModule') as string | undefined,
      workerOptions: pick('worker_options', 'workerOptions'),
      collate:
        typeof datasetCollate === 'function'
          ? (datasetCollate.bind(built) as (samples: T[]) => B)
          : undefined,
    }),
    ...defined(options),
  };
  return new DataLoader<T, B>(built, loaderOptions);
}

function defined<O extends object>(object: O): Partial<O> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as Partial<O>;
}

function isDataset(value: unknown): value is Dataset<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { length?: unknown }).length === 'number' &&
    typeof (value as { get?: unknown }).get === 'function'
  );
}
