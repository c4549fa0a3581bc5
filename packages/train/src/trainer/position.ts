import type { JsonValue } from '../optim/optimizer.js';
import type { TrainLoader } from './options.js';

/** The trainer's own state in a checkpoint (`extra.trainer`). @internal */
export interface SavedTrainerState {
  /** Iterations done. */
  iter: number;
  /** Whole epochs done. */
  epoch: number;
  itersPerEpoch: number;
  accumulateSteps: number;
  /** The train loader's `stateDict()`. */
  loader?: JsonValue;
}

/**
 * Puts `loader` where iteration `done` starts: its saved state when the run has the same shape
 * (iterations per epoch, batches per iteration), else a position recomputed from `done` (with a
 * warning: the order may differ), else nothing (a loader without `loadStateDict`). @internal
 */
export function restoreLoaderPosition(
  loader: TrainLoader<unknown>,
  done: number,
  shape: { itersPerEpoch: number; accumulateSteps: number },
  saved: SavedTrainerState | undefined,
  warn: (message: string) => void,
): void {
  const { itersPerEpoch, accumulateSteps } = shape;
  if (loader.loadStateDict === undefined) {
    if (done % itersPerEpoch !== 0) {
      warn(
        'The train loader has no loadStateDict(): the resumed epoch starts from its first batch.',
      );
    }
    return;
  }
  if (
    saved?.loader !== undefined &&
    saved.itersPerEpoch === itersPerEpoch &&
    saved.accumulateSteps === accumulateSteps
  ) {
    loader.loadStateDict(saved.loader as never);
    return;
  }
  const current = loader.stateDict?.() as Record<string, unknown> | undefined;
  if (current === undefined || !('epoch' in current) || !('batchIndex' in current)) return;
  if (saved !== undefined) {
    warn(
      `The checkpoint has ${saved.itersPerEpoch} iterations per epoch of ${saved.accumulateSteps} batches, this run ${itersPerEpoch} of ${accumulateSteps}: the data position is recomputed from the iteration, the order may differ from the original run.`,
    );
  }
  loader.loadStateDict({
    ...current,
    epoch: Math.floor(done / itersPerEpoch),
    batchIndex: (done % itersPerEpoch) * accumulateSteps,
  } as never);
}
