import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import {
  AUTH_TIMEOUT_MS,
  acceptAuthentication,
  proveAuthentication,
  readSecret,
  SECRET_ENV,
  SECRET_HINT,
} from './auth.js';
import type { NumericArray, ProcessGroupBackend, ReduceOp } from './backend.js';
import {
  directAllGather,
  directAllReduce,
  directBarrier,
  directBroadcast,
  directGather,
  type Exchange,
  ringAllReduce,
  scatterAllGatherBroadcast,
} from './collectives.js';
import { checkTimeoutMs, DEFAULT_TIMEOUT_MS, ENV, formatHostPort, isLoopback } from './env.js';
import { CollectiveTimeoutError, DistError, formatRanks } from './errors.js';
import { type Frame, jsonPayload, OP, OP_NAMES, parseJsonPayload } from './frame.js';
import { beforeDeadline, connectWithRetry, Peer } from './peer.js';
import { joinRendezvous, RendezvousServer, type RendezvousTable } from './rendezvous.js';
import { SharedMemory } from './shm.js';

/** Options of {@link TcpBackend}. */
export interface TcpBackendOptions {
  /** This process's rank in `[0, worldSize)`. */
  rank: number;
  /** Number of processes in the group. */
  worldSize: number;
  /** Address of the rendezvous (rank 0's machine). Defaults to `127.0.0.1`. */
  masterAddr?: string;
  /** Port of the rendezvous. Required when `worldSize > 1`. */
  masterPort?: number;
  /** Rank on this machine. Defaults to the position among ranks with the same host name. */
  localRank?: number;
  /** Ranks on this machine. Defaults to the number of ranks with the same host name. */
  localSize?: number;
  /** How long a collective may take, in ms. Defaults to 1,800,000 (30 minutes). */
  timeoutMs?: number;
  /** How long the rendezvous and the mesh set-up may take, in ms. Defaults to `timeoutMs`. */
  initTimeoutMs?: number;
  /** Whether this process hosts the rendezvous. Defaults to `rank === 0`. */
  hostRendezvous?: boolean;
  /**
   * Buffers of at least this many bytes are all-reduced with the ring algorithm (and broadcast
   * by scatter + all-gather); smaller ones in one direct exchange. Defaults to 262,144 (256 KiB).
   */
  ringThresholdBytes?: number;
  /**
   * Whether ranks on one host all-reduce buffers of at least `ringThresholdBytes` through shared
   * memory (files in `/dev/shm`, unlinked as soon as every rank has opened them) instead of TCP.
   * It is used only when every rank of the group is on the same host and allows it; otherwise,
   * and where `/dev/shm` is missing or full, the group uses TCP. Defaults to `true`, unless the
   * environment variable `GORILLA_DIST_SHM` is `0`.
   */
  sharedMemory?: boolean;
  /**
   * The job's secret, which every connection of the group proves it knows (an HMAC over random
   * nonces, both ways) before anything about the group is sent. Required when `worldSize > 1`.
   * Defaults to `GORILLA_DIST_SECRET`, else the contents of the file named by
   * `GORILLA_DIST_SECRET_FILE`; `launch()` sets it for the workers it starts.
   */
  secret?: string;
}

type CollectiveName = 'allReduce' | 'broadcast' | 'allGather' | 'gather' | 'barrier';

/**
 * The built-in transport: rank 0 hosts a rendezvous at `masterAddr:masterPort`, every rank
 * opens a listener and the ranks connect in a full mesh of TCP sockets (`setNoDelay`), over which
 * collectives exchange length-prefixed binary frames. When every rank is on one host, large
 * all-reduces go through shared memory instead (see {@link TcpBackendOptions.sharedMemory}).
 * See {@link ProcessGroupBackend}.
 */
export class TcpBackend implements ProcessGroupBackend {
  /** Always `tcp`. */
  readonly name = 'tcp';
  /** This process's rank. */
  readonly rank: number;
  /** Number of processes in the group. */
  readonly worldSize: number;
  private localRankValue: number;
  private localSizeValue: number;
  private readonly options: TcpBackendOptions;
  private readonly timeoutMs: number;
  private readonly initTimeoutMs: number;
  private readonly ringThresholdBytes: number;
  private peers: Peer[] = [];
  private seq = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private broken: Error | undefined;
  private state: 'new' | 'initializing' | 'ready' | 'destroyed' = 'new';
  private resources: Array<{ close(): void }> = [];
  private shm: SharedMemory | undefined;
  private scratch: Uint8Array | undefined;
  private readonly secret: string;

  constructor(options: TcpBackendOptions) {
    const { rank, worldSize } = options;
    if (!Number.isInteger(worldSize) || worldSize < 1) {
      throw new DistError(
        'DIST_INVALID_ARGUMENT',
        `worldSize must be an integer >= 1, got ${worldSize}`,
      );
    }
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
      throw new DistError(
        'DIST_INVALID_ARGUMENT',
        `rank must be an integer in [0, ${worldSize}), got ${rank}`,
      );
    }
    if (worldSize > 1 && !(options.masterPort !== undefined && options.masterPort >= 0)) {
      throw new DistError('DIST_INVALID_ARGUMENT', 'masterPort is required when worldSize > 1');
    }
    const secret = options.secret ?? (worldSize > 1 ? readSecret() : undefined);
    if (worldSize > 1 && (secret === undefined || secret === '')) {
      throw new DistError(
        'DIST_AUTH_FAILED',
        `rank ${rank} of ${worldSize} has no ${SECRET_ENV}, which authenticates the members of ` +
          `the group: ${SECRET_HINT}`,
      );
    }
    this.secret = secret ?? '';
    this.options = options;
    this.rank = rank;
    this.worldSize = worldSize;
    this.localRankValue = options.localRank ?? 0;
    this.localSizeValue = options.localSize ?? 1;
    this.timeoutMs = checkTimeoutMs(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.initTimeoutMs = checkTimeoutMs(options.initTimeoutMs ?? this.timeoutMs, 'initTimeoutMs');
    this.ringThresholdBytes = options.ringThresholdBytes ?? 256 * 1024;
  }

  /** Rank on this machine (known after `init()` when not given). */
  get localRank(): number {
    return this.localRankValue;
  }

  /** Ranks on this machine (known after `init()` when not given). */
  get localSize(): number {
    return this.localSizeValue;
  }

  /** Hosts or joins the rendezvous and connects to every other rank. Call once. */
  async init(): Promise<void> {
    if (this.state !== 'new') {
      throw new DistError('DIST_ALREADY_INITIALIZED', 'TcpBackend.init() may be called only once');
    }
    this.state = 'initializing';
    if (this.worldSize === 1) {
      this.state = 'ready';
      return;
    }
    try {
      await this.connect();
      this.state = 'ready';
    } catch (error) {
      await this.destroy();
      throw error;
    }
  }

  private async connect(): Promise<void> {
    const masterAddr = this.options.masterAddr ?? '127.0.0.1';
    const masterPort = this.options.masterPort!;
    const address = formatHostPort(masterAddr, masterPort);
    const deadline = Date.now() + this.initTimeoutMs;
    const timeoutMs = this.initTimeoutMs;
    if (this.options.hostRendezvous ?? this.rank === 0) {
      const server = new RendezvousServer(this.worldSize, this.secret);
      this.resources.push(server);
      await server.listen(masterAddr, masterPort);
    }
    const what = 'the rendezvous';
    const socket = await connectWithRetry(masterAddr, masterPort, {
      deadline,
      timeoutMs,
      rank: 0,
      what,
    });
    const localAddress = (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const listener = net.createServer();
    let announceTable: (table: RendezvousTable) => void = () => {};
    const tableReady = new Promise<RendezvousTable>((resolve) => (announceTable = resolve));
    const accepted = this.acceptPeers(listener, tableReady);
    this.resources.push({
      close: () => {
        if (listener.listening) listener.close();
        accepted.close();
      },
    });
    const bindHost = isLoopback(localAddress) ? localAddress : undefined;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: bindHost, port: 0 }, () => resolve());
    });
    const request = {
      rank: this.rank,
      worldSize: this.worldSize,
      host: localAddress,
      port: (listener.address() as AddressInfo).port,
      hostname: hostname(),
      pid: process.pid,
    };
    const table = await joinRendezvous(socket, request, {
      deadline,
      timeoutMs,
      address,
      secret: this.secret,
    });
    this.setLocalRanks(table);
    announceTable(table);
    await this.buildMesh(table, accepted, deadline);
    listener.close();
    accepted.close();
    await this.negotiateSharedMemory(table.token, deadline);
    for (const peer of this.peers) if (peer) peer.socket.unref();
  }

  private setLocalRanks(table: RendezvousTable): void {
    const me = table.peers[this.rank]!;
    const sameHost = table.peers.filter((peer) => peer.hostname === me.hostname);
    this.localRankValue = this.options.localRank ?? sameHost.findIndex((p) => p.rank === this.rank);
    this.localSizeValue = this.options.localSize ?? sameHost.length;
  }

  /**
   * Admits incoming connections from higher ranks, each on its own (a silent stranger delays
   * nobody): it must authenticate within {@link AUTH_TIMEOUT_MS} and then say `hello` with its
   * rank and the group's token. Until then it neither keeps the process alive nor may send
   * more than a few bytes. `close()` drops every connection not admitted.
   */
  private acceptPeers(
    listener: Server,
    tableReady: Promise<RendezvousTable>,
  ): { admitted: Promise<void>; close(): void } {
    const expected = this.worldSize - 1 - this.rank;
    const pending = new Set<Socket>();
    let count = 0;
    let done: () => void = () => {};
    const admitted = new Promise<void>((resolve) => (done = resolve));
    if (expected === 0) done();
    const admit = async (socket: Socket): Promise<void> => {
      socket.unref();
      pending.add(socket);
      const timer = setTimeout(() => socket.destroy(), AUTH_TIMEOUT_MS);
      timer.unref();
      socket.once('close', () => {
        clearTimeout(timer);
        pending.delete(socket);
      });
      const peer = new Peer(socket, (p, error) => this.onPeerLost(p, error));
      if (!(await acceptAuthentication(peer, this.secret))) return;
      clearTimeout(timer);
      const frame = await peer.next();
      const table = await tableReady;
      const message =
        frame.op === OP.hello
          ? (parseJsonPayload(frame.payload) as { rank?: unknown; token?: unknown })
          : {};
      const rank = message.rank;
      const valid =
        message.token === table.token &&
        typeof rank === 'number' &&
        Number.isInteger(rank) &&
        rank > this.rank &&
        rank < this.worldSize &&
        this.peers[rank] === undefined;
      if (!valid) {
        socket.destroy();
        return;
      }
      // Admitted even if it has closed meanwhile: the first exchange with it then fails at once
      // (DIST_PEER_LOST), rather than this rank waiting for it until the timeout.
      pending.delete(socket);
      socket.ref();
      peer.rank = rank;
      this.peers[rank] = peer;
      if (++count === expected) done();
    };
    listener.on('connection', (socket) => {
      admit(socket).catch(() => socket.destroy());
    });
    return {
      admitted,
      close: () => {
        for (const socket of pending) socket.destroy();
        pending.clear();
      },
    };
  }

  private async buildMesh(
    table: RendezvousTable,
    accepted: { admitted: Promise<void> },
    deadline: number,
  ): Promise<void> {
    const peers = this.peers;
    const hello = jsonPayload({ rank: this.rank, token: table.token });
    const dial = table.peers
      .filter((peer) => peer.rank < this.rank)
      .map(async ({ rank, host, port }) => {
        const socket = await connectWithRetry(host, port, {
          deadline,
          timeoutMs: this.initTimeoutMs,
          rank,
          what: 'the data listener',
        });
        const peer = new Peer(socket, (p, error) => this.onPeerLost(p, error));
        peer.rank = rank;
        await proveAuthentication(
          peer,
          this.secret,
          `rank ${rank} at ${formatHostPort(host, port)}`,
        );
        peers[rank] = peer;
        await peer.send(OP.hello, 0, 0, hello);
      });
    await beforeDeadline(Promise.all([...dial, accepted.admitted]), deadline, () => {
      const missing = table.peers.map((p) => p.rank).filter((r) => r !== this.rank && !peers[r]);
      return new CollectiveTimeoutError(
        'connect',
        missing,
        this.initTimeoutMs,
        `rank ${this.rank} could not connect to ${formatRanks(missing)} within ` +
          `${this.initTimeoutMs} ms: check that every machine can reach the others' addresses ` +
          `(${missing.map((r) => formatHostPort(table.peers[r]!.host, table.peers[r]!.port)).join(', ')})`,
      );
    });
  }

  /** Sets up shared memory when every rank is on this host (see `shm.ts`). */
  private async negotiateSharedMemory(token: string, deadline: number): Promise<void> {
    const enabled = this.options.sharedMemory ?? process.env[ENV.sharedMemory] !== '0';
    const ex = this.exchange(OP.sharedMemory, 0, 'sharedMemory');
    const pending = new Set(this.peers.filter(Boolean).map((peer) => peer.rank));
    const tracked: Exchange = {
      ...ex,
      recv: async (peer, step) => {
        const payload = await ex.recv(peer, step);
        if (step === 2) pending.delete(peer);
        return payload;
      },
    };
    const runId = process.env[ENV.runId] ?? '';
    const tag = /^[0-9a-z]{1,32}$/i.test(runId) ? runId : token.slice(0, 16);
    const negotiation = SharedMemory.negotiate(tracked, { enabled, tag }).then((shm) => {
      // Finished after init() gave up (timeout): nobody will close it otherwise.
      if (shm && this.state === 'destroyed') shm.close();
      return shm;
    });
    const shm = await beforeDeadline(negotiation, deadline, () => {
      const missing = [...pending].sort((a, b) => a - b);
      return new CollectiveTimeoutError(
        'connect',
        missing,
        this.initTimeoutMs,
        `rank ${this.rank} set up its connections but ${formatRanks(missing)} did not answer ` +
          `within ${this.initTimeoutMs} ms`,
      );
    });
    if (shm) {
      this.shm = shm;
      this.resources.push(shm);
    }
  }

  /**
   * Memory for the ring's incoming segments, kept between calls (fresh large allocations cost
   * page faults every time); not kept beyond 64 MiB.
   */
  private ringScratch(bytes: number): Uint8Array {
    if (this.scratch !== undefined && this.scratch.byteLength >= bytes) return this.scratch;
    const scratch = new Uint8Array(bytes);
    if (bytes <= 64 * 1024 * 1024) this.scratch = scratch;
    return scratch;
  }

  /** Whether this group all-reduces large buffers through shared memory (known after `init()`). */
  get usesSharedMemory(): boolean {
    return this.shm !== undefined;
  }

  private onPeerLost(peer: Peer, error: DistError): void {
    const member = peer.rank >= 0 && this.peers[peer.rank] === peer;
    if (this.state === 'destroyed' || peer.leftGracefully || !member) return;
    // A crash, not a goodbye: nothing this group waits for can complete any more.
    this.breakGroup(error);
  }

  private breakGroup(error: Error): void {
    this.broken ??= error;
    for (const peer of this.peers) peer?.fail(error);
  }

  private assertUsable(operation: string): void {
    if (this.state !== 'ready') {
      throw new DistError(
        this.state === 'destroyed' ? 'DIST_GROUP_BROKEN' : 'DIST_INVALID_ARGUMENT',
        `${operation}: the TCP backend is ${this.state === 'destroyed' ? 'destroyed' : 'not initialised (call init())'}`,
      );
    }
    if (this.broken) {
      throw new DistError(
        'DIST_GROUP_BROKEN',
        `${operation}: the process group can no longer be used after an earlier failure: ` +
          this.broken.message,
        { cause: this.broken },
      );
    }
  }

  /** Runs collectives one at a time, in call order, each under the timeout. */
  private run<T>(name: CollectiveName, body: (ex: Exchange) => Promise<T>): Promise<T> {
    const task = this.tail.then(() => this.execute(name, body));
    this.tail = task.catch(() => {});
    return task;
  }

  private async execute<T>(name: CollectiveName, body: (ex: Exchange) => Promise<T>): Promise<T> {
    this.assertUsable(name);
    this.seq = (this.seq + 1) >>> 0;
    const ex = this.exchange(OP[name], this.seq, name);
    const seq = this.seq;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.timeoutError(name, seq)), this.timeoutMs);
    });
    try {
      return await Promise.race([body(ex), timeout]);
    } catch (error) {
      this.breakGroup(error as Error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Point-to-point messages of one collective (or of the shared-memory handshake). */
  private exchange(op: number, seq: number, name: string): Exchange {
    const check = (peer: number, frame: Frame, step: number): Uint8Array => {
      if (frame.op !== op || frame.seq !== seq || frame.step !== (step & 0xffff)) {
        throw new DistError(
          'DIST_MISMATCH',
          `rank ${peer} sent ${OP_NAMES[frame.op]} #${frame.seq} step ${frame.step} while rank ` +
            `${this.rank} expected ${name} #${seq} step ${step & 0xffff}: every rank must call the ` +
            `same collectives in the same order`,
        );
      }
      return frame.payload;
    };
    return {
      rank: this.rank,
      worldSize: this.worldSize,
      send: (peer, step, data) => this.peers[peer]!.send(op, seq, step, data),
      recv: async (peer, step) => check(peer, await this.peers[peer]!.next(), step),
      recvInto: async (peer, step, target) =>
        check(peer, await this.peers[peer]!.next({ op, seq, step, target }), step),
    };
  }

  private timeoutError(name: CollectiveName, seq: number): CollectiveTimeoutError {
    let waiting = this.peers.filter((p) => p?.awaitingReceive).map((p) => p.rank);
    if (waiting.length === 0)
      waiting = this.peers.filter((p) => p?.awaitingSend).map((p) => p.rank);
    waiting.sort((a, b) => a - b);
    return new CollectiveTimeoutError(
      name,
      waiting,
      this.timeoutMs,
      `${name} #${seq} timed out after ${this.timeoutMs} ms on rank ${this.rank}` +
        (waiting.length > 0 ? `, waiting for ${formatRanks(waiting)}` : '') +
        ` (did every rank call ${name}? Raise GORILLA_DIST_TIMEOUT_MS or the timeoutMs option ` +
        `if the work in between takes longer)`,
    );
  }

  /**
   * Direct, shared-memory or pipelined ring all-reduce, in place. See
   * {@link ProcessGroupBackend.allReduce}. Unlike other backends it also takes `mean` (the sum
   * divided by the world size, as in the public `allReduce`), dividing each chunk once, on the
   * rank that completes it, rather than the whole buffer on every rank.
   */
  async allReduce(buffer: NumericArray, op: ReduceOp): Promise<void> {
    if (this.worldSize === 1) return this.assertUsable('allReduce');
    const large = buffer.byteLength >= this.ringThresholdBytes;
    await this.run('allReduce', (ex) => {
      if (!large) return directAllReduce(ex, buffer, op);
      if (this.shm) return this.shm.allReduce(ex, buffer, op);
      return ringAllReduce(ex, buffer, op, { scratch: (bytes) => this.ringScratch(bytes) });
    });
  }

  /** Direct or scatter + all-gather broadcast, in place. */
  async broadcast(buffer: NumericArray, src: number): Promise<void> {
    checkRank('broadcast', 'src', src, this.worldSize);
    if (this.worldSize === 1) return this.assertUsable('broadcast');
    const scatter = this.worldSize > 2 && buffer.byteLength >= this.ringThresholdBytes;
    await this.run('broadcast', (ex) =>
      scatter ? scatterAllGatherBroadcast(ex, buffer, src) : directBroadcast(ex, buffer, src),
    );
  }

  /** Every rank's buffer, indexed by rank; buffers may even differ in length here. */
  async allGather<T extends NumericArray>(buffer: T): Promise<T[]> {
    if (this.worldSize === 1) {
      this.assertUsable('allGather');
      return [buffer.slice() as T];
    }
    return this.run('allGather', (ex) => directAllGather(ex, buffer));
  }

  /** Every rank's buffer on `dst`, `[]` elsewhere. */
  async gather<T extends NumericArray>(buffer: T, dst: number): Promise<T[]> {
    checkRank('gather', 'dst', dst, this.worldSize);
    if (this.worldSize === 1) {
      this.assertUsable('gather');
      return [buffer.slice() as T];
    }
    return this.run('gather', (ex) => directGather(ex, buffer, dst));
  }

  /** Resolves once every rank has called it. */
  async barrier(): Promise<void> {
    if (this.worldSize === 1) return this.assertUsable('barrier');
    await this.run('barrier', (ex) => directBarrier(ex));
  }

  /** Says goodbye to every peer and closes the connections; safe after a failure. */
  async destroy(): Promise<void> {
    if (this.state === 'destroyed') return;
    this.state = 'destroyed';
    for (const resource of this.resources.splice(0)) resource.close();
    await Promise.all(this.peers.filter(Boolean).map((peer) => peer.close()));
  }
}

function checkRank(operation: string, name: string, value: number, worldSize: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= worldSize) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `${operation}: ${name} must be a rank in [0, ${worldSize}), got ${value}`,
    );
  }
}
