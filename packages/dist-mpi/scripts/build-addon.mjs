// Builds the native MPI addon with node-gyp: the package's `install` script (so `npm install
// @gorilla-ts/dist-mpi` compiles it against the machine's MPI) and part of `pnpm build`.
//
// When a prerequisite is missing (no MPI development files, no C++ compiler, no Node headers,
// no node-gyp, or Windows), it prints one line saying what is missing and exits 0: the
// TypeScript still builds, the workspace build goes on, and asking for the mpi backend at run
// time says how to fix it. When everything is there and the compilation fails, it fails
// (exit 1): that is a bug to see, not a missing dependency.
//
// Incremental: reconfigures only when the MPI flags or Node's version changed; otherwise `make`
// recompiles what changed. The result is native/build/Release/gorilla_dist_mpi.node.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mpiFlags } from './mpi-flags.mjs';

const native = fileURLToPath(new URL('../native/', import.meta.url));
const build = path.join(native, 'build');
const addon = path.join(build, 'Release', 'gorilla_dist_mpi.node');
const stamp = path.join(build, 'gorilla-config.json');
const prefix = '[@gorilla-ts/dist-mpi]';

function skip(reason) {
  rmSync(addon, { force: true });
  console.log(
    `${prefix} MPI addon not built: ${reason}. The mpi backend is unavailable (the rest works); ` +
      'install OpenMPI (Debian/Ubuntu: apt-get install libopenmpi-dev openmpi-bin) and a C++ ' +
      'compiler, then run `npm rebuild @gorilla-ts/dist-mpi` (in this repository: ' +
      '`pnpm --filter @gorilla-ts/dist-mpi build`).',
  );
  process.exit(0);
}

const ok = (command, args) =>
  spawnSync(command, args, { stdio: 'ignore', shell: false }).status === 0;

if (process.env.GORILLA_DIST_MPI_SKIP_ADDON === '1') skip('GORILLA_DIST_MPI_SKIP_ADDON=1');
if (process.platform === 'win32') skip('Windows (MS-MPI) is not supported');
const flags = mpiFlags();
if (!flags) skip('no MPI development files found (mpicc or pkg-config mpi)');
const cxx = process.env.CXX || 'c++';
if (!ok(cxx, ['--version'])) skip(`no C++ compiler (${cxx})`);
if (!ok('make', ['--version'])) skip('no make');

/** Node's headers: without internet, node-gyp must not download them. */
function nodeDir() {
  const candidates = [
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), '..'),
  ].filter(Boolean);
  return candidates.find((dir) => existsSync(path.join(dir, 'include', 'node', 'node_api.h')));
}
const nodedir = nodeDir();
const cachedHeaders = [
  process.env.npm_config_devdir,
  path.join(process.env.HOME ?? '', '.cache', 'node-gyp'),
]
  .filter(Boolean)
  .some((dir) =>
    existsSync(path.join(dir, process.versions.node, 'include', 'node', 'node_api.h')),
  );
if (!nodedir && !cachedHeaders) {
  skip(`Node ${process.version}'s headers not found (set npm_config_nodedir to Node's prefix)`);
}

// The workspace's pinned node-gyp, else the one npm (or pnpm) runs install scripts with.
let gyp = process.env.npm_config_node_gyp;
try {
  gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  if (!gyp || !existsSync(gyp)) skip('node-gyp is not installed');
}

const config = JSON.stringify({ node: process.version, nodedir, flags });
const configured =
  existsSync(path.join(build, 'Makefile')) &&
  existsSync(stamp) &&
  readFileSync(stamp, 'utf8') === config;
const gypArgs = (command) => [
  gyp,
  command,
  '--directory',
  native,
  '--loglevel=warn',
  ...(nodedir ? [`--nodedir=${nodedir}`] : []),
];
const step = (command) =>
  spawnSync(process.execPath, gypArgs(command), {
    stdio: 'inherit',
    env: { ...process.env, MAKEFLAGS: `${process.env.MAKEFLAGS ?? ''} --no-print-directory` },
  }).status === 0;

const started = Date.now();
if (!configured) {
  rmSync(build, { recursive: true, force: true });
  if (!step('configure')) {
    console.error(`${prefix} node-gyp configure failed (MPI from ${flags.source})`);
    process.exit(1);
  }
  writeFileSync(stamp, config);
}
if (!step('build')) {
  console.error(`${prefix} the MPI addon failed to compile (MPI from ${flags.source})`);
  process.exit(1);
}
console.log(
  `${prefix} MPI addon built (${flags.source}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
