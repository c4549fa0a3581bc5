#!/usr/bin/env node
/**
 * Bundles each browser entry of gorilla-ts with esbuild for `platform: 'browser'` and fails
 * (exit 1) when any of them reaches a Node built-in (`node:fs`, `crypto`, ...), naming the
 * import chain, or uses a Node-only global (`Buffer`, `process.env`, `require`). Prints one JSON line per entry with its minified and gzipped size
 * (tfjs-core excluded: it is the app's peer dependency, counted in the viewer's bundle).
 *
 * Usage: node scripts/check-browser-entries.mjs [entry ...]
 * (default: @gorilla-ts/train/nn, @gorilla-ts/models-pointnet, @gorilla-ts/registry)
 *
 * Run by `pnpm test` in this package; the packages must be built (turbo builds them first).
 */
import { builtinModules } from 'node:module';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const ENTRIES = ['@gorilla-ts/train/nn', '@gorilla-ts/models-pointnet', '@gorilla-ts/registry'];
const entries = process.argv.length > 2 ? process.argv.slice(2) : ENTRIES;
/** Node-only globals a browser lacks (not imports, so esbuild resolves nothing for them). */
const NODE_GLOBALS = [
  [/(?<![.\w$])Buffer\s*[.(]/, 'Buffer'],
  [/(?<![.\w$])process\s*\.\s*(?:env|argv|pid|version|platform|cwd|exit|hrtime)\b/, 'process'],
  [/(?<![.\w$])(?:__dirname|__filename)\b/, '__dirname/__filename'],
  [/(?<![.\w$])require\s*\(/, 'require()'],
];
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Records every import of a Node built-in instead of letting esbuild stop at the first. */
function nodeBuiltins(found) {
  return {
    name: 'node-builtins',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /.*/ }, (args) => {
        if (!builtins.has(args.path) && !args.path.startsWith('node:')) return undefined;
        found.push(`${relative(here, args.importer) || args.importer} imports '${args.path}'`);
        return { path: args.path, external: true };
      });
    },
  };
}

let failed = false;
for (const entry of entries) {
  const found = [];
  let result;
  try {
    result = await build({
      stdin: { contents: `export * from '${entry}';`, resolveDir: here, loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      minify: true,
      write: false,
      logLevel: 'silent',
      external: ['@tensorflow/tfjs-core'],
      plugins: [nodeBuiltins(found)],
    });
  } catch (error) {
    failed = true;
    console.error(`${entry}: esbuild failed for platform 'browser':\n${error.message}`);
    continue;
  }
  const code = result.outputFiles[0].contents;
  const text = result.outputFiles[0].text;
  for (const [pattern, name] of NODE_GLOBALS) {
    const match = pattern.exec(text);
    if (match)
      found.push(
        `the bundle uses the Node global ${name}: …${text.slice(Math.max(0, match.index - 40), match.index + 40)}…`,
      );
  }
  if (found.length > 0) {
    failed = true;
    console.error(
      `${entry} is not browser-safe: it reaches Node built-ins:\n  - ${[...new Set(found)].join('\n  - ')}`,
    );
  }
  console.log(
    JSON.stringify({
      entry,
      browserSafe: found.length === 0,
      bytes: code.byteLength,
      gzipBytes: gzipSync(code).byteLength,
      excluded: '@tensorflow/tfjs-core',
    }),
  );
}
process.exit(failed ? 1 : 0);
