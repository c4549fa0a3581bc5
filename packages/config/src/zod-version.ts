import { createRequire } from 'node:module';
import * as z from 'zod';

/** The zod versions this package works with (its peer dependency range). */
export const ZOD_PEER_RANGE = '^4';

/** The version of the `zod` this package resolves, or `undefined` when it cannot be read. */
export function resolvedZodVersion(): string | undefined {
  try {
    return (createRequire(import.meta.url)('zod/package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Why `schema` cannot be used with this package's zod, or `undefined` when it can. Two cases:
 * the `zod` installed next to `@gorilla-ts/config` is older than 4 (the peer dependency is
 * `^4`), or the schema comes from another zod (a zod 3 schema has no `_zod` internals, and zod 4
 * then fails deep inside with `Cannot read properties of undefined (reading 'run')`).
 */
export function zodProblem(schema: unknown, caller: string): string | undefined {
  const version = resolvedZodVersion() ?? 'unknown';
  const install = `install zod 4 next to it (npm install zod@${ZOD_PEER_RANGE})`;
  if (typeof (z as { safeParse?: unknown }).safeParse !== 'function') {
    return `${caller}: @gorilla-ts/config needs zod ${ZOD_PEER_RANGE} (a peer dependency), but zod ${version} is installed next to it; ${install}`;
  }
  if (typeof schema === 'object' && schema !== null && '_zod' in schema) return undefined;
  const zod3 = typeof schema === 'object' && schema !== null && '_def' in schema;
  return zod3
    ? `${caller}: the schema is a zod 3 schema, but @gorilla-ts/config uses zod ${version} (peer dependency zod ${ZOD_PEER_RANGE}); build schemas with zod 4 (\`import * as z from 'zod'\` with zod 4 installed, or \`from 'zod/v4'\` on zod 3.25+), or ${install}`
    : `${caller}: expected a zod ${ZOD_PEER_RANGE} schema, received ${schema === null ? 'null' : typeof schema}`;
}
