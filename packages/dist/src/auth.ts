/**
 * Authentication of the TCP backend's connections with a secret shared by every process of a job.
 *
 * `launch()` creates the secret (32 random bytes, hex) and gives it to its workers in
 * `GORILLA_DIST_SECRET`; processes started otherwise (several machines, an outside launcher)
 * read it from `GORILLA_DIST_SECRET` or from the file named by `GORILLA_DIST_SECRET_FILE`.
 *
 * Every connection starts with a challenge-response in both directions (see `frame.ts`): the
 * accepting side sends a random nonce, the connecting side answers with its own nonce and an
 * HMAC-SHA256 over both, and the accepting side proves itself with another HMAC over both. MACs
 * are compared in constant time. Nothing about the group is sent before this succeeds, and an
 * accepting side gives a connection {@link AUTH_TIMEOUT_MS} to do it.
 *
 * This stops accidents (two jobs on one port, a stale rank of an earlier run) and casual
 * interference (another user's process on a shared machine); the traffic itself is neither
 * encrypted nor integrity-protected, so it does not stop an attacker on the network.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DistError } from './errors.js';
import { jsonPayload, OP, PRE_AUTH_MAX_PAYLOAD_BYTES, parseJsonPayload } from './frame.js';
import type { Peer } from './peer.js';

/** The environment variable holding the job's secret. */
export const SECRET_ENV = 'GORILLA_DIST_SECRET';

/** The environment variable naming a file that holds the job's secret. */
export const SECRET_FILE_ENV = 'GORILLA_DIST_SECRET_FILE';

/** How long an accepting side waits for a new connection to authenticate, in ms. */
export const AUTH_TIMEOUT_MS = 10_000;

const NONCE_BYTES = 32;
const MAC_BYTES = 32;
const PROTOCOL = 'gorilla-dist/1';

/** What to tell a user who must provide the secret. */
export const SECRET_HINT =
  `set the same secret on every process, e.g. \`export ${SECRET_ENV}=$(openssl rand -hex 32)\`, ` +
  `or name a file holding it in ${SECRET_FILE_ENV}`;

/** A fresh random secret (64 hex characters). */
export function createSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * The job's secret from `GORILLA_DIST_SECRET`, or from the file named by
 * `GORILLA_DIST_SECRET_FILE` (surrounding white space removed), or `undefined` when neither is
 * set. Throws a `DIST_INVALID_ARGUMENT` {@link DistError} when both are set, when the file cannot
 * be read, or when the secret is empty.
 */
export function readSecret(
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  const value = env[SECRET_ENV];
  const file = env[SECRET_FILE_ENV];
  if (value !== undefined && file !== undefined) {
    throw new DistError(
      'DIST_INVALID_ARGUMENT',
      `both ${SECRET_ENV} and ${SECRET_FILE_ENV} are set: set only one of them`,
    );
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new DistError(
        'DIST_INVALID_ARGUMENT',
        `${SECRET_FILE_ENV}=${JSON.stringify(file)} cannot be read: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const secret = text.trim();
    if (secret === '') {
      throw new DistError(
        'DIST_INVALID_ARGUMENT',
        `${SECRET_FILE_ENV}=${JSON.stringify(file)} is empty: write the job's secret into it`,
      );
    }
    return secret;
  }
  if (value === undefined) return undefined;
  if (value.trim() === '') {
    throw new DistError('DIST_INVALID_ARGUMENT', `${SECRET_ENV} is empty: ${SECRET_HINT}`);
  }
  return value.trim();
}

function mac(
  secret: string,
  role: string,
  acceptorNonce: Uint8Array,
  connectorNonce: Uint8Array,
): Buffer {
  return createHmac('sha256', secret)
    .update(`${PROTOCOL} ${role}\0`)
    .update(acceptorNonce)
    .update(connectorNonce)
    .digest();
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/**
 * The accepting side of the handshake on a fresh connection: challenges it, checks its answer
 * and proves this side's knowledge of the secret. Resolves `true` once the connection is
 * authenticated (its payload limit is then lifted), or `false` after refusing it (it is then
 * being closed). Resolves `false` too when the connection closes or sends anything else.
 * Never rejects. The caller bounds the time (see {@link AUTH_TIMEOUT_MS}).
 */
export async function acceptAuthentication(peer: Peer, secret: string): Promise<boolean> {
  peer.limitPayload(PRE_AUTH_MAX_PAYLOAD_BYTES);
  try {
    const challenge = randomBytes(NONCE_BYTES);
    await peer.send(OP.challenge, 0, 0, challenge);
    const answer = await peer.next();
    const ok =
      answer.op === OP.auth &&
      answer.payload.byteLength === NONCE_BYTES + MAC_BYTES &&
      sameMac(
        answer.payload.subarray(NONCE_BYTES),
        mac(secret, 'connector', challenge, answer.payload.subarray(0, NONCE_BYTES)),
      );
    if (!ok) {
      // A fixed message, which says nothing about the group.
      await peer
        .send(OP.reject, 0, 0, jsonPayload({ message: 'authentication failed' }))
        .catch(() => {});
      peer.socket.end();
      return false;
    }
    await peer.send(
      OP.auth,
      0,
      0,
      mac(secret, 'acceptor', challenge, answer.payload.subarray(0, NONCE_BYTES)),
    );
    peer.limitPayload(undefined);
    return true;
  } catch {
    peer.socket.destroy();
    return false;
  }
}

/**
 * The connecting side of the handshake: answers the challenge and checks that the other side
 * knows the secret too. Rejects with a `DIST_AUTH_FAILED` {@link DistError} saying which side
 * lacks the right secret, naming `what` (`the rendezvous at 10.0.0.1:29500`); rejects with the
 * peer's error when the connection closes. The caller bounds the time.
 */
export async function proveAuthentication(peer: Peer, secret: string, what: string): Promise<void> {
  peer.limitPayload(PRE_AUTH_MAX_PAYLOAD_BYTES);
  const challenge = await peer.next();
  if (challenge.op !== OP.challenge || challenge.payload.byteLength !== NONCE_BYTES) {
    throw new DistError(
      'DIST_AUTH_FAILED',
      `${what} did not start the gorilla-dist handshake: is another program (or an older ` +
        `gorilla-ts) listening at this address?`,
    );
  }
  const nonce = randomBytes(NONCE_BYTES);
  await peer.send(
    OP.auth,
    0,
    0,
    Buffer.concat([nonce, mac(secret, 'connector', challenge.payload, nonce)]),
  );
  const proof = await peer.next();
  if (proof.op === OP.reject) {
    let reason = 'authentication failed';
    try {
      reason = String((parseJsonPayload(proof.payload) as { message?: unknown }).message);
    } catch {
      // Keep the generic reason.
    }
    throw new DistError(
      'DIST_AUTH_FAILED',
      `${what} refused this process (${reason}): every process of the job needs the same ` +
        `secret (${SECRET_ENV} or ${SECRET_FILE_ENV}; launch() sets it for the workers it ` +
        `starts, but every machine's launcher needs the same one)`,
    );
  }
  if (
    proof.op !== OP.auth ||
    !sameMac(proof.payload, mac(secret, 'acceptor', challenge.payload, nonce))
  ) {
    throw new DistError(
      'DIST_AUTH_FAILED',
      `${what} does not know this job's secret: another job may be using this address, or its ` +
        `${SECRET_ENV} differs`,
    );
  }
  peer.limitPayload(undefined);
}
