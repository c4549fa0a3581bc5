// The collectives through real `mpirun` jobs of 2 and 4 ranks, against the built package.
import { describe, expect, it } from 'vitest';
import {
  cleanEnv,
  entry,
  fixture,
  mpiRun,
  mpiSkipReason,
  rankLines,
  run,
  sharedCollectives,
  titled,
} from './helpers.js';

interface RankLine {
  rank: number;
  worldSize: number;
  localRank: number;
  localSize: number;
  checks: number;
}

/** stderr without Open MPI's own notices. */
const ours = (stderr: string): string[] =>
  stderr.split('\n').filter((line) => line.startsWith('[gorilla-dist'));

describe.skipIf(mpiSkipReason)(titled('the TCP backend collective tests under mpirun'), () => {
  it.each([2, 4])(
    'pass on %i ranks: every op and type, broadcast, gathers, objects, barrier',
    async (n) => {
      // The fixture calls launch(main, 1): under mpirun it runs main in each rank's process.
      const result = await mpiRun(n, sharedCollectives, ['1'], { nodeArgs: ['--import', entry] });
      expect(ours(result.stderr)).toEqual([]);
      expect(result.code).toBe(0);
      const lines = rankLines<RankLine>(result.stdout);
      expect(lines.map((l) => [l.rank, l.worldSize, l.localRank, l.localSize])).toEqual(
        Array.from({ length: n }, (_, r) => [r, n, r, n]),
      );
      // As many checks as the TCP backend passes with n ranks: 81 + 2 n.
      expect(lines.map((l) => l.checks)).toEqual(Array(n).fill(81 + 2 * n));
      // launch() returned in every rank (nothing was spawned, no launcher process).
      expect(result.stdout.split('launcher done').length - 1).toBe(n);
    },
    60_000,
  );

  it('without mpirun, GORILLA_DIST_BACKEND=mpi gives a world of one (MPI singleton)', async () => {
    const result = await run(process.execPath, [fixture('mpi-checks.mjs')], {
      env: cleanEnv({ GORILLA_DIST_BACKEND: 'mpi' }),
    });
    expect(ours(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    expect(rankLines<RankLine>(result.stdout).map((l) => [l.rank, l.worldSize, l.checks])).toEqual([
      [0, 1, 19],
    ]);
  }, 30_000);
});

interface CheckLine extends RankLine {
  waitedMs: number;
  ticks: number;
}

describe.skipIf(mpiSkipReason)(titled('MPI backend specifics'), () => {
  it.each([2, 4])(
    'on %i ranks: 8/16-bit wrap, bitwise-identical sums, call order, objects, free event loop',
    async (n) => {
      const result = await mpiRun(n, fixture('mpi-checks.mjs'));
      expect(ours(result.stderr)).toEqual([]);
      expect(result.code).toBe(0);
      const lines = rankLines<CheckLine>(result.stdout);
      expect(lines.map((l) => [l.rank, l.checks])).toEqual(
        Array.from({ length: n }, (_, r) => [r, 19]),
      );
      // Rank 0 waited ~400 ms in an all-reduce for the last rank, and its event loop kept turning
      // (a 10 ms interval), i.e. MPI did not block the main thread.
      const waiting = lines[0]!;
      expect(waiting.waitedMs).toBeGreaterThan(250);
      expect(waiting.ticks).toBeGreaterThanOrEqual(Math.floor(waiting.waitedMs / 10 / 4));
    },
    60_000,
  );
});
