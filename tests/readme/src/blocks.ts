import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * How a README code block is tested. A directive is an HTML comment (invisible on GitHub and
 * npm) on the lines just above the fence; several may stack, blank lines between are allowed:
 *
 * - `<!-- readme-test: skip <reason> -->`: not run (a multi-machine command, an install into
 *   the reader's project, an API listing); the reason is printed and counted. A reason is
 *   required.
 * - `<!-- readme-test: no-run <reason> -->`: a ts block is type-checked but not executed
 *   (e.g. a 200-epoch training); a yaml/json block is parsed only.
 * - `<!-- readme-test: prelude` ... `-->`: code put before the block (imports and values the
 *   text around the example defines in prose), type-checked and run with it.
 * - `<!-- readme-test: tsconfig -->` on a json block: the block's `compilerOptions` are applied
 *   over a `tsc --init` tsconfig for every ts block of that README (the set-up the README tells
 *   its readers to use).
 * - `<!-- readme-test: id <name> -->`: names the block so that another test can find it (the
 *   packaging test runs the block `pointnet-from-npm` against the packed tarballs).
 * - `<!-- readme-test: timeout <seconds> -->`: a longer limit for a slow block.
 *
 * Without a directive a block runs: ts/tsx are type-checked and executed, js/mjs executed,
 * sh/bash/shell run with bash in the README's folder, yaml loaded as a config, json parsed.
 * Blocks without a language (or `text`, `console`, `output`) are output listings and not run.
 */
export interface CodeBlock {
  /** The README, relative to the repository root. */
  file: string;
  /** The 1-based line of the opening fence. */
  line: number;
  /** The language: `ts`, `js`, `sh`, `yaml`, `json` or `text`. */
  lang: BlockLanguage;
  /** The info string as written. */
  info: string;
  /** The block's text, with the fence's indentation removed. */
  code: string;
  /** `run`, `no-run` or `skip`. */
  mode: 'run' | 'no-run' | 'skip';
  /** Why the block is skipped or not run. */
  reason?: string;
  /** Code put before the block. */
  prelude?: string;
  /** The block's `id`. */
  id?: string;
  /** This json block is the README's tsconfig. */
  tsconfig: boolean;
  /** Time limit in milliseconds. */
  timeoutMs?: number;
}

export type BlockLanguage = 'ts' | 'js' | 'sh' | 'python' | 'yaml' | 'json' | 'text';

const LANGUAGES: Readonly<Record<string, BlockLanguage>> = {
  ts: 'ts',
  typescript: 'ts',
  tsx: 'ts',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
  python: 'python',
  py: 'python',
  yaml: 'yaml',
  yml: 'yaml',
  json: 'json',
  '': 'text',
  text: 'text',
  txt: 'text',
  console: 'text',
  output: 'text',
};

/** A README or directive that the harness cannot read; names the file and line. */
export class ReadmeBlockError extends Error {
  override name = 'ReadmeBlockError';
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)(.*)$/;
const DIRECTIVE = /^<!--\s*readme-test:\s*([a-z-]+)\s*([\s\S]*?)\s*-->$/;

/** Every fenced code block of one markdown text, with its directives. */
export function extractBlocks(text: string, file: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const open = FENCE.exec(lines[index] ?? '');
    if (open === null) continue;
    const [, indent = '', fence = '', lang = ''] = open;
    const info = `${lang}${open[4] ?? ''}`.trim();
    const body: string[] = [];
    let close = index + 1;
    for (; close < lines.length; close += 1) {
      const line = lines[close] ?? '';
      if (
        line.trim().startsWith(fence[0]!.repeat(fence.length)) &&
        line.trim().replace(/[`~]/g, '') === ''
      )
        break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    if (close >= lines.length) {
      throw new ReadmeBlockError(`${file}:${index + 1}: code fence is never closed`);
    }
    const language = LANGUAGES[lang.toLowerCase()];
    if (language === undefined) {
      throw new ReadmeBlockError(
        `${file}:${index + 1}: unknown code block language '${lang}'; use one of ${Object.keys(LANGUAGES).filter(Boolean).join(', ')}`,
      );
    }
    const block: CodeBlock = {
      file,
      line: index + 1,
      lang: language,
      info,
      code: `${body.join('\n')}\n`,
      mode: 'run',
      tsconfig: false,
    };
    for (const [directive, line] of directivesAbove(lines, index)) {
      applyDirective(block, directive, `${file}:${line}`);
    }
    blocks.push(block);
    index = close;
  }
  return blocks;
}

/** The directive comments just above line `index`, nearest last, with their 1-based lines. */
function directivesAbove(lines: string[], index: number): [string, number][] {
  const found: [string, number][] = [];
  let at = index - 1;
  while (at >= 0) {
    const line = (lines[at] ?? '').trim();
    if (line === '') {
      at -= 1;
      continue;
    }
    if (!line.endsWith('-->')) break;
    let start = at;
    while (start >= 0 && !(lines[start] ?? '').trim().startsWith('<!--')) start -= 1;
    if (start < 0) break;
    const comment = lines
      .slice(start, at + 1)
      .map((l) => l.trim())
      .join('\n');
    if (!/^<!--\s*readme-test:/.test(comment)) break;
    // A prelude keeps its line breaks and indentation.
    found.unshift([
      lines
        .slice(start, at + 1)
        .join('\n')
        .trim(),
      start + 1,
    ]);
    at = start - 1;
  }
  return found;
}

function applyDirective(block: CodeBlock, comment: string, where: string): void {
  const match = DIRECTIVE.exec(comment);
  if (match === null) throw new ReadmeBlockError(`${where}: unreadable readme-test directive`);
  const [, name, argument = ''] = match;
  const needReason = (): string => {
    const reason = argument.trim();
    if (reason === '') throw new ReadmeBlockError(`${where}: '${name}' needs a reason`);
    return reason;
  };
  switch (name) {
    case 'skip':
      block.mode = 'skip';
      block.reason = needReason();
      return;
    case 'no-run':
      block.mode = 'no-run';
      block.reason = needReason();
      return;
    case 'prelude':
      block.prelude = `${argument.replace(/^\n/, '')}\n`;
      return;
    case 'tsconfig':
      if (block.lang !== 'json') {
        throw new ReadmeBlockError(`${where}: 'tsconfig' applies to json blocks only`);
      }
      block.tsconfig = true;
      return;
    case 'id':
      block.id = needReason();
      return;
    case 'timeout': {
      const seconds = Number(argument);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new ReadmeBlockError(`${where}: timeout expects seconds, got '${argument}'`);
      }
      block.timeoutMs = seconds * 1000;
      return;
    }
    default:
      throw new ReadmeBlockError(
        `${where}: unknown readme-test directive '${name}'; expected skip, no-run, prelude, tsconfig, id or timeout`,
      );
  }
}

const README_FOLDERS = ['packages', 'apps', 'examples'];

/** The repository's READMEs: the root one and those of packages/*, apps/* and examples/*. */
export function findReadmes(root: string): string[] {
  const found = [join(root, 'README.md')];
  for (const folder of README_FOLDERS) {
    let entries: string[];
    try {
      entries = readdirSync(join(root, folder)).sort();
    } catch {
      continue;
    }
    for (const entry of entries) {
      const readme = join(root, folder, entry, 'README.md');
      try {
        readFileSync(readme);
        found.push(readme);
      } catch {}
    }
  }
  return found;
}

/** Every block of every README under `root`. */
export function collectBlocks(root: string): CodeBlock[] {
  return findReadmes(root).flatMap((readme) =>
    extractBlocks(readFileSync(readme, 'utf8'), relative(root, readme)),
  );
}

/** A short name for a block: `packages/registry/README.md:11 [ts]`. */
export function blockName(block: CodeBlock): string {
  return `${block.file}:${block.line} [${block.lang}]`;
}
