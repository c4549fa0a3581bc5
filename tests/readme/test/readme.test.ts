import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Config } from '@gorilla-ts/config';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { blockName, type CodeBlock, collectBlocks } from '../src/blocks.js';
import {
  type BlockDiagnostic,
  blockFile,
  compileBlocks,
  makeProject,
  ROOT,
  tscInitOptions,
} from '../src/project.js';

// Every fenced code block of every README runs here; see src/blocks.ts for the directives that
// skip a block (with a reason, printed below) or add a prelude.
const blocks = collectBlocks(ROOT);
const byReadme = new Map<string, CodeBlock[]>();
for (const block of blocks) byReadme.set(block.file, [...(byReadme.get(block.file) ?? []), block]);

let work: string;
let initOptions: Record<string, unknown>;
const compiled = new Map<CodeBlock, BlockDiagnostic[]>();
const projects = new Map<string, string>();
const outcomes: { block: CodeBlock; outcome: string }[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'gorilla-readme-'));
  initOptions = tscInitOptions(join(work, 'tsc-init'));
  for (const [file, list] of byReadme) {
    const tsBlocks = list.filter((block) => block.lang === 'ts' && block.mode !== 'skip');
    if (tsBlocks.length === 0) continue;
    const dir = join(work, file.replace(/[/.]/g, '_'));
    makeProject(dir);
    projects.set(file, dir);
    const tsconfig = list.find((block) => block.tsconfig);
    const overrides =
      tsconfig === undefined
        ? {}
        : (JSON.parse(tsconfig.code) as { compilerOptions?: Record<string, unknown> })
            .compilerOptions;
    for (const [block, diagnostics] of compileBlocks(dir, tsBlocks, initOptions, overrides ?? {})) {
      compiled.set(block, diagnostics);
    }
  }
}, 300_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
  const counts = new Map<string, number>();
  for (const { outcome } of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  const skipped = blocks.filter((block) => block.mode === 'skip');
  const lines = [
    `README code blocks: ${blocks.length} in ${byReadme.size} READMEs; ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}; ${skipped.length} skipped`,
    ...skipped.map((block) => `  skipped ${blockName(block)}: ${block.reason}`),
    ...blocks
      .filter((block) => block.mode === 'no-run')
      .map((block) => `  not run ${blockName(block)}: ${block.reason}`),
  ];
  console.log(lines.join('\n'));
});

function run(command: string, args: string[], cwd: string, timeoutMs: number) {
  // coreutils `timeout` signals the whole process group: nothing a block starts outlives it.
  const seconds = String(Math.ceil(timeoutMs / 1000));
  const result = spawnSync('timeout', ['-k', '10', seconds, command, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const output = `${result.stdout}${result.stderr}`;
  const status =
    result.status === 124
      ? `timed out after ${seconds} s`
      : `exit ${result.status ?? result.signal}`;
  return { ok: result.status === 0, message: `${status}\n${output.slice(-4000)}` };
}

/** Writes stub files for every `_base_` a config names, so that the config itself loads. */
function writeBaseStubs(text: string, dir: string): void {
  const data = parseYaml(text) as { _base_?: string | string[] } | null;
  const bases = data?._base_ === undefined ? [] : [data._base_].flat();
  for (const base of bases) {
    const file = join(dir, base);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, /\.(ts|js|mjs|mts)$/.test(base) ? 'export default {};\n' : '{}\n');
  }
}

describe.each([...byReadme.keys()])('%s', (file) => {
  for (const block of byReadme.get(file)!) {
    const name = `line ${block.line} [${block.lang}]${block.id === undefined ? '' : ` #${block.id}`}`;
    if (block.mode === 'skip') {
      test.skip(`${name}: skipped, ${block.reason}`, () => {});
      continue;
    }
    const timeout = block.timeoutMs ?? 120_000;
    switch (block.lang) {
      case 'text':
        test(`${name}: output listing, not run`, () => {
          outcomes.push({ block, outcome: 'output listings' });
        });
        break;
      case 'ts':
        test(
          `${name}: type-checks${block.mode === 'run' ? ' and runs' : ''}`,
          () => {
            const diagnostics = compiled.get(block)!;
            expect(diagnostics.map((d) => d.text).join('\n'), 'type errors').toBe('');
            if (block.mode === 'no-run') {
              outcomes.push({ block, outcome: 'ts type-checked only' });
              return;
            }
            const project = projects.get(file)!;
            const cwd = join(project, `run_${block.line}`);
            mkdirSync(cwd);
            const script = join(project, 'out', blockFile(block).replace(/\.ts$/, '.js'));
            const result = run(process.execPath, [script], cwd, timeout);
            expect(result.ok, `${blockName(block)} failed: ${result.message}`).toBe(true);
            outcomes.push({ block, outcome: 'ts type-checked and run' });
          },
          timeout + 10_000,
        );
        break;
      case 'js':
        test(
          `${name}: runs`,
          () => {
            const cwd = join(work, `js_${file.replace(/[/.]/g, '_')}_${block.line}`);
            makeProject(cwd);
            writeFileSync(join(cwd, 'block.mjs'), `${block.prelude ?? ''}${block.code}`);
            const result = run(process.execPath, ['block.mjs'], cwd, timeout);
            expect(result.ok, `${blockName(block)} failed: ${result.message}`).toBe(true);
            outcomes.push({ block, outcome: 'js run' });
          },
          timeout + 10_000,
        );
        break;
      case 'sh':
        test(
          `${name}: runs in ${dirname(file)}`,
          () => {
            const script = `${block.prelude ?? ''}${block.code}`;
            const result = run(
              'bash',
              ['-euo', 'pipefail', '-c', script],
              join(ROOT, dirname(file)),
              timeout,
            );
            expect(result.ok, `${blockName(block)} failed: ${result.message}`).toBe(true);
            outcomes.push({ block, outcome: 'sh run' });
          },
          timeout + 10_000,
        );
        break;
      case 'python':
        test(
          `${name}: ${block.mode === 'run' ? 'runs' : 'compiles'} with python3`,
          () => {
            const cwd = join(work, `py_${file.replace(/[/.]/g, '_')}_${block.line}`);
            mkdirSync(cwd, { recursive: true });
            writeFileSync(join(cwd, 'block.py'), `${block.prelude ?? ''}${block.code}`);
            const args = block.mode === 'run' ? ['block.py'] : ['-m', 'py_compile', 'block.py'];
            const result = run('python3', args, cwd, timeout);
            expect(result.ok, `${blockName(block)} failed: ${result.message}`).toBe(true);
            outcomes.push({
              block,
              outcome: block.mode === 'run' ? 'python run' : 'python compiled only',
            });
          },
          timeout + 10_000,
        );
        break;
      case 'yaml':
        test(`${name}: ${block.mode === 'run' ? 'loads as a config' : 'parses'}`, async () => {
          parseYaml(block.code, { strict: true, prettyErrors: true });
          if (block.mode === 'no-run') {
            outcomes.push({ block, outcome: 'yaml parsed' });
            return;
          }
          // Nested, so that `../` bases stay inside the temporary folder.
          const dir = join(work, `yaml_${file.replace(/[/.]/g, '_')}_${block.line}`, 'a', 'b');
          mkdirSync(dir, { recursive: true });
          writeBaseStubs(block.code, dir);
          const cfg = await Config.fromString(block.code, 'yaml', {
            filename: join(dir, 'block.yaml'),
          });
          expect(cfg.keys().length).toBeGreaterThan(0);
          outcomes.push({ block, outcome: 'yaml configs loaded' });
        });
        break;
      case 'json':
        test(`${name}: parses`, () => {
          JSON.parse(block.code);
          outcomes.push({ block, outcome: 'json parsed' });
        });
        break;
    }
  }
});
