import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { collectBlocks } from '../src/blocks.js';
import { compileBlocks, makeProject, ROOT, tscInitOptions } from '../src/project.js';

// The registry README says why its decorator example needs `target: ES2022`: with the target
// `tsc --init` writes (ESNext), TypeScript keeps the decorator syntax, which Node cannot run.
// readme.test.ts runs the example with the README's tsconfig; this shows the note is needed.
const work = mkdtempSync(join(tmpdir(), 'gorilla-decorators-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('without the README tsconfig, a tsc --init project emits decorators Node cannot run', () => {
  const block = collectBlocks(ROOT).find((b) => b.id === 'registry-decorator');
  expect(block, 'packages/registry/README.md has a block marked registry-decorator').toBeDefined();
  const init = tscInitOptions(join(work, 'init'));
  expect(String(init.target).toLowerCase()).toBe('esnext');
  const dir = join(work, 'project');
  makeProject(dir);
  const diagnostics = compileBlocks(dir, [block!], init, {});
  expect(diagnostics.get(block!)).toEqual([]); // it type-checks...
  const emitted = readFileSync(join(dir, 'out', `readme_line_${block!.line}.js`), 'utf8');
  expect(emitted).toContain('@MODELS.registerModule('); // ...and the syntax stays
  const run = spawnSync(process.execPath, [join(dir, 'out', `readme_line_${block!.line}.js`)], {
    encoding: 'utf8',
  });
  // If a Node release ever runs decorators, this fails: update the README's note then.
  expect(run.status).not.toBe(0);
  expect(run.stderr).toContain('SyntaxError');
}, 60_000);
