import type { z } from 'zod';
import { closestNames } from './suggest.js';

/** `weight_decay` → `weightDecay` (a key without `_` is returned as it is). */
export function toCamelCase(key: string): string {
  return key.replace(/_+([a-z0-9])/g, (_, char: string) => char.toUpperCase());
}

/** `weightDecay` → `weight_decay` (a key without capitals is returned as it is). */
export function toSnakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

interface ObjectShape {
  /** The keys the schema knows. */
  readonly keys: ReadonlySet<string>;
  /** Whether keys outside {@link ObjectShape.keys} are refused (a strict object). */
  readonly strict: boolean;
}

/**
 * The keys an argument schema declares, looking through wrappers (`.optional()`, `.default()`,
 * `.transform()`, `.pipe()`, `.superRefine()`); `undefined` when the schema is not an object.
 */
export function objectShapeOf(schema: z.ZodType | undefined): ObjectShape | undefined {
  let node = schema as unknown as { _zod?: { def?: Record<string, unknown> } } | undefined;
  for (let depth = 0; depth < 16 && node?._zod?.def !== undefined; depth++) {
    const def = node._zod.def;
    switch (def.type) {
      case 'object': {
        const catchall = def.catchall as { _zod?: { def?: { type?: string } } } | undefined;
        return {
          keys: new Set(Object.keys(def.shape as Record<string, unknown>)),
          strict: catchall?._zod?.def?.type === 'never',
        };
      }
      case 'pipe':
        node = def.in as typeof node;
        break;
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
        node = def.innerType as typeof node;
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}

/** One renamed key: what the user wrote and the key the schema declares. */
export interface KeyRename {
  readonly given: string;
  readonly canonical: string;
}

/** What {@link normalizeKeys} returns. */
export interface NormalizedKeys {
  /** The arguments with every key in the schema's spelling. */
  readonly args: Record<string, unknown>;
  /** Schema key → the key as the user spelled it (for messages). */
  readonly spelledAs: ReadonlyMap<string, string>;
  /** Pairs of keys that name the same option (`weight_decay` and `weightDecay`). */
  readonly conflicts: readonly [string, string][];
}

/**
 * The one place where config keys are normalised: a key the schema does not declare is renamed
 * to its camelCase or snake_case spelling when the schema declares that one, so gorilla's
 * snake_case configs and camelCase ones build the same object. Keys the schema declares are
 * kept, unknown keys are kept (the schema reports them), and two keys naming one option are
 * returned as {@link NormalizedKeys.conflicts}. Without an object schema nothing is renamed.
 */
export function normalizeKeys(
  args: Record<string, unknown>,
  shape: ObjectShape | undefined,
): NormalizedKeys {
  const spelledAs = new Map<string, string>();
  const conflicts: [string, string][] = [];
  if (shape === undefined) {
    for (const key of Object.keys(args)) spelledAs.set(key, key);
    return { args, spelledAs, conflicts };
  }
  const out: Record<string, unknown> = {};
  for (const [given, value] of Object.entries(args)) {
    let canonical = given;
    if (!shape.keys.has(given)) {
      const camel = toCamelCase(given);
      const snake = toSnakeCase(given);
      if (shape.keys.has(camel)) canonical = camel;
      else if (shape.keys.has(snake)) canonical = snake;
    }
    const previous = spelledAs.get(canonical);
    if (previous !== undefined) {
      conflicts.push([previous, given]);
      continue;
    }
    // A key given in both spellings where the schema declares one of them: one option twice.
    // (A schema declaring both spellings maps them itself and reports the pair in its words.)
    const twin = [toCamelCase(given), toSnakeCase(given)].find(
      (other) =>
        other !== given &&
        spelledAs.get(other) === other &&
        !(shape.keys.has(given) && shape.keys.has(other)),
    );
    if (twin !== undefined) {
      conflicts.push([twin, given]);
      continue;
    }
    spelledAs.set(canonical, given);
    out[canonical] = value;
  }
  return { args: out, spelledAs, conflicts };
}

/**
 * The declared keys closest to an unknown one, in the user's spelling: `num_clases` → `num_classes`
 * (snake_case when the user wrote snake_case), `numClases` → `numClasses`.
 */
export function suggestKeys(unknown: string, shape: ObjectShape | undefined): string[] {
  if (shape === undefined) return [];
  const snake = unknown.includes('_') || unknown === unknown.toLowerCase();
  const spelled = new Set<string>();
  for (const key of shape.keys) spelled.add(snake ? toSnakeCase(key) : toCamelCase(key));
  return closestNames(unknown, spelled, 1);
}
