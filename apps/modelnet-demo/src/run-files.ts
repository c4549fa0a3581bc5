import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { Config } from '@gorilla-ts/config';
import { isMainProcess } from '@gorilla-ts/dist';
import { backup, type Logger } from '@gorilla-ts/train';
import { APP_DIR, LATEST_CHECKPOINT } from './paths.js';

/** The run's name, which names its log folder: the config file's name without extension. */
export function configName(configPath: string): string {
  return basename(configPath, extname(configPath));
}

/** `<logDir>/epoch_latest.safetensors` when it exists (the seed's `get_checkpoint`). */
export function latestCheckpoint(logDir: string): string | undefined {
  const path = join(logDir, LATEST_CHECKPOINT);
  return existsSync(path) ? path : undefined;
}

/** The deepest folder holding every path. */
function commonFolder(paths: readonly string[]): string {
  const parts = paths.map((path) => dirname(resolve(path)).split(sep));
  const first = parts[0] ?? [];
  let length = first.length;
  for (const other of parts) {
    let k = 0;
    while (k < length && other[k] === first[k]) k++;
    length = k;
  }
  return first.slice(0, length).join(sep) || sep;
}

/**
 * The seed's `backup(backup_dir, backup_list)`: copies the app's code (`src/`) and every config
 * file read (the config and its `_base_` files, under `configs/`, keeping their relative layout)
 * into `backupDir`, and writes the effective config (after the command line) as `config.yaml`.
 * Rank 0 only.
 */
export function backupRun(backupDir: string, cfg: Config, logger: Logger): void {
  if (!isMainProcess()) return;
  const target = resolve(backupDir);
  // FIXME: the files and folders of your project to keep with each run.
  backup(target, ['src'], { root: APP_DIR, suffixes: ['.ts'], logger });
  const files = cfg.files.length > 0 ? cfg.files : cfg.filename ? [cfg.filename] : [];
  if (files.length > 0) {
    const root = commonFolder(files);
    const list = files.map((file) => relative(root, resolve(file)));
    backup(join(target, 'configs'), list, { root, logger });
  }
  cfg.dump(join(target, 'config.yaml'));
}

/**
 * The `__metadata__` strings of a safetensors file, read from its header alone (no tensors, so
 * no tfjs backend is needed), or `undefined` when the file is missing or not safetensors.
 */
export function readCheckpointMetadata(filename: string): Record<string, string> | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(filename, 'r');
    const size = Buffer.alloc(8);
    if (readSync(fd, size, 0, 8, 0) !== 8) return undefined;
    const length = Number(size.readBigUInt64LE(0));
    if (length <= 0 || length > 100_000_000) return undefined;
    const header = Buffer.alloc(length);
    if (readSync(fd, header, 0, length, 8) !== length) return undefined;
    const parsed = JSON.parse(header.toString('utf8')) as { __metadata__?: Record<string, string> };
    return parsed.__metadata__ ?? {};
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
