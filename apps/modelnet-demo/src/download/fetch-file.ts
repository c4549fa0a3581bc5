import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { MirrorError } from './errors.js';

/** The `fetch` signature the downloader needs (the global one fits). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Options of {@link downloadToFile}. */
export interface DownloadToFileOptions {
  url: string;
  /** The `.part` file: appended to when it exists (HTTP Range), created otherwise. */
  partPath: string;
  /** Defaults to `globalThis.fetch`. */
  fetch?: FetchLike;
  /** The size the finished file must have. Defaults to none (the server's size is checked). */
  expectedSize?: number;
  /**
   * The SHA-256 (64 hex digits) the finished file must have, computed while the bytes arrive (a
   * resumed file's earlier bytes are read back first). On a mismatch the `.part` file is removed.
   * Defaults to none.
   */
  sha256?: string;
  /** Called as bytes arrive, with the total when known. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Abort when no byte arrives for this long, in ms. Defaults to `60_000`. */
  stallTimeoutMs?: number;
}

/** What {@link downloadToFile} did. */
export interface DownloadToFileResult {
  /** The finished file's size. */
  size: number;
  /** Bytes already in the `.part` file when this call started (0: a fresh download). */
  resumedFrom: number;
}

interface PartMeta {
  url: string;
  total?: number;
  etag?: string;
}

/**
 * Downloads `url` into `partPath`, resuming an existing partial file with an HTTP Range request
 * (restarting when the server ignores it or the file changed), and checks the size: the bytes
 * written must equal the announced Content-Length (and `expectedSize` when given).
 *
 * Throws a {@link MirrorError}: `unreachable` (no response), `http` (an error status),
 * `incomplete` (the transfer stopped early; the `.part` file is kept for the next try) or
 * `size-mismatch` (the `.part` file is deleted).
 */
export async function downloadToFile(
  options: DownloadToFileOptions,
): Promise<DownloadToFileResult> {
  const fetchImpl = options.fetch ?? (globalThis.fetch as FetchLike);
  const metaPath = `${options.partPath}.json`;
  let start = await sizeOf(options.partPath);
  const meta = start > 0 ? await readMeta(metaPath) : undefined;
  if (start > 0 && meta?.total === start && sizeOk(start, options.expectedSize)) {
    // Finished earlier, not yet renamed.
    if (options.sha256 !== undefined) await checkDigest(options.partPath, options.sha256);
    return { size: start, resumedFrom: start };
  }
  const controller = new AbortController();
  const stallMs = options.stallTimeoutMs ?? 60_000;
  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(
      () => controller.abort(new Error(`no data for ${stallMs} ms`)),
      stallMs,
    );
  };

  const headers: Record<string, string> = {};
  if (start > 0) {
    headers.Range = `bytes=${start}-`;
    if (meta?.etag !== undefined && meta.url === options.url) headers['If-Range'] = meta.etag;
  }
  let response: Response;
  armStallTimer();
  try {
    response = await fetchImpl(options.url, {
      headers,
      signal: controller.signal,
      redirect: 'follow',
    });
  } catch (error) {
    clearTimeout(stallTimer);
    throw new MirrorError('unreachable', describeNetworkError(error), error);
  }

  try {
    let total: number | undefined;
    if (response.status === 416 && start > 0) {
      // Nothing left to send: complete if the server's size is ours, else start over next time.
      await response.body?.cancel();
      const size = parseTotal(response.headers.get('content-range'));
      if (size === start && sizeOk(start, options.expectedSize)) {
        if (options.sha256 !== undefined) await checkDigest(options.partPath, options.sha256);
        return { size: start, resumedFrom: start };
      }
      await removePart(options.partPath);
      throw new MirrorError(
        'incomplete',
        `the server refused to resume at byte ${start}; the partial file was removed, run again to restart`,
      );
    }
    if (response.status === 206 && start > 0) {
      const range = parseContentRange(response.headers.get('content-range'));
      if (range === undefined || range.start !== start) {
        await response.body?.cancel();
        await removePart(options.partPath);
        throw new MirrorError(
          'incomplete',
          `the server resumed at the wrong offset (${response.headers.get('content-range')}); the partial file was removed, run again to restart`,
        );
      }
      total = range.total ?? lengthPlus(response, start);
    } else if (response.ok) {
      start = 0; // a full response (the server ignored Range, or the file changed)
      total = lengthPlus(response, 0);
    } else {
      await response.body?.cancel();
      throw new MirrorError('http', `HTTP ${response.status} ${response.statusText}`.trim());
    }
    if (total !== undefined && !sizeOk(total, options.expectedSize)) {
      await response.body?.cancel();
      await removePart(options.partPath);
      throw new MirrorError(
        'size-mismatch',
        `the server offers ${total} bytes, but ${options.expectedSize} are expected`,
      );
    }
    const etag = response.headers.get('etag') ?? undefined;
    await writeFile(metaPath, JSON.stringify({ url: options.url, total, etag } satisfies PartMeta));

    // The digest covers the bytes already in the .part file, then each chunk as it arrives.
    const hash =
      options.sha256 === undefined
        ? undefined
        : await hashFile(options.partPath, start, createHash('sha256'));
    const file = await open(options.partPath, start === 0 ? 'w' : 'a');
    let written = start;
    try {
      options.onProgress?.(written, total);
      if (response.body !== null) {
        for await (const chunk of response.body) {
          armStallTimer();
          hash?.update(chunk);
          await file.write(chunk);
          written += chunk.byteLength;
          options.onProgress?.(written, total);
          if (total !== undefined && written > total) break;
        }
      }
    } catch (error) {
      const reason = controller.signal.aborted
        ? String((controller.signal.reason as Error)?.message ?? 'aborted')
        : describeNetworkError(error);
      throw new MirrorError(
        'incomplete',
        `the transfer stopped at ${written}${total === undefined ? '' : ` of ${total}`} bytes (${reason}); run again to resume`,
        error,
      );
    } finally {
      await file.close();
    }
    if (total !== undefined && written < total) {
      throw new MirrorError(
        'incomplete',
        `the transfer ended at ${written} of ${total} bytes (Content-Length); run again to resume`,
      );
    }
    if (total !== undefined && written > total) {
      await removePart(options.partPath);
      throw new MirrorError(
        'size-mismatch',
        `received more than the ${total} bytes the server announced`,
      );
    }
    if (!sizeOk(written, options.expectedSize)) {
      await removePart(options.partPath);
      throw new MirrorError(
        'size-mismatch',
        `the file has ${written} bytes, but ${options.expectedSize} are expected`,
      );
    }
    if (hash !== undefined) {
      const digest = hash.digest('hex');
      if (digest !== options.sha256!.toLowerCase()) {
        await removePart(options.partPath);
        throw new MirrorError(
          'checksum-mismatch',
          `the file's SHA-256 is ${digest}, but ${options.sha256!.toLowerCase()} is expected (the file was removed)`,
        );
      }
    }
    await writeFile(
      metaPath,
      JSON.stringify({ url: options.url, total: written, etag } satisfies PartMeta),
    );
    return { size: written, resumedFrom: start };
  } finally {
    clearTimeout(stallTimer);
  }
}

/** Feeds the first `length` bytes of `path` into `hash` (nothing when `length` is 0). */
async function hashFile(path: string, length: number, hash: Hash): Promise<Hash> {
  if (length === 0) return hash;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 })) {
    hash.update(chunk as Buffer);
  }
  return hash;
}

/** The digest of a whole file with `algorithm` (`sha256`, `md5`, ...), as lowercase hex. */
export async function digestOfFile(path: string, algorithm: string): Promise<string> {
  const { size } = await stat(path);
  return (await hashFile(path, size, createHash(algorithm))).digest('hex');
}

/** The SHA-256 of a whole file, as 64 lowercase hex digits. */
export function sha256OfFile(path: string): Promise<string> {
  return digestOfFile(path, 'sha256');
}

async function checkDigest(partPath: string, expected: string): Promise<void> {
  const digest = await sha256OfFile(partPath);
  if (digest !== expected.toLowerCase()) {
    await removePart(partPath);
    throw new MirrorError(
      'checksum-mismatch',
      `the file's SHA-256 is ${digest}, but ${expected.toLowerCase()} is expected (the file was removed)`,
    );
  }
}

function sizeOk(size: number, expected: number | undefined): boolean {
  return expected === undefined || size === expected;
}

function lengthPlus(response: Response, start: number): number | undefined {
  const length = response.headers.get('content-length');
  if (length === null || response.headers.get('content-encoding') !== null) return undefined;
  const value = Number(length);
  return Number.isSafeInteger(value) && value >= 0 ? start + value : undefined;
}

/** `bytes 100-199/1000` → `{ start: 100, total: 1000 }` (total undefined for `*`). */
function parseContentRange(header: string | null): { start: number; total?: number } | undefined {
  const match = header?.match(/^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i);
  if (!match) return undefined;
  return { start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) };
}

/** `bytes *\/1000` → 1000. */
function parseTotal(header: string | null): number | undefined {
  const match = header?.match(/\/(\d+)$/);
  return match ? Number(match[1]) : undefined;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readMeta(path: string): Promise<PartMeta | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PartMeta;
  } catch {
    return undefined;
  }
}

async function removePart(partPath: string): Promise<void> {
  await rm(partPath, { force: true });
  await rm(`${partPath}.json`, { force: true });
}

/** `fetch failed` hides the reason in `cause`: surface its code and message. */
export function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    const text =
      typeof code === 'string' && !current.message.includes(code)
        ? `${code}: ${current.message}`
        : current.message;
    if (text && !parts.includes(text)) parts.push(text);
    current = current.cause;
  }
  if (current !== undefined && !(current instanceof Error)) parts.push(String(current));
  return parts.join(' <- ') || String(error);
}
