import { describe, expect, test } from 'vitest';
import { extractBlocks, ReadmeBlockError } from '../src/blocks.js';

const md = (...lines: string[]) => `${lines.join('\n')}\n`;

describe('extractBlocks', () => {
  test('finds fenced blocks, indented ones too, with language, line and text', () => {
    const blocks = extractBlocks(
      md(
        '# Title',
        '```ts',
        'const a = 1;',
        '```',
        '- item:',
        '',
        '  ```sh',
        '  echo hi',
        '  ```',
        '````',
        'output',
        '````',
      ),
      'README.md',
    );
    expect(blocks.map(({ line, lang, code, mode }) => ({ line, lang, code, mode }))).toEqual([
      { line: 2, lang: 'ts', code: 'const a = 1;\n', mode: 'run' },
      { line: 7, lang: 'sh', code: 'echo hi\n', mode: 'run' },
      { line: 10, lang: 'text', code: 'output\n', mode: 'run' },
    ]);
  });

  test('reads stacked directives above a fence: skip with its reason, prelude, id, timeout', () => {
    const [skipped, withPrelude] = extractBlocks(
      md(
        '<!-- readme-test: skip needs two machines -->',
        '```sh',
        'mpirun -np 8 node train.js',
        '```',
        '<!-- readme-test: prelude',
        "import { x } from './x.js';",
        '  const y = x;',
        '-->',
        '<!-- readme-test: id first-example -->',
        '',
        '<!-- readme-test: timeout 300 -->',
        '```typescript',
        'y;',
        '```',
      ),
      'README.md',
    );
    expect(skipped).toMatchObject({ mode: 'skip', reason: 'needs two machines' });
    expect(withPrelude).toMatchObject({
      lang: 'ts',
      mode: 'run',
      prelude: "import { x } from './x.js';\n  const y = x;\n",
      id: 'first-example',
      timeoutMs: 300_000,
    });
  });

  test('a directive separated by prose does not apply', () => {
    const [block] = extractBlocks(
      md('<!-- readme-test: skip not this one -->', 'Some prose.', '```sh', 'true', '```'),
      'README.md',
    );
    expect(block?.mode).toBe('run');
  });

  test('rejects a skip without a reason, an unknown directive, an unknown language, an open fence', () => {
    const errors = [
      md('<!-- readme-test: skip -->', '```sh', 'true', '```'),
      md('<!-- readme-test: skp because -->', '```sh', 'true', '```'),
      md('```pyhton', 'print(1)', '```'),
      md('```ts', 'const a = 1;'),
    ].map((text) => {
      try {
        extractBlocks(text, 'pkg/README.md');
        return 'no error';
      } catch (error) {
        expect(error).toBeInstanceOf(ReadmeBlockError);
        return (error as Error).message;
      }
    });
    expect(errors).toEqual([
      "pkg/README.md:1: 'skip' needs a reason",
      expect.stringContaining("pkg/README.md:1: unknown readme-test directive 'skp'"),
      expect.stringContaining("pkg/README.md:1: unknown code block language 'pyhton'"),
      'pkg/README.md:1: code fence is never closed',
    ]);
  });
});
