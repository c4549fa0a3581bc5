import { copyFile, link, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { temporaryName } from '../checkpoint/checkpoint.js';

/** The file that always holds the newest checkpoint of a work dir (the seed's name). */
export const LATEST_CHECKPOINT = 'epoch_latest.safetensors';

/** `epoch_00003.safetensors` / `iter_00120.safetensors`: checkpoint after 3 epochs / 120 iterations. */
export function checkpointName(unit: 'epoch' | 'iter', count: number): string {
  return `${unit}_${String(count).padStart(5, '0')}.safetensors`;
}

/** `best_val_acc.safetensors`: the best checkpoint by `metric` (characters other than word characters, `.` and `-` become `_`). */
export function bestCheckpointName(metric: string): string {
  return `best_${metric.replace(/[^\w.-]+/g, '_')}.safetensors`;
}

/** Removes the checkpoints `names` (relative to `dir`); missing ones are fine. */
export async function pruneCheckpoints(dir: string, names: readonly string[]): Promise<void> {
  await Promise.all(names.map((name) => rm(join(dir, name), { force: true })));
}

const PATTERN = /^(epoch|iter)_(\d+)\.safetensors$/;

/**
 * The checkpoint `resume: 'auto'` continues from: `<workDir>/epoch_latest.safetensors` when it
 * exists, else the `epoch_N`/`iter_N` file furthest into the run (epochs counted as
 * `itersPerEpoch` iterations), else `undefined` (a missing work dir included).
 */
export async function findLatestCheckpoint(
  workDir: string,
  itersPerEpoch = 1,
): Promise<string | undefined> {
  const latest = resolve(workDir, LATEST_CHECKPOINT);
  if (await isFile(latest)) return latest;
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch {
    return undefined;
  }
  let best: { name: string; position: number } | undefined;
  for (const name of names) {
    const match = PATTERN.exec(name);
    if (match === null) continue;
    const position = Number(match[2]) * (match[1] === 'epoch' ? itersPerEpoch : 1);
    if (best === undefined || position > best.position) best = { name, position };
  }
  return best === undefined ? undefined : resolve(workDir, best.name);
}

/**
 * Makes `target` another name of `source` (a hard link, so no second copy is written), replacing
 * `target` atomically; copies when the file system has no hard links.
 */
export async function linkCheckpoint(source: string, target: string): Promise<void> {
  const temporary = join(dirname(target), temporaryName(basename(target)));
  try {
    await link(source, temporary);
  } catch {
    await copyFile(source, temporary);
  }
  try {
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
