// The all-reduce algorithms over an in-memory exchange (no sockets): pipelined ring segments and
// shared-memory segments at every boundary, odd lengths, every type and op.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NumericArray, ReduceOp } from '../src/backend.js';
import { type Exchange, reduceInto, ringAllReduce } from '../src/collectives.js';
import { openPeerFile, SharedMemory } from '../src/shm.js';

const dir = mkdtempSync(join(tmpdir(), 'gorilla-shm-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Message {
  step: number;
  data: Uint8Array;
}

/**
 * `n` exchanges that pass copies of messages in memory, checking steps like the TCP backend.
 * With `placed`, `recvInto` copies into the target, as the backend does for a matching frame.
 */
function memoryGroup(n: number, placed = false): Exchange[] {
  const queues = new Map<string, { messages: Message[]; waiters: Array<(m: Message) => void> }>();
  const queue = (from: number, to: number) => {
    const key = `${from}>${to}`;
    const q = queues.get(key) ?? { messages: [], waiters: [] };
    queues.set(key, q);
    return q;
  };
  const take = (from: number, to: number, step: number): Promise<Uint8Array> => {
    const q = queue(from, to);
    const check = (message: Message): Uint8Array => {
      if (message.step !== step)
        throw new Error(`rank ${from} sent step ${message.step}, not ${step}`);
      return message.data;
    };
    const message = q.messages.shift();
    if (message) return Promise.resolve(check(message));
    return new Promise((resolve) => q.waiters.push(resolve)).then((m) => check(m as Message));
  };
  return Array.from({ length: n }, (_, rank): Exchange => {
    const ex: Exchange = {
      rank,
      worldSize: n,
      send: async (peer, step, data) => {
        const q = queue(rank, peer);
        const message = { step, data: data.slice() };
        // Delivered later, in order, like a socket would.
        setImmediate(() => {
          const waiter = q.waiters.shift();
          if (waiter) waiter(message);
          else q.messages.push(message);
        });
      },
      recv: (peer, step) => take(peer, rank, step),
    };
    if (placed) {
      ex.recvInto = async (peer, step, target) => {
        const data = await take(peer, rank, step);
        if (data.byteLength !== target.byteLength) return data;
        target.set(data);
        return target;
      };
    }
    return ex;
  });
}

const KINDS = [Float32Array, Float64Array, Int32Array, Uint8Array, Int16Array] as const;
const OPS: ReduceOp[] = ['sum', 'mean', 'max', 'min'];

const value = (rank: number, i: number): number => ((i * 31 + rank * 17) % 199) - 99 + rank / 8;

function inputs(Kind: (typeof KINDS)[number], n: number, size: number): NumericArray[] {
  return Array.from({ length: n }, (_, rank) => {
    const buffer = new Kind(size);
    for (let i = 0; i < size; i++) buffer[i] = value(rank, i);
    return buffer;
  });
}

/** Reduces in rank order, in the array's own type (`mean`: the sum, then divided). */
function expected(buffers: NumericArray[], op: ReduceOp): NumericArray {
  const want = buffers[0]!.slice();
  for (const other of buffers.slice(1)) reduceInto(want, other, op === 'mean' ? 'sum' : op);
  if (op === 'mean') for (let i = 0; i < want.length; i++) want[i] = want[i]! / buffers.length;
  return want;
}

/** The first index where `a` and `b` differ bitwise, or -1. */
function firstDifference(a: NumericArray, b: NumericArray): number {
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (a.length === b.length && x.equals(y)) return -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) return i;
  return a.length;
}

/** Every rank holds exactly the reference (the values are sums of multiples of 1/8: exact). */
function expectReduced(buffers: NumericArray[], want: NumericArray): void {
  for (const [rank, buffer] of buffers.entries()) {
    const at = firstDifference(buffer, want);
    expect(at, `rank ${rank} at ${at}: ${buffer[at]} != ${want[at]}`).toBe(-1);
  }
}

describe('ringAllReduce (pipelined segments)', () => {
  it.each([
    [2, 4, false],
    [2, 12, true],
    [3, 8, true],
    [3, 1 << 20, false],
    [4, 20, true],
    [4, 64, false],
  ])(
    '%i ranks, %i-byte segments (placed: %s): every type, op and odd length',
    async (n, segmentBytes, placed) => {
      for (const Kind of KINDS) {
        for (const size of [0, 1, 2, 3, 5, 7, 11, 64, 257]) {
          for (const op of OPS) {
            const buffers = inputs(Kind, n, size);
            const want = expected(buffers, op);
            const group = memoryGroup(n, placed);
            await Promise.all(
              group.map((ex, r) => ringAllReduce(ex, buffers[r]!, op, { segmentBytes })),
            );
            expectReduced(buffers, want);
          }
        }
      }
    },
  );

  it('reuses the scratch memory it is given', async () => {
    const group = memoryGroup(2, true);
    const scratches = [new Uint8Array(64), new Uint8Array(64)];
    const asked: number[] = [];
    const buffers = inputs(Float32Array, 2, 30);
    const want = expected(buffers, 'sum');
    await Promise.all(
      group.map((ex, r) =>
        ringAllReduce(ex, buffers[r]!, 'sum', {
          segmentBytes: 16,
          scratch: (bytes) => {
            asked.push(bytes);
            return scratches[r]!;
          },
        }),
      ),
    );
    expect(asked).toEqual([60, 60]);
    expectReduced(buffers, want);
  });
});

async function negotiate(
  group: Exchange[],
  enabled: (rank: number) => boolean,
  regionBytes: number,
): Promise<Array<SharedMemory | undefined>> {
  return Promise.all(
    group.map((ex) =>
      SharedMemory.negotiate(ex, { enabled: enabled(ex.rank), tag: 'test', dir, regionBytes }),
    ),
  );
}

describe('SharedMemory', () => {
  it('is set up only when every rank allows it, and leaves no file behind', async () => {
    const all = await negotiate(memoryGroup(3), () => true, 64);
    expect(all.every((shm) => shm !== undefined)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    for (const shm of all) shm!.close();
    const some = await negotiate(memoryGroup(3), (rank) => rank !== 1, 64);
    expect(some).toEqual([undefined, undefined, undefined]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('opens a peer file only when it holds the nonce', () => {
    const path = join(dir, 'peer');
    writeFileSync(path, Buffer.from('00112233', 'hex'));
    const fd = openPeerFile(path, '00112233');
    expect(typeof fd).toBe('number');
    expect(openPeerFile(path, '00112234')).toBeUndefined();
    expect(openPeerFile(join(dir, 'missing'), '00112233')).toBeUndefined();
    expect(openPeerFile(null, '00112233')).toBeUndefined();
    expect(openPeerFile(path, '')).toBeUndefined();
    rmSync(path);
  });

  it.each([
    [2, 64],
    [3, 100],
    [4, 1 << 20],
  ])('%i ranks, %i-byte regions: every type, op and odd length', async (n, regionBytes) => {
    const group = memoryGroup(n);
    const shms = await negotiate(group, () => true, regionBytes);
    try {
      for (const Kind of KINDS) {
        for (const size of [0, 1, 2, 3, 5, 7, 11, 64, 257]) {
          for (const op of OPS) {
            const buffers = inputs(Kind, n, size);
            const want = expected(buffers, op);
            await Promise.all(group.map((ex, r) => shms[r]!.allReduce(ex, buffers[r]!, op)));
            expectReduced(buffers, want);
          }
        }
      }
    } finally {
      for (const shm of shms) shm?.close();
    }
  });

  it.each([2, 3])(
    '%i ranks: buffers of several pieces and regions (float32 sums and the other kinds)',
    async (n) => {
      const group = memoryGroup(n);
      const shms = await negotiate(group, () => true, 1_000_004);
      try {
        for (const [Kind, op] of [
          [Float32Array, 'sum'],
          [Float32Array, 'mean'],
          [Float32Array, 'max'],
          [Int32Array, 'mean'],
          [Float64Array, 'sum'],
          [Int32Array, 'min'],
        ] as const) {
          const buffers = inputs(Kind, n, 700_003);
          const want = expected(buffers, op);
          await Promise.all(group.map((ex, r) => shms[r]!.allReduce(ex, buffers[r]!, op)));
          expectReduced(buffers, want);
        }
      } finally {
        for (const shm of shms) shm?.close();
      }
    },
    // 0.4 s alone; 5.6 s measured with the whole suite and other jobs on 2 cores.
    60_000,
  );

  it('reports buffers of different lengths as a mismatch', async () => {
    const group = memoryGroup(2);
    const shms = await negotiate(group, () => true, 64);
    try {
      const results = await Promise.allSettled([
        shms[0]!.allReduce(group[0]!, new Float32Array(10), 'sum'),
        shms[1]!.allReduce(group[1]!, new Float32Array(11), 'sum'),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect((results[0] as PromiseRejectedResult).reason).toMatchObject({
        code: 'DIST_MISMATCH',
        message: expect.stringContaining(
          'allReduce: rank 1 sent 44 bytes where 40 were expected (Float32Array)',
        ),
      });
    } finally {
      for (const shm of shms) shm?.close();
    }
  });
});
