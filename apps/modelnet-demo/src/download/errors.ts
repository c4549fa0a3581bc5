const DOWNLOAD_ERROR_BRAND = Symbol.for('modelnet-demo.download.error');

/**
 * Stable machine-readable codes carried by every {@link DownloadError}.
 *
 * - `DOWNLOAD_OFFLINE`: no mirror could be reached (DNS or connection failure on each).
 * - `DOWNLOAD_SIZE_MISMATCH`: the file's size differs from the expected size, or more bytes came
 *   than the server announced.
 * - `DOWNLOAD_INCOMPLETE`: the transfer stopped before the announced size, retries included (the
 *   `.part` file is kept: running again resumes it).
 * - `DOWNLOAD_CHECKSUM_MISMATCH`: the archive's SHA-256 differs from the expected digest (the
 *   file is removed).
 * - `DOWNLOAD_INSECURE`: a plain `http://` mirror was given without a SHA-256 to check.
 * - `DOWNLOAD_FAILED`: every mirror failed, for mixed reasons (HTTP errors, ...).
 * - `DOWNLOAD_EXTRACT_FAILED`: the archive could not be unpacked, or lacks the expected files.
 */
export type DownloadErrorCode =
  | 'DOWNLOAD_OFFLINE'
  | 'DOWNLOAD_SIZE_MISMATCH'
  | 'DOWNLOAD_INCOMPLETE'
  | 'DOWNLOAD_CHECKSUM_MISMATCH'
  | 'DOWNLOAD_INSECURE'
  | 'DOWNLOAD_FAILED'
  | 'DOWNLOAD_EXTRACT_FAILED';

/** Why one mirror failed. */
export type MirrorFailureKind =
  | 'unreachable'
  | 'http'
  | 'size-mismatch'
  | 'incomplete'
  | 'checksum-mismatch'
  | 'insecure';

/** One mirror's failure, as listed by {@link DownloadError.attempts}. */
export interface MirrorFailure {
  url: string;
  kind: MirrorFailureKind;
  /** One line: what went wrong. */
  reason: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** Options accepted by the {@link DownloadError} constructor. */
export interface DownloadErrorOptions {
  /** Each mirror tried and why it failed. Defaults to none. */
  attempts?: readonly MirrorFailure[];
  /** The underlying error, kept as `error.cause`. Defaults to none. */
  cause?: unknown;
}

/**
 * The one error class of the download command.
 *
 * Use {@link DownloadError.isInstance} rather than `instanceof`: it also recognises errors created
 * by a second copy of this module.
 */
export class DownloadError extends Error {
  /** A stable code, safe to branch on. */
  readonly code: DownloadErrorCode;
  /** Each mirror tried and why it failed (empty when the failure came after the download). */
  readonly attempts: readonly MirrorFailure[];

  constructor(code: DownloadErrorCode, message: string, options: DownloadErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DownloadError';
    this.code = code;
    this.attempts = options.attempts ?? [];
    Object.defineProperty(this, DOWNLOAD_ERROR_BRAND, { value: true });
  }

  /** True for any {@link DownloadError}, whichever copy of this module created it. */
  static isInstance(error: unknown): error is DownloadError {
    return typeof error === 'object' && error !== null && DOWNLOAD_ERROR_BRAND in error;
  }
}

/** A failure of one mirror, thrown inside the download loop and collected. */
export class MirrorError extends Error {
  readonly kind: MirrorFailureKind;
  constructor(kind: MirrorFailureKind, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'MirrorError';
    this.kind = kind;
  }
}
