/**
 * The rendezvous: one process (rank 0, or the launcher of machine 0) listens at
 * MASTER_ADDR:MASTER_PORT; every rank connects, authenticates with the job's secret (`auth.ts`),
 * sends `join` with the address of its own data listener, receives `status` frames (the ranks
 * still missing) and finally the `table` of every rank's address plus a random token that
 * identifies this group on the mesh connections. Connections are served concurrently; one that
 * does not authenticate within {@link AUTH_TIMEOUT_MS} is closed, and none that has not
 * authenticated keeps the process alive.
 */
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo, type Socket } from 'node:net';
import { AUTH_TIMEOUT_MS, acceptAuthentication, proveAuthentication } from './auth.js';
import { formatHostPort, isLoopback } from './env.js';
import { AddressInUseError, CollectiveTimeoutError, DistError, formatRanks } from './errors.js';
import { jsonPayload, OP, parseJsonPayload } from './frame.js';
import { beforeDeadline, Peer } from './peer.js';

/** Where one rank's data listener is. */
export interface PeerAddress {
  rank: number;
  host: string;
  port: number;
  hostname: string;
}

/** What every rank receives once all have joined. */
export interface RendezvousTable {
  token: string;
  peers: PeerAddress[];
}

/** What a rank sends to join. */
export interface JoinRequest extends PeerAddress {
  worldSize: number;
  pid: number;
}

/** Hosts the rendezvous for one group of `worldSize` ranks; closes itself once they have met. */
export class RendezvousServer {
  private readonly server = net.createServer();
  private readonly members = new Map<number, { peer: Peer; join: JoinRequest }>();
  /** Connections that have not authenticated yet. */
  private readonly strangers = new Set<Socket>();
  private complete = false;

  /**
   * @param worldSize - Ranks expected.
   * @param secret - The job's secret, which every joining rank must prove it knows.
   */
  constructor(
    readonly worldSize: number,
    private readonly secret: string,
  ) {
    this.server.on('connection', (socket) => {
      this.accept(socket).catch(() => socket.destroy());
    });
  }

  /**
   * Listens on `host:port` (port 0 picks a free one) and returns the port. A loopback `host` is
   * bound as is; any other host binds every interface, as the address may be this machine's
   * public name. Fails with {@link AddressInUseError} when the port is taken.
   */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        if (error.code === 'EADDRINUSE')
          reject(new AddressInUseError(host, port, { cause: error }));
        else
          reject(
            new DistError(
              'DIST_RENDEZVOUS_FAILED',
              `cannot host the rendezvous at ${formatHostPort(host, port)}: ${error.message}`,
              { cause: error },
            ),
          );
      };
      this.server.once('error', onError);
      const bindHost = isLoopback(host) ? host : undefined;
      this.server.listen({ host: bindHost, port }, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops listening and drops connections of ranks still waiting, and every stranger's. */
  close(): void {
    this.complete = true;
    for (const { peer } of this.members.values()) peer.socket.destroy();
    this.members.clear();
    this.dropStrangers();
    if (this.server.listening) this.server.close();
  }

  private dropStrangers(): void {
    for (const socket of this.strangers) socket.destroy();
    this.strangers.clear();
  }

  private async accept(socket: Socket): Promise<void> {
    if (this.complete) {
      socket.destroy();
      return;
    }
    // Until it authenticates, the connection neither keeps this process alive nor gets long.
    socket.unref();
    this.strangers.add(socket);
    const timer = setTimeout(() => socket.destroy(), AUTH_TIMEOUT_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      this.strangers.delete(socket);
    });
    const peer = new Peer(socket, () => {
      for (const [rank, member] of this.members) {
        if (member.peer === peer && !this.complete) {
          this.members.delete(rank);
          this.sendStatus();
        }
      }
    });
    const authenticated = await acceptAuthentication(peer, this.secret);
    clearTimeout(timer);
    this.strangers.delete(socket);
    if (!authenticated || this.complete) {
      socket.destroy();
      return;
    }
    socket.ref();
    const frame = await peer.next().catch(() => undefined);
    if (frame === undefined) return;
    let join: JoinRequest | undefined;
    try {
      if (frame.op === OP.join) join = parseJsonPayload(frame.payload) as JoinRequest;
    } catch {
      // Not JSON: refused below.
    }
    if (join === undefined || typeof join !== 'object' || join === null) {
      this.refuse(peer, 'expected a join message');
      return;
    }
    this.join(peer, join);
  }

  private join(peer: Peer, join: JoinRequest): void {
    const problem = this.checkJoin(join);
    if (problem !== undefined) {
      this.refuse(peer, problem);
      return;
    }
    peer.rank = join.rank;
    this.members.set(join.rank, { peer, join });
    if (this.members.size < this.worldSize) {
      this.sendStatus();
      return;
    }
    this.complete = true;
    const peers = [...this.members.values()]
      .map(({ join: { rank, host, port, hostname } }) => ({ rank, host, port, hostname }))
      .sort((a, b) => a.rank - b.rank);
    const table = jsonPayload({ token: randomBytes(16).toString('hex'), peers });
    for (const member of this.members.values()) {
      member.peer.send(OP.table, 0, 0, table).then(
        () => member.peer.socket.end(),
        () => {},
      );
    }
    this.dropStrangers();
    this.server.close();
  }

  private checkJoin(join: JoinRequest): string | undefined {
    if (this.complete) return 'the rendezvous is already complete';
    if (join.worldSize !== this.worldSize) {
      return (
        `rank ${join.rank} expects world size ${join.worldSize}, but the rendezvous was started ` +
        `for ${this.worldSize}: numMachines × numGpus (WORLD_SIZE) must agree on every machine`
      );
    }
    if (!Number.isInteger(join.rank) || join.rank < 0 || join.rank >= this.worldSize) {
      return `rank ${join.rank} is outside [0, ${this.worldSize})`;
    }
    const existing = this.members.get(join.rank);
    if (existing) {
      return (
        `rank ${join.rank} joined twice (pid ${existing.join.pid} on ${existing.join.hostname} ` +
        `and pid ${join.pid} on ${join.hostname}): check RANK / machineRank on each machine`
      );
    }
    return undefined;
  }

  private sendStatus(): void {
    const missing: number[] = [];
    for (let rank = 0; rank < this.worldSize; rank++) {
      if (!this.members.has(rank)) missing.push(rank);
    }
    const status = jsonPayload({ missing });
    for (const { peer } of this.members.values())
      peer.send(OP.status, 0, 0, status).catch(() => {});
  }

  private refuse(peer: Peer, message: string): void {
    peer.send(OP.reject, 0, 0, jsonPayload({ message })).then(
      () => peer.socket.end(),
      () => {},
    );
  }
}

/**
 * Authenticates with the job's `secret` over `socket` (connected to the rendezvous), sends
 * `request` and waits for the table. Fails with a {@link CollectiveTimeoutError} naming the ranks
 * that had not joined when `deadline` passed, and with `DIST_AUTH_FAILED` when the rendezvous
 * and this process do not share the secret.
 */
export async function joinRendezvous(
  socket: Socket,
  request: JoinRequest,
  options: { deadline: number; timeoutMs: number; address: string; secret: string },
): Promise<RendezvousTable> {
  const server = new Peer(socket);
  server.rank = 0;
  let missing: number[] | undefined;
  const exchange = async (): Promise<RendezvousTable> => {
    try {
      await proveAuthentication(server, options.secret, `the rendezvous at ${options.address}`);
    } catch (error) {
      if (DistError.isInstance(error) && error.code === 'DIST_AUTH_FAILED') throw error;
      throw new DistError(
        'DIST_RENDEZVOUS_FAILED',
        `the rendezvous host at ${options.address} closed the connection during the handshake: ` +
          `did rank 0 (or the launcher of machine 0) exit?`,
        { cause: error },
      );
    }
    await server.send(OP.join, 0, 0, jsonPayload(request));
    for (;;) {
      let frame: Awaited<ReturnType<Peer['next']>>;
      try {
        frame = await server.next();
      } catch (error) {
        throw new DistError(
          'DIST_RENDEZVOUS_FAILED',
          `the rendezvous host at ${options.address} closed the connection before every rank ` +
            `joined: did rank 0 (or the launcher of machine 0) exit?`,
          { cause: error },
        );
      }
      const message = parseJsonPayload(frame.payload) as Record<string, unknown>;
      if (frame.op === OP.status) missing = message.missing as number[];
      else if (frame.op === OP.table) return message as unknown as RendezvousTable;
      else if (frame.op === OP.reject) {
        throw new DistError(
          'DIST_RENDEZVOUS_FAILED',
          `the rendezvous at ${options.address} refused rank ${request.rank}: ${String(message.message)}`,
        );
      }
    }
  };
  try {
    return await beforeDeadline(exchange(), options.deadline, () => {
      const waiting = missing ?? [];
      return new CollectiveTimeoutError(
        'rendezvous',
        waiting,
        options.timeoutMs,
        `the rendezvous at ${options.address} did not complete within ${options.timeoutMs} ms` +
          (waiting.length > 0 ? `: still waiting for ${formatRanks(waiting)} to join` : '') +
          ` (did every process start, with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE?)`,
      );
    });
  } finally {
    socket.destroy();
  }
}
