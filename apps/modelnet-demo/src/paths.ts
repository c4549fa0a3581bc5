import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app's folder (`apps/modelnet-demo`), wherever the command is run from. */
export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The config `train` and `test` use without `--config`: the embedded synthetic default. */
export const DEFAULT_CONFIG = join(APP_DIR, 'configs', 'default.yaml');

/** Where `download` puts the data by default; `configs/modelnet40.yaml` reads it from there. */
export const DEFAULT_DATA_DIR = join(APP_DIR, 'data');

/** The extension of checkpoints (safetensors: one file per save, readable from Python). */
export const CHECKPOINT_EXTENSION = '.safetensors';

/** `epoch_00001.safetensors`: the checkpoint of one epoch. */
export function epochCheckpointName(epoch: number): string {
  return `epoch_${String(epoch).padStart(5, '0')}${CHECKPOINT_EXTENSION}`;
}

/** `epoch_latest.safetensors`: always the last epoch saved, what `--resume` continues from. */
export const LATEST_CHECKPOINT = `epoch_latest${CHECKPOINT_EXTENSION}`;

/**
 * `epoch_best.safetensors`: the epoch with the highest validation accuracy so far. PointNet's
 * test accuracy swings by several points from one epoch to the next (PyTorch's too), so the best
 * epoch is the one to keep; `meta.epoch` says which it was.
 */
export const BEST_CHECKPOINT = `epoch_best${CHECKPOINT_EXTENSION}`;
