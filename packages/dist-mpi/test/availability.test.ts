// Without the addon (or without importing this package), asking for MPI gives one clear message.
// Needs no MPI: runs everywhere.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cleanEnv, entry, run } from './helpers.js';

const distEntry = new URL('../../dist/dist/index.js', import.meta.url).href;
const script = (body: string): string[] => ['--input-type=module', '-e', body];

describe.skipIf(!existsSync(entry))(
  titledBuild('asking for the mpi backend when it is unavailable'),
  () => {
    it('without the addon: DIST_BACKEND_UNAVAILABLE saying what to install and rebuild', async () => {
      const result = await run(
        process.execPath,
        script(`
          import { initProcessGroup } from ${JSON.stringify(distEntry)};
          import { isMpiAvailable, mpiUnavailableReason } from ${JSON.stringify(new URL(`file://${entry}`).href)};
          console.log(JSON.stringify({ available: isMpiAvailable(), reason: mpiUnavailableReason() }));
          const error = await initProcessGroup({ backend: 'mpi' }).catch((e) => e);
          console.log(JSON.stringify({ code: error.code, message: error.message }));
        `),
        { env: cleanEnv({ GORILLA_DIST_MPI_ADDON: '/nonexistent/gorilla_dist_mpi.node' }) },
      );
      expect(result.stderr).toBe('');
      const [availability, error] = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(availability).toEqual({
        available: false,
        reason: 'its native addon is not built (/nonexistent/gorilla_dist_mpi.node is missing)',
      });
      expect(error).toEqual({
        code: 'DIST_BACKEND_UNAVAILABLE',
        message:
          'the mpi backend of @gorilla-ts/dist-mpi is unavailable: its native addon is not built (/nonexistent/gorilla_dist_mpi.node is missing). Install OpenMPI (Debian/Ubuntu: apt-get install libopenmpi-dev openmpi-bin; on a cluster, `module load openmpi`) and a C++ compiler, then rebuild the addon: `npm rebuild @gorilla-ts/dist-mpi` (in the gorilla-ts repository: `pnpm --filter @gorilla-ts/dist-mpi build`)',
      });
    }, 30_000);

    it('started by mpirun without importing this package: says to import it', async () => {
      const result = await run(
        process.execPath,
        script(`
          import { launch } from ${JSON.stringify(distEntry)};
          const error = await launch(() => {}, 2).catch((e) => e);
          console.log(JSON.stringify({ code: error.code, message: error.message }));
        `),
        { env: cleanEnv({ OMPI_COMM_WORLD_SIZE: '2', OMPI_COMM_WORLD_RANK: '0' }) },
      );
      expect(JSON.parse(result.stdout)).toEqual({
        code: 'DIST_BACKEND_UNAVAILABLE',
        message:
          "the 'mpi' process-group backend is not registered: install @gorilla-ts/dist-mpi and import it before launch() or initProcessGroup() (`import '@gorilla-ts/dist-mpi'` in the program, or `node --import @gorilla-ts/dist-mpi app.js`)",
      });
    }, 30_000);
  },
);

function titledBuild(title: string): string {
  return existsSync(entry) ? title : `${title} (skipped: ${entry} is missing: run pnpm build)`;
}
