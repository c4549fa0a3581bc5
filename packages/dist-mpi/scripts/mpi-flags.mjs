// Finds the compiler and linker flags of the system's MPI, for binding.gyp and build-addon.mjs.
//
//   node scripts/mpi-flags.mjs cflags   # e.g. -I/usr/lib/x86_64-linux-gnu/openmpi/include
//   node scripts/mpi-flags.mjs libs     # e.g. -L/usr/lib/.../openmpi/lib -lmpi -Wl,-rpath,...
//
// Sources, first match wins: GORILLA_MPI_CFLAGS and GORILLA_MPI_LIBS; the MPI C compiler wrapper
// ($MPICC, else mpicc): Open MPI's `--showme:compile/--showme:link`, MPICH's and Intel MPI's
// `-compile_info/-link_info`; pkg-config (ompi-c, ompi, mpich, mpi).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

const split = (text) => text.split(/\s+/).filter(Boolean);
const keep = (flags, pattern) => flags.filter((flag) => pattern.test(flag));

/** Adds `-Wl,-rpath,<dir>` for every `-L<dir>`, so the addon finds libmpi at run time. */
function withRpath(libs) {
  const dirs = libs.filter((flag) => flag.startsWith('-L')).map((flag) => flag.slice(2));
  const rpaths = dirs.map((dir) => `-Wl,-rpath,${dir}`).filter((flag) => !libs.includes(flag));
  return [...libs, ...rpaths];
}

/**
 * The MPI flags, or `undefined` when no MPI development files are found.
 * @returns {{ cflags: string[], libs: string[], source: string } | undefined}
 */
export function mpiFlags(env = process.env) {
  if (env.GORILLA_MPI_CFLAGS !== undefined && env.GORILLA_MPI_LIBS !== undefined) {
    return {
      cflags: split(env.GORILLA_MPI_CFLAGS),
      libs: withRpath(split(env.GORILLA_MPI_LIBS)),
      source: 'GORILLA_MPI_CFLAGS/GORILLA_MPI_LIBS',
    };
  }
  const mpicc = env.MPICC || 'mpicc';
  const openCompile = run(mpicc, ['--showme:compile']);
  const openLink = run(mpicc, ['--showme:link']);
  if (openCompile !== undefined && openLink !== undefined) {
    return {
      cflags: split(openCompile),
      libs: withRpath(split(openLink)),
      source: `${mpicc} --showme`,
    };
  }
  const mpichCompile = run(mpicc, ['-compile_info']);
  const mpichLink = run(mpicc, ['-link_info']);
  if (mpichCompile !== undefined && mpichLink !== undefined) {
    return {
      cflags: keep(split(mpichCompile), /^-(I|D)/),
      libs: withRpath(keep(split(mpichLink), /^-(L|l|Wl,)/)),
      source: `${mpicc} -compile_info`,
    };
  }
  for (const name of ['ompi-c', 'ompi', 'mpich', 'mpi']) {
    const cflags = run('pkg-config', ['--cflags', name]);
    const libs = run('pkg-config', ['--libs', name]);
    if (cflags !== undefined && libs !== undefined) {
      return { cflags: split(cflags), libs: withRpath(split(libs)), source: `pkg-config ${name}` };
    }
  }
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const which = process.argv[2];
  const flags = mpiFlags();
  if (!flags || (which !== 'cflags' && which !== 'libs')) {
    process.stderr.write(
      flags
        ? 'usage: node scripts/mpi-flags.mjs cflags|libs\n'
        : 'no MPI found: install OpenMPI (apt-get install libopenmpi-dev openmpi-bin) or set MPICC\n',
    );
    process.exit(1);
  }
  process.stdout.write(`${flags[which].join(' ')}\n`);
}
