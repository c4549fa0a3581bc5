import { describe, expect, it, vi } from 'vitest';
import * as errors from '../src/errors.js';

const {
  ConfigArgumentError,
  ConfigDataError,
  ConfigError,
  ConfigFileError,
  ConfigKeyError,
  ConfigMergeError,
  ConfigValidationError,
  isConfigError,
} = errors;

/** One instance of each error class. */
function samples(module: typeof errors) {
  return {
    ConfigFileError: new module.ConfigFileError('CONFIG_FILE_NOT_FOUND', 'm', { file: '/a.yaml' }),
    ConfigMergeError: new module.ConfigMergeError('CONFIG_BASE_CYCLE', 'm', { file: '/a.yaml' }),
    ConfigKeyError: new module.ConfigKeyError('CONFIG_KEY_NOT_FOUND', 'm', { path: 'a.b' }),
    ConfigDataError: new module.ConfigDataError('m', 'a'),
    ConfigValidationError: new module.ConfigValidationError([], undefined, undefined),
    ConfigArgumentError: new module.ConfigArgumentError('m', 'commander.x', 1, undefined),
  };
}

describe('errors', () => {
  it('have a name, a code and structured fields', () => {
    const error = new ConfigFileError(
      'CONFIG_PARSE_ERROR',
      'bad',
      { file: '/c/a.yaml', chain: ['/c/b.yaml', '/c/a.yaml'], line: 3, column: 4 },
      { cause: new SyntaxError('x') },
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigFileError');
    expect(error).toMatchObject({
      code: 'CONFIG_PARSE_ERROR',
      file: '/c/a.yaml',
      chain: ['/c/b.yaml', '/c/a.yaml'],
      line: 3,
      column: 4,
    });
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(new ConfigMergeError('CONFIG_BASE_CYCLE', 'm', { file: '/a' })).toMatchObject({
      chain: ['/a'],
      files: ['/a'],
      key: undefined,
    });
  });

  it('recognise each class, and only it, through isInstance', () => {
    const all = samples(errors);
    const classes = {
      ConfigFileError,
      ConfigMergeError,
      ConfigKeyError,
      ConfigDataError,
      ConfigValidationError,
      ConfigArgumentError,
    };
    for (const [name, error] of Object.entries(all)) {
      expect(error.name).toBe(name);
      expect(ConfigError.isInstance(error)).toBe(true);
      expect(isConfigError(error)).toBe(true);
      for (const [other, errorClass] of Object.entries(classes)) {
        expect(errorClass.isInstance(error)).toBe(other === name);
      }
    }
    expect(isConfigError(new Error('x'))).toBe(false);
    expect(isConfigError(null)).toBe(false);
    expect(isConfigError('ConfigError')).toBe(false);
  });

  it('recognise errors from a second copy of the package', async () => {
    vi.resetModules();
    const copy = (await import('../src/errors.js')) as typeof errors;
    expect(copy.ConfigError).not.toBe(ConfigError);
    const foreign = samples(copy);
    expect(foreign.ConfigKeyError).not.toBeInstanceOf(ConfigError);
    expect(ConfigError.isInstance(foreign.ConfigKeyError)).toBe(true);
    expect(ConfigKeyError.isInstance(foreign.ConfigKeyError)).toBe(true);
    expect(ConfigFileError.isInstance(foreign.ConfigKeyError)).toBe(false);
    expect(copy.isConfigError(samples(errors).ConfigFileError)).toBe(true);
  });
});
