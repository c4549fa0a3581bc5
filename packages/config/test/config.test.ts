import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  Config,
  ConfigDataError,
  ConfigError,
  ConfigFileError,
  ConfigKeyError,
} from '../src/index.js';
import { clean, fixture, rejected, temporaryDirectory, thrown, writeFiles } from './helpers.js';

const EXPECTED = { item1: [1, 2], item2: { a: 0 }, item3: true, item4: 'test' };

describe('new Config', () => {
  it('is empty by default', () => {
    const cfg = new Config();
    expect(cfg.filename).toBeUndefined();
    expect(cfg.text).toBeUndefined();
    expect(cfg.files).toEqual([]);
    expect(cfg.keys()).toEqual([]);
    expect(cfg.toObject()).toEqual({});
  });

  it('copies the data and keeps the options', () => {
    const data = { a: { b: [1, 2] } };
    const cfg = new Config(data, { filename: 'x.yaml', text: 'a: ...' });
    data.a.b.push(3);
    expect(cfg.toObject()).toEqual({ a: { b: [1, 2] } });
    expect(cfg.filename).toBe('x.yaml');
    expect(cfg.text).toBe('a: ...');
  });

  it('drops undefined object values', () => {
    expect(new Config({ a: 1, b: undefined }).keys()).toEqual(['a']);
  });

  it('rejects data that is not a plain object', () => {
    const error = thrown(() => new Config([0, 1] as never));
    expect(error).toBeInstanceOf(ConfigDataError);
    expect((error as ConfigDataError).code).toBe('CONFIG_INVALID_DATA');
    expect(error.message).toMatchInlineSnapshot(
      `"Config data must be a plain object of JSON values, received list."`,
    );
  });

  it('rejects values that are not JSON data, naming the key', () => {
    const error = thrown(() => new Config({ model: { init: () => 0, when: new Date(0) } }));
    expect(error).toBeInstanceOf(ConfigDataError);
    expect((error as ConfigDataError).path).toBe('model.init');
    expect(error.message).toMatchInlineSnapshot(
      `"Config value at 'model.init' must be JSON data (null, boolean, number, string, list or plain object), received function."`,
    );
  });
});

describe('Config.fromFile', () => {
  it.each(['a.yaml', 'a.b.yaml', 'b.json', 'c.js', 'c.mjs', 'c.cjs', 'c.ts'])(
    'loads %s',
    async (name) => {
      const file = fixture(name);
      const cfg = await Config.fromFile(file);
      expect(cfg.toObject()).toEqual(EXPECTED);
      expect(cfg.filename).toBe(file);
      expect(cfg.text).toBe(fs.readFileSync(file, 'utf8'));
      expect(cfg.files).toEqual([file]);
    },
  );

  it('keeps a relative filename as given', async () => {
    const relative = path.relative(process.cwd(), fixture('a.yaml'));
    const cfg = await Config.fromFile(relative);
    expect(cfg.filename).toBe(relative);
    expect(cfg.files).toEqual([fixture('a.yaml')]);
  });

  it('treats an empty YAML file as an empty config', async () => {
    expect((await Config.fromFile(fixture('empty.yaml'))).toObject()).toEqual({});
  });

  it('evaluates .mjs and .ts modules afresh on every load', async () => {
    const directory = writeFiles({
      'live.mjs': 'export default { n: 1 };',
      'live.ts': 'const n: number = 1;\nexport default { n };',
      'live.cjs': 'module.exports = { n: 1 };',
    });
    for (const name of ['live.mjs', 'live.ts', 'live.cjs']) {
      const file = path.join(directory, name);
      expect((await Config.fromFile(file)).get('n')).toBe(1);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('1', '2'));
      expect((await Config.fromFile(file)).get('n')).toBe(2);
    }
  });

  it('names the path of a missing file', async () => {
    const error = await rejected(Config.fromFile(fixture('nope.yaml')));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as ConfigFileError).code).toBe('CONFIG_FILE_NOT_FOUND');
    expect((error as ConfigFileError).file).toBe(fixture('nope.yaml'));
    expect(clean(error.message)).toMatchInlineSnapshot(
      `"Config file not found: <fixtures>/nope.yaml does not exist. Check the path (relative paths are resolved against the working directory ${process.cwd()})."`,
    );
  });

  it('names the file and the supported extensions for an unsupported extension', async () => {
    const error = await rejected(Config.fromFile(fixture('unsupported.toml')));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as ConfigFileError).code).toBe('CONFIG_UNSUPPORTED_FORMAT');
    expect(clean(error.message)).toMatchInlineSnapshot(
      `"Unsupported config file <fixtures>/unsupported.toml: the extension '.toml' is not one of .yaml, .yml, .json, .js, .mjs, .cjs, .ts, .mts, .cts. Rename the file or convert it to YAML or JSON."`,
    );
  });

  it('names the file, line and column of a YAML syntax error', async () => {
    const directory = writeFiles({
      'bad.yaml': 'model:\n  type: PointNet\n  layers: [64, 128\noptimizer: adam\n',
    });
    const error = await rejected(Config.fromFile(path.join(directory, 'bad.yaml')));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'CONFIG_PARSE_ERROR', line: 4, column: 1 });
    expect(clean(error.message)).toMatchInlineSnapshot(`
      "Invalid YAML in <tmp>/bad.yaml at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ].
        4 | optimizer: adam
          | ^"
    `);
  });

  it('names the file, line and column of a JSON syntax error', async () => {
    const directory = writeFiles({
      'bad.json': '{\n  "model": {\n    "type": "PointNet",\n  },\n  "epochs": 10\n}\n',
    });
    const error = await rejected(Config.fromFile(path.join(directory, 'bad.json')));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'CONFIG_PARSE_ERROR', line: 4, column: 3 });
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(clean(error.message).split('\n').slice(1)).toEqual(['  4 |   },', '    |   ^']);
    expect(clean(error.message)).toMatch(/^Invalid JSON in <tmp>\/bad\.json at line 4, column 3: /);
  });

  it('rejects duplicate YAML keys', async () => {
    const directory = writeFiles({ 'dup.yaml': 'lr: 0.1\nlr: 0.2\n' });
    const error = await rejected(Config.fromFile(path.join(directory, 'dup.yaml')));
    expect(error).toMatchObject({ code: 'CONFIG_PARSE_ERROR', line: 2, column: 1 });
    expect(clean(error.message)).toMatchInlineSnapshot(`
      "Invalid YAML in <tmp>/dup.yaml at line 2, column 1: Map keys must be unique.
        2 | lr: 0.2
          | ^"
    `);
  });

  it('rejects a top-level value that is not a mapping', async () => {
    const error = await rejected(Config.fromFile(fixture('top-list.yaml')));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID_CONTENT' });
    expect(clean(error.message)).toMatchInlineSnapshot(
      `"Config file <fixtures>/top-list.yaml must hold a mapping of keys to values at the top level, but it holds a list."`,
    );
  });

  it('requires a default export from config modules', async () => {
    const error = await rejected(Config.fromFile(fixture('named-only.mjs')));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID_CONTENT' });
    expect(clean(error.message)).toMatchInlineSnapshot(
      `"Config module <fixtures>/named-only.mjs must default-export the config object (export default { ... }), but it only has named exports: item1."`,
    );
  });

  it('rejects values in config modules that are not JSON data', async () => {
    const error = await rejected(Config.fromFile(fixture('function-value.mjs')));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID_CONTENT' });
    expect(clean(error.message)).toMatchInlineSnapshot(
      `"Config file <fixtures>/function-value.mjs: model.init: expected JSON data (null, boolean, number, string, list or plain object), received function. Configs hold plain data; build objects from it in code."`,
    );
  });

  it('wraps errors thrown while importing a module, with the cause', async () => {
    const directory = writeFiles({ 'throws.mjs': "throw new Error('boom');\n" });
    const error = await rejected(Config.fromFile(path.join(directory, 'throws.mjs')));
    expect(error).toMatchObject({ code: 'CONFIG_LOAD_ERROR' });
    expect((error.cause as Error).message).toBe('boom');
    expect(clean(error.message)).toBe('Cannot load config module <tmp>/throws.mjs: boom');
  });
});

describe('Config.fromString', () => {
  it.each([
    ['a.yaml', 'yaml'],
    ['a.yaml', '.yml'],
    ['b.json', 'json'],
    ['c.mjs', 'mjs'],
    ['c.cjs', 'cjs'],
    ['c.ts', '.ts'],
  ])('parses the text of %s as %s like fromFile', async (name, format) => {
    const text = fs.readFileSync(fixture(name), 'utf8');
    const fromString = await Config.fromString(text, format);
    const fromFile = await Config.fromFile(fixture(name));
    expect(fromString.toObject()).toEqual(fromFile.toObject());
    expect(fromString.text).toBe(text);
    expect(fromString.filename).toBeUndefined();
  });

  it('resolves _base_ and variables against options.filename', async () => {
    const cfg = await Config.fromString(
      '_base_: ./base.yaml\nitem4: "{{ fileBasename }}"\n',
      'yaml',
      { filename: fixture('virtual.yaml') },
    );
    expect(cfg.toObject()).toEqual({ ...EXPECTED, item3: false, item4: 'virtual.yaml' });
    expect(cfg.filename).toBe(fixture('virtual.yaml'));
    expect(cfg.files).toEqual([fixture('virtual.yaml'), fixture('base.yaml')]);
  });

  it('leaves variables alone without a filename', async () => {
    const cfg = await Config.fromString('dir: "{{ fileDirname }}"', 'yaml');
    expect(cfg.get('dir')).toBe('{{ fileDirname }}');
  });

  it('rejects an unknown format', async () => {
    const error = await rejected(Config.fromString('a = 1', 'toml'));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'CONFIG_UNSUPPORTED_FORMAT' });
    expect(error.message).toMatchInlineSnapshot(
      `"Unsupported config format 'toml': use one of yaml, yml, json, js, mjs, cjs, ts, mts, cts."`,
    );
  });

  it('reports syntax errors with the line', async () => {
    const error = await rejected(Config.fromString('{"a": 1,}', 'json'));
    expect(error).toMatchObject({ code: 'CONFIG_PARSE_ERROR', line: 1, column: 9 });
    expect(error.message).toMatch(/^Invalid JSON in <string> at line 1, column 9: /);
  });
});

describe('reading values', () => {
  const load = () => Config.fromFile(fixture('a.yaml'));

  it('gives top-level keys as properties', async () => {
    const cfg = await load();
    expect(cfg.item1).toEqual([1, 2]);
    expect(cfg.item2.a).toBe(0);
    expect(cfg.item3).toBe(true);
    expect(cfg.missing).toBeUndefined();
    expect('item1' in cfg).toBe(true);
    expect('missing' in cfg).toBe(false);
    expect('get' in cfg).toBe(false);
    expect(cfg.keys()).toEqual(['item1', 'item2', 'item3', 'item4']);
    expect(Object.keys(cfg)).toEqual(['item1', 'item2', 'item3', 'item4']);
    expect(cfg.entries()).toEqual(Object.entries(EXPECTED));
    expect(cfg).toBeInstanceOf(Config);
  });

  it('reads dotted paths with get, with and without a default', async () => {
    const cfg = await load();
    expect(cfg.get('item2.a')).toBe(0);
    expect(cfg.get('item1.1')).toBe(2);
    expect(cfg.get(['item1', 0])).toBe(1);
    expect(cfg.get('missing', 5)).toBe(5);
    expect(cfg.get('item2.missing', null)).toBeNull();
    expect(cfg.has('item2.a')).toBe(true);
    expect(cfg.has('item1.2')).toBe(false);
    expectTypeOf(cfg.get('item4')).toEqualTypeOf<unknown>();
    expectTypeOf(cfg.get('seed', 0)).toEqualTypeOf<number>();
    expectTypeOf(cfg.get<number[]>('item1')).toEqualTypeOf<number[]>();
    expectTypeOf(cfg.filename).toEqualTypeOf<string | undefined>();
  });

  it('throws a ConfigKeyError naming the closest key for a missing key', async () => {
    const cfg = await load();
    const error = thrown(() => cfg.get('item2.b'));
    expect(error).toBeInstanceOf(ConfigKeyError);
    expect(error).toMatchObject({
      code: 'CONFIG_KEY_NOT_FOUND',
      path: 'item2.b',
      available: ['a'],
    });
    expect(error.message).toMatchInlineSnapshot(
      `"Config key 'item2.b' not found: no key 'b' in 'item2'. Did you mean 'item2.a'? Available keys: 'a'."`,
    );
    expect(thrown(() => cfg.get('itme1')).message).toMatchInlineSnapshot(
      `"Config key 'itme1' not found: no key 'itme1' at the top level. Did you mean 'item1'? Available keys: 'item1', 'item2', 'item3', 'item4'."`,
    );
  });

  it('throws for an index out of range, a path through a scalar and a bad path', async () => {
    const cfg = await load();
    expect(thrown(() => cfg.get('item1.2')).message).toMatchInlineSnapshot(
      `"Config key 'item1.2': index 2 is out of range for the list 'item1' of length 2 (valid indices: 0 to 1)."`,
    );
    expect(thrown(() => cfg.get('item3.x'))).toMatchObject({ code: 'CONFIG_INVALID_PATH' });
    expect(thrown(() => cfg.get('item3.x')).message).toMatchInlineSnapshot(
      `"Invalid config key 'item3.x': 'item3' is a boolean, not an object or a list, so it has no 'x'."`,
    );
    expect(thrown(() => cfg.get('a..b'))).toMatchObject({ code: 'CONFIG_INVALID_PATH' });
  });

  it('reaches keys that collide with Config members through get', async () => {
    const cfg = new Config({ get: 1, keys: 2, filename: 'data', constructor: 3 });
    expect(typeof cfg.get).toBe('function');
    expect(cfg.get('get')).toBe(1);
    expect(cfg.get('keys')).toBe(2);
    expect(cfg.get('filename')).toBe('data');
    expect(cfg.filename).toBeUndefined();
    expect(cfg.get('constructor')).toBe(3);
    expect('keys' in cfg).toBe(true);
  });

  it('gives deeply frozen values and a mutable copy from toObject', async () => {
    const cfg = await load();
    expect(Object.isFrozen(cfg.item2)).toBe(true);
    expect(() => {
      cfg.item2.a = 5;
    }).toThrow(TypeError);
    const copy = cfg.toObject();
    (copy.item2 as { a: number }).a = 5;
    expect(cfg.item2.a).toBe(0);
    expect(JSON.parse(JSON.stringify(cfg))).toEqual(EXPECTED);
  });

  it('refuses property assignment and points to set', async () => {
    const cfg = await load();
    const error = thrown(() => {
      (cfg as { lr?: number }).lr = 1;
    });
    expect(error).toBeInstanceOf(ConfigKeyError);
    expect(error).toMatchObject({ code: 'CONFIG_READ_ONLY' });
    expect(error.message).toMatchInlineSnapshot(
      `"Cannot assign cfg.lr: Config properties are read-only. Use cfg.set('lr', value) to change a value, or cfg.mergeFromDict({ 'lr': value }) for a changed copy."`,
    );
    expect(() => delete (cfg as { item1?: unknown }).item1).toThrow(ConfigKeyError);
  });

  it('shows the file and the data when printed', async () => {
    const cfg = new Config({ a: 1 }, { filename: 'configs/x.yaml' });
    expect(String(cfg)).toBe('Config (path: configs/x.yaml)\na: 1\n');
    expect(inspect(cfg)).toBe(String(cfg));
  });
});

describe('set', () => {
  it('changes the config in place and returns it', async () => {
    const cfg = await Config.fromFile(fixture('a.yaml'));
    expect(cfg.set('item2.a', 3)).toBe(cfg);
    cfg.set('item1.0', { x: 1 }).set('new.nested.key', 'v').set(['dotted.key'], true);
    expect(cfg.toObject()).toEqual({
      ...EXPECTED,
      item1: [{ x: 1 }, 2],
      item2: { a: 3 },
      new: { nested: { key: 'v' } },
      'dotted.key': true,
    });
    expect(Object.isFrozen(cfg.item1[0])).toBe(true);
  });

  it('does not change values read before', async () => {
    const cfg = await Config.fromFile(fixture('a.yaml'));
    const before = cfg.item2;
    cfg.set('item2.a', 3);
    expect(before).toEqual({ a: 0 });
  });

  it('rejects an index out of range and non-JSON values', async () => {
    const cfg = await Config.fromFile(fixture('a.yaml'));
    expect(thrown(() => cfg.set('item1.5', 0))).toMatchObject({
      code: 'CONFIG_INDEX_OUT_OF_RANGE',
      length: 2,
    });
    expect(thrown(() => cfg.set('item2', { f: Symbol('x') }))).toMatchObject({
      code: 'CONFIG_INVALID_DATA',
      path: 'item2.f',
    });
    expect(cfg.toObject()).toEqual(EXPECTED);
  });
});

describe('dump', () => {
  const tricky = {
    strings: ['yes', 'no', 'on', '1e-3', '010', '~', 'null', '', 'a: b', '#x', ' padded '],
    numbers: [0.001, 10, -1.5, 1e21],
    nested: { list: [[1, 2], { deep: null }], flag: false },
    'key.with.dots': 1,
  };

  it('returns YAML without a path', async () => {
    const cfg = await Config.fromFile(fixture('b.json'));
    expect(cfg.dump()).toMatchInlineSnapshot(`
      "item1:
        - 1
        - 2
      item2:
        a: 0
      item3: true
      item4: test
      "
    `);
    expect(cfg.dump(undefined, { format: 'json' })).toBe(`${JSON.stringify(EXPECTED, null, 2)}\n`);
  });

  it.each(['out.yaml', 'out.yml', 'out.json'])('round-trips through %s', async (name) => {
    const directory = temporaryDirectory();
    const cfg = new Config(tricky);
    const file = path.join(directory, 'sub', name);
    const text = cfg.dump(file);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(text.startsWith('{') === name.endsWith('.json')).toBe(true);
    expect((await Config.fromFile(file)).toObject()).toEqual(tricky);
  });

  it('round-trips a loaded config with bases', async () => {
    const directory = temporaryDirectory();
    const cfg = await Config.fromFile(fixture('l.yaml'));
    const file = path.join(directory, 'l.yaml');
    cfg.dump(file);
    expect((await Config.fromFile(file)).toObject()).toEqual(cfg.toObject());
  });

  it('honours options.format over the extension', () => {
    const directory = temporaryDirectory();
    const file = path.join(directory, 'config.txt');
    new Config({ a: 1 }).dump(file, { format: 'json' });
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ a: 1 });
  });

  it('rejects an extension it cannot write', () => {
    const error = thrown(() => new Config({ a: 1 }).dump(fixture('out.ts')));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'CONFIG_UNSUPPORTED_FORMAT' });
    expect(clean(error.message)).toMatchInlineSnapshot(
      `"Cannot dump a config to <fixtures>/out.ts: dump writes .yaml, .yml or .json files (the extension '.ts' is not one of them), or pass { format: 'yaml' | 'json' }."`,
    );
    expect(fs.existsSync(fixture('out.ts'))).toBe(false);
  });

  it('wraps write failures', () => {
    const directory = writeFiles({ 'file.txt': '' });
    const error = thrown(() =>
      new Config({ a: 1 }).dump(path.join(directory, 'file.txt', 'x.yaml')),
    );
    expect(error).toMatchObject({ code: 'CONFIG_WRITE_ERROR' });
    expect(error.cause).toBeInstanceOf(Error);
    expect(ConfigError.isInstance(error)).toBe(true);
  });
});
