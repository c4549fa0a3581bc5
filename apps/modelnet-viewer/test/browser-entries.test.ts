import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { root } from './helpers.js';

const script = join(root, 'scripts/check-browser-entries.mjs');

test('the browser entries bundle for the browser with no Node built-in', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: root });
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(lines.map((line) => line.entry)).toEqual([
    '@gorilla-ts/train/nn',
    '@gorilla-ts/models-pointnet',
    '@gorilla-ts/registry',
  ]);
  expect(lines.every((line) => line.browserSafe)).toBe(true);
}, 60_000);

test('the check fails on an entry that reaches Node built-ins, naming them', async () => {
  const error = await promisify(execFile)(process.execPath, [script, '@gorilla-ts/train'], {
    cwd: root,
  }).catch((caught: { code: number; stderr: string }) => caught);
  expect((error as { code: number }).code).toBe(1);
  expect((error as { stderr: string }).stderr).toMatch(
    /@gorilla-ts\/train is not browser-safe: it reaches Node built-ins:\n {2}- .*imports 'node:/,
  );
}, 60_000);

test('the check fails on an entry that uses Node globals without importing them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viewer-entry-'));
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(
      entry,
      "export const header = (json) => Buffer.from(json, 'utf8');\nexport const rank = () => process.env.RANK;\n",
    );
    const error = await promisify(execFile)(process.execPath, [script, entry], { cwd: root }).catch(
      (caught: { code: number; stderr: string }) => caught,
    );
    expect((error as { code: number }).code).toBe(1);
    expect((error as { stderr: string }).stderr).toMatch(/Node global Buffer/);
    expect((error as { stderr: string }).stderr).toMatch(/Node global process/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
