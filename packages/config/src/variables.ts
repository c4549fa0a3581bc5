import path from 'node:path';
import { assignKey, isPlainObject } from './data.js';

/**
 * The predefined variables a config file may use in its string values, as `{{ name }}`.
 * Each is computed from the path of the file that contains it (not the file that includes it).
 */
export interface PredefinedVariables {
  /** Absolute directory of the file, e.g. `/home/me/project/configs`. */
  readonly fileDirname: string;
  /** File name with extension, e.g. `pointnet.yaml`. */
  readonly fileBasename: string;
  /** File name without its last extension, e.g. `pointnet` (`a.b` for `a.b.yaml`). */
  readonly fileBasenameNoExtension: string;
  /** The last extension with its dot, e.g. `.yaml`. */
  readonly fileExtname: string;
}

/** The {@link PredefinedVariables} of the file at `file` (made absolute first). */
export function predefinedVariables(file: string): PredefinedVariables {
  const absolute = path.resolve(file);
  const extname = path.extname(absolute);
  const basename = path.basename(absolute);
  return {
    fileDirname: path.dirname(absolute),
    fileBasename: basename,
    fileBasenameNoExtension: basename.slice(0, basename.length - extname.length),
    fileExtname: extname,
  };
}

const VARIABLE = /\{\{\s*(fileDirname|fileBasename|fileBasenameNoExtension|fileExtname)\s*\}\}/g;

/**
 * A copy of `value` where every `{{ fileDirname }}`-style variable in a string value (at any
 * depth; keys are left alone) is replaced. Other `{{ ... }}` text is kept as it is.
 */
export function substituteVariables(value: unknown, variables: PredefinedVariables): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (_, name: keyof PredefinedVariables) => variables[name]);
  }
  if (Array.isArray(value)) return value.map((item) => substituteVariables(item, variables));
  if (isPlainObject(value)) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      assignKey(result, key, substituteVariables(item, variables));
    }
    return result;
  }
  return value;
}
