import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Every relative import (type-only included) of every `.ts` file under src, as absolute paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        const targets = [...text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)].map((match) =>
          resolve(dirname(path), `${match[1]}.ts`),
        );
        graph.set(path, targets);
      }
    }
  };
  walk(SRC);
  return graph;
}

/** Files reachable from `start` through imports. */
function reachable(graph: Map<string, string[]>, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.get(start) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(graph.get(next) ?? []));
  }
  return seen;
}

describe('hooks depend on TrainerContext, not on the Trainer class', () => {
  const graph = importGraph();
  const trainer = join(SRC, 'trainer', 'trainer.ts');
  const hooks = readdirSync(join(SRC, 'hooks')).map((name) => join(SRC, 'hooks', name));

  test.each(hooks.map((path) => [path.slice(SRC.length), path]))(
    '%s never reaches trainer/trainer.ts through its imports',
    (_name, path) => {
      expect(reachable(graph, path).has(trainer)).toBe(false);
    },
  );

  test('the hook interface and its dispatch never reach the Trainer class (no type cycle)', () => {
    for (const file of ['hook.ts', 'hook-list.ts', 'callbacks.ts', 'context.ts']) {
      expect(reachable(graph, join(SRC, 'trainer', file)).has(trainer), file).toBe(false);
    }
  });

  test('the trainer hands itself to hooks without casts', () => {
    expect(readFileSync(trainer, 'utf8')).not.toMatch(/as Trainer\b/);
  });
});
