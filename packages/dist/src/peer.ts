import net, { type Socket } from 'node:net';
import { formatHostPort } from './env.js';
import { CollectiveTimeoutError, DistError } from './errors.js';
import { type Frame, FrameDecoder, type FrameHeader, OP, writeFrame } from './frame.js';

/** Where the payload of an expected frame should land. */
export interface Placement {
  op: number;
  seq: number;
  step: number;
  /** Receives the payload when the frame has this op, seq, step and length. */
  target: Uint8Array;
}

interface Waiter {
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
  into?: Placement | undefined;
}

/**
 * One TCP connection to another process: frames in arrival order, waiters served in order.
 * A peer that closes after sending `bye` has left; one that closes without it has crashed.
 */
export class Peer {
  /** The remote rank, once known (-1 before the handshake). */
  rank = -1;
  /** Whether the remote side said goodbye before closing. */
  leftGracefully = false;
  private readonly inbox: Frame[] = [];
  private readonly waiters: Waiter[] = [];
  private failure: Error | undefined;
  private lastSocketError: Error | undefined;
  private pendingSends = 0;
  private readonly closed: Promise<void>;
  private readonly decoder: FrameDecoder;

  constructor(
    readonly socket: Socket,
    private readonly onLost: (peer: Peer, error: DistError) => void = () => {},
  ) {
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(
      (frame) => this.deliver(frame),
      (header) => this.placeFor(header),
    );
    this.decoder = decoder;
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (error) {
        // A frame larger than allowed (a stranger before authentication): drop the connection.
        this.lastSocketError = error as Error;
        socket.destroy();
      }
    });
    socket.on('error', (error) => {
      this.lastSocketError = error;
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => {
      const reason = this.lastSocketError ? ` (${this.lastSocketError.message})` : '';
      const error = new DistError(
        'DIST_PEER_LOST',
        this.leftGracefully
          ? `rank ${this.rank} left the process group (its main ended or it called ` +
              `destroyProcessGroup) while this rank still expected messages from it: every rank ` +
              `must call the same collectives in the same order`
          : `rank ${this.rank} closed its connection${reason}: its process exited or crashed`,
      );
      this.fail(error);
      this.onLost(this, error);
    });
  }

  private deliver(frame: Frame): void {
    if (frame.op === OP.bye) {
      this.leftGracefully = true;
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(frame);
    else this.inbox.push(frame);
  }

  /** The first waiter's buffer, when the frame about to arrive is the one it expects. */
  private placeFor(header: FrameHeader): Uint8Array | undefined {
    const into = this.waiters[0]?.into;
    if (
      into === undefined ||
      into.op !== header.op ||
      into.seq !== header.seq ||
      (into.step & 0xffff) !== header.step ||
      into.target.byteLength !== header.length
    ) {
      return undefined;
    }
    return into.target;
  }

  /**
   * The next frame from this peer. With `into`, a frame that matches it (op, seq, step and
   * length) and arrives while this call waits is written straight into `into.target`, which
   * is then the frame's payload; any other frame arrives in fresh memory, as without `into`.
   */
  next(into?: Placement): Promise<Frame> {
    const frame = this.inbox.shift();
    if (frame) return Promise.resolve(frame);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject, into }));
  }

  /**
   * Limits the payload of the frames still to come (see {@link FrameDecoder.maxPayloadBytes});
   * a longer length header closes the connection. `undefined` lifts the limit.
   */
  limitPayload(bytes: number | undefined): void {
    this.decoder.maxPayloadBytes = bytes ?? 0xffff_ffff;
  }

  /** Whether someone waits for a frame from this peer. */
  get awaitingReceive(): boolean {
    return this.waiters.length > 0;
  }

  /** Whether a send to this peer has not completed. */
  get awaitingSend(): boolean {
    return this.pendingSends > 0;
  }

  /** Sends one frame; resolves when `payload` may be modified again. */
  async send(op: number, seq: number, step: number, payload: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    this.pendingSends++;
    try {
      await writeFrame(this.socket, op, seq, step, payload);
    } catch (error) {
      throw (
        this.failure ??
        new DistError('DIST_PEER_LOST', `could not send to rank ${this.rank}: ${String(error)}`, {
          cause: error,
        })
      );
    } finally {
      this.pendingSends--;
    }
  }

  /** Rejects every current and future wait (frames already received stay readable). */
  fail(error: Error): void {
    this.failure ??= error;
    // Whoever lent memory for a payload stops waiting now: stop writing into it.
    this.decoder.release();
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  /** Says goodbye and closes the connection, forcibly after `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    this.failure ??= new DistError('DIST_GROUP_BROKEN', 'the process group was destroyed');
    if (!this.socket.destroyed) {
      this.socket.write(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, OP.bye, 0]));
      this.socket.end();
    }
    // Referenced while closing, so that awaiting the close keeps the process alive.
    this.socket.ref();
    const timer = setTimeout(() => this.socket.destroy(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }
}

/** Resolves `promise`, or rejects with `onTimeout()` once `deadline` (epoch ms) has passed. */
export function beforeDeadline<T>(
  promise: Promise<T>,
  deadline: number,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), Math.max(0, deadline - Date.now()));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Error codes of a host name that does not resolve (`getaddrinfo`). */
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);

/** How long a temporary name-resolution failure (`EAI_AGAIN`) is retried. */
const RESOLVE_RETRY_MS = 5000;

/** How often a connection that keeps failing says so on stderr, in ms. */
export const CONNECT_LOG_EVERY_MS = 30_000;

/** Options of {@link connectWithRetry}. */
export interface ConnectOptions {
  /** Give up at this time (epoch ms). */
  deadline: number;
  /** The timeout behind `deadline`, for the message. */
  timeoutMs: number;
  /** The rank being reached, for the message. */
  rank: number;
  /** What is being reached (`the rendezvous`), for the message. */
  what: string;
  /** Says every `logEveryMs` why it still waits. Defaults to {@link CONNECT_LOG_EVERY_MS}. */
  logEveryMs?: number;
  /** Where those lines go. Defaults to stderr. */
  log?: (line: string) => void;
}

/**
 * Connects to `host:port`, retrying refused connections (the other side may not listen yet)
 * until `deadline` (epoch ms), and saying on stderr every 30 s why it still waits. A host name
 * that does not resolve fails at once (a temporary resolver failure after 5 s) with a
 * `DIST_RENDEZVOUS_FAILED` {@link DistError} naming the host; the deadline fails with a
 * {@link CollectiveTimeoutError} naming `rank`.
 */
export async function connectWithRetry(
  host: string,
  port: number,
  options: ConnectOptions,
): Promise<Socket> {
  const { deadline, timeoutMs, rank, what } = options;
  const logEveryMs = options.logEveryMs ?? CONNECT_LOG_EVERY_MS;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  let nextLog = started + logEveryMs;
  let delay = 50;
  let lastError: NodeJS.ErrnoException | undefined;
  while (Date.now() < deadline) {
    try {
      return await connectOnce(host, port, deadline - Date.now());
    } catch (error) {
      lastError = error as NodeJS.ErrnoException;
    }
    const code = lastError.code ?? '';
    if (UNRESOLVED.has(code) || (code === 'EAI_AGAIN' && Date.now() - started > RESOLVE_RETRY_MS)) {
      throw new DistError(
        'DIST_RENDEZVOUS_FAILED',
        `cannot resolve the host ${JSON.stringify(host)} of ${what} (${code}): check ` +
          `MASTER_ADDR / distUrl ('tcp://<address of machine 0>:<port>')`,
        { cause: lastError },
      );
    }
    if (Date.now() >= nextLog) {
      const waited = Math.round((Date.now() - started) / 1000);
      log(
        `[gorilla-dist] still trying to reach ${what} of rank ${rank} at ` +
          `${formatHostPort(host, port)} after ${waited} s (of ${Math.round(timeoutMs / 1000)} s): ` +
          `${lastError.message}`,
      );
      nextLog = Date.now() + logEveryMs;
    }
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 1000);
  }
  throw new CollectiveTimeoutError(
    what,
    [rank],
    timeoutMs,
    `could not reach ${what} of rank ${rank} at ${host}:${port} within ${timeoutMs} ms` +
      (lastError ? ` (last error: ${lastError.message})` : '') +
      `: check MASTER_ADDR/MASTER_PORT (distUrl), the firewall, and that rank ${rank} started`,
    { cause: lastError },
  );
}
function connectOnce(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error('connection attempt timed out')), timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
