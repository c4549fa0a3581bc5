import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { BEST_CHECKPOINT, LATEST_CHECKPOINT } from './paths.js';

/** Where a training run keeps everything. */
export interface RunLocations {
  /** The run's folder (`log/<config name>/`). */
  logDir: string;
  /** The text log of this run. */
  logFile: string | undefined;
}

/** A path as short as it can be shown: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), resolve(path));
  return rel !== '' && !rel.startsWith('..') ? rel : resolve(path);
}

/**
 * The lines that say where everything of a run is: its folder, the log file, the TensorBoard
 * command, the best and latest checkpoints (`(not yet)` before they exist) and the command that
 * evaluates the best one. Printed at the start and at the end of a run.
 */
export function runLocationLines(run: RunLocations, when: 'start' | 'end'): string[] {
  const best = join(run.logDir, BEST_CHECKPOINT);
  const latest = join(run.logDir, LATEST_CHECKPOINT);
  const state = (path: string) =>
    existsSync(path) ? '' : when === 'start' ? ' (not yet)' : ' (none)';
  const evaluate = existsSync(best) || when === 'start' ? best : latest;
  return [
    `run folder:  ${shown(run.logDir)}`,
    ...(run.logFile === undefined ? [] : [`log file:    ${shown(run.logFile)}`]),
    `tensorboard: tensorboard --logdir ${shown(run.logDir)}`,
    `best:        ${shown(best)}${state(best)}`,
    `latest:      ${shown(latest)}${state(latest)}`,
    // Absolute: pnpm runs the script in the app's folder, not here.
    `evaluate:    pnpm --filter modelnet-demo eval --checkpoint ${resolve(evaluate)}`,
  ];
}
