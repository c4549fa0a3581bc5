import fs from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as z from 'zod';
import * as zm from 'zod/mini';
import {
  Config,
  ConfigError,
  ConfigValidationError,
  safeValidateConfig,
  validateConfig,
} from '../src/index.js';
import { fixture, thrown } from './helpers.js';

const schema = z.object({
  model: z.object({
    type: z.string(),
    numClasses: z.number().int().min(1),
    dropout: z.number().min(0).max(1),
  }),
  optimizer: z.object({ type: z.enum(['SGD', 'Adam', 'AdamW']), lr: z.number().positive() }),
  epochs: z.number().int(),
  seed: z.number(),
  dataloader: z.strictObject({ batchSize: z.number(), shuffle: z.boolean().default(true) }),
});

/** train.yaml, as if loaded from `configs/train.yaml` (a stable name for the snapshots). */
function trainConfig(): Promise<Config> {
  return Config.fromString(fs.readFileSync(fixture('train.yaml'), 'utf8'), 'yaml', {
    filename: 'configs/train.yaml',
  });
}

describe('validateConfig', () => {
  it('returns the typed config with defaults applied', () => {
    const cfg = new Config({
      model: { type: 'PointNetCls', numClasses: 40, dropout: 0.5 },
      optimizer: { type: 'Adam', lr: 0.001 },
      epochs: 10,
      seed: 0,
      dataloader: { batchSize: 32 },
    });
    const valid = validateConfig(cfg, schema);
    expect(valid.dataloader).toEqual({ batchSize: 32, shuffle: true });
    expectTypeOf(valid.optimizer.type).toEqualTypeOf<'SGD' | 'Adam' | 'AdamW'>();
    expectTypeOf(valid.dataloader.shuffle).toEqualTypeOf<boolean>();
    valid.epochs = 11;
    expect(cfg.get('epochs')).toBe(10);
  });

  it('lists every issue as file: key.path: expected X, received Y', async () => {
    const cfg = await trainConfig();
    expect(() => validateConfig(cfg, schema)).toThrowErrorMatchingInlineSnapshot(`
      [ConfigValidationError: Config validation failed with 6 issues; fix these keys in the config file or override them:
        configs/train.yaml: model.dropout: expected number, received string '0.5'
        configs/train.yaml: optimizer.type: expected one of 'SGD' | 'Adam' | 'AdamW', received string 'Adamw'
        configs/train.yaml: optimizer.lr: expected number > 0, received number -1
        configs/train.yaml: epochs: expected number, received string 'ten'
        configs/train.yaml: seed: expected number, received undefined (key is missing)
        configs/train.yaml: dataloader.shufle: unknown key, did you mean shuffle?]
    `);
  });

  it('throws one ConfigValidationError with structured issues and the zod error as cause', async () => {
    const error = thrown(() =>
      validateConfig(
        new Config({ epochs: 1.5, seed: null }),
        schema.pick({ epochs: true, seed: true }),
      ),
    );
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect(ConfigValidationError.isInstance(error)).toBe(true);
    const validation = error as ConfigValidationError;
    expect(validation.code).toBe('CONFIG_VALIDATION_FAILED');
    expect(validation.filename).toBeUndefined();
    expect(validation.issues).toEqual([
      {
        path: ['epochs'],
        code: 'invalid_type',
        expected: 'int',
        received: 'number 1.5',
        message: 'epochs: expected int, received number 1.5',
      },
      {
        path: ['seed'],
        code: 'invalid_type',
        expected: 'number',
        received: 'null',
        message: 'seed: expected number, received null',
      },
    ]);
    expect(validation.cause).toBeInstanceOf(z.ZodError);
    expect(validation.message).toMatchInlineSnapshot(`
      "Config validation failed with 2 issues; fix these keys in the config file or override them:
        epochs: expected int, received number 1.5
        seed: expected number, received null"
    `);
  });

  it('describes size, format, union and custom issues', () => {
    const shapes = z.object({
      name: z.string().min(3),
      tags: z.array(z.string()).max(1),
      email: z.email(),
      step: z.number().multipleOf(5),
      scheduler: z.discriminatedUnion('type', [
        z.object({ type: z.literal('step'), gamma: z.number() }),
        z.object({ type: z.literal('cosine') }),
      ]),
      even: z.number().refine((value) => value % 2 === 0, 'must be even'),
      root: z.literal('x'),
    });
    const data = {
      name: 'ab',
      tags: ['a', 'b'],
      email: 'nope',
      step: 7,
      scheduler: { type: 'linear' },
      even: 3,
      root: 'y',
    };
    expect(() => validateConfig(data, shapes)).toThrowErrorMatchingInlineSnapshot(`
      [ConfigValidationError: Config validation failed with 7 issues; fix these keys in the config file or override them:
        name: expected string with length >= 3, received string 'ab'
        tags: expected list with length <= 1, received list (length 2)
        email: expected email string, received string 'nope'
        step: expected a multiple of 5, received number 7
        scheduler.type: expected type one of 'step' | 'cosine', received string 'linear'
        even: must be even, received number 3
        root: expected 'x', received string 'y']
    `);
  });

  it('reports a root that is not an object', () => {
    expect(() => validateConfig([1], schema)).toThrowErrorMatchingInlineSnapshot(`
      [ConfigValidationError: Config validation failed with 1 issue; fix these keys in the config file or override them:
        (root): expected object, received list (length 1)]
    `);
  });

  it('accepts zod/mini schemas', () => {
    const mini = zm.object({ lr: zm.number() });
    expect(validateConfig(new Config({ lr: 1 }), mini)).toEqual({ lr: 1 });
    expect(() => validateConfig(new Config({ lr: '1' }), mini)).toThrow(
      'lr: expected number, received string',
    );
  });
});

describe('safeValidateConfig', () => {
  it('returns the data on success', () => {
    const result = safeValidateConfig(new Config({ lr: 1 }), z.object({ lr: z.number() }));
    expect(result).toEqual({ success: true, data: { lr: 1 } });
    if (result.success) expectTypeOf(result.data).toEqualTypeOf<{ lr: number }>();
  });

  it('returns the error instead of throwing', async () => {
    const result = safeValidateConfig(await trainConfig(), schema);
    expect(result.success).toBe(false);
    expect(result.error).toBeInstanceOf(ConfigValidationError);
    expect(result.error?.filename).toBe('configs/train.yaml');
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.code])).toEqual([
      ['model.dropout', 'invalid_type'],
      ['optimizer.type', 'invalid_value'],
      ['optimizer.lr', 'too_small'],
      ['epochs', 'invalid_type'],
      ['seed', 'invalid_type'],
      ['dataloader.shufle', 'unrecognized_keys'],
    ]);
  });
});
