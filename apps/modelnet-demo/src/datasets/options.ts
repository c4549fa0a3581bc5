import { z } from 'zod';

/** `num_points` → `numPoints`; keys already in camelCase are unchanged. */
export function snakeToCamel(key: string): string {
  return key.replace(/_+([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/** A key of the seed's (gorilla3d) configs that is not a plain snake_case spelling of ours. */
export interface KeyAlias {
  /** Our (camelCase) key. */
  key: string;
  /** Maps the seed's value to ours. Defaults to the identity. */
  value?: (value: unknown) => unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Wraps an options schema so configs may also spell keys in snake_case (`data_root`,
 * `num_points`, `use_normals`, nested `augment` keys too) or with the seed's names (`aliases`).
 * Giving one option under two spellings is an issue at that key.
 */
export function acceptSnakeCase<T extends z.ZodType>(
  schema: T,
  aliases: Readonly<Record<string, KeyAlias>> = {},
) {
  return z.preprocess((input, ctx) => {
    if (!isPlainObject(input)) return input;
    const camelize = (value: unknown, path: (string | number)[], top: boolean): unknown => {
      if (Array.isArray(value)) return value.map((item, i) => camelize(item, [...path, i], false));
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      const seen = new Map<string, string>();
      for (const [rawKey, rawValue] of Object.entries(value)) {
        const alias = top ? aliases[rawKey] : undefined;
        const key = alias?.key ?? snakeToCamel(rawKey);
        const mapped = alias?.value === undefined ? rawValue : alias.value(rawValue);
        const earlier = seen.get(key);
        if (earlier !== undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `'${rawKey}' and '${earlier}' both set '${key}': keep one`,
            path: [...path, rawKey],
            input: rawValue,
            continue: true,
          });
          continue;
        }
        seen.set(key, rawKey);
        out[key] = camelize(mapped, [...path, key], false);
      }
      return out;
    };
    return camelize(input, [], true);
  }, schema);
}
