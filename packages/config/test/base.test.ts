import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config, ConfigFileError, ConfigMergeError } from '../src/index.js';
import { clean, FIXTURES, fixture, rejected, writeFiles } from './helpers.js';

describe('_base_', () => {
  it('merges a child over its base', async () => {
    const cfg = await Config.fromFile(fixture('d.yaml'));
    expect(cfg.toObject()).toEqual({
      item1: [2, 3],
      item2: { a: 0, b: 1 },
      item3: true,
      item4: 'test',
    });
    expect(cfg.text).toBe(fs.readFileSync(fixture('d.yaml'), 'utf8'));
    expect(cfg.files).toEqual([fixture('d.yaml'), fixture('base.yaml')]);
  });

  it('lets a child object replace a base scalar', async () => {
    const cfg = await Config.fromFile(fixture('e.yaml'));
    expect(cfg.get('item3')).toEqual({ a: 1 });
  });

  it('resolves bases recursively; the innermost child wins', async () => {
    const cfg = await Config.fromFile(fixture('f.yaml'));
    expect(cfg.toObject()).toEqual({
      item1: [2, 3],
      item2: { a: 2, b: 1 },
      item3: true,
      item4: 'test_recursive',
    });
    expect(cfg.files).toEqual([fixture('f.yaml'), fixture('d.yaml'), fixture('base.yaml')]);
  });

  it('merges several bases of mixed formats, relative to the file', async () => {
    const cfg = await Config.fromFile(fixture('l.yaml'));
    expect(cfg.toObject()).toEqual({
      item1: [3],
      item2: { a: 0, b: { c: [1, 2], d: 4 } },
      item3: true,
      item4: 'test',
      item5: { x: [{ y: 1 }] },
      item6: 'child',
    });
    expect(cfg.files.map((file) => path.relative(FIXTURES, file))).toEqual([
      'l.yaml',
      path.join('bases', 'l1.ts'),
      path.join('bases', 'l2.yaml'),
      path.join('bases', 'l3.json'),
      path.join('bases', 'l4.mjs'),
    ]);
  });

  it('loads a .ts config that has its own _base_', async () => {
    const cfg = await Config.fromFile(fixture('ts-base.ts'));
    expect(cfg.toObject()).toEqual({
      item1: [1, 2],
      item2: { a: 0, b: 2 },
      item3: false,
      item4: 'from ts',
    });
  });

  it('rejects a key defined by two sibling bases, naming both files', async () => {
    const error = await rejected(Config.fromFile(fixture('m.yaml')));
    expect(error).toBeInstanceOf(ConfigMergeError);
    expect(error).toMatchObject({
      code: 'CONFIG_DUPLICATE_BASE_KEY',
      key: 'item1',
      file: fixture('m.yaml'),
      files: [fixture('bases/l1.ts'), fixture('bases/m-dup.yaml')],
    });
    expect(clean(error.message)).toMatchInlineSnapshot(
      `"Duplicate key 'item1' among the _base_ files of <fixtures>/m.yaml: it is defined by both <fixtures>/bases/l1.ts and <fixtures>/bases/m-dup.yaml. Sibling bases must not share top-level keys; move 'item1' into one of them, or set it in <fixtures>/m.yaml itself."`,
    );
  });

  it('rejects a cycle, showing the chain', async () => {
    const error = await rejected(Config.fromFile(fixture('cycle-a.yaml')));
    expect(error).toBeInstanceOf(ConfigMergeError);
    expect(error).toMatchObject({
      code: 'CONFIG_BASE_CYCLE',
      files: [fixture('cycle-a.yaml'), fixture('cycle-b.yaml'), fixture('cycle-a.yaml')],
    });
    expect(clean(error.message)).toMatchInlineSnapshot(
      `"Cycle in _base_ files: <fixtures>/cycle-a.yaml → <fixtures>/cycle-b.yaml → <fixtures>/cycle-a.yaml. A config cannot inherit from itself; remove one of these _base_ entries."`,
    );
    const self = await rejected(Config.fromFile(fixture('self-cycle.yaml')));
    expect(clean(self.message)).toMatch(
      /^Cycle in _base_ files: <fixtures>\/self-cycle\.yaml → <fixtures>\/self-cycle\.yaml\./,
    );
  });

  it('names the chain that led to a missing base', async () => {
    const error = await rejected(Config.fromFile(fixture('missing-base.yaml')));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({
      code: 'CONFIG_FILE_NOT_FOUND',
      file: fixture('does-not-exist.yaml'),
      chain: [
        fixture('missing-base.yaml'),
        fixture('nested/missing-base.yaml'),
        fixture('does-not-exist.yaml'),
      ],
    });
    expect(clean(error.message)).toMatchInlineSnapshot(`
      "Config file not found: <fixtures>/does-not-exist.yaml does not exist. Check the path (relative paths are resolved against the including file's directory).
      Base chain: <fixtures>/missing-base.yaml → <fixtures>/nested/missing-base.yaml → <fixtures>/does-not-exist.yaml"
    `);
  });

  it('names the chain that led to a syntax error in a base', async () => {
    const directory = writeFiles({
      'child.json': '{ "_base_": "bad.yaml", "a": 1 }',
      'bad.yaml': 'a: [1\nb: 2\n',
    });
    const error = await rejected(Config.fromFile(path.join(directory, 'child.json')));
    expect(error).toMatchObject({ code: 'CONFIG_PARSE_ERROR', line: 2, column: 1 });
    expect(clean(error.message)).toMatchInlineSnapshot(`
      "Invalid YAML in <tmp>/bad.yaml at line 2, column 1: Flow sequence in block collection must be sufficiently indented and end with a ].
        2 | b: 2
          | ^
      Base chain: <tmp>/child.json → <tmp>/bad.yaml"
    `);
  });

  it('rejects a _base_ that is not a path or a list of paths', async () => {
    const error = await rejected(Config.fromFile(fixture('invalid-base.yaml')));
    expect(error).toBeInstanceOf(ConfigMergeError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID_BASE', key: '_base_' });
    expect(clean(error.message)).toMatchInlineSnapshot(
      `"Invalid _base_ in <fixtures>/invalid-base.yaml: expected a path or a list of paths (relative to the file), received number 3."`,
    );
  });
});

describe('_delete_', () => {
  it('replaces the base object whole and never remains', async () => {
    const cfg = await Config.fromFile(fixture('delete.yaml'));
    expect(cfg.toObject()).toEqual({
      model: { type: 'ResNet', depth: 50, head: { type: 'Conv' } },
      optimizer: { type: 'Adam', lr: 0.001 },
    });
  });

  it('merges as usual with _delete_: false', async () => {
    const cfg = await Config.fromFile(fixture('delete-false.yaml'));
    expect(cfg.get('optimizer')).toEqual({ type: 'SGD', lr: 0.01, momentum: 0.9 });
  });

  it('is removed from files without a base', async () => {
    const cfg = await Config.fromString(
      'a:\n  _delete_: true\n  b: [{ _delete_: false, c: 1 }]\n',
      'yaml',
    );
    expect(cfg.toObject()).toEqual({ a: { b: [{ c: 1 }] } });
  });

  it('must be a boolean', async () => {
    const error = await rejected(Config.fromFile(fixture('delete-invalid.yaml')));
    expect(error).toBeInstanceOf(ConfigMergeError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID_DELETE', key: 'optimizer._delete_' });
    expect(clean(error.message)).toMatchInlineSnapshot(
      `"Invalid optimizer._delete_ in <fixtures>/delete-invalid.yaml: expected true or false, received string 'yes'."`,
    );
  });
});

describe('predefined variables', () => {
  it('are substituted per file, with that file’s own path', async () => {
    const cfg = await Config.fromFile(fixture('variables.yaml'));
    expect(cfg.toObject()).toEqual({
      baseName: 'variables-base.yaml',
      baseDir: fixture('nested'),
      dir: FIXTURES,
      name: 'variables.yaml',
      stem: 'variables',
      ext: '.yaml',
      data: `${FIXTURES}/data/variables`,
      unknown: '{{ notAVariable }}',
      list: ['variables.yaml'],
    });
  });

  it('use the last extension only', async () => {
    const directory = writeFiles({
      'a.b.json': '{ "stem": "{{ fileBasenameNoExtension }}", "ext": "{{fileExtname}}" }',
    });
    const cfg = await Config.fromFile(path.join(directory, 'a.b.json'));
    expect(cfg.toObject()).toEqual({ stem: 'a.b', ext: '.json' });
  });
});
