import { afterEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import {
  ArgumentValidationError,
  buildFromCfg,
  buildModel,
  DATASETS,
  DuplicateEntryError,
  HOOKS,
  InvalidConfigError,
  LOSSES,
  MODELS,
  MODULES,
  OPTIMIZERS,
  Registry,
  RegistryError,
  SCHEDULERS,
  UnknownTypeError,
} from '../src/index.js';

class Object1 {
  constructor(readonly options: Record<string, unknown> = {}) {}
}

describe('register / get / iterate (gorilla tests/test_registry.py)', () => {
  test('decorator registration, duplicate error, get, iteration', () => {
    const registry = new Registry<object>('things');

    @registry.registerModule()
    class Thing {}

    expect(registry.get('Thing').factory).toBe(Thing);
    expect(registry.has('Thing')).toBe(true);
    expect(registry.size).toBe(1);
    expect([...registry]).toEqual([
      ['Thing', expect.objectContaining({ name: 'Thing', factory: Thing, kind: 'class' })],
    ]);
    expect(() => registry.register('Thing', Object1)).toThrow(DuplicateEntryError);
    expect(() => registry.get('Nope')).toThrow(UnknownTypeError);
  });

  test('decorator with an explicit name and options', () => {
    const registry = new Registry<object>('things');
    @registry.registerModule('renamed')
    class A {}
    @registry.registerModule({ name: 'b', aliases: ['bee'] })
    class B {}
    expect(registry.get('renamed').factory).toBe(A);
    expect(registry.get('bee').factory).toBe(B);
    expect([...registry.keys()]).toEqual(['renamed', 'b']);
  });

  test('register returns the factory; functions are called, classes constructed', () => {
    const registry = new Registry<{ n: number }>('fns');
    const make = (options: { n: number }) => ({ n: options.n * 2 });
    expect(registry.register('make', make)).toBe(make);
    expect(registry.get('make').kind).toBe('function');
    expect(registry.build({ type: 'make', n: 2 })).toEqual({ n: 4 });
  });

  test('aliases resolve and collide like names; force replaces', () => {
    const registry = new Registry('r');
    registry.register('Alpha', Object1, { aliases: ['A'] });
    expect(registry.build({ type: 'A' })).toBeInstanceOf(Object1);
    expect(() => registry.register('A', Object1)).toThrowErrorMatchingInlineSnapshot(
      `[DuplicateEntryError: 'A' is already registered in the 'r' registry (an alias of 'Alpha'). Pick another name, or pass { force: true } to replace the existing entry.]`,
    );
    class Other {}
    registry.register('Alpha', Other, { force: true });
    expect(registry.get('Alpha').factory).toBe(Other);
    expect(registry.has('A')).toBe(false);
    expect(registry.unregister('Alpha')).toBe(true);
    expect(registry.size).toBe(0);
  });

  test('register rejects a non-function', () => {
    const registry = new Registry('r');
    expect(() => registry.register('x', 42 as never)).toThrow(
      /expects a class or a function, got number/,
    );
  });

  test('toString is a readable table', () => {
    const registry = new Registry('models');
    registry.register('PointNetCls', Object1, { schema: z.object({}), aliases: ['pointnet'] });
    registry.register('makeMlp', () => ({}));
    expect(registry.toString()).toMatchInlineSnapshot(`
      "Registry 'models' (2 entries)
      ┌─────────────┬──────────┬──────────┬────────┐
      │ name        │ kind     │ aliases  │ schema │
      ├─────────────┼──────────┼──────────┼────────┤
      │ PointNetCls │ class    │ pointnet │ yes    │
      │ makeMlp     │ function │          │        │
      └─────────────┴──────────┴──────────┴────────┘"
    `);
    expect(String(registry)).toBe(registry.toString());
  });
});

describe('build', () => {
  const registry = new Registry<Object1>('models');
  registry.register('Object1', Object1, { aliases: ['obj'] });

  test('type by name, alias or constructor; cfg keys win over defaults', () => {
    expect(registry.build({ type: 'Object1', a: 1 }, { a: 0, b: 2 }).options).toEqual({
      a: 1,
      b: 2,
    });
    expect(registry.build({ type: 'obj' })).toBeInstanceOf(Object1);
    expect(registry.build({ type: Object1, c: 3 }).options).toEqual({ c: 3 });
    expect(buildFromCfg({ a: 1 }, registry, { type: 'Object1' }).options).toEqual({ a: 1 });
  });

  test('an unregistered constructor given as type is built directly', () => {
    class Loose {
      constructor(readonly options: { x: number }) {}
    }
    expect(new Registry('any').build<Loose>({ type: Loose, x: 1 }).options).toEqual({ x: 1 });
  });

  test('never mutates the caller cfg or defaults, even when the factory writes into its options', () => {
    class Greedy {
      constructor(options: { nested: { list: number[] }; type?: unknown }) {
        options.nested.list.push(99);
        options.type = 'changed';
      }
    }
    const local = new Registry('greedy');
    local.register('Greedy', Greedy);
    const cfg = { type: 'Greedy', nested: { list: [1] } };
    const defaults = { extra: { deep: true } };
    const snapshot = structuredClone({ cfg, defaults });
    local.build(cfg, defaults);
    local.build(cfg, defaults);
    expect({ cfg, defaults }).toEqual(snapshot);
  });

  test('unknown type lists the names and the closest matches', () => {
    const local = new Registry('models');
    for (const name of ['PointNetCls', 'PointNetSeg', 'DGCNN', 'Mlp'])
      local.register(name, Object1);
    let caught: unknown;
    try {
      local.build({ type: 'PointnetCls' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UnknownTypeError);
    const error = caught as UnknownTypeError;
    expect(error.code).toBe('REGISTRY_UNKNOWN_TYPE');
    expect(error.suggestions[0]).toBe('PointNetCls');
    expect(error.message).toMatchInlineSnapshot(
      `"No entry named 'PointnetCls' in the 'models' registry. Did you mean 'PointNetCls', 'PointNetSeg'? Available: 'PointNetCls', 'PointNetSeg', 'DGCNN', 'Mlp'."`,
    );
    expect(() => new Registry('empty').get('x')).toThrow(/\(the registry is empty\)/);
  });

  test('bad configs name what was expected', () => {
    expect(() => registry.build([] as never)).toThrowErrorMatchingInlineSnapshot(
      `[InvalidConfigError: The 'models' registry can only build from an object with a 'type' key, got an array.]`,
    );
    expect(() => registry.build({ a: 1 })).toThrowErrorMatchingInlineSnapshot(
      `[InvalidConfigError: A config for the 'models' registry needs a 'type' key (in the config or the defaults) naming one of: Object1.]`,
    );
    expect(() => registry.build({ type: 3 as never })).toThrow(InvalidConfigError);
    expect(() => registry.build({ type: 'Object1' }, 'x' as never)).toThrow(
      /Defaults for the 'models' registry must be an object, got string "x"/,
    );
  });

  test('the zod schema validates before construction and reports every bad key', () => {
    const local = new Registry('models');
    let constructed = 0;
    local.register(
      'Net',
      class Net {
        constructor(readonly options: { width: number; depth: number }) {
          constructed++;
        }
      },
      {
        schema: z.strictObject({
          width: z.number().int().positive(),
          depth: z.number().int().default(2),
          head: z.object({ classes: z.number() }).optional(),
        }),
      },
    );
    const built = local.build<{ options: object }>({ type: 'Net', width: 8 });
    expect(built.options).toEqual({ width: 8, depth: 2 });
    let caught: unknown;
    try {
      local.build({ type: 'Net', width: -1, depth: 'deep', head: { classes: 'ten' }, extra: 1 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ArgumentValidationError);
    const error = caught as ArgumentValidationError;
    expect(error.issues.map((issue) => [issue.path, issue.code])).toEqual([
      ['width', 'too_small'],
      ['depth', 'invalid_type'],
      ['head.classes', 'invalid_type'],
      ['', 'unrecognized_keys'],
    ]);
    expect(error.message).toMatchInlineSnapshot(`
      "Invalid arguments for 'Net' in the 'models' registry:
        - width: Too small: expected number to be >0 (given: -1)
        - depth: Invalid input: expected number, received string (given: "deep")
        - head.classes: Invalid input: expected number, received string (given: "ten")
        - (arguments): Unrecognized key: "extra""
    `);
    expect(constructed).toBe(1);
  });

  test('a constructor error keeps its class and stack and gains the type name', () => {
    class Exploding {
      constructor() {
        throw new RangeError('width must be even');
      }
    }
    const local = new Registry('models');
    local.register('Exploding', Exploding);
    let caught: unknown;
    try {
      local.build({ type: 'Exploding' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RangeError);
    expect((caught as Error).message).toBe('models.Exploding: width must be even');
    expect((caught as Error).stack).toMatch(
      /^RangeError: models\.Exploding: width must be even\n\s+at new Exploding/,
    );

    local.register('throwsString', () => {
      throw 'plain string';
    });
    expect(() => local.build({ type: 'throwsString' })).toThrow(
      'models.throwsString: plain string',
    );
  });
});

describe('errors', () => {
  test('isInstance recognises every registry error, including ones from another copy', () => {
    const error = new UnknownTypeError('models', 'x', [], []);
    expect(RegistryError.isInstance(error)).toBe(true);
    expect(RegistryError.isInstance(new Error('x'))).toBe(false);
    // An error built by a second install carries the same global brand.
    const foreign = Object.defineProperty(
      new Error('x'),
      Symbol.for('@gorilla-ts/registry.error'),
      {
        value: true,
      },
    );
    expect(RegistryError.isInstance(foreign)).toBe(true);
  });
});

describe('standard registries', () => {
  afterEach(() => {
    MODELS.unregister('TestModel');
  });

  test('exist with their names and are shared through globalThis', async () => {
    expect(
      [MODELS, MODULES, LOSSES, DATASETS, OPTIMIZERS, SCHEDULERS, HOOKS].map((r) => r.name),
    ).toEqual(['models', 'modules', 'losses', 'datasets', 'optimizers', 'schedulers', 'hooks']);
    // A second evaluation of the module (as a duplicate install would do) sees the same registry.
    const url = new URL(`../src/standard.ts?copy=${Date.now()}`, import.meta.url).href;
    const again = await import(/* @vite-ignore */ url);
    expect(again.MODELS).toBe(MODELS);
  });

  test('buildModel builds from MODELS', () => {
    MODELS.register('TestModel', Object1);
    expect(buildModel<Object1>({ type: 'TestModel', k: 1 }).options).toEqual({ k: 1 });
  });
});
