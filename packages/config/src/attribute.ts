import type { MergeCfgAndArgsOptions, ParsedArgs } from './cli.js';
import { formatPath } from './data.js';
import type { ConfigIssue } from './errors.js';
import { parsePath } from './path.js';

/** Options of {@link attributeIssues}: what the effective config was made of. */
export interface AttributeIssuesOptions {
  /** The config file, as the user named it (`configs/x.yaml`); `cfg.filename`. */
  readonly filename?: string | undefined;
  /** The parsed command line merged in with `mergeCfgAndArgs`. */
  readonly args?: ParsedArgs<object> | undefined;
  /** The same `keys` as given to `mergeCfgAndArgs`. Defaults to `{}`. */
  readonly keys?: MergeCfgAndArgsOptions['keys'];
}

const ARTICLES: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'an integer',
  integer: 'an integer',
  string: 'a string',
  boolean: 'a boolean',
  object: 'an object',
  array: 'a list',
};

function startsWith(path: readonly (string | number)[], prefix: readonly (string | number)[]) {
  return prefix.length <= path.length && prefix.every((key, i) => String(key) === String(path[i]));
}

/**
 * Says where each issue's value came from: a value set on the command line is blamed on the
 * command line, as typed (`command line: epochs=two: expected a number`), everything else on
 * the config file (`configs/x.yaml: model.num_clases: ...`). An override that sets a whole
 * section (`model={...}`) owns every issue under it; the last override of a key wins, as it
 * does in the merge.
 */
export function attributeIssues(
  issues: readonly ConfigIssue[],
  options: AttributeIssuesOptions,
): ConfigIssue[] {
  const { filename, args } = options;
  const keys: Readonly<Record<string, string | false>> = { config: false, ...options.keys };
  const setters: { path: (string | number)[]; text: string }[] = [];
  if (args !== undefined) {
    for (const name of args.explicit) {
      const key = Object.hasOwn(keys, name) ? keys[name] : name;
      if (key === false || key === undefined) continue;
      const flag = `--${name.replace(/[A-Z]/g, (char) => `-${char.toLowerCase()}`)}`;
      const value = (args.options as Record<string, unknown>)[name];
      setters.push({ path: parsePath(key), text: `${flag} ${String(value)}` });
    }
    for (const override of args.overrides) {
      setters.push({ path: parsePath(override.key), text: override.text });
    }
  }
  return issues.map((issue) => {
    const setter = setters.findLast(
      (candidate) =>
        startsWith(issue.path, candidate.path) || startsWith(candidate.path, issue.path),
    );
    if (setter === undefined) {
      return filename === undefined ? issue : { ...issue, source: filename };
    }
    const below = issue.path.slice(setter.path.length);
    const where = below.length > 0 ? ` (at ${formatPath(issue.path)})` : '';
    const what =
      issue.code === 'invalid_type' && issue.expected !== undefined
        ? `expected ${ARTICLES[issue.expected] ?? issue.expected}`
        : issue.message.slice(formatPath(issue.path).length + 2);
    return { ...issue, source: 'command line', message: `${setter.text}${where}: ${what}` };
  });
}
