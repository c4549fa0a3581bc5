import * as z from 'zod';

/** The zod versions this package works with (its peer dependency range). */
export const ZOD_PEER_RANGE = '^4';

/**
 * The version of the `zod` this package resolves (from zod 4's `core.version`), or `undefined`
 * when it is older than zod 4 or cannot be read. Read through zod's own export, not its
 * package.json, so that this module stays free of Node built-ins (the registry runs in browsers).
 */
export function resolvedZodVersion(): string | undefined {
  const version = (z as { core?: { version?: { major: number; minor: number; patch: number } } })
    .core?.version;
  return version === undefined ? undefined : `${version.major}.${version.minor}.${version.patch}`;
}

/**
 * Why `schema` is not a zod 4 schema, or `undefined` when it is. A zod 3 schema (no `_zod`
 * internals) would fail later, at build time, with errors from inside zod.
 */
export function zodSchemaProblem(schema: unknown, where: string): string | undefined {
  if (typeof schema === 'object' && schema !== null && '_zod' in schema) return undefined;
  const zod3 = typeof schema === 'object' && schema !== null && '_def' in schema;
  const installed = resolvedZodVersion();
  const versions = `@gorilla-ts/registry needs zod ${ZOD_PEER_RANGE} (peer dependency)${installed === undefined ? '; the zod installed next to it is older than 4' : `; zod ${installed} is installed next to it`}`;
  return zod3
    ? `${where}: the schema is a zod 3 schema; ${versions}. Build schemas with zod 4 (npm install zod@${ZOD_PEER_RANGE}, or \`from 'zod/v4'\` on zod 3.25+)`
    : `${where}: schema must be a zod ${ZOD_PEER_RANGE} schema, received ${schema === null ? 'null' : typeof schema}; ${versions}`;
}
