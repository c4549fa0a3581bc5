/**
 * The `download` command's engine: fetch the official ModelNet40 HDF5 archive from a list of
 * mirrors (resumable, size-checked, with a progress bar) and unpack it.
 */
export {
  DownloadError,
  type DownloadErrorCode,
  type DownloadErrorOptions,
  type MirrorFailure,
  type MirrorFailureKind,
} from './errors.js';
export { type Extractor, extractZip, hasSystemUnzip } from './extract.js';
export {
  type DownloadToFileOptions,
  type DownloadToFileResult,
  downloadToFile,
  type FetchLike,
  sha256OfFile,
} from './fetch-file.js';
export {
  DEFAULT_MODELNET40_URLS,
  type DownloadModelNetOptions,
  type DownloadModelNetResult,
  downloadModelNet,
  isModelNetH5Complete,
  MODELNET40_ARCHIVE,
  MODELNET40_FILE_MD5,
  MODELNET40_FOLDER,
  MODELNET40_SHA256,
  manualInstallHelp,
  modelNetUrls,
} from './modelnet.js';
export {
  createProgressBar,
  formatBytes,
  type ProgressBar,
  type ProgressBarOptions,
  type ProgressStream,
} from './progress.js';
