const DATA_ERROR_BRAND = Symbol.for('modelnet-demo.data.error');

/**
 * Stable machine-readable codes carried by every {@link DataError}.
 *
 * - `DATA_NOT_FOUND`: the data directory, a list file or a data file does not exist.
 * - `DATA_MALFORMED`: a file exists but does not hold what its layout promises.
 * - `DATA_INVALID_ARGUMENT`: an option does not fit the data (too many points, normals absent, ...).
 * - `DATA_H5_NOT_READY`: an HDF5 dataset was built before `await ensureH5()`.
 */
export type DataErrorCode =
  | 'DATA_NOT_FOUND'
  | 'DATA_MALFORMED'
  | 'DATA_INVALID_ARGUMENT'
  | 'DATA_H5_NOT_READY';

/** Options accepted by the {@link DataError} constructor. */
export interface DataErrorOptions {
  /** The file or directory involved. Defaults to none. */
  path?: string;
  /** The underlying error, kept as `error.cause`. Defaults to none. */
  cause?: unknown;
}

/**
 * The one error class the data sets throw.
 *
 * Use {@link DataError.isInstance} rather than `instanceof`: it also recognises errors created by
 * a second copy of this module.
 */
export class DataError extends Error {
  /** A stable code, safe to branch on. */
  readonly code: DataErrorCode;
  /** The file or directory involved, when there is one. */
  readonly path: string | undefined;

  constructor(code: DataErrorCode, message: string, options: DataErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DataError';
    this.code = code;
    this.path = options.path;
    Object.defineProperty(this, DATA_ERROR_BRAND, { value: true });
  }

  /** True for any {@link DataError}, whichever copy of this module created it. */
  static isInstance(error: unknown): error is DataError {
    return typeof error === 'object' && error !== null && DATA_ERROR_BRAND in error;
  }
}

/** The hint every "data not found" message ends with. */
export const DOWNLOAD_HINT =
  'Run `pnpm --filter modelnet-demo download` to fetch ModelNet40, or point `dataRoot` at a copy ' +
  '(the default config needs no data: it trains on SyntheticShapes).';
