import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { ArgumentValidationError, Registry } from '../src/index.js';

class Net {
  constructor(readonly options: { numClasses: number; weightDecay?: number }) {}
}
class Sgd {
  constructor(readonly options: { params: unknown; lr: number; weightDecay: number }) {}
}

function registries() {
  const models = new Registry<object>('models');
  models.register('PointNetCls', Net, {
    schema: z.strictObject({
      numClasses: z.number().int().positive(),
      inChannels: z.number().int().positive().default(3),
    }),
  });
  const optimizers = new Registry<object>('optimizers');
  optimizers.register('SGD', Sgd, {
    schema: z
      .strictObject({
        params: z.custom((value) => typeof value === 'object' && value !== null),
        lr: z.number().positive(),
        weightDecay: z.number().nonnegative().default(0),
      })
      .transform((options) => ({ ...options })),
  });
  return { models, optimizers };
}

describe('Registry.validate: every problem of a section, with key paths', () => {
  test('an unknown key is reported under its path, with the near name in the user spelling', () => {
    const { models } = registries();
    expect(models.validate({ type: 'PointNetCls', num_clases: 10 }, 'model')).toEqual([
      {
        path: 'model.num_clases',
        code: 'unrecognized_keys',
        message: 'unknown key, did you mean num_classes?',
      },
    ]);
    expect(models.validate({ type: 'PointNetCls', numClases: 10 }, 'model')[0]?.message).toBe(
      'unknown key, did you mean numClasses?',
    );
  });

  test('all problems at once: wrong type, unknown key, both spellings', () => {
    const { models } = registries();
    const issues = models.validate(
      { type: 'PointNetCls', num_classes: 'ten', in_channels: 3, inChannels: 3, depth: 2 },
      'model',
    );
    expect(issues.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      'model.inChannels: given as both in_channels and inChannels: they set the same option, give one',
      'model.num_classes: expected number, received string "ten"',
      'model.depth: unknown key of PointNetCls (its options: numClasses, inChannels)',
    ]);
  });

  test('an unknown type names the near entry', () => {
    const { models } = registries();
    expect(models.validate({ type: 'PointNetCl' }, 'model')).toEqual([
      {
        path: 'model.type',
        code: 'unknown_type',
        message:
          "no 'PointNetCl' in the 'models' registry, did you mean PointNetCls? (registered: PointNetCls)",
      },
    ]);
    expect(models.validate({ num_classes: 3 }, 'model')[0]).toMatchObject({
      path: 'model.type',
      message: 'missing; one of PointNetCls',
    });
    expect(models.validate('PointNetCls', 'model')[0]?.message).toBe(
      `expected an object with a 'type' key (one of PointNetCls), received string "PointNetCls"`,
    );
  });

  test('arguments the builder provides are not reported missing; a valid section has no issues', () => {
    const { optimizers } = registries();
    expect(
      optimizers.validate({ type: 'SGD', lr: 0.1, weight_decay: 1e-4 }, 'optimizer', {
        provided: ['params'],
      }),
    ).toEqual([]);
    expect(optimizers.validate({ type: 'SGD', lr: 0.1 }, 'optimizer')).toHaveLength(1);
  });
});

describe('Registry.build: snake_case and camelCase keys, normalised in one place', () => {
  test('weight_decay and weightDecay build the same object; both at once is refused', () => {
    const { optimizers } = registries();
    const snake = optimizers.build<Sgd>({ type: 'SGD', params: [], lr: 0.1, weight_decay: 0.5 });
    const camel = optimizers.build<Sgd>({ type: 'SGD', params: [], lr: 0.1, weightDecay: 0.5 });
    expect(snake.options).toEqual(camel.options);
    expect(snake.options.weightDecay).toBe(0.5);
    expect(() =>
      optimizers.build({ type: 'SGD', params: [], lr: 0.1, weight_decay: 1, weightDecay: 1 }),
    ).toThrow(ArgumentValidationError);
    expect(() =>
      optimizers.build({ type: 'SGD', params: [], lr: 0.1, weight_decay: 1, weightDecay: 1 }),
    ).toThrow(
      "Invalid arguments for 'SGD' in the 'optimizers' registry:\n  - weightDecay: given as both weight_decay and weightDecay: they set the same option, give one",
    );
  });

  test('a schema without declared keys gets the keys as written', () => {
    const registry = new Registry<object>('things');
    registry.register('Free', (options: object) => ({ options }));
    expect(registry.build<{ options: object }>({ type: 'Free', some_key: 1 }).options).toEqual({
      some_key: 1,
    });
  });
});
