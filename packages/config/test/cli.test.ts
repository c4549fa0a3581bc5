import { Option } from 'commander';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import * as z from 'zod';
import {
  Config,
  ConfigArgumentError,
  type DefaultArgs,
  defaultArgumentParser,
  mergeCfgAndArgs,
  type ParsedArgs,
  parseArgs,
  validateConfig,
} from '../src/index.js';
import { fixture, thrown } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** Parses `argv` with a fresh default parser, throwing instead of exiting. */
function parse(argv: string[]): ParsedArgs {
  return parseArgs(defaultArgumentParser(), argv, { exitOnError: false });
}

describe('defaultArgumentParser + parseArgs', () => {
  it('has the documented defaults', () => {
    const args = parse([]);
    expect(args.options).toEqual({
      resume: false,
      evalOnly: false,
      numGpus: 1,
      numMachines: 1,
      machineRank: 0,
      distUrl: 'auto',
    });
    expect(args.overrides).toEqual([]);
    expect([...args.explicit]).toEqual([]);
    expectTypeOf(args.options).toEqualTypeOf<DefaultArgs>();
  });

  it('parses every option and records which ones were passed', () => {
    const args = parse([
      '--config',
      'configs/a.yaml',
      '--resume',
      '--eval-only',
      '--num-gpus',
      '2',
      '--num-machines=3',
      '--machine-rank',
      '1',
      '--dist-url',
      'tcp://10.0.0.1:29500',
      '--backend',
      'wasm',
      '--seed',
      '-7',
    ]);
    expect(args.options).toEqual({
      config: 'configs/a.yaml',
      resume: true,
      evalOnly: true,
      numGpus: 2,
      numMachines: 3,
      machineRank: 1,
      distUrl: 'tcp://10.0.0.1:29500',
      backend: 'wasm',
      seed: -7,
    });
    expect([...args.explicit].sort()).toEqual(
      [
        'backend',
        'config',
        'distUrl',
        'evalOnly',
        'machineRank',
        'numGpus',
        'numMachines',
        'resume',
        'seed',
      ].sort(),
    );
  });

  it('uses options.defaultConfig', () => {
    const args = parseArgs(defaultArgumentParser({ defaultConfig: 'config/default.yaml' }), [], {
      exitOnError: false,
    });
    expect(args.options.config).toBe('config/default.yaml');
    expect(args.explicit.has('config')).toBe(false);
  });

  it.each([
    ['lr=1e-3', 'lr', 0.001],
    ['flag=true', 'flag', true],
    ['name=foo', 'name', 'foo'],
    ['list=[1,2]', 'list', [1, 2]],
    ['model.layers.0.units=64', 'model.layers.0.units', 64],
    ['answer=yes', 'answer', 'yes'],
    ['octal=010', 'octal', 10],
    ['quoted="010"', 'quoted', '010'],
    ['empty=', 'empty', null],
    ['tilde=~', 'tilde', null],
    ['pair={a: 1}', 'pair', { a: 1 }],
    ['eq=a=b', 'eq', 'a=b'],
    ['url=tcp://h:1', 'url', 'tcp://h:1'],
  ])('parses the override %s as YAML', (text, key, value) => {
    expect(parse([text]).overrides).toEqual([{ key, value, text }]);
  });

  it('keeps overrides in order, mixed with options', () => {
    const args = parse(['a=1', '--resume', 'b.c=2', 'a=3']);
    expect(args.overrides.map((override) => [override.key, override.value])).toEqual([
      ['a', 1],
      ['b.c', 2],
      ['a', 3],
    ]);
    expect(args.options.resume).toBe(true);
  });

  it('rejects a bad integer, naming the option', () => {
    const error = thrown(() => parse(['--num-gpus', 'two']));
    expect(error).toBeInstanceOf(ConfigArgumentError);
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID_ARGUMENT',
      commanderCode: 'commander.invalidArgument',
      exitCode: 1,
    });
    expect(error.message).toMatchInlineSnapshot(
      `"option '--num-gpus <n>' argument 'two' is invalid. Expected an integer >= 1."`,
    );
    expect(thrown(() => parse(['--machine-rank', '-1'])).message).toMatchInlineSnapshot(
      `"option '--machine-rank <n>' argument '-1' is invalid. Expected an integer >= 0."`,
    );
    expect(thrown(() => parse(['--seed', '1.5'])).message).toMatchInlineSnapshot(
      `"option '--seed <n>' argument '1.5' is invalid. Expected an integer."`,
    );
  });

  it('rejects an override without =', () => {
    const error = thrown(() => parse(['lr']));
    expect(error).toBeInstanceOf(ConfigArgumentError);
    expect(error.message).toMatchInlineSnapshot(
      `"command-argument value 'lr' is invalid for argument 'overrides'. Expected key=value, e.g. optimizer.lr=0.01 (options start with '--'; see --help)."`,
    );
    expect(thrown(() => parse(['=1'])).message).toContain('Expected key=value');
  });

  it('rejects an override whose key or value is malformed', () => {
    expect(thrown(() => parse(['a..b=1'])).message).toMatchInlineSnapshot(
      `"command-argument value 'a..b=1' is invalid for argument 'overrides'. Invalid key path 'a..b': expected dot-separated keys such as 'model.layers.0.units' (no empty parts). For keys that contain a dot, pass the path as a list of keys."`,
    );
    expect(thrown(() => parse(['list=[1,2'])).message).toMatchInlineSnapshot(
      `"command-argument value 'list=[1,2' is invalid for argument 'overrides'. The value of 'list' is not valid YAML (Flow sequence must end with a ]). To pass it as text, quote it for YAML inside the shell quotes: "list='[1,2'"."`,
    );
  });

  it('rejects unknown options', () => {
    const error = thrown(() => parse(['--num-gpu', '2']));
    expect(error).toMatchObject({ commanderCode: 'commander.unknownOption' });
    expect(error.message).toMatchInlineSnapshot(
      `"unknown option '--num-gpu'
(Did you mean --num-gpus?)"`,
    );
  });

  it('prints the error and exits with code 1 by default', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${String(code)}`);
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(() => parseArgs(defaultArgumentParser(), ['--num-gpus', 'x'])).toThrow('exit 1');
    expect(exit).toHaveBeenCalledWith(1);
    expect(String(stderr.mock.calls[0]?.[0])).toContain(
      "error: option '--num-gpus <n>' argument 'x' is invalid. Expected an integer >= 1.",
    );
  });

  it('reads process.argv by default', () => {
    vi.spyOn(process, 'argv', 'get').mockReturnValue(['node', 'train.js', '--seed', '3', 'a=1']);
    const args = parseArgs(defaultArgumentParser(), undefined, { exitOnError: false });
    expect(args.options.seed).toBe(3);
    expect(args.overrides).toEqual([{ key: 'a', value: 1, text: 'a=1' }]);
  });

  it('counts options set from the environment as explicit', () => {
    vi.stubEnv('GORILLA_TEST_WORKERS', '4');
    const parser = defaultArgumentParser().addOption(
      new Option('--workers <n>', 'data loader workers')
        .env('GORILLA_TEST_WORKERS')
        .argParser(Number),
    );
    const args = parseArgs<DefaultArgs & { workers?: number }>(parser, [], { exitOnError: false });
    expect(args.options.workers).toBe(4);
    expect(args.explicit.has('workers')).toBe(true);
  });
});

describe('mergeCfgAndArgs', () => {
  const cfg = new Config(
    { numGpus: 8, resume: true, model: { depth: 50, width: 64 } },
    { filename: 'x.yaml' },
  );

  it('keeps config values for options the user did not pass', () => {
    const merged = mergeCfgAndArgs(cfg, parse([]));
    expect(merged.get('numGpus')).toBe(8);
    expect(merged.get('resume')).toBe(true);
  });

  it('lets options the user passed override the config', () => {
    const merged = mergeCfgAndArgs(cfg, parse(['--num-gpus', '2']));
    expect(merged.get('numGpus')).toBe(2);
    expect(merged.get('resume')).toBe(true);
    expect(cfg.get('numGpus')).toBe(8);
    expect(merged.filename).toBe('x.yaml');
  });

  it('fills keys the config lacks with option defaults, but never copies --config', () => {
    const merged = mergeCfgAndArgs(cfg, parse(['--config', 'x.yaml']));
    expect(merged.toObject()).toEqual({
      numGpus: 8,
      resume: true,
      model: { depth: 50, width: 64 },
      evalOnly: false,
      numMachines: 1,
      machineRank: 0,
      distUrl: 'auto',
    });
    const bare = mergeCfgAndArgs(cfg, parse(['--eval-only']), { fillDefaults: false });
    expect(bare.keys()).toEqual(['numGpus', 'resume', 'model', 'evalOnly']);
  });

  it('maps options to other keys, or leaves them out', () => {
    const merged = mergeCfgAndArgs(cfg, parse(['--seed', '5', '--config', 'c.yaml']), {
      keys: { seed: 'train.seed', config: 'configFile', distUrl: false },
      fillDefaults: false,
    });
    expect(merged.get('train.seed')).toBe(5);
    expect(merged.get('configFile')).toBe('c.yaml');
    expect(merged.has('seed')).toBe(false);
    expect(merged.has('distUrl')).toBe(false);
  });

  it('applies key=value overrides last, in order', () => {
    const merged = mergeCfgAndArgs(
      cfg,
      parse(['--num-gpus', '2', 'numGpus=4', 'model={depth: 18}', 'model.width=32', 'lr=1e-3']),
    );
    expect(merged.get('numGpus')).toBe(4);
    expect(merged.get('model')).toEqual({ depth: 18, width: 32 });
    expect(merged.get('lr')).toBe(0.001);
  });

  it('merges options that apps add', () => {
    const parser = defaultArgumentParser().option('--lr <x>', 'learning rate', Number.parseFloat);
    const args = parseArgs<DefaultArgs & { lr?: number }>(parser, ['--lr', '0.5'], {
      exitOnError: false,
    });
    expect(mergeCfgAndArgs(new Config({ lr: 0.1 }), args).get('lr')).toBe(0.5);
  });

  it('reports a bad override path with the list length', () => {
    const error = thrown(() => mergeCfgAndArgs(new Config({ list: [1] }), parse(['list.3=0'])));
    expect(error).toMatchObject({ code: 'CONFIG_INDEX_OUT_OF_RANGE', length: 1 });
  });

  it('runs end to end: file, command line, validation', async () => {
    const args = parse(['--config', fixture('d.yaml'), '--num-gpus', '2', 'item2.a=5']);
    const loaded = await Config.fromFile(args.options.config ?? '');
    const schema = z.object({
      numGpus: z.number().int().positive(),
      item2: z.object({ a: z.number(), b: z.number() }),
    });
    const valid = validateConfig(mergeCfgAndArgs(loaded, args), schema);
    expect(valid).toEqual({ numGpus: 2, item2: { a: 5, b: 1 } });
  });
});

describe('--oversubscribe', () => {
  it('is true when passed, and absent (not copied into the config) otherwise', () => {
    const passed = parse(['--num-gpus', '8', '--oversubscribe']);
    expect(passed.options.oversubscribe).toBe(true);
    expect(passed.explicit.has('oversubscribe')).toBe(true);
    const absent = parse([]);
    expect(absent.options.oversubscribe).toBeUndefined();
    expect(mergeCfgAndArgs(new Config({}), absent).has('oversubscribe')).toBe(false);
    expect(defaultArgumentParser().helpInformation()).toMatch(
      /--oversubscribe +allow more processes per machine than devices/,
    );
  });
});
