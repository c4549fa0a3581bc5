// Several TcpBackend ranks inside this one process, over real loopback sockets.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AddressInUseError,
  CollectiveTimeoutError,
  type DistError,
  type NumericArray,
  TcpBackend,
  type TcpBackendOptions,
} from '../src/index.js';
import { freePort } from './helpers.js';

let groups: TcpBackend[][] = [];

async function group(n: number, options: Partial<TcpBackendOptions> = {}): Promise<TcpBackend[]> {
  const masterPort = await freePort();
  const ranks = Array.from(
    { length: n },
    (_, rank) => new TcpBackend({ rank, worldSize: n, masterPort, timeoutMs: 5000, ...options }),
  );
  await Promise.all(ranks.map((backend) => backend.init()));
  groups.push(ranks);
  return ranks;
}

afterEach(async () => {
  await Promise.all(groups.flat().map((backend) => backend.destroy()));
  groups = [];
});

const value = (rank: number, i: number): number => ((i * 31 + rank * 17) % 199) - 99;

/** The reduction of what each rank's array holds (already wrapped into the array's range). */
function reference(
  op: 'sum' | 'max' | 'min',
  n: number,
  i: number,
  Kind: { of(...items: number[]): NumericArray },
): number {
  const values = Array.from({ length: n }, (_, r) => Kind.of(value(r, i))[0]!);
  if (op === 'sum') return values.reduce((a, b) => a + b, 0);
  return op === 'max' ? Math.max(...values) : Math.min(...values);
}

describe('TcpBackend collectives (in one process)', () => {
  it.each([
    ['direct', 2, Number.POSITIVE_INFINITY],
    ['direct', 3, Number.POSITIVE_INFINITY],
    ['ring', 2, 0],
    ['ring', 3, 0],
    ['ring', 4, 0],
  ])(
    'allReduce (%s, %i ranks) of every op, type and odd size',
    async (_, n, ringThresholdBytes) => {
      const ranks = await group(n, { ringThresholdBytes });
      const kinds = [Float32Array, Float64Array, Int32Array, Uint8Array, Int16Array];
      for (const Kind of kinds) {
        for (const size of [0, 1, 2, 3, 5, 11, 1000, 4099]) {
          for (const op of ['sum', 'max', 'min'] as const) {
            const buffers = ranks.map((backend) => {
              const buffer = new Kind(size);
              for (let i = 0; i < size; i++) buffer[i] = value(backend.rank, i);
              return buffer;
            });
            await Promise.all(ranks.map((backend, r) => backend.allReduce(buffers[r]!, op)));
            const want = new Kind(size);
            for (let i = 0; i < size; i++) want[i] = reference(op, n, i, Kind);
            for (const buffer of buffers) expect(buffer).toEqual(want);
          }
        }
      }
    },
  );

  it('gives bitwise-identical float sums on every rank', async () => {
    const ranks = await group(3, { ringThresholdBytes: 0 });
    const buffers = ranks.map((b) =>
      Float32Array.from({ length: 999 }, (_, i) => Math.sin(i + b.rank) * 1e3),
    );
    await Promise.all(ranks.map((b, r) => b.allReduce(buffers[r]!, 'sum')));
    expect(buffers[1]).toEqual(buffers[0]);
    expect(buffers[2]).toEqual(buffers[0]);
  });

  it.each([
    [2, 0],
    [4, 0],
    [4, Number.POSITIVE_INFINITY],
  ])(
    'broadcast on %i ranks (ring threshold %d) from every source',
    async (n, ringThresholdBytes) => {
      const ranks = await group(n, { ringThresholdBytes });
      for (let src = 0; src < n; src++) {
        for (const size of [0, 3, 1001]) {
          const buffers = ranks.map((b) => new Float64Array(size).fill(b.rank));
          await Promise.all(ranks.map((b, r) => b.broadcast(buffers[r]!, src)));
          for (const buffer of buffers) expect(buffer).toEqual(new Float64Array(size).fill(src));
        }
      }
    },
  );

  it('allGather returns fresh arrays per rank; gather only to dst', async () => {
    const ranks = await group(3);
    const inputs = ranks.map((b) => Int32Array.of(b.rank, b.rank * 10));
    const all = await Promise.all(ranks.map((b, r) => b.allGather(inputs[r]!)));
    for (const result of all)
      expect(result).toEqual([Int32Array.of(0, 0), Int32Array.of(1, 10), Int32Array.of(2, 20)]);
    expect(all[0]![0]).not.toBe(inputs[0]);
    const gathered = await Promise.all(ranks.map((b, r) => b.gather(inputs[r]!, 2)));
    expect(gathered[0]).toEqual([]);
    expect(gathered[1]).toEqual([]);
    expect(gathered[2]).toEqual([Int32Array.of(0, 0), Int32Array.of(1, 10), Int32Array.of(2, 20)]);
  });

  it('runs overlapping calls in call order', async () => {
    const ranks = await group(2);
    const buffers = ranks.map((b) => [1, 2, 3].map((k) => Float32Array.of(k * (b.rank + 1))));
    await Promise.all(
      ranks.flatMap((b, r) => buffers[r]!.map((buffer) => b.allReduce(buffer, 'sum'))),
    );
    expect(buffers[0]!.map((b) => b[0])).toEqual([3, 6, 9]);
  });

  it('local ranks come from host names when not given', async () => {
    const ranks = await group(3);
    expect(ranks.map((b) => [b.localRank, b.localSize])).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
    ]);
  });
});

describe('TcpBackend failures', () => {
  it('a collective that cannot complete times out naming the ranks waited for', async () => {
    const ranks = await group(3, { timeoutMs: 300 });
    const errors = await Promise.all(
      ranks.slice(0, 2).map((b) =>
        b.barrier().then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    );
    for (const error of errors) {
      expect(CollectiveTimeoutError.isInstance(error)).toBe(true);
      expect((error as CollectiveTimeoutError).waitingFor).toEqual([2]);
    }
    expect((errors[0] as Error).message).toMatchInlineSnapshot(
      `"barrier #1 timed out after 300 ms on rank 0, waiting for rank 2 (did every rank call barrier? Raise GORILLA_DIST_TIMEOUT_MS or the timeoutMs option if the work in between takes longer)"`,
    );
    // The group is unusable afterwards, and says why.
    await expect(ranks[0]!.barrier()).rejects.toMatchObject({ code: 'DIST_GROUP_BROKEN' });
  });

  it('different collectives on different ranks are reported as a mismatch', async () => {
    const ranks = await group(2);
    const results = await Promise.allSettled([
      ranks[0]!.allReduce(new Float32Array(4), 'sum'),
      ranks[1]!.broadcast(new Float32Array(4), 1),
    ]);
    const reasons = results.map((r) =>
      r.status === 'rejected' ? (r.reason as DistError) : undefined,
    );
    expect(reasons[0]?.code).toBe('DIST_MISMATCH');
    expect(reasons[0]?.message).toContain(
      'rank 1 sent broadcast #1 step 0 while rank 0 expected allReduce #1 step 0',
    );
  });

  it('different lengths on different ranks are reported as a mismatch', async () => {
    const ranks = await group(2);
    const results = await Promise.allSettled([
      ranks[0]!.allReduce(new Float32Array(4), 'sum'),
      ranks[1]!.allReduce(new Float32Array(5), 'sum'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.message).toContain(
      'allReduce: rank 1 sent 20 bytes where 16 were expected (Float32Array)',
    );
  });

  it('a rank that disappears mid-collective fails the others at once (no timeout)', async () => {
    const ranks = await group(3, { timeoutMs: 20_000 });
    const started = Date.now();
    const pending = ranks.slice(0, 2).map((b) => b.allReduce(new Float32Array(10), 'sum'));
    // Rank 2 crashes: its sockets drop without a goodbye.
    for (const peer of (ranks[2] as unknown as { peers: Array<{ socket: net.Socket }> }).peers) {
      peer?.socket.destroy();
    }
    const results = await Promise.allSettled(pending);
    expect(Date.now() - started).toBeLessThan(5000);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason.code).toBe('DIST_PEER_LOST');
    }
    expect((results[0] as PromiseRejectedResult).reason.message).toContain(
      'rank 2 closed its connection',
    );
  });

  it('the rendezvous times out naming the ranks that never joined', async () => {
    const masterPort = await freePort();
    const ranks = [0, 1].map(
      (rank) => new TcpBackend({ rank, worldSize: 4, masterPort, timeoutMs: 400 }),
    );
    const results = await Promise.allSettled(ranks.map((b) => b.init()));
    for (const result of results) {
      const reason = (result as PromiseRejectedResult).reason as CollectiveTimeoutError;
      expect(reason.code).toBe('DIST_TIMEOUT');
      expect(reason.waitingFor).toEqual([2, 3]);
      expect(reason.message).toContain('still waiting for ranks 2, 3 to join');
    }
  });

  it('refuses a rank whose world size disagrees', async () => {
    const masterPort = await freePort();
    const results = await Promise.allSettled([
      new TcpBackend({ rank: 0, worldSize: 2, masterPort, timeoutMs: 1000 }).init(),
      new TcpBackend({ rank: 1, worldSize: 3, masterPort, timeoutMs: 1000 }).init(),
    ]);
    const reason = (results[1] as PromiseRejectedResult).reason as DistError;
    expect(reason.code).toBe('DIST_RENDEZVOUS_FAILED');
    expect(reason.message).toContain(
      'rank 1 expects world size 3, but the rendezvous was started for 2',
    );
  });

  it('a rendezvous port in use gives an AddressInUseError naming host:port', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const backend = new TcpBackend({ rank: 0, worldSize: 2, masterPort: port });
      const error = await backend.init().catch((e: unknown) => e);
      expect(AddressInUseError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ host: '127.0.0.1', port, code: 'DIST_ADDRESS_IN_USE' });
    } finally {
      holder.close();
    }
  });

  it('rejects bad arguments with DIST_INVALID_ARGUMENT', () => {
    expect(() => new TcpBackend({ rank: 2, worldSize: 2, masterPort: 1 })).toThrow(
      'rank must be an integer in [0, 2), got 2',
    );
    expect(() => new TcpBackend({ rank: 0, worldSize: 2 })).toThrow('masterPort is required');
  });
});

describe('TcpBackend with one rank', () => {
  it('needs no network and returns identities', async () => {
    const backend = new TcpBackend({ rank: 0, worldSize: 1 });
    await backend.init();
    const buffer: NumericArray = Float32Array.of(1, 2);
    await backend.allReduce(buffer, 'sum');
    await backend.broadcast(buffer, 0);
    await backend.barrier();
    expect(buffer).toEqual(Float32Array.of(1, 2));
    expect(await backend.allGather(buffer)).toEqual([Float32Array.of(1, 2)]);
    await backend.destroy();
  });
});
