import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ConfigObject } from './data.js';
import { ConfigFileError } from './errors.js';
import { displayPath } from './load.js';

/** Options of `Config.dump`. */
export interface DumpOptions {
  /** Output format. Defaults to the file's extension (`.json` → JSON), or YAML without a file. */
  readonly format?: 'yaml' | 'json';
}

/** The dump format of `file`, from its extension. */
function dumpFormatOf(file: string): 'yaml' | 'json' {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.yaml' || extension === '.yml') return 'yaml';
  if (extension === '.json') return 'json';
  throw new ConfigFileError(
    'CONFIG_UNSUPPORTED_FORMAT',
    `Cannot dump a config to ${displayPath(path.resolve(file))}: dump writes .yaml, .yml or .json files (the extension '${extension || '(none)'}' is not one of them), or pass { format: 'yaml' | 'json' }.`,
    { file: path.resolve(file) },
  );
}

/**
 * `data` as YAML or JSON text, written to `file` when given (missing directories are
 * created). YAML is written without anchors, aliases or line folding. JSON cannot hold
 * `Infinity` or `NaN` (they become `null`); use YAML for them.
 */
export function dumpData(
  data: ConfigObject,
  file: string | undefined,
  options: DumpOptions,
): string {
  const format = options.format ?? (file === undefined ? 'yaml' : dumpFormatOf(file));
  if (format !== 'yaml' && format !== 'json') {
    throw new ConfigFileError(
      'CONFIG_UNSUPPORTED_FORMAT',
      `Cannot dump a config as '${String(format)}': use format 'yaml' or 'json'.`,
      { file: path.resolve(file ?? '<string>') },
    );
  }
  const text =
    format === 'json'
      ? `${JSON.stringify(data, null, 2)}\n`
      : stringify(data, { aliasDuplicateObjects: false, lineWidth: 0 });
  if (file !== undefined) {
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      writeFileSync(file, text);
    } catch (error) {
      throw new ConfigFileError(
        'CONFIG_WRITE_ERROR',
        `Cannot write config to ${displayPath(path.resolve(file))}: ${(error as Error).message}`,
        { file: path.resolve(file) },
        { cause: error },
      );
    }
  }
  return text;
}
