// Failures under mpirun: a rank that throws, a collective that never completes, a mismatch.
import { describe, expect, it } from 'vitest';
import { cleanEnv, fixture, mpiRun, mpiSkipReason, rankLines, titled } from './helpers.js';

const faults = fixture('faults.mjs');

describe.skipIf(mpiSkipReason)(titled('MPI backend failures'), () => {
  it('a rank that throws in main aborts the whole job at once, naming the rank', async () => {
    const result = await mpiRun(2, faults, ['throw']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('[gorilla-dist-mpi] rank 1 failed: Error: boom on rank 1');
    expect(result.stderr).toContain('[gorilla-dist-mpi] aborting the MPI job (MPI_Abort)');
    // Rank 0 was waiting in a barrier that could never complete: no hang.
    expect(result.ms).toBeLessThan(20_000);
  }, 30_000);

  it('a collective that never completes aborts the job after GORILLA_DIST_TIMEOUT_MS', async () => {
    const result = await mpiRun(2, faults, ['timeout'], {
      env: cleanEnv({ GORILLA_DIST_TIMEOUT_MS: '1000' }),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      '[gorilla-dist-mpi] rank 0: barrier #1 did not complete within 1000 ms',
    );
    expect(result.ms).toBeLessThan(20_000);
  }, 30_000);

  it('checkCollectives turns a length mismatch into DIST_MISMATCH on every rank', async () => {
    const result = await mpiRun(2, faults, ['mismatch']);
    const lines = rankLines<{ rank: number; code: string; message: string; after: string }>(
      result.stdout,
    );
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatchObject({
        code: 'DIST_MISMATCH',
        message:
          'allReduce #1: the ranks called different collectives: rank 0 allReduce(Float32Array[3] sum), rank 1 allReduce(Float32Array[4] sum)',
        // The group refuses further work.
        after: 'DIST_MISMATCH',
        // Every MPI call runs on the binding's one MPI thread.
        threadLevel: 'funneled',
      });
    }
  }, 30_000);

  it('a program that never destroys its group still finalises MPI and exits 0', async () => {
    const result = await mpiRun(2, faults, ['no-destroy']);
    expect(result.code).toBe(0);
    expect(rankLines(result.stdout)).toEqual([
      { rank: 0, done: true },
      { rank: 1, done: true },
    ]);
  }, 30_000);
});
