import * as z from 'zod';
import { type AttributeIssuesOptions, attributeIssues } from './attribute.js';
import { Config } from './config.js';
import { describeValue, formatPath, isPlainObject } from './data.js';
import { ConfigError, type ConfigIssue, ConfigValidationError } from './errors.js';
import { closestKey } from './suggest.js';
import { zodProblem } from './zod-version.js';

/** The result of {@link safeValidateConfig}: the typed data, or the error listing every issue. */
export type ValidateConfigResult<T> =
  | { readonly success: true; readonly data: T; readonly error?: undefined }
  | { readonly success: false; readonly data?: undefined; readonly error: ConfigValidationError };

/**
 * Options of {@link validateConfig}: the command line the config was merged with, so that an
 * issue in a value set there is blamed on the command line (`command line: epochs=two: expected
 * a number`), not on the file.
 */
export type ValidateConfigOptions = Pick<AttributeIssuesOptions, 'args' | 'keys'>;

/** The value at `path` in `input`, and whether the last key exists. */
function valueAt(
  input: unknown,
  path: readonly PropertyKey[],
): { value: unknown; exists: boolean } {
  let node: unknown = input;
  for (const key of path) {
    if ((Array.isArray(node) || isPlainObject(node)) && Object.hasOwn(node, key)) {
      node = (node as Record<PropertyKey, unknown>)[key];
    } else {
      return { value: undefined, exists: false };
    }
  }
  return { value: node, exists: true };
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** `>= 1`, `< 10`, `== 3` for a size issue. */
function bound(issue: { inclusive?: boolean; exact?: boolean }, small: boolean, limit: unknown) {
  if (issue.exact) return `== ${String(limit)}`;
  const op = small ? '>' : '<';
  return `${op}${issue.inclusive === false ? '' : '='} ${String(limit)}`;
}

/** What `issue` expected, in words, when zod says. */
function expectedOf(issue: z.core.$ZodIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = small ? issue.minimum : issue.maximum;
      const text = bound(issue, small, limit);
      if (issue.origin === 'string') return `string with length ${text}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `list with length ${text}`;
      return `${issue.origin} ${text}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? quote(issue.values[0])
        : `one of ${issue.values.map(quote).join(' | ')}`;
    case 'invalid_format':
      return issue.format === 'regex' && issue.pattern !== undefined
        ? `string matching ${issue.pattern}`
        : `${issue.format} string`;
    case 'not_multiple_of':
      return `a multiple of ${issue.divisor}`;
    case 'invalid_union':
      if ('options' in issue && issue.options !== undefined && issue.options.length > 0) {
        const options = issue.options.map(quote).join(' | ');
        return issue.discriminator === undefined
          ? `one of ${options}`
          : `${issue.discriminator} one of ${options}`;
      }
      return 'a value matching one of the alternatives';
    default:
      return undefined;
  }
}

/**
 * The keys an object schema declares at `path` (through `.optional()`, `.default()`, pipes and
 * nested objects), for "did you mean" suggestions; empty where the schema is not an object.
 */
function schemaKeysAt(schema: z.core.$ZodType, path: readonly (string | number)[]): string[] {
  let node = schema as unknown as { _zod?: { def?: Record<string, unknown> } } | undefined;
  const rest = [...path];
  for (let depth = 0; depth < 64 && node?._zod?.def !== undefined; depth++) {
    const def = node._zod.def;
    if (def.type === 'object') {
      const shape = def.shape as Record<string, typeof node>;
      if (rest.length === 0) return Object.keys(shape);
      node = shape[String(rest.shift())];
    } else if (def.type === 'pipe') node = def.in as typeof node;
    else if ('innerType' in def) node = def.innerType as typeof node;
    else return [];
  }
  return [];
}

/** Turns zod issues into {@link ConfigIssue}s (one per unknown key for `unrecognized_keys`). */
export function toConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  knownKeys?: (path: readonly (string | number)[]) => readonly string[],
): ConfigIssue[] {
  const result: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.map((key) => (typeof key === 'number' ? key : String(key)));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        const { value } = valueAt(input, keyPath);
        const near = knownKeys === undefined ? undefined : closestKey(key, knownKeys(path));
        result.push({
          path: keyPath,
          code: issue.code,
          expected: undefined,
          received: describeValue(value),
          message:
            near === undefined
              ? `${formatPath(keyPath)}: unknown key (not in the schema); remove it or check its spelling`
              : `${formatPath(keyPath)}: unknown key, did you mean ${near}?`,
        });
      }
      continue;
    }
    const { value, exists } = valueAt(input, path);
    const received = exists ? describeValue(value) : 'undefined (key is missing)';
    const expected = expectedOf(issue);
    const what = expected === undefined ? issue.message : `expected ${expected}`;
    result.push({
      path,
      code: issue.code,
      expected,
      received,
      message: `${formatPath(path)}: ${what}, received ${received}`,
    });
  }
  return result;
}

/**
 * Validates a config against a zod schema: returns the typed result, or
 * `{ success: false, error }` with a {@link ConfigValidationError} listing every issue as
 * `file: key.path: expected X, received Y`. Never throws for invalid data; throws a
 * {@link ConfigError} `CONFIG_ZOD_VERSION` naming the versions when the schema or the installed
 * zod is not zod 4.
 *
 * @param config - A {@link Config} (its data and `filename` are used) or plain data.
 * @param schema - A zod v4 schema (classic `zod` or `zod/mini`); parsing is synchronous.
 */
export function safeValidateConfig<S extends z.core.$ZodType>(
  config: Config | unknown,
  schema: S,
  options: ValidateConfigOptions = {},
): ValidateConfigResult<z.core.output<S>> {
  const input = config instanceof Config ? config.toObject() : config;
  const filename = config instanceof Config ? config.filename : undefined;
  const problem = zodProblem(schema, 'validateConfig');
  if (problem !== undefined) throw new ConfigError('CONFIG_ZOD_VERSION', problem);
  const result = z.safeParse(schema, input);
  if (result.success) return { success: true, data: result.data };
  const found = toConfigIssues(result.error.issues, input, (path) => schemaKeysAt(schema, path));
  const issues =
    options.args === undefined
      ? found
      : attributeIssues(found, { filename, args: options.args, keys: options.keys });
  return { success: false, error: new ConfigValidationError(issues, filename, result.error) };
}

/**
 * Validates a config against a zod schema and returns the typed result (`z.output` of the
 * schema, with its defaults and transforms applied). Run it after `_base_`, `_delete_` and
 * command-line overrides are resolved.
 *
 * @param config - A {@link Config} (its data and `filename` are used) or plain data.
 * @param schema - A zod v4 schema (classic `zod` or `zod/mini`); parsing is synchronous.
 * @throws {@link ConfigValidationError} listing every issue, one per line, as
 *   `file: key.path: expected X, received Y`.
 */
export function validateConfig<S extends z.core.$ZodType>(
  config: Config | unknown,
  schema: S,
  options: ValidateConfigOptions = {},
): z.core.output<S> {
  const result = safeValidateConfig(config, schema, options);
  if (!result.success) throw result.error;
  return result.data;
}
