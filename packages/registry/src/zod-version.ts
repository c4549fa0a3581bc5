/** The zod versions this package works with (its peer dependency range). */
export const ZOD_PEER_RANGE = '^4';

/**
 * The version of the `zod` this package resolves, read from its package.json in Node (through
 * the built-in module loader, reached without a static import, so that this module stays free of
 * Node built-ins: the registry runs in browsers, where this returns `undefined`), or `undefined`
 * when it cannot be read.
 */
export function resolvedZodVersion(): string | undefined {
  try {
    const node = (
      globalThis as {
        process?: { getBuiltinModule?: (id: string) => unknown };
      }
    ).process?.getBuiltinModule?.('module') as
      | { createRequire(from: string): (id: string) => unknown }
      | undefined;
    const pkg = node?.createRequire(import.meta.url)('zod/package.json') as
      | { version?: string }
      | undefined;
    return pkg?.version;
  } catch {
    return undefined;
  }
}

/**
 * Why `schema` is not a zod 4 schema, or `undefined` when it is. A zod 3 schema (no `_zod`
 * internals) would fail later, at build time, with errors from inside zod.
 */
export function zodSchemaProblem(schema: unknown, where: string): string | undefined {
  if (typeof schema === 'object' && schema !== null && '_zod' in schema) return undefined;
  const zod3 = typeof schema === 'object' && schema !== null && '_def' in schema;
  const installed = resolvedZodVersion();
  const versions = `@gorilla-ts/registry needs zod ${ZOD_PEER_RANGE} (peer dependency)${installed === undefined ? '' : `; zod ${installed} is installed next to it`}`;
  return zod3
    ? `${where}: the schema is a zod 3 schema; ${versions}. Build schemas with zod 4 (npm install zod@${ZOD_PEER_RANGE}, or \`from 'zod/v4'\` on zod 3.25+)`
    : `${where}: schema must be a zod ${ZOD_PEER_RANGE} schema, received ${schema === null ? 'null' : typeof schema}; ${versions}`;
}
