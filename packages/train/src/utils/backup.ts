import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { BackupError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { currentRank } from './rank.js';

/** Options of {@link backup}. */
export interface BackupOptions {
  /**
   * File name endings copied from folders (`'.ts'` or gorilla's `'*.py'` form). Files named
   * directly in the list are copied whatever their ending.
   * Defaults to `['.ts', '.js', '.mjs', '.cjs', '.json', '.yaml', '.yml']`.
   */
  suffixes?: readonly string[];
  /** The project folder: entries are relative to it and must stay inside it. Defaults to the cwd. */
  root?: string;
  /** Where warnings and the summary go. Defaults to `process.emitWarning` for warnings only. */
  logger?: Pick<Logger, 'info' | 'warn'>;
  /** Throw on a missing entry instead of warning. Defaults to `false`. */
  strict?: boolean;
  /**
   * Empty `backupDir` first. It is refused when `backupDir` is the project root or holds it.
   * Defaults to `false`: files are copied over an existing backup, and nothing is deleted.
   */
  clean?: boolean;
  /** This process's rank: only rank 0 copies. Defaults to the `RANK` environment variable, or 0. */
  rank?: number;
}

/** What {@link backup} did, as paths relative to the root. */
export interface BackupResult {
  /** Files copied, in copy order. */
  copied: string[];
  /** Entries of the list that did not exist (warned about). */
  missing: string[];
}

const DEFAULT_SUFFIXES = ['.ts', '.js', '.mjs', '.cjs', '.json', '.yaml', '.yml'];

/**
 * Copies the listed files and folders of the project into `backupDir`, keeping their paths
 * relative to `root` (`config/default.yaml` → `backupDir/config/default.yaml`). Folders are
 * walked recursively and only files with one of `suffixes` are copied; `backupDir` itself is
 * never copied into itself. Runs on rank 0 only (other ranks return an empty result).
 *
 * Differences from gorilla's `backup`: paths are kept instead of flattened to the file name;
 * entries that escape the project (absolute paths outside `root`, `..`) are refused with a
 * {@link BackupError} before anything is copied; an existing `backupDir` is not deleted unless
 * `clean` is set; files without an extension are not copied from folders unless `''` is a suffix.
 *
 * @throws {@link BackupError} for an entry outside the project, a missing entry with `strict`,
 *   or a `clean` that would delete the project.
 */
export function backup(
  backupDir: string,
  list: string | readonly string[],
  options: BackupOptions = {},
): BackupResult {
  const result: BackupResult = { copied: [], missing: [] };
  if ((options.rank ?? currentRank()) !== 0) return result;
  const root = resolve(options.root ?? process.cwd());
  const target = resolve(root, backupDir);
  const suffixes = (options.suffixes ?? DEFAULT_SUFFIXES).map((suffix) =>
    suffix.replace(/^\*/, ''),
  );
  const entries = typeof list === 'string' ? [list] : [...list];
  const warn = (message: string) =>
    options.logger ? options.logger.warn(message) : process.emitWarning(message, 'BackupWarning');

  const escaping = entries.filter((entry) => !isInside(root, resolve(root, entry)));
  if (escaping.length > 0) {
    throw new BackupError(
      `backup: ${escaping.map((entry) => `'${entry}'`).join(', ')} ${escaping.length === 1 ? 'is' : 'are'} outside the project root ${root}. ` +
        'List paths inside the project (relative paths without "..").',
    );
  }
  if (options.clean && existsSync(target)) {
    if (isInside(target, root)) {
      throw new BackupError(
        `backup: clean would delete ${target}, which holds the project root ${root}. Choose a backup folder inside the project.`,
      );
    }
    rmSync(target, { recursive: true, force: true });
  }
  mkdirSync(target, { recursive: true });
  options.logger?.info(`backup files at ${target}`);

  const copy = (source: string) => {
    const rel = relative(root, source);
    const destination = join(target, rel);
    mkdirSync(dirname(destination), { recursive: true });
    copyFileSync(source, destination);
    result.copied.push(rel.split(sep).join('/'));
  };
  const walk = (folder: string) => {
    for (const item of readdirSync(folder, { withFileTypes: true }).sort(byName)) {
      const path = join(folder, item.name);
      if (path === target) continue;
      if (item.isDirectory()) walk(path);
      else if (item.isFile() && suffixes.some((suffix) => matches(item.name, suffix))) copy(path);
    }
  };

  for (const entry of entries) {
    const source = resolve(root, entry);
    if (!existsSync(source)) {
      if (options.strict) throw new BackupError(`backup: '${entry}' does not exist in ${root}.`);
      warn(`backup: '${entry}' does not exist; skipped.`);
      result.missing.push(entry);
      continue;
    }
    if (statSync(source).isDirectory()) walk(source);
    else copy(source);
  }
  return result;
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function matches(name: string, suffix: string): boolean {
  return suffix === '' ? !name.includes('.') : name.endsWith(suffix);
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
