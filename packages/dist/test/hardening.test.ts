// Hostile and unlucky cases of issue 14, with real launcher and worker processes on loopback
// (test/fixtures/*.mjs against the built package: run `pnpm build` first).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HEADER_BYTES, OP } from '../src/frame.js';
import { cleanEnv, fixture, freePort, jsonLines, runNode } from './helpers.js';

const collectives = fixture('collectives.mjs');
const faults = fixture('faults.mjs');
const secret = 'hardening-test-secret';

/** A raw TCP client that records every frame header it receives and whether it was closed. */
interface Stranger {
  socket: net.Socket;
  ops: () => number[];
  received: () => Buffer;
  closed: Promise<void>;
}

/** Connects to `port` as soon as something listens there (polling), as a stranger. */
async function stranger(port: number, timeoutMs = 30_000): Promise<Stranger> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const socket = await new Promise<net.Socket | undefined>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(undefined));
    });
    if (socket) {
      let data = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
      });
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const ops = (): number[] => {
        const found: number[] = [];
        for (let at = 0; at + HEADER_BYTES <= data.length; ) {
          found.push(data.readUInt8(at + 10));
          at += HEADER_BYTES + data.readUInt32LE(at);
        }
        return found;
      };
      return { socket, ops, received: () => data, closed };
    }
    if (Date.now() > deadline) throw new Error(`nothing listened at port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function header(op: number, length: number): Buffer {
  const buffer = Buffer.alloc(HEADER_BYTES);
  buffer.writeUInt32LE(length, 0);
  buffer.writeUInt8(op, 10);
  return buffer;
}

/** A `join` frame claiming `rank`, as the unauthenticated protocol accepted it. */
function joinFrame(rank: number, worldSize: number): Buffer {
  const payload = Buffer.from(
    JSON.stringify({ rank, worldSize, host: '127.0.0.1', port: 1, hostname: 'x', pid: 1 }),
  );
  return Buffer.concat([header(OP.join, payload.length), payload]);
}

const outsideRank = (rank: number, port: number, extra: Record<string, string> = {}) =>
  cleanEnv({
    RANK: String(rank),
    WORLD_SIZE: '2',
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(port),
    ...extra,
  });

describe('authentication of the process group', () => {
  it('a stranger that claims a rank gets a challenge and is closed; the job runs on', async () => {
    const port = await freePort();
    const rank0 = runNode(collectives, ['1'], {
      env: outsideRank(0, port, { GORILLA_DIST_SECRET: secret }),
      timeoutMs: 60_000,
    });
    const intruder = await stranger(port);
    // What the protocol without authentication accepted: a join claiming rank 1.
    intruder.socket.write(joinFrame(1, 2));
    await intruder.closed;
    // It learnt nothing about the group: a challenge (then a refusal), no status, no table.
    expect(intruder.ops().every((op) => op === OP.challenge || op === OP.reject)).toBe(true);
    expect(intruder.received().toString('latin1')).not.toMatch(/token|missing|peers/);
    const rank1 = runNode(collectives, ['1'], {
      env: outsideRank(1, port, { GORILLA_DIST_SECRET: secret }),
      timeoutMs: 60_000,
    });
    const results = await Promise.all([rank0.done, rank1.done]);
    expect(rank0.stderr() + rank1.stderr()).toBe('');
    expect(results.map((r) => r.code)).toEqual([0, 0]);
  }, 90_000);

  it('a rank with another secret is refused with one line saying so', async () => {
    const port = await freePort();
    const rank0 = runNode(collectives, ['1'], {
      env: outsideRank(0, port, { GORILLA_DIST_SECRET: secret }),
      timeoutMs: 60_000,
    });
    const rank1 = runNode(collectives, ['1'], {
      env: outsideRank(1, port, { GORILLA_DIST_SECRET: 'another secret' }),
      timeoutMs: 60_000,
    });
    const { code } = await rank1.done;
    expect(code).not.toBe(0);
    expect(rank1.stderr()).toMatch(
      /DistError: the rendezvous at 127\.0\.0\.1:\d+ refused this process \(authentication failed\): every process of the job needs the same secret/,
    );
    // Rank 0 still waits for its real rank 1.
    expect(rank0.child.exitCode).toBeNull();
    rank0.child.kill('SIGTERM');
    await rank0.done;
  }, 90_000);

  it('a worker of an outside launcher without the secret fails at once, saying how to set it', async () => {
    const run = runNode(collectives, ['1'], { env: outsideRank(1, await freePort()) });
    const { code } = await run.done;
    expect(code).not.toBe(0);
    expect(run.stderr()).toContain(
      'DistError: rank 1 of 2 has no GORILLA_DIST_SECRET, which authenticates the members of the group: set the same secret on every process, e.g. `export GORILLA_DIST_SECRET=$(openssl rand -hex 32)`, or name a file holding it in GORILLA_DIST_SECRET_FILE',
    );
  }, 30_000);

  it('launch() on several machines without the secret fails before anything starts', async () => {
    const url = `tcp://127.0.0.1:${await freePort()}`;
    const run = runNode(collectives, ['1', '2', '0', url]);
    const { code } = await run.done;
    expect(code).not.toBe(0);
    expect(run.stderr()).toContain(
      "DistError: launch() on 2 machines needs the job's secret in GORILLA_DIST_SECRET, the same on every machine",
    );
    expect(run.stdout()).toBe('');
  }, 30_000);

  it('GORILLA_DIST_SECRET_FILE holds the secret for an outside launcher', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gorilla-dist-secret-'));
    try {
      const file = join(dir, 'secret');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, `${secret}\n`, { mode: 0o600 });
      const port = await freePort();
      const runs = [
        runNode(collectives, ['1'], {
          env: outsideRank(0, port, { GORILLA_DIST_SECRET_FILE: file }),
        }),
        // The other rank has the same secret in the variable itself.
        runNode(collectives, ['1'], { env: outsideRank(1, port, { GORILLA_DIST_SECRET: secret }) }),
      ];
      const results = await Promise.all(runs.map((run) => run.done));
      expect(runs.map((run) => run.stderr()).join('')).toBe('');
      expect(results.map((r) => r.code)).toEqual([0, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('stray connections', () => {
  it('never hold the launcher: it exits after training with silent, garbage and 4 GiB strangers connected', async () => {
    const port = await freePort();
    const run = runNode(collectives, ['2', '1', '0', `tcp://127.0.0.1:${port}`], {
      timeoutMs: 60_000,
    });
    // Connected before any worker joins (the rendezvous serves them all at once).
    const silent = await stranger(port);
    const garbage = await stranger(port);
    garbage.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const huge = await stranger(port);
    huge.socket.write(header(OP.join, 0xffff_ffff));
    // The oversized frame is refused on sight, without waiting for its 4 GiB.
    await huge.closed;
    const { code, signal } = await run.done;
    expect(signal).toBeNull();
    expect(run.stderr()).toBe('');
    expect(code).toBe(0);
    expect(run.stdout()).toContain('launcher done');
    // The launcher closed the strangers' connections on its way out.
    await Promise.all([silent.closed, garbage.closed]);
  }, 90_000);
});

describe('an unresolvable host', () => {
  it('launch() fails within seconds with one line naming the host', async () => {
    const run = runNode(collectives, ['2', '1', '0', 'tcp://no-such-host.invalid:29500'], {
      timeoutMs: 60_000,
    });
    const { code, signal } = await run.done;
    expect(signal).toBeNull();
    expect(code).not.toBe(0);
    expect(run.stderr()).toMatch(
      /DistError: distUrl tcp:\/\/no-such-host\.invalid:29500: cannot resolve the host "no-such-host\.invalid" \((ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL)\): give the address \(or a resolvable name\) of machine 0\n/,
    );
    expect(run.stdout()).toBe('');
  }, 90_000);

  it('a worker of an outside launcher fails within seconds naming MASTER_ADDR', async () => {
    const run = runNode(collectives, ['1'], {
      env: cleanEnv({
        RANK: '1',
        WORLD_SIZE: '2',
        MASTER_ADDR: 'no-such-host.invalid',
        MASTER_PORT: '29500',
        GORILLA_DIST_SECRET: secret,
      }),
      timeoutMs: 60_000,
    });
    const { code, signal } = await run.done;
    expect(signal).toBeNull();
    expect(code).not.toBe(0);
    expect(run.stderr()).toMatch(
      /DistError: cannot resolve the host "no-such-host\.invalid" of the rendezvous \(\w+\): check MASTER_ADDR \/ distUrl/,
    );
  }, 90_000);
});

describe('shared-memory files of ranks stopped during start-up', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  /** A fresh directory for the files (GORILLA_DIST_SHM_DIR), in /dev/shm where it exists. */
  const shmDir = (): string => {
    let base = tmpdir();
    try {
      readdirSync('/dev/shm');
      base = '/dev/shm';
    } catch {
      // No /dev/shm: any directory works the same.
    }
    const dir = mkdtempSync(join(base, 'gorilla-dist-test-'));
    dirs.push(dir);
    return dir;
  };

  it('SIGKILL at the moment each file appears, 4 times: the launcher removes its run files', async () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      const dir = shmDir();
      const run = runNode(collectives, ['2'], {
        env: cleanEnv({ GORILLA_DIST_SHM_DIR: dir, GORILLA_DIST_FAULT: 'shm-file:SIGKILL' }),
        timeoutMs: 60_000,
      });
      const { code } = await run.done;
      expect(code).not.toBe(0);
      expect(run.stderr()).toMatch(/rank \d \(local rank \d, pid \d+\) was killed by SIGKILL/);
      expect(readdirSync(dir)).toEqual([]);
    }
  }, 180_000);

  it('SIGTERM at the moment each file appears, 3 times: the ranks remove their own files', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = shmDir();
      const port = await freePort();
      // An outside launcher: nobody but the ranks themselves can clean up.
      const extra = {
        GORILLA_DIST_SECRET: secret,
        GORILLA_DIST_SHM_DIR: dir,
        GORILLA_DIST_FAULT: 'shm-file:SIGTERM',
      };
      const runs = [0, 1].map((rank) =>
        runNode(collectives, ['1'], { env: outsideRank(rank, port, extra), timeoutMs: 60_000 }),
      );
      const results = await Promise.all(runs.map((run) => run.done));
      // Ended by the signal, as without a handler.
      expect(results.map((r) => r.signal)).toEqual(['SIGTERM', 'SIGTERM']);
      expect(readdirSync(dir)).toEqual([]);
    }
  }, 180_000);
});

describe('more processes than devices', () => {
  it('launch() refuses more processes than visible GPUs, with one line', async () => {
    const run = runNode(faults, ['ok', '2'], { env: cleanEnv({ CUDA_VISIBLE_DEVICES: '0' }) });
    const { code } = await run.done;
    expect(code).not.toBe(0);
    expect(run.stderr()).toContain(
      'DistError: numGpus = 2 processes per machine is more than the 1 visible GPU of this machine: use at most 1, or pass oversubscribe: true (--oversubscribe, GORILLA_DIST_OVERSUBSCRIBE=1) to start them anyway\n',
    );
    // No worker started.
    expect(run.stdout()).toBe('');
  }, 30_000);

  it('launch() refuses more processes than CPU cores when no GPU is visible', async () => {
    const cores = availableParallelism();
    const run = runNode(faults, ['ok', String(cores + 1)], {
      env: cleanEnv({ CUDA_VISIBLE_DEVICES: '' }),
    });
    const { code } = await run.done;
    expect(code).not.toBe(0);
    expect(run.stderr()).toContain(
      `DistError: numGpus = ${cores + 1} processes per machine is more than the ${cores} CPU core${cores === 1 ? '' : 's'} of this machine (no GPU is visible)`,
    );
    expect(run.stdout()).toBe('');
  }, 30_000);

  it('oversubscribing is allowed when asked for', async () => {
    const run = runNode(faults, ['ok', '2'], {
      env: cleanEnv({ CUDA_VISIBLE_DEVICES: '0', GORILLA_DIST_OVERSUBSCRIBE: '1' }),
    });
    const { code } = await run.done;
    expect(code).toBe(0);
    expect(jsonLines(run.stdout())).toHaveLength(2);
    expect(run.stderr()).toContain('[gorilla-dist] warning: 2 processes share 1 visible GPU(s)');
  }, 30_000);
});
