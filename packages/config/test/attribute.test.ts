import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import {
  attributeIssues,
  Config,
  defaultArgumentParser,
  mergeCfgAndArgs,
  parseArgs,
  validateConfig,
} from '../src/index.js';

const schema = z.strictObject({
  epochs: z.number().int().positive(),
  model: z.looseObject({ type: z.string() }),
  optimizer: z.strictObject({ lr: z.number() }),
  numGpus: z.number().int().positive().default(1),
});

async function load(text: string): Promise<{ cfg: Config; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'attribute-'));
  const file = relative(process.cwd(), join(dir, 'x.yaml'));
  writeFileSync(file, text);
  return { cfg: await Config.fromFile(file), file };
}

describe('validation errors name where the value came from', () => {
  test('an override is blamed on the command line, as typed; file values on the file', async () => {
    const { cfg, file } = await load(
      'epochs: 3\nmodel: {type: Net}\noptimizer: {lr: 0.1, mom: 1}\n',
    );
    const args = parseArgs(defaultArgumentParser(), ['epochs=two', 'model.type=[1]'], {
      exitOnError: false,
    });
    const merged = mergeCfgAndArgs(cfg, args, { fillDefaults: false });
    expect(() => validateConfig(merged, schema, { args })).toThrow(
      'Config validation failed with 3 issues; fix these keys in the config file or override them:\n' +
        '  command line: epochs=two: expected a number\n' +
        '  command line: model.type=[1]: expected a string\n' +
        `  ${file}: optimizer.mom: unknown key (not in the schema); remove it or check its spelling`,
    );
  });

  test('a section replaced by an override owns the issues below it', async () => {
    const { cfg } = await load('epochs: 3\nmodel: {type: Net}\noptimizer: {lr: 0.1}\n');
    const args = parseArgs(defaultArgumentParser(), ['optimizer={lr: fast}'], {
      exitOnError: false,
    });
    const issues = attributeIssues(
      [
        {
          path: ['optimizer', 'lr'],
          code: 'invalid_type',
          expected: 'number',
          received: "string 'fast'",
          message: "optimizer.lr: expected number, received string 'fast'",
        },
      ],
      { filename: cfg.filename, args },
    );
    expect(issues[0]).toMatchObject({
      source: 'command line',
      message: 'optimizer={lr: fast} (at optimizer.lr): expected a number',
    });
  });

  test('without args the file is named as before', async () => {
    const { cfg, file } = await load('epochs: zero\nmodel: {type: Net}\noptimizer: {lr: 0.1}\n');
    expect(() => validateConfig(cfg, schema)).toThrow(
      `  ${file}: epochs: expected number, received string 'zero'`,
    );
  });
});

describe('a key in the other spelling replaces the value', () => {
  test('an override or a child file in snake_case over a camelCase base', async () => {
    const { cfg } = await load('optimizer: {lr: 0.1, weightDecay: 0.5}\n');
    const args = parseArgs(defaultArgumentParser(), ['optimizer.weight_decay=0.25'], {
      exitOnError: false,
    });
    expect(mergeCfgAndArgs(cfg, args, { fillDefaults: false }).toObject()).toEqual({
      optimizer: { lr: 0.1, weightDecay: 0.25 },
    });
    const child = await Config.fromString(
      '_base_: ./x.yaml\noptimizer: {weight_decay: 0.125}\n',
      'yaml',
      { filename: cfg.filename!.replace(/x\.yaml$/, 'child.yaml') },
    );
    expect(child.toObject()).toEqual({ optimizer: { lr: 0.1, weight_decay: 0.125 } });
  });
});

describe('defaultArgumentParser({ omit })', () => {
  test('leaves the options out of parsing and help', () => {
    const parser = defaultArgumentParser({ omit: ['resume', 'evalOnly'] });
    expect(parser.helpInformation()).not.toMatch(/--resume|--eval-only/);
    expect(parser.helpInformation()).toContain('--num-gpus <n>');
    expect(() => parseArgs(parser, ['--resume'], { exitOnError: false })).toThrow(
      "unknown option '--resume'",
    );
  });
});
