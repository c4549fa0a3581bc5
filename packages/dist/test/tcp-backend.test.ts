// Several TcpBackend ranks inside this one process, over real loopback sockets.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { encodeHeader, OP } from '../src/frame.js';
import {
  AddressInUseError,
  CollectiveTimeoutError,
  type DistError,
  type NumericArray,
  TcpBackend,
  type TcpBackendOptions,
} from '../src/index.js';
import { connectWithRetry, type Peer } from '../src/peer.js';
import { eventually, freePort } from './helpers.js';

/** The job's secret of these in-process groups. */
const secret = 'tcp-backend-test-secret';

let groups: TcpBackend[][] = [];

async function group(n: number, options: Partial<TcpBackendOptions> = {}): Promise<TcpBackend[]> {
  const masterPort = await freePort();
  const ranks = Array.from(
    { length: n },
    (_, rank) =>
      new TcpBackend({ rank, worldSize: n, masterPort, secret, timeoutMs: 5000, ...options }),
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
  op: 'sum' | 'mean' | 'max' | 'min',
  n: number,
  i: number,
  Kind: { of(...items: number[]): NumericArray },
): number {
  const values = Array.from({ length: n }, (_, r) => Kind.of(value(r, i))[0]!);
  const sum = values.reduce((a, b) => a + b, 0);
  if (op === 'sum') return sum;
  // The sum wraps like the array type, then is divided.
  if (op === 'mean') return Kind.of(sum)[0]! / n;
  return op === 'max' ? Math.max(...values) : Math.min(...values);
}

describe('TcpBackend collectives (in one process)', () => {
  it.each([
    ['direct', 2, Number.POSITIVE_INFINITY, true],
    ['direct', 3, Number.POSITIVE_INFINITY, true],
    ['ring', 2, 0, false],
    ['ring', 3, 0, false],
    ['ring', 4, 0, false],
    ['shared-memory', 2, 0, true],
    ['shared-memory', 3, 0, true],
    ['shared-memory', 4, 0, true],
  ])(
    'allReduce (%s, %i ranks) of every op, type and odd size',
    async (_, n, ringThresholdBytes, sharedMemory) => {
      const ranks = await group(n, { ringThresholdBytes, sharedMemory });
      for (const backend of ranks) expect(backend.usesSharedMemory).toBe(sharedMemory);
      const kinds = [Float32Array, Float64Array, Int32Array, Uint8Array, Int16Array];
      for (const Kind of kinds) {
        for (const size of [0, 1, 2, 3, 5, 11, 1000, 4099]) {
          for (const op of ['sum', 'mean', 'max', 'min'] as const) {
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

/** Whether this machine has /dev/shm (else the groups fall back to TCP and say so). */
const hasShm = existsSync('/dev/shm');

/** This file's groups put their shared-memory files here (GORILLA_DIST_SHM_DIR). */
const shmDir = hasShm ? mkdtempSync('/dev/shm/gorilla-dist-test-') : undefined;
if (shmDir !== undefined) process.env.GORILLA_DIST_SHM_DIR = shmDir;
afterAll(() => {
  if (shmDir !== undefined) rmSync(shmDir, { recursive: true, force: true });
  delete process.env.GORILLA_DIST_SHM_DIR;
});

/** Shared-memory files still in that directory (none once every group is set up). */
function leftoverFiles(): string[] {
  return shmDir === undefined ? [] : readdirSync(shmDir);
}

/** Large inputs: `size` elements per rank, exact in float32 (multiples of 1/8). */
function largeInputs<T extends NumericArray>(
  Kind: { from(values: ArrayLike<number>): T },
  n: number,
  size: number,
): T[] {
  return Array.from({ length: n }, (_, rank) =>
    Kind.from(Float64Array.from({ length: size }, (_, i) => value(rank, i) + rank / 8)),
  );
}

function largeReference<T extends NumericArray>(
  inputs: T[],
  op: 'sum' | 'mean' | 'max' | 'min',
): T {
  const want = inputs[0]!.slice() as T;
  for (const other of inputs.slice(1)) {
    for (let i = 0; i < want.length; i++) {
      want[i] =
        op === 'sum' || op === 'mean'
          ? want[i]! + other[i]!
          : op === 'max'
            ? Math.max(want[i]!, other[i]!)
            : Math.min(want[i]!, other[i]!);
    }
  }
  if (op === 'mean') for (let i = 0; i < want.length; i++) want[i] = want[i]! / inputs.length;
  return want;
}

function sameBytes(a: NumericArray, b: NumericArray): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/**
 * Makes `backend` "crash" (drop every connection without a goodbye, and send nothing more) when
 * it is about to send an all-reduce frame of a step for which `when(step)` holds.
 */
function crashWhenSending(backend: TcpBackend, when: (step: number) => boolean): void {
  const peers = (backend as unknown as { peers: Peer[] }).peers.filter(Boolean);
  for (const peer of peers) {
    const send = peer.send.bind(peer);
    peer.send = (op, seq, step, payload) => {
      if (op !== OP.allReduce || !when(step)) return send(op, seq, step, payload);
      for (const p of peers) p.socket.destroy();
      return Promise.reject(new Error('crashed'));
    };
  }
}

describe.each([
  ['TCP ring', false],
  ['shared memory', true],
])('TcpBackend large all-reduce over %s', (_, sharedMemory) => {
  const uses = sharedMemory && hasShm;

  it.each([2, 4])(
    '%i ranks: several segments, odd length, every op, bitwise-equal results',
    async (n) => {
      const ranks = await group(n, { sharedMemory });
      for (const backend of ranks) expect(backend.usesSharedMemory).toBe(uses);
      expect(leftoverFiles()).toEqual([]);
      // More than one 1 MiB ring segment per chunk, and more than one 4 MiB region.
      const size = n === 2 ? 600_001 : 1_300_003;
      for (const op of ['sum', 'mean', 'max', 'min'] as const) {
        const inputs = largeInputs(Float32Array, n, size);
        const want = largeReference(inputs, op);
        await Promise.all(ranks.map((b, r) => b.allReduce(inputs[r]!, op)));
        for (const buffer of inputs) expect(sameBytes(buffer, want)).toBe(true);
      }
      for (const op of ['sum', 'mean'] as const) {
        const ints = largeInputs(Int32Array, n, 300_007);
        const wantInts = largeReference(ints, op);
        await Promise.all(ranks.map((b, r) => b.allReduce(ints[r]!, op)));
        for (const buffer of ints) expect(sameBytes(buffer, wantInts)).toBe(true);
      }
    },
    30_000,
  );

  it('interleaves with the other collectives, called without awaiting', async () => {
    const n = 3;
    const ranks = await group(n, { sharedMemory });
    const sizes = [1_200_001, 70_001, 3, 1_048_577];
    const inputs = sizes.map((size) => largeInputs(Float32Array, n, size));
    const wants = inputs.map((perRank) => largeReference(perRank, 'sum'));
    const results = await Promise.all(
      ranks.map(async (b, r) => {
        const broadcasts = [0, 1, 2].map(() => new Float64Array(100_000).fill(r));
        const pending = [
          b.allReduce(inputs[0]![r]!, 'sum'),
          // A broadcast from this rank lets it run ahead of the others into the next all-reduce.
          ...broadcasts.map((buffer, src) => b.broadcast(buffer, src)),
          b.allReduce(inputs[1]![r]!, 'sum'),
          b.allReduce(inputs[2]![r]!, 'sum'),
          b.allGather(Int32Array.of(r)),
          b.allReduce(inputs[3]![r]!, 'sum'),
          b.barrier(),
          b.allReduce(inputs[0]![r]!, 'max'),
        ];
        const settled = await Promise.all(pending);
        return { broadcasts, gathered: settled[6] as Int32Array[] };
      }),
    );
    for (const [k, want] of wants.slice(1).entries()) {
      for (const buffer of inputs[k + 1]!) expect(sameBytes(buffer, want)).toBe(true);
    }
    // The first input was reduced twice: sum, then max of identical sums (the sum itself).
    for (const buffer of inputs[0]!) expect(sameBytes(buffer, wants[0]!)).toBe(true);
    for (const { broadcasts, gathered } of results) {
      for (const [src, buffer] of broadcasts.entries())
        expect(buffer.every((x) => x === src)).toBe(true);
      expect(gathered.map((g) => g[0])).toEqual([0, 1, 2]);
    }
  }, 30_000);

  it('a rank that crashes in the middle of an all-reduce fails the others at once', async () => {
    const ranks = await group(3, { sharedMemory, timeoutMs: 20_000 });
    // Shared memory: after saying its input is ready, before its reduced chunk is; ring: after
    // the first reduce-scatter step.
    crashWhenSending(ranks[2]!, uses ? (step) => step === 0x8001 : (step) => step >= 2);
    const started = Date.now();
    const inputs = largeInputs(Float32Array, 3, 1_000_003);
    const results = await Promise.allSettled(ranks.map((b, r) => b.allReduce(inputs[r]!, 'sum')));
    expect(Date.now() - started).toBeLessThan(5000);
    for (const result of results.slice(0, 2)) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason.code).toBe('DIST_PEER_LOST');
      expect((result as PromiseRejectedResult).reason.message).toContain(
        'rank 2 closed its connection',
      );
    }
    await expect(ranks[0]!.allReduce(new Float32Array(1), 'sum')).rejects.toMatchObject({
      code: 'DIST_GROUP_BROKEN',
    });
  }, 30_000);

  it('an all-reduce that a rank never calls times out naming it', async () => {
    const ranks = await group(3, { sharedMemory, timeoutMs: 300 });
    const errors = await Promise.all(
      ranks
        .slice(0, 2)
        .map((b) => b.allReduce(new Float32Array(500_000), 'sum').catch((e: unknown) => e)),
    );
    for (const error of errors) expect(CollectiveTimeoutError.isInstance(error)).toBe(true);
    // Through shared memory every rank waits for every other; in the ring, rank 1 waits for
    // rank 0, which waits for rank 2.
    expect(errors.map((e) => (e as CollectiveTimeoutError).waitingFor)).toEqual(
      uses ? [[2], [2]] : [[2], [0]],
    );
  });

  it('large buffers of different lengths are reported as a mismatch', async () => {
    const ranks = await group(2, { sharedMemory, timeoutMs: 1000 });
    const results = await Promise.allSettled([
      ranks[0]!.allReduce(new Float32Array(500_000), 'sum'),
      ranks[1]!.allReduce(new Float32Array(500_001), 'sum'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // In the ring, rank 1 receives a chunk of the expected length and then waits in vain.
    expect((results[0] as PromiseRejectedResult).reason.code).toBe('DIST_MISMATCH');
    expect((results[1] as PromiseRejectedResult).reason.code).toBe(
      uses ? 'DIST_MISMATCH' : 'DIST_TIMEOUT',
    );
    expect((results[0] as PromiseRejectedResult).reason.message).toContain(
      uses
        ? 'allReduce: rank 1 sent 2000004 bytes where 2000000 were expected (Float32Array)'
        : 'allReduce: rank 1 sent ',
    );
  });
});

describe('TcpBackend shared memory set-up', () => {
  it('falls back to TCP on every rank when one rank disallows it', async () => {
    const masterPort = await freePort();
    const ranks = [true, false, true].map(
      (sharedMemory, rank) =>
        new TcpBackend({ rank, worldSize: 3, masterPort, secret, timeoutMs: 5000, sharedMemory }),
    );
    await Promise.all(ranks.map((b) => b.init()));
    groups.push(ranks);
    expect(ranks.map((b) => b.usesSharedMemory)).toEqual([false, false, false]);
    expect(leftoverFiles()).toEqual([]);
    const inputs = largeInputs(Float32Array, 3, 400_001);
    const want = largeReference(inputs, 'sum');
    await Promise.all(ranks.map((b, r) => b.allReduce(inputs[r]!, 'sum')));
    for (const buffer of inputs) expect(sameBytes(buffer, want)).toBe(true);
  });

  it('GORILLA_DIST_SHM=0 turns it off', async () => {
    process.env.GORILLA_DIST_SHM = '0';
    try {
      const ranks = await group(2);
      expect(ranks.map((b) => b.usesSharedMemory)).toEqual([false, false]);
    } finally {
      delete process.env.GORILLA_DIST_SHM;
    }
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
      (rank) => new TcpBackend({ rank, worldSize: 4, masterPort, secret, timeoutMs: 400 }),
    );
    const results = await Promise.allSettled(ranks.map((b) => b.init()));
    const [host, joiner] = results.map(
      (result) => (result as PromiseRejectedResult).reason as CollectiveTimeoutError,
    );
    expect(host!.code).toBe('DIST_TIMEOUT');
    expect(host!.waitingFor).toEqual([2, 3]);
    expect(host!.message).toContain('still waiting for ranks 2, 3 to join');
    // Rank 1's deadline is a moment after rank 0's (it started later): either it passes too, or
    // rank 0 has already given up and closed the rendezvous, which rank 1 then reports.
    if (joiner!.code === 'DIST_TIMEOUT') {
      expect(joiner!.waitingFor).toEqual([2, 3]);
    } else {
      expect(joiner!.code).toBe('DIST_RENDEZVOUS_FAILED');
      expect(joiner!.message).toContain('closed the connection before every rank joined');
    }
  });

  it('refuses a rank whose world size disagrees', async () => {
    const masterPort = await freePort();
    const results = await Promise.allSettled([
      new TcpBackend({ rank: 0, worldSize: 2, masterPort, secret, timeoutMs: 1000 }).init(),
      new TcpBackend({ rank: 1, worldSize: 3, masterPort, secret, timeoutMs: 1000 }).init(),
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
      const backend = new TcpBackend({ rank: 0, worldSize: 2, masterPort: port, secret });
      const error = await backend.init().catch((e: unknown) => e);
      expect(AddressInUseError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ host: '127.0.0.1', port, code: 'DIST_ADDRESS_IN_USE' });
    } finally {
      holder.close();
    }
  });

  it('rejects bad arguments with DIST_INVALID_ARGUMENT', () => {
    expect(() => new TcpBackend({ rank: 2, worldSize: 2, masterPort: 1, secret })).toThrow(
      'rank must be an integer in [0, 2), got 2',
    );
    expect(() => new TcpBackend({ rank: 0, worldSize: 2 })).toThrow('masterPort is required');
  });
});

describe('TcpBackend and strangers', () => {
  it('silent and oversized strangers on every listener delay nobody and are closed', async () => {
    const masterPort = await freePort();
    // A stranger of each kind connects to every listener (rendezvous, data) as soon as it listens.
    const strangers: Array<{ kind: string; closed: boolean }> = [];
    const createServer = net.createServer;
    const spy = vi.spyOn(net, 'createServer').mockImplementation(((...args: unknown[]) => {
      const server = (createServer as (...a: unknown[]) => net.Server)(...args);
      server.once('listening', () => {
        const { port } = server.address() as net.AddressInfo;
        for (const kind of ['silent', 'huge']) {
          const socket = net.connect({ port, host: '127.0.0.1' }, () => {
            if (kind === 'huge') socket.write(encodeHeader(OP.hello, 0, 0, 0xffff_ffff));
          });
          const entry = { kind: `${kind} -> ${port}`, closed: false };
          socket.on('error', () => {});
          // Reads (and drops) what arrives, so that it sees the other side close.
          socket.resume();
          socket.on('close', () => {
            entry.closed = true;
          });
          strangers.push(entry);
        }
      });
      return server;
    }) as typeof net.createServer);
    let ranks: TcpBackend[];
    try {
      // Less than the 10 s a stranger gets to authenticate: members must not wait for it.
      ranks = [0, 1, 2].map(
        (rank) => new TcpBackend({ rank, worldSize: 3, masterPort, secret, initTimeoutMs: 8000 }),
      );
      groups.push(ranks);
      await Promise.all(ranks.map((b) => b.init()));
    } finally {
      spy.mockRestore();
    }
    // 1 rendezvous + 3 data listeners.
    expect(strangers).toHaveLength(8);
    await Promise.all(ranks.map((b) => b.barrier()));
    await eventually(() => strangers.every((s) => s.closed), 15_000);
    expect(strangers.filter((s) => !s.closed).map((s) => s.kind)).toEqual([]);
  }, 30_000);

  it('a connection that keeps being refused says why every logEveryMs', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const error = await connectWithRetry('127.0.0.1', port, {
      deadline: Date.now() + 1500,
      timeoutMs: 1500,
      rank: 0,
      what: 'the rendezvous',
      logEveryMs: 200,
      log: (line) => lines.push(line),
    }).catch((e: unknown) => e as DistError);
    expect(error).toMatchObject({ code: 'DIST_TIMEOUT' });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(
      /^\[gorilla-dist\] still trying to reach the rendezvous of rank 0 at 127\.0\.0\.1:\d+ after \d+ s \(of 2 s\): connect ECONNREFUSED/,
    );
  });

  it('an unresolvable host fails at once, naming it', async () => {
    const error = await connectWithRetry('no-such-host.invalid', 29500, {
      deadline: Date.now() + 60_000,
      timeoutMs: 60_000,
      rank: 0,
      what: 'the rendezvous',
    }).catch((e: unknown) => e as DistError);
    expect(error).toMatchObject({ code: 'DIST_RENDEZVOUS_FAILED' });
    expect((error as DistError).message).toMatch(
      /^cannot resolve the host "no-such-host\.invalid" of the rendezvous \((ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL)\)/,
    );
  }, 30_000);
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
