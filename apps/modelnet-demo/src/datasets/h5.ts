import type H5Default from 'h5wasm/node';
import { DataError } from './errors.js';

/** The h5wasm API (its `h5wasm/node` build, which reads the host file system directly). */
export type H5Api = typeof H5Default;

let api: H5Api | undefined;
let loading: Promise<H5Api> | undefined;

/**
 * Loads and initialises h5wasm (its WebAssembly module) once per process. After this resolves,
 * reading HDF5 files is synchronous, so `DATASETS.build({ type: 'ModelNetH5', ... })` works.
 * Cheap to call again.
 */
export async function ensureH5(): Promise<H5Api> {
  loading ??= (async () => {
    const module = await import('h5wasm/node');
    const wasm = await module.default.ready;
    // HDF5 errors are thrown (with the HDF5 error stack as the message) instead of printed on
    // stderr as pages of C diagnostics; the readers turn them into one-line DataErrors.
    wasm.activate_throwing_error_handler();
    api = module.default;
    return api;
  })();
  try {
    return await loading;
  } catch (error) {
    loading = undefined;
    throw error;
  }
}

/** The initialised h5wasm API; throws a {@link DataError} naming the fix when not yet loaded. */
export function h5Api(): H5Api {
  if (api === undefined) {
    throw new DataError(
      'DATA_H5_NOT_READY',
      'The HDF5 reader is not initialised: `await ensureH5()` before building a ModelNetH5 ' +
        'data set (or use `await ModelNetH5.load(options)`).',
    );
  }
  return api;
}
