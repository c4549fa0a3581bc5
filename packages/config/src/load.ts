import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createJiti, type Jiti } from 'jiti';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigFileError } from './errors.js';
import { codeFrame, jsonErrorOffset, positionAt } from './source-location.js';

/** The formats a config can be read from: data (`yaml`, `json`) or code (`js`, `ts`). */
export type ConfigFormat = 'yaml' | 'json' | 'js' | 'ts';

/** File extensions read by `Config.fromFile`, and the format of each. */
export const CONFIG_EXTENSIONS: Readonly<Record<string, ConfigFormat>> = Object.freeze({
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
});

const SUPPORTED = Object.keys(CONFIG_EXTENSIONS).join(', ');

/** The format named by `format` (`yaml`, `.yml`, `TS`, ...), or a clear error. */
export function normaliseFormat(format: string, file: string): ConfigFormat {
  const name = format.toLowerCase().replace(/^\./, '');
  const kind = Object.hasOwn(CONFIG_EXTENSIONS, `.${name}`)
    ? CONFIG_EXTENSIONS[`.${name}`]
    : undefined;
  if (kind === undefined) {
    throw new ConfigFileError(
      'CONFIG_UNSUPPORTED_FORMAT',
      `Unsupported config format '${format}': use one of ${Object.keys(CONFIG_EXTENSIONS)
        .map((extension) => extension.slice(1))
        .join(', ')}.`,
      { file },
    );
  }
  return kind;
}

/** Shows `file` relative to the working directory when it lies inside it, else absolute. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative)
    ? file
    : relative;
}

/** `a.yaml → b.yaml → c.yaml` for error messages. */
export function formatChain(chain: readonly string[]): string {
  return chain.map(displayPath).join(' → ');
}

/** Suffix naming the `_base_` chain that led to a file, or `''` for the file asked for. */
export function chainSuffix(chain: readonly string[]): string {
  return chain.length > 1 ? `\nBase chain: ${formatChain(chain)}` : '';
}

/** The format of `file`, from its extension; throws a clear error for any other extension. */
export function formatOf(file: string, chain: readonly string[] = [file]): ConfigFormat {
  const extension = path.extname(file).toLowerCase();
  const format = CONFIG_EXTENSIONS[extension];
  if (format === undefined) {
    throw new ConfigFileError(
      'CONFIG_UNSUPPORTED_FORMAT',
      `Unsupported config file ${displayPath(file)}: the extension '${extension || '(none)'}' is not one of ${SUPPORTED}. Rename the file or convert it to YAML or JSON.${chainSuffix(chain)}`,
      { file, chain },
    );
  }
  return format;
}

/** A config file as read: its parsed content (not yet checked) and its text. */
export interface RawConfigFile {
  readonly content: unknown;
  readonly text: string;
}

/** Reads `file` (absolute), failing with a clear error when it is missing or unreadable. */
async function readText(file: string, chain: readonly string[]): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
      const what = code === 'EISDIR' ? 'is a directory, not a file' : 'does not exist';
      throw new ConfigFileError(
        'CONFIG_FILE_NOT_FOUND',
        `Config file not found: ${displayPath(file)} ${what}. Check the path (relative paths are resolved against ${chain.length > 1 ? "the including file's directory" : `the working directory ${process.cwd()}`}).${chainSuffix(chain)}`,
        { file, chain },
        { cause: error },
      );
    }
    throw new ConfigFileError(
      'CONFIG_LOAD_ERROR',
      `Cannot read config file ${displayPath(file)}: ${(error as Error).message}${chainSuffix(chain)}`,
      { file, chain },
      { cause: error },
    );
  }
}

/** Parses YAML 1.2 text; `file` is only used in error messages. */
export function parseYaml(text: string, file: string, chain: readonly string[] = [file]): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { merge: true, prettyErrors: false, lineCounter });
  const problems = [
    ...document.errors,
    ...document.warnings.filter((warning) => warning.code === 'TAG_RESOLVE_FAILED'),
  ];
  const problem = problems[0];
  if (problem !== undefined) {
    const position = lineCounter.linePos(problem.pos[0]);
    const unsupportedTag =
      problem.code === 'TAG_RESOLVE_FAILED'
        ? ' Language-specific tags such as !!python/tuple are not supported; write a plain list or mapping instead.'
        : '';
    throw new ConfigFileError(
      'CONFIG_PARSE_ERROR',
      `Invalid YAML in ${displayPath(file)} at line ${position.line}, column ${position.col}: ${problem.message.replace(/\.$/, '')}.${unsupportedTag}\n${codeFrame(text, { line: position.line, column: position.col })}${chainSuffix(chain)}`,
      { file, chain, line: position.line, column: position.col },
      { cause: problem },
    );
  }
  return document.toJS({ maxAliasCount: 1000 });
}

/** Parses JSON text; `file` is only used in error messages. */
export function parseJson(text: string, file: string, chain: readonly string[] = [file]): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const offset = jsonErrorOffset(text) ?? text.length;
    const position = positionAt(text, offset);
    throw new ConfigFileError(
      'CONFIG_PARSE_ERROR',
      `Invalid JSON in ${displayPath(file)} at line ${position.line}, column ${position.column}: ${(error as Error).message}.\n${codeFrame(text, position)}${chainSuffix(chain)}`,
      { file, chain, line: position.line, column: position.column },
      { cause: error },
    );
  }
}

const requireCache = createRequire(import.meta.url).cache;
let jiti: Jiti | undefined;
let importCounter = 0;

/** The default export of the config module at `file` (absolute), freshly evaluated. */
async function importModule(file: string, format: 'js' | 'ts', chain: readonly string[]) {
  let namespace: unknown;
  try {
    if (format === 'ts') {
      jiti ??= createJiti(import.meta.url, { moduleCache: false, fsCache: false });
      namespace = await jiti.import(file);
    } else {
      // A fresh query string makes Node evaluate an ES module again, so edits are picked up;
      // a CommonJS module is evaluated again once it is out of the require cache.
      delete requireCache[file];
      importCounter += 1;
      const url = `${pathToFileURL(file).href}?gorilla-config-load=${importCounter}`;
      namespace = await import(/* @vite-ignore */ url);
    }
  } catch (error) {
    throw new ConfigFileError(
      'CONFIG_LOAD_ERROR',
      `Cannot load config module ${displayPath(file)}: ${(error as Error).message}${chainSuffix(chain)}`,
      { file, chain },
      { cause: error },
    );
  }
  const exports = (namespace ?? {}) as Record<string, unknown>;
  if (!('default' in exports) || exports.default === undefined) {
    const names = Object.keys(exports).filter((name) => name !== '__esModule');
    const found =
      names.length === 0 ? 'it has no exports' : `it only has named exports: ${names.join(', ')}`;
    throw new ConfigFileError(
      'CONFIG_INVALID_CONTENT',
      `Config module ${displayPath(file)} must default-export the config object (export default { ... }), but ${found}.${chainSuffix(chain)}`,
      { file, chain },
    );
  }
  return exports.default;
}

/**
 * Reads and parses one config file (no `_base_` handling). `file` must be absolute; `chain`
 * is the `_base_` chain that led to it, for error messages.
 */
export async function readConfigFile(
  file: string,
  chain: readonly string[] = [file],
): Promise<RawConfigFile> {
  const format = formatOf(file, chain);
  const text = await readText(file, chain);
  switch (format) {
    case 'yaml':
      return { content: parseYaml(text, file, chain), text };
    case 'json':
      return { content: parseJson(text, file, chain), text };
    default:
      return { content: await importModule(file, format, chain), text };
  }
}
