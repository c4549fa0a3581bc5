import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import type { CodeBlock } from './blocks.js';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../../..');
const HERE = resolve(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/**
 * A reader's project in `dir`: `package.json` with `"type": "module"` and a `node_modules`
 * that resolves the workspace packages (this package's dependencies).
 */
export function makeProject(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'readme-blocks', private: true, type: 'module' }),
  );
  symlinkSync(join(HERE, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

/** The compiler options `tsc --init` writes today (comments stripped), generated in `dir`. */
export function tscInitOptions(dir: string): Record<string, unknown> {
  mkdirSync(dir, { recursive: true });
  execFileSync(process.execPath, [TSC, '--init'], { cwd: dir, stdio: 'ignore' });
  const text = readFileSync(join(dir, 'tsconfig.json'), 'utf8');
  const parsed = ts.parseConfigFileTextToJson('tsconfig.json', text);
  if (parsed.error !== undefined) {
    throw new Error(`tsc --init wrote an unreadable tsconfig: ${String(parsed.error.messageText)}`);
  }
  return (parsed.config as { compilerOptions: Record<string, unknown> }).compilerOptions;
}

/** The file name of a ts block inside its project. */
export function blockFile(block: CodeBlock): string {
  return `readme_line_${block.line}.ts`;
}

/** A type error of one block, with the README line it points to. */
export interface BlockDiagnostic {
  line: number;
  text: string;
}

/**
 * Writes the ts blocks of one README into `dir` with a `tsc --init` tsconfig plus `overrides`,
 * type-checks and compiles them (emitting even with errors), and returns each block's type errors,
 * mapped back to README lines.
 */
export function compileBlocks(
  dir: string,
  blocks: CodeBlock[],
  initOptions: Record<string, unknown>,
  overrides: Record<string, unknown>,
): Map<CodeBlock, BlockDiagnostic[]> {
  const files = new Map<string, CodeBlock>();
  for (const block of blocks) {
    const name = blockFile(block);
    files.set(name, block);
    writeFileSync(join(dir, name), `${block.prelude ?? ''}${block.code}`);
  }
  const compilerOptions = {
    ...initOptions,
    // A reader's project has @types/node installed; `tsc --init` writes `types: []`.
    types: ['node'],
    ...overrides,
    rootDir: '.',
    outDir: 'out',
    declaration: false,
    declarationMap: false,
    sourceMap: false,
  };
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: [...files.keys()] }, null, 2),
  );
  // The compiler API rather than the tsc command: tsc stops at syntax errors in one file and
  // then reports no type errors for the others.
  const config = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (config === undefined) throw new Error(`${dir}/tsconfig.json: unreadable`);
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const diagnostics = new Map<CodeBlock, BlockDiagnostic[]>(blocks.map((block) => [block, []]));
  const general = [
    ...config.errors,
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
  ];
  for (const diagnostic of general) {
    for (const list of diagnostics.values()) {
      list.push({ line: 0, text: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n') });
    }
  }
  for (const [name, block] of files) {
    const source = program.getSourceFile(join(dir, name));
    if (source === undefined) throw new Error(`${name}: not in the program`);
    const preludeLines = (block.prelude ?? '').split('\n').length - 1;
    for (const diagnostic of [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ]) {
      const { line, character } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const readmeLine = line >= preludeLines ? block.line + 1 + line - preludeLines : 0;
      const where =
        readmeLine === 0 ? `${block.line} (prelude line ${line + 1})` : String(readmeLine);
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      diagnostics.get(block)!.push({
        line: readmeLine,
        text: `${block.file}:${where}:${character + 1} TS${diagnostic.code}: ${message}`,
      });
    }
  }
  program.emit();
  return diagnostics;
}
