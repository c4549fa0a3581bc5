// End-to-end: real launcher and worker processes on loopback, running test/fixtures/*.mjs against
// the built package (run `pnpm build` first).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanEnv, eventually, fixture, freePort, isAlive, jsonLines, runNode } from './helpers.js';

interface RankLine {
  rank: number;
  worldSize: number;
  localRank: number;
  localSize: number;
  checks: number;
  pid: number;
}

const collectives = fixture('collectives.mjs');
const faults = fixture('faults.mjs');
const byRank = (lines: RankLine[]): RankLine[] => [...lines].sort((a, b) => a.rank - b.rank);
const count = (text: string, word: string): number => text.split(word).length - 1;
/** stderr without the warning printed where GPUs are fewer than processes. */
const errors = (stderr: string): string =>
  stderr
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('[gorilla-dist] warning:'))
    .join('\n');

describe('launch on one machine', () => {
  it.each([2, 4])(
    'runs every collective on %i ranks with correct values',
    async (n) => {
      const run = runNode(collectives, [String(n)]);
      const { code } = await run.done;
      expect(errors(run.stderr())).toBe('');
      expect(code).toBe(0);
      const lines = byRank(jsonLines<RankLine>(run.stdout()));
      expect(lines.map((l) => [l.rank, l.worldSize, l.localRank, l.localSize])).toEqual(
        Array.from({ length: n }, (_, r) => [r, n, r, n]),
      );
      expect(new Set(lines.map((l) => l.checks)).size).toBe(1);
      // Code after launch() runs in the launcher only.
      expect(count(run.stdout(), 'launcher done')).toBe(1);
    },
    30_000,
  );
});

describe('launch on one machine, all-reduce over TCP (GORILLA_DIST_SHM=0)', () => {
  it.each([2, 4])(
    'runs every collective on %i ranks with correct values',
    async (n) => {
      const run = runNode(collectives, [String(n)], { env: cleanEnv({ GORILLA_DIST_SHM: '0' }) });
      const { code } = await run.done;
      expect(errors(run.stderr())).toBe('');
      expect(code).toBe(0);
      const lines = byRank(jsonLines<RankLine>(run.stdout()));
      expect(lines.map((l) => l.rank)).toEqual(Array.from({ length: n }, (_, r) => r));
      expect(new Set(lines.map((l) => l.checks)).size).toBe(1);
    },
    30_000,
  );
});

describe('a rank killed in the middle of a large all-reduce', () => {
  it.each([
    ['shared memory', '1'],
    ['TCP', '0'],
  ])(
    'over %s: the other rank fails at once with DIST_PEER_LOST',
    async (_, shm) => {
      const port = String(await freePort());
      const runs = [0, 1].map((rank) =>
        runNode(fixture('allreduce-crash.mjs'), [], {
          env: cleanEnv({
            RANK: String(rank),
            WORLD_SIZE: '2',
            MASTER_ADDR: '127.0.0.1',
            MASTER_PORT: port,
            GORILLA_DIST_SECRET: 'launch-test-secret',
            GORILLA_DIST_SHM: shm,
          }),
        }),
      );
      const [first, second] = await Promise.all(runs.map((run) => run.done));
      expect(second!.signal).toBe('SIGKILL');
      expect(errors(runs[0]!.stderr())).toBe('');
      expect(first!.code).toBe(0);
      const [line] = jsonLines<{ rank: number; code: string; message: string; ms: number }>(
        runs[0]!.stdout(),
      );
      expect(line).toMatchObject({ rank: 0, code: 'DIST_PEER_LOST' });
      expect(line!.message).toContain('rank 1 closed its connection');
      expect(line!.ms).toBeLessThan(5000);
    },
    30_000,
  );
});

describe('launch on two machines (two launchers on loopback)', () => {
  it('forms one world of 4 from machineRank 0 and 1, 2 processes each', async () => {
    const url = `tcp://127.0.0.1:${await freePort()}`;
    // Every machine's launcher has the same secret.
    const env = cleanEnv({ GORILLA_DIST_SECRET: 'two-machines-secret' });
    const second = runNode(collectives, ['2', '2', '1', url], { env });
    const first = runNode(collectives, ['2', '2', '0', url], { env });
    const [a, b] = await Promise.all([first.done, second.done]);
    expect(errors(first.stderr() + second.stderr())).toBe('');
    expect([a.code, b.code]).toEqual([0, 0]);
    const lines = byRank(jsonLines<RankLine>(first.stdout() + second.stdout()));
    expect(lines.map((l) => [l.rank, l.worldSize, l.localRank, l.localSize])).toEqual([
      [0, 4, 0, 2],
      [1, 4, 1, 2],
      [2, 4, 0, 2],
      [3, 4, 1, 2],
    ]);
  }, 30_000);
});

describe('workers of an outside launcher', () => {
  it('join through RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT; local ranks by host', async () => {
    const port = String(await freePort());
    const runs = [0, 1, 2].map((rank) =>
      runNode(collectives, ['1'], {
        env: cleanEnv({
          RANK: String(rank),
          WORLD_SIZE: '3',
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: port,
          GORILLA_DIST_SECRET: 'launch-test-secret',
        }),
      }),
    );
    const results = await Promise.all(runs.map((run) => run.done));
    expect(errors(runs.map((run) => run.stderr()).join(''))).toBe('');
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const lines = byRank(runs.flatMap((run) => jsonLines<RankLine>(run.stdout())));
    // No LOCAL_RANK given: derived from the host names exchanged at the rendezvous.
    expect(lines.map((l) => [l.rank, l.worldSize, l.localRank, l.localSize])).toEqual([
      [0, 3, 0, 3],
      [1, 3, 1, 3],
      [2, 3, 2, 3],
    ]);
    // Here launch() returns in each process.
    expect(runs.map((run) => count(run.stdout(), 'launcher done'))).toEqual([1, 1, 1]);
  }, 30_000);
});

describe('faults', () => {
  it('a worker that throws stops the launcher, naming the rank and its error', async () => {
    const run = runNode(faults, ['throw', '2']);
    const { code, ms } = await run.done;
    expect(code).not.toBe(0);
    expect(ms).toBeLessThan(30_000);
    expect(run.stderr()).toContain('WorkerFailedError: rank 1 (local rank 1, pid');
    expect(run.stderr()).toMatch(
      /rank 1 \(local rank 1, pid \d+\) failed: Error: boom from rank 1/,
    );
    expect(run.stdout()).not.toContain('launcher done');
  }, 30_000);

  it('a worker killed by SIGKILL stops the launcher', async () => {
    const run = runNode(faults, ['kill', '2']);
    const { code, ms } = await run.done;
    expect(code).not.toBe(0);
    expect(ms).toBeLessThan(30_000);
    expect(run.stderr()).toMatch(/rank 1 \(local rank 1, pid \d+\) was killed by SIGKILL/);
  }, 30_000);

  it('a worker that exits non-zero stops the launcher', async () => {
    const run = runNode(faults, ['exit', '2']);
    const { code } = await run.done;
    expect(code).not.toBe(0);
    expect(run.stderr()).toMatch(/rank 1 \(local rank 1, pid \d+\) exited with code 3/);
  }, 30_000);

  it('a collective that cannot complete times out, naming the rank it waited for', async () => {
    const run = runNode(faults, ['timeout', '2']);
    const { code, ms } = await run.done;
    expect(code).not.toBe(0);
    expect(ms).toBeLessThan(25_000);
    expect(run.stderr()).toMatch(
      /rank 0 \(local rank 0, pid \d+\) failed: CollectiveTimeoutError: barrier #2 timed out after 3000 ms on rank 0, waiting for rank 1/,
    );
  }, 30_000);

  it('a port in use gives a clear error naming host:port, before any worker starts', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const run = runNode(faults, ['throw', '2', `tcp://127.0.0.1:${port}`]);
      const { code } = await run.done;
      expect(code).not.toBe(0);
      expect(run.stderr()).toContain(
        `AddressInUseError: tcp://127.0.0.1:${port} is already in use: another run (or program) holds port ${port}.`,
      );
      expect(run.stdout()).toBe('');
    } finally {
      holder.close();
    }
  }, 30_000);

  it('SIGINT to the launcher stops every worker, even one that ignores SIGTERM', async () => {
    const run = runNode(faults, ['hang', '2']);
    await run.waitForStdout((out) => jsonLines(out).length === 2);
    const pids = jsonLines<{ pid: number }>(run.stdout()).map((line) => line.pid);
    expect(pids.every(isAlive)).toBe(true);
    run.child.kill('SIGINT');
    const { code } = await run.done;
    expect(code).not.toBe(0);
    expect(run.stderr()).toContain('launch() received SIGINT and stopped its 2 workers');
    expect(pids.filter(isAlive)).toEqual([]);
  }, 30_000);

  it('workers exit by themselves when their launcher is killed', async () => {
    const run = runNode(faults, ['hang', '2']);
    await run.waitForStdout((out) => jsonLines(out).length === 2);
    const pids = jsonLines<{ pid: number }>(run.stdout()).map((line) => line.pid);
    run.child.kill('SIGKILL');
    await run.done;
    expect(await eventually(() => !pids.some(isAlive), 5000)).toBe(true);
  }, 30_000);
});
