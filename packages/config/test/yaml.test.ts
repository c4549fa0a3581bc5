import { describe, expect, it } from 'vitest';
import { Config, ConfigFileError } from '../src/index.js';
import { rejected } from './helpers.js';

/** The value of `value: <text>` as this package reads YAML. */
async function scalar(text: string): Promise<unknown> {
  return (await Config.fromString(`value: ${text}\n`, 'yaml')).get('value');
}

// Each row backs one line of the README's "YAML 1.2 vs PyYAML" table. The PyYAML column is
// what gorilla-core's loader (PyYAML 6, `yaml.Loader`, YAML 1.1) gives for the same text.
describe('YAML 1.2 scalars (README table)', () => {
  it.each([
    // text, this package, (PyYAML 1.1)
    ['1e-3', 0.001], // '1e-3' (a string: 1.1 floats need a dot and a signed exponent)
    ['1e3', 1000], // '1e3'
    ['1.0e-3', 0.001], // 0.001
    ['yes', 'yes'], // True
    ['no', 'no'], // False
    ['on', 'on'], // True
    ['Off', 'Off'], // False
    ['y', 'y'], // 'y'
    ['True', true], // True
    ['FALSE', false], // False
    ['010', 10], // 8 (octal)
    ['0o10', 8], // '0o10'
    ['0x10', 16], // 16
    ['0b101', '0b101'], // 5
    ['1_000', '1_000'], // 1000
    ['1:20', '1:20'], // 80 (base 60)
    ['~', null], // None
    ['null', null], // None
    ['None', 'None'], // 'None'
    ['(1, 2)', '(1, 2)'], // '(1, 2)'
    ['2021-01-01', '2021-01-01'], // datetime.date(2021, 1, 1)
    ['.inf', Number.POSITIVE_INFINITY], // inf
    ['+1', 1], // 1
    ['.5', 0.5], // 0.5
  ])('reads %s as %o', async (text, expected) => {
    expect(await scalar(text)).toEqual(expected);
  });

  it('supports anchors and << merge keys, as PyYAML does', async () => {
    const cfg = await Config.fromString(
      'defaults: &defaults\n  lr: 0.1\n  momentum: 0.9\nsgd:\n  <<: *defaults\n  lr: 0.01\n',
      'yaml',
    );
    expect(cfg.get('sgd')).toEqual({ lr: 0.01, momentum: 0.9 });
  });

  it('rejects !!python/* tags with the line', async () => {
    const error = await rejected(Config.fromString('size: !!python/tuple [1, 2]\n', 'yaml'));
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toMatchObject({ code: 'CONFIG_PARSE_ERROR', line: 1, column: 7 });
    expect(error.message).toMatchInlineSnapshot(`
      "Invalid YAML in <string> at line 1, column 7: Unresolved tag: tag:yaml.org,2002:python/tuple. Language-specific tags such as !!python/tuple are not supported; write a plain list or mapping instead.
        1 | size: !!python/tuple [1, 2]
          |       ^"
    `);
  });

  it('rejects several documents in one file', async () => {
    const error = await rejected(Config.fromString('a: 1\n---\nb: 2\n', 'yaml'));
    expect(error).toMatchObject({ code: 'CONFIG_PARSE_ERROR', line: 2 });
  });
});
