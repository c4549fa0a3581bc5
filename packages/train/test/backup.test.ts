import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { BackupError, backup } from '../src/index.js';

let root: string;

function write(path: string, text = path): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

function recorder() {
  const warnings: string[] = [];
  const infos: string[] = [];
  return {
    warnings,
    infos,
    logger: {
      warn: (m: unknown) => warnings.push(String(m)),
      info: (m: unknown) => infos.push(String(m)),
    },
  };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'gorilla-backup-'));
  write('config/default.yaml');
  write('train.ts');
  write('network/a.ts');
  write('network/b.txt');
  write('network/noext');
  write('network/sub/c.ts');
  write('network/sub/d.js.map');
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('backup', () => {
  test('copies files and folders keeping their relative paths; folders filtered by suffix', () => {
    const { logger, infos } = recorder();
    const result = backup('log/run/backup', ['config/default.yaml', 'train.ts', 'network'], {
      root,
      logger,
      suffixes: ['.ts', '.yaml'],
    });
    expect(result).toEqual({
      copied: ['config/default.yaml', 'train.ts', 'network/a.ts', 'network/sub/c.ts'],
      missing: [],
    });
    const out = join(root, 'log/run/backup');
    expect(readFileSync(join(out, 'config/default.yaml'), 'utf8')).toBe('config/default.yaml');
    expect(existsSync(join(out, 'network/sub/c.ts'))).toBe(true);
    expect(existsSync(join(out, 'network/b.txt'))).toBe(false);
    expect(existsSync(join(out, 'network/noext'))).toBe(false);
    expect(infos).toEqual([`backup files at ${out}`]);
  });

  test("gorilla's '*.py' suffix form and a single string entry; '' copies extension-less files", () => {
    const result = backup('bk', 'network', { root, suffixes: ['*.txt', ''] });
    expect(result.copied).toEqual(['network/b.txt', 'network/noext']);
  });

  test('refuses entries that escape the project, before copying anything', () => {
    const outside = mkdtempSync(join(tmpdir(), 'gorilla-outside-'));
    try {
      expect(() => backup('bk', ['train.ts', '../x', outside], { root })).toThrow(BackupError);
      expect(() => backup('bk', ['train.ts', '../x'], { root })).toThrowErrorMatchingInlineSnapshot(
        `[BackupError: backup: '../x' is outside the project root ${root}. List paths inside the project (relative paths without "..").]`,
      );
      expect(existsSync(join(root, 'bk'))).toBe(false);
      // An absolute path inside the project is fine.
      expect(backup('bk', [join(root, 'train.ts')], { root }).copied).toEqual(['train.ts']);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('warns for missing entries and skips them; strict throws', () => {
    const { logger, warnings } = recorder();
    const result = backup('bk', ['nope.ts', 'train.ts'], { root, logger });
    expect(result).toEqual({ copied: ['train.ts'], missing: ['nope.ts'] });
    expect(warnings).toEqual(["backup: 'nope.ts' does not exist; skipped."]);
    expect(() => backup('bk', ['nope.ts'], { root, strict: true })).toThrow(
      /'nope.ts' does not exist/,
    );
  });

  test('an existing backup is kept and overwritten in place unless clean', () => {
    write('bk/old.ts', 'old');
    write('bk/train.ts', 'stale');
    backup('bk', ['train.ts'], { root });
    expect(readFileSync(join(root, 'bk/old.ts'), 'utf8')).toBe('old');
    expect(readFileSync(join(root, 'bk/train.ts'), 'utf8')).toBe('train.ts');
    backup('bk', ['train.ts'], { root, clean: true });
    expect(existsSync(join(root, 'bk/old.ts'))).toBe(false);
    expect(existsSync(join(root, 'bk/train.ts'))).toBe(true);
  });

  test('clean refuses to delete the project; the backup folder is never copied into itself', () => {
    expect(() => backup('.', ['train.ts'], { root, clean: true })).toThrow(
      /holds the project root/,
    );
    const result = backup('bk', ['.'], { root, suffixes: ['.ts'] });
    expect(result.copied).toEqual(['network/a.ts', 'network/sub/c.ts', 'train.ts']);
    const again = backup('bk', ['.'], { root, suffixes: ['.ts'] });
    expect(again.copied).toEqual(result.copied);
  });

  test('ranks other than 0 copy nothing', () => {
    expect(backup('bk', ['train.ts'], { root, rank: 1 })).toEqual({ copied: [], missing: [] });
    expect(existsSync(join(root, 'bk'))).toBe(false);
  });
});
