import { type BuildConfig, Registry } from './registry.js';

const SHARED = Symbol.for('@gorilla-ts/registry.standard');

type SharedRegistries = Map<string, Registry<unknown>>;

/**
 * The standard registries live on `globalThis`, so that two copies of this package in one
 * process (a common accident with nested `node_modules`) still share one `MODELS`.
 */
function standardRegistry(name: string): Registry<unknown> {
  const holder = globalThis as typeof globalThis & { [SHARED]?: SharedRegistries };
  holder[SHARED] ??= new Map();
  let registry = holder[SHARED].get(name);
  if (registry === undefined) {
    registry = new Registry<unknown>(name);
    holder[SHARED].set(name, registry);
  }
  return registry;
}

/** Models: whole networks (`PointNetCls`, ...). */
export const MODELS: Registry<unknown> = standardRegistry('models');
/** Building blocks of models (layers, heads). */
export const MODULES: Registry<unknown> = standardRegistry('modules');
/** Loss functions and criteria. */
export const LOSSES: Registry<unknown> = standardRegistry('losses');
/** Datasets. */
export const DATASETS: Registry<unknown> = standardRegistry('datasets');
/** Optimizers. */
export const OPTIMIZERS: Registry<unknown> = standardRegistry('optimizers');
/** Learning-rate schedulers. */
export const SCHEDULERS: Registry<unknown> = standardRegistry('schedulers');
/** Trainer hooks. */
export const HOOKS: Registry<unknown> = standardRegistry('hooks');

/** Builds a model from `cfg` with {@link MODELS}. */
export function buildModel<R = unknown>(cfg: BuildConfig, defaults?: Record<string, unknown>): R {
  return MODELS.build(cfg, defaults) as R;
}

/** Builds a module from `cfg` with {@link MODULES}. */
export function buildModule<R = unknown>(cfg: BuildConfig, defaults?: Record<string, unknown>): R {
  return MODULES.build(cfg, defaults) as R;
}

/** Builds a loss from `cfg` with {@link LOSSES}. */
export function buildLoss<R = unknown>(cfg: BuildConfig, defaults?: Record<string, unknown>): R {
  return LOSSES.build(cfg, defaults) as R;
}
