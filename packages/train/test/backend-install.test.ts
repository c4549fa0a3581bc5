import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import {
  describeLoadFailure,
  describeTfjsCoreCopies,
  findTfjsCoreCopies,
} from '../src/backend/init-backend.js';

const work = mkdtempSync(join(tmpdir(), 'gorilla-backend-install-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function writePackage(dir: string, name: string, version: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), '');
}

describe('a native backend installed without its binding', () => {
  test('says which install step to rerun, for npm, pnpm and yarn', () => {
    // What tfjs-node 4.22 throws when its install script did not download the binding.
    const error = Object.assign(
      new Error(
        "Cannot find module '/p/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'\nRequire stack:\n- ...",
      ),
      { code: 'MODULE_NOT_FOUND' },
    );
    const reason = describeLoadFailure(error, '@tensorflow/tfjs-node');
    expect(reason).toMatch(/^failed to load: Cannot find module .*tfjs_binding\.node/);
    expect(reason).toContain('npm rebuild @tensorflow/tfjs-node');
    expect(reason).toContain('pnpm rebuild @tensorflow/tfjs-node');
    expect(reason).toContain('allowBuilds');
    expect(reason).toContain('yarn rebuild @tensorflow/tfjs-node');
  });

  test('a missing libtensorflow gets the same hint; a package that is absent stays "not installed"', () => {
    const missingLib = new Error(
      'libtensorflow.so.2: cannot open shared object file: No such file or directory',
    );
    expect(describeLoadFailure(missingLib, '@tensorflow/tfjs-node-gpu')).toContain(
      'npm rebuild @tensorflow/tfjs-node-gpu',
    );
    const absent = Object.assign(
      new Error("Cannot find package '@tensorflow/tfjs-node' imported"),
      {
        code: 'ERR_MODULE_NOT_FOUND',
      },
    );
    expect(describeLoadFailure(absent, '@tensorflow/tfjs-node')).toBe('not installed');
  });
});

describe('two copies of @tensorflow/tfjs-core', () => {
  test('are found, with their versions and users, and named in one warning', () => {
    const root = join(work, 'two', 'node_modules');
    writePackage(join(root, '@tensorflow/tfjs-core'), '@tensorflow/tfjs-core', '4.22.0');
    writePackage(join(root, '@gorilla-ts/train'), '@gorilla-ts/train', '0.1.0');
    const node = join(root, '@tensorflow/tfjs-node');
    writePackage(node, '@tensorflow/tfjs-node', '4.21.0');
    writePackage(
      join(node, 'node_modules/@tensorflow/tfjs-core'),
      '@tensorflow/tfjs-core',
      '4.21.0',
    );
    const from = pathToFileURL(join(root, '@gorilla-ts/train/index.js')).href;
    const copies = findTfjsCoreCopies(
      ['@tensorflow/tfjs-node', '@gorilla-ts/not-installed-anywhere'],
      from,
    );
    expect(copies.map(({ version, usedBy }) => ({ version, usedBy }))).toEqual([
      { version: '4.22.0', usedBy: ['@gorilla-ts/train'] },
      { version: '4.21.0', usedBy: ['@tensorflow/tfjs-node'] },
    ]);
    const warning = describeTfjsCoreCopies(copies);
    expect(warning).toContain('2 copies of @tensorflow/tfjs-core');
    expect(warning).toContain('4.21.0 at ');
    expect(warning).toContain('npm dedupe');
  });

  test('one shared copy is one copy', () => {
    const root = join(work, 'one', 'node_modules');
    writePackage(join(root, '@tensorflow/tfjs-core'), '@tensorflow/tfjs-core', '4.22.0');
    writePackage(join(root, '@gorilla-ts/train'), '@gorilla-ts/train', '0.1.0');
    writePackage(join(root, '@tensorflow/tfjs-node'), '@tensorflow/tfjs-node', '4.22.0');
    const from = pathToFileURL(join(root, '@gorilla-ts/train/index.js')).href;
    expect(findTfjsCoreCopies(['@tensorflow/tfjs-node'], from)).toHaveLength(1);
  });

  test('this workspace has one copy', () => {
    expect(
      findTfjsCoreCopies(['@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm']),
    ).toHaveLength(1);
  });
});

describe('tfjs-node on Node 23 and later', () => {
  test('util.isNullOrUndefined, which tfjs-node 4.22 calls and Node 23 removed, is there after initBackend', async () => {
    const { createRequire } = await import('node:module');
    const util = createRequire(import.meta.url)('node:util') as {
      isNullOrUndefined?: (value: unknown) => boolean;
    };
    const { restoreUtilIsNullOrUndefined } = await import('../src/backend/init-backend.js');
    const major = Number(process.versions.node.split('.')[0]);
    expect(restoreUtilIsNullOrUndefined()).toBe(major >= 23);
    expect([null, undefined, 0, ''].map((value) => util.isNullOrUndefined!(value))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(restoreUtilIsNullOrUndefined()).toBe(false);
  });
});
