import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataError, DOWNLOAD_HINT } from './errors.js';

/** Throws one {@link DataError} naming `dataRoot`, the layout expected there and the fix. */
export function requireDirectory(dataRoot: string, layout: string): string {
  const absolute = resolve(dataRoot);
  let isDirectory = false;
  try {
    isDirectory = statSync(absolute).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) {
    throw new DataError(
      'DATA_NOT_FOUND',
      `No data directory at ${absolute} (dataRoot: '${dataRoot}'). Expected ${layout}. ${DOWNLOAD_HINT}`,
      { path: absolute },
    );
  }
  return absolute;
}

/** The non-empty, trimmed lines of a text file; a missing file is a {@link DataError}. */
export function readLines(path: string, what: string, layout: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DataError(
      'DATA_NOT_FOUND',
      `Missing ${what}: ${path}. Expected ${layout}. ${DOWNLOAD_HINT}`,
      { path, cause: error },
    );
  }
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (lines.length === 0) {
    throw new DataError('DATA_MALFORMED', `${what} ${path} is empty. Expected ${layout}.`, {
      path,
    });
  }
  return lines;
}

/** Whether `path` is an existing regular file. */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
