/** Anything with PyTorch-style named parameters: a `Module`, typically. */
export interface HasNamedParameters {
  namedParameters(): Array<[string, { readonly shape: readonly number[]; readonly size: number }]>;
}

/**
 * The number of parameter elements under every dotted name prefix, after gorilla's
 * `parameter_count`: a parameter `a.b.w` of n elements adds n to `''`, `'a'`, `'a.b'` and
 * `'a.b.w'`. Entries are in first-seen order, `''` first.
 *
 * `''` is the model's real total. Summing the values over-counts: each parameter appears once per
 * prefix (the seed's `sum(parameter_count(model).values())` mistake).
 *
 * @example
 * ```ts
 * parameterCount(model).get(''); // total trainable elements
 * ```
 */
export function parameterCount(model: HasNamedParameters): Map<string, number> {
  const counts = new Map<string, number>([['', 0]]);
  for (const [name, parameter] of model.namedParameters()) {
    const parts = name.split('.');
    for (let depth = 0; depth <= parts.length; depth += 1) {
      const prefix = parts.slice(0, depth).join('.');
      counts.set(prefix, (counts.get(prefix) ?? 0) + parameter.size);
    }
  }
  return counts;
}

/**
 * A Markdown ("pipe") table of {@link parameterCount} down to `maxDepth` name levels, after
 * gorilla's `parameter_count_table`: the first row is the total (`model`), modules show their
 * element count (`1.2K`, `3.4M`), parameters their shape; nested rows are indented.
 *
 * @example
 * ```
 * | name       | #elements or shape |
 * |:-----------|:-------------------|
 * | model      | 24                 |
 * |  0         |  16                |
 * |   0.weight |   (4, 3)           |
 * ```
 */
export function parameterCountTable(model: HasNamedParameters, maxDepth = 3): string {
  const named = model.namedParameters();
  const shapes = new Map(named.map(([name, parameter]) => [name, parameter.shape]));
  const counts = parameterCount(model);
  const rows: Array<[string, string]> = [['model', formatSize(counts.get('') ?? 0)]];
  const fill = (level: number, prefix: string) => {
    if (level >= maxDepth) return;
    for (const [name, count] of counts) {
      if (name === '' || depthOf(name) !== level || !name.startsWith(prefix)) continue;
      const indent = ' '.repeat(level + 1);
      const shape = shapes.get(name);
      if (shape !== undefined) {
        rows.push([
          indent + name,
          `${indent}(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`,
        ]);
      } else {
        rows.push([indent + name, indent + formatSize(count)]);
        fill(level + 1, `${name}.`);
      }
    }
  };
  fill(0, '');
  return pipeTable(['name', '#elements or shape'], rows);
}

function depthOf(name: string): number {
  let dots = 0;
  for (const char of name) if (char === '.') dots += 1;
  return dots;
}

/** `1234567` → `1.2M`, `12345` → `12.3K`, `99` → `99` (gorilla's `format_size`). */
export function formatSize(count: number): string {
  if (count > 1e8) return `${(count / 1e9).toFixed(1)}G`;
  if (count > 1e5) return `${(count / 1e6).toFixed(1)}M`;
  if (count > 1e2) return `${(count / 1e3).toFixed(1)}K`;
  return String(count);
}

function pipeTable(
  headers: readonly [string, string],
  rows: ReadonlyArray<readonly [string, string]>,
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const rule = `|${widths.map((width) => `:${'-'.repeat(width + 1)}`).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
