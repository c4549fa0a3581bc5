import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

/** Absolute path of the fixtures directory. */
export const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));

/** Absolute path of a fixture file. */
export function fixture(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}

const temporaryDirectories: string[] = [];

/** A fresh directory under `os.tmpdir()`, removed after the test. */
export function temporaryDirectory(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'gorilla-config-test-'));
  temporaryDirectories.push(directory);
  return directory;
}

/** Writes `files` (name → content) into a fresh temporary directory; returns the directory. */
export function writeFiles(files: Record<string, string>): string {
  const directory = temporaryDirectory();
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(directory, name)), { recursive: true });
    fs.writeFileSync(path.join(directory, name), content);
  }
  return directory;
}

afterEach(() => {
  for (const directory of temporaryDirectories.splice(0)) {
    fs.rmSync(directory, { recursive: true, force: true });
  }
});

/**
 * `text` with machine-specific paths replaced: the fixtures directory (absolute or relative
 * to the working directory) by `<fixtures>`, temporary directories by `<tmp>`.
 */
export function clean(text: string): string {
  let result = text;
  for (const directory of temporaryDirectories) {
    result = result.split(fs.realpathSync(directory)).join('<tmp>').split(directory).join('<tmp>');
  }
  result = result.split(FIXTURES).join('<fixtures>');
  const relative = path.relative(process.cwd(), FIXTURES);
  if (relative !== '') result = result.split(relative).join('<fixtures>');
  return result;
}

/** The error `run` throws (fails the test when it throws nothing). */
export function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the function to throw');
}

/** The error `promise` rejects with (fails the test when it resolves). */
export async function rejected(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}
