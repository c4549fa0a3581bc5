import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { DownloadError, MirrorError, type MirrorFailure } from './errors.js';
import { type Extractor, extractZip } from './extract.js';
import { digestOfFile, downloadToFile, type FetchLike, sha256OfFile } from './fetch-file.js';
import { createProgressBar, type ProgressStream } from './progress.js';

/** The folder the ModelNet40 archive unpacks to. */
export const MODELNET40_FOLDER = 'modelnet40_ply_hdf5_2048';
/** The archive's file name. */
export const MODELNET40_ARCHIVE = `${MODELNET40_FOLDER}.zip`;

/**
 * Where `modelnet40_ply_hdf5_2048.zip` is fetched from, in order: the official PointNet host
 * (often offline), then public mirrors. Override with the `urls` option or `MODELNET_URLS`.
 */
export const DEFAULT_MODELNET40_URLS: readonly string[] = [
  `https://shapenet.cs.stanford.edu/media/${MODELNET40_ARCHIVE}`,
  `https://huggingface.co/datasets/Msun/modelnet40/resolve/main/${MODELNET40_ARCHIVE}`,
];

/**
 * The SHA-256 of the official `modelnet40_ply_hdf5_2048.zip`, checked on every download when
 * known. `undefined`: it could not be established where this was written (no internet access to
 * fetch the archive once). Without an archive digest, the unpacked files are checked against
 * {@link MODELNET40_FILE_MD5}; pass `sha256` (`--sha256`, `MODELNET_SHA256`) to check the
 * archive itself while it downloads.
 */
export const MODELNET40_SHA256: string | undefined = undefined;

/**
 * The MD5 of each HDF5 file in the official archive, as published with the data set's
 * loaders (torchvision-style `ModelNet40` classes; several independent copies agree). Checked
 * after unpacking whenever no archive SHA-256 was checked, so a download from any mirror is
 * verified file by file. MD5 is broken for collisions, not for second preimages: nobody can
 * make a different file with one of these fixed digests.
 */
export const MODELNET40_FILE_MD5: Readonly<Record<string, string>> = {
  'ply_data_train0.h5': '3176385ffc31a7b6b5af22191fd920d1',
  'ply_data_train1.h5': 'e3f613fb500559403b34925112754dc4',
  'ply_data_train2.h5': '0c56e233a090ff87c3049d4ce08e7d8b',
  'ply_data_train3.h5': '9d2af465adfa33a3285c369f3ca66c45',
  'ply_data_train4.h5': 'dff38de489b2c41bfaeded86c2208984',
  'ply_data_test0.h5': 'e9732e6d83b09e79e9a7617df058adee',
  'ply_data_test1.h5': 'aba4b12a67c34391cc3c015a6f08ed4b',
};

/** Options of {@link downloadModelNet}. */
export interface DownloadModelNetOptions {
  /** The folder to download into; the data lands in `<dest>/modelnet40_ply_hdf5_2048`. Defaults to `data`. */
  dest?: string;
  /**
   * Mirrors, tried in turn. Defaults to `MODELNET_URLS` (comma or space separated) when set,
   * else {@link DEFAULT_MODELNET40_URLS}.
   */
  urls?: readonly string[];
  /** Defaults to `globalThis.fetch`. */
  fetch?: FetchLike;
  /** The archive's exact size in bytes, checked on download. Defaults to none (the server's Content-Length is checked). */
  expectedSize?: number;
  /**
   * The archive's SHA-256 (64 hex digits), checked while it downloads and before a zip placed by
   * hand is unpacked. Defaults to `MODELNET_SHA256` when set, else {@link MODELNET40_SHA256}.
   * Plain `http://` mirrors are refused without one (loopback addresses only get a warning).
   */
  sha256?: string;
  /**
   * The MD5 each unpacked file must have (file name to 32 hex digits); `false` checks none.
   * Defaults to {@link MODELNET40_FILE_MD5} when no archive SHA-256 is checked, else none (the
   * archive's digest already fixes every byte, and lets a custom archive through).
   */
  fileDigests?: Readonly<Record<string, string>> | false;
  /** Download and unpack even when the data is already there. Defaults to `false`. */
  force?: boolean;
  /** Keep the zip after unpacking. Defaults to `false`. */
  keepArchive?: boolean;
  /** Defaults to `'auto'`: the system `unzip` when installed, else the built-in reader. */
  extractor?: Extractor;
  /** Tries per mirror after a transfer that stopped early (each resumes). Defaults to `3`. */
  retries?: number;
  /** Wait before a retry, in ms (doubled each time). Defaults to `1000`. */
  retryDelayMs?: number;
  /** Abort a transfer when no byte arrives for this long, in ms. Defaults to `60_000`. */
  stallTimeoutMs?: number;
  /** Where the progress bar and messages go; `false` for silence. Defaults to `process.stderr`. */
  progress?: ProgressStream | false;
  /** The environment read for `MODELNET_URLS` and `MODELNET_SHA256`. Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** What {@link downloadModelNet} did. */
export interface DownloadModelNetResult {
  /** The data folder, ready for `ModelNetH5({ dataRoot })`. */
  dataRoot: string;
  /** `true` when the data was already there and nothing was done. */
  skipped: boolean;
  /** The mirror used, when something was downloaded. */
  url?: string;
  /** The archive's size in bytes, when something was downloaded or unpacked. */
  bytes?: number;
  /** Bytes that came from an earlier partial download. */
  resumedFrom?: number;
}

/** The mirror list: `urls`, else `MODELNET_URLS`, else the defaults. */
export function modelNetUrls(
  urls?: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] {
  if (urls !== undefined && urls.length > 0) return [...urls];
  const fromEnv = env.MODELNET_URLS?.split(/[\s,]+/).filter((url) => url.length > 0) ?? [];
  return fromEnv.length > 0 ? fromEnv : [...DEFAULT_MODELNET40_URLS];
}

/** Whether `dataRoot` holds a complete HDF5 layout: the lists and every file they name. */
export function isModelNetH5Complete(dataRoot: string): boolean {
  const lines = (name: string): string[] | undefined => {
    try {
      return readFileSync(join(dataRoot, name), 'utf8')
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line.length > 0);
    } catch {
      return undefined;
    }
  };
  const names = lines('shape_names.txt');
  const train = lines('train_files.txt');
  const test = lines('test_files.txt');
  if (!names?.length || !train?.length || !test?.length) return false;
  return [...train, ...test].every((entry) => existsSync(join(dataRoot, basename(entry))));
}

/** How to install the data by hand: the folder layout and where it goes. */
export function manualInstallHelp(dest: string): string {
  const root = resolve(dest);
  const folder = join(root, MODELNET40_FOLDER);
  return [
    `To install ModelNet40 by hand, get ${MODELNET40_ARCHIVE} (about 415 MB) on a machine with internet access, then either:`,
    `  - put the zip at ${join(root, MODELNET40_ARCHIVE)} and run \`pnpm --filter modelnet-demo download\` again (it is unpacked, not fetched), or`,
    `  - unpack it so that these exist:`,
    `      ${folder}/shape_names.txt`,
    `      ${folder}/train_files.txt and test_files.txt`,
    `      ${folder}/ply_data_train0.h5 ... ply_data_train4.h5, ply_data_test0.h5, ply_data_test1.h5`,
    `Other mirrors: set MODELNET_URLS="<url> <url>" (tried in order). The default config needs no download: it trains on SyntheticShapes.`,
  ].join('\n');
}

/**
 * Downloads the official `modelnet40_ply_hdf5_2048` archive and unpacks it into `dest`.
 *
 * Mirrors are tried in turn; a transfer that stops early is resumed (HTTP Range into
 * `<archive>.part`, also across runs); the size is checked against the Content-Length and
 * `expectedSize`. With no mirror reachable it throws a `DOWNLOAD_OFFLINE` {@link DownloadError}
 * whose message says how to place the data by hand.
 */
export async function downloadModelNet(
  options: DownloadModelNetOptions = {},
): Promise<DownloadModelNetResult> {
  const dest = resolve(options.dest ?? 'data');
  const dataRoot = join(dest, MODELNET40_FOLDER);
  const stream = options.progress === false ? undefined : (options.progress ?? process.stderr);
  const log = (line: string) => stream?.write(`${line}\n`);
  if (!options.force && isModelNetH5Complete(dataRoot)) {
    log(`ModelNet40 is already in ${dataRoot}.`);
    return { dataRoot, skipped: true };
  }
  const sha256 = expectedDigest(options);
  await mkdir(dest, { recursive: true });
  const archive = join(dest, MODELNET40_ARCHIVE);
  const partPath = `${archive}.part`;
  let result: Omit<DownloadModelNetResult, 'dataRoot' | 'skipped'> = {};

  if (existsSync(archive) && !options.force) {
    log(`Using the archive already at ${archive}.`);
    if (sha256 !== undefined) {
      const digest = await sha256OfFile(archive);
      if (digest !== sha256) {
        throw new DownloadError(
          'DOWNLOAD_CHECKSUM_MISMATCH',
          `${archive} has SHA-256 ${digest}, but ${sha256} is expected: it is damaged or not the official archive. Delete it and run again.`,
        );
      }
    }
  } else {
    result = await fetchFromMirrors({ ...options, sha256 }, partPath, dest, log, stream);
    await rename(partPath, archive);
    await rm(`${partPath}.json`, { force: true });
  }

  log(`Unpacking ${archive} ...`);
  await extractZip(archive, dest, options.extractor ?? 'auto');
  if (!isModelNetH5Complete(dataRoot)) {
    throw new DownloadError(
      'DOWNLOAD_EXTRACT_FAILED',
      `${archive} did not unpack to a complete ${MODELNET40_FOLDER} folder (shape_names.txt, train_files.txt, test_files.txt and the .h5 files they list) in ${dest}. Delete the zip and run again, or:\n${manualInstallHelp(dest)}`,
    );
  }
  const fileDigests = options.fileDigests ?? (sha256 === undefined ? MODELNET40_FILE_MD5 : false);
  if (fileDigests !== false) {
    log(`Checking the unpacked files against their published digests ...`);
    const wrong = await mismatchedFiles(dataRoot, fileDigests);
    if (wrong.length > 0) {
      // Not the official data: nothing of it stays where a training run would read it.
      await rm(dataRoot, { recursive: true, force: true });
      await rm(archive, { force: true });
      throw new DownloadError(
        'DOWNLOAD_CHECKSUM_MISMATCH',
        `The unpacked data is not the official ${MODELNET40_FOLDER}: ${wrong.map((file) => `${file.name} has MD5 ${file.actual}, ${file.expected} expected`).join('; ')}. ` +
          `The archive and ${dataRoot} were removed. Try another mirror (MODELNET_URLS), or, for an archive of your own, pass its --sha256.`,
      );
    }
  }
  if (!options.keepArchive) await rm(archive, { force: true });
  log(`ModelNet40 is ready in ${dataRoot}.`);
  return { dataRoot, skipped: false, ...result };
}

async function fetchFromMirrors(
  options: DownloadModelNetOptions,
  partPath: string,
  dest: string,
  log: (line: string) => void,
  stream: ProgressStream | undefined,
): Promise<{ url: string; bytes: number; resumedFrom: number }> {
  const urls = modelNetUrls(options.urls, options.env);
  const retries = options.retries ?? 3;
  const delay = options.retryDelayMs ?? 1000;
  const failures: MirrorFailure[] = [];
  for (const url of urls) {
    let failure: MirrorFailure | undefined;
    if (isPlainHttp(url) && options.sha256 === undefined) {
      if (!isLoopback(url)) {
        failure = {
          url,
          kind: 'insecure',
          reason:
            'plain http:// is refused without a checksum (anyone on the way can change the archive): use an https:// mirror, or pass --sha256 <digest> (MODELNET_SHA256)',
        };
        log(`  skipped ${url}: ${failure.reason}`);
        failures.push(failure);
        continue;
      }
      log(
        `WARNING: ${url} is plain http:// and no SHA-256 is known: the archive is not checked (allowed for this machine's own address only).`,
      );
    }
    for (let attempt = 0; attempt <= retries; attempt++) {
      log(`Downloading ${url}${attempt > 0 ? ` (try ${attempt + 1}, resuming)` : ''}`);
      const bar = stream && createProgressBar({ label: MODELNET40_ARCHIVE, stream });
      try {
        const done = await downloadToFile({
          url,
          partPath,
          fetch: options.fetch,
          expectedSize: options.expectedSize,
          ...(options.sha256 === undefined ? {} : { sha256: options.sha256 }),
          stallTimeoutMs: options.stallTimeoutMs,
          onProgress: bar ? (received, total) => bar.update(received, total) : undefined,
        });
        bar?.finish();
        return { url, bytes: done.size, resumedFrom: done.resumedFrom };
      } catch (error) {
        bar?.finish();
        if (!(error instanceof MirrorError)) throw error;
        failure = { url, kind: error.kind, reason: error.message, cause: error.cause };
        log(`  failed: ${error.message}`);
        if (error.kind !== 'incomplete' || attempt === retries) break;
        await new Promise((wait) => setTimeout(wait, delay * 2 ** attempt));
      }
    }
    if (failure !== undefined) failures.push(failure);
  }
  throw mirrorsFailed(failures, dest);
}

/** The files of `dataRoot` whose MD5 differs from `digests` (a missing file counts). */
async function mismatchedFiles(
  dataRoot: string,
  digests: Readonly<Record<string, string>>,
): Promise<{ name: string; expected: string; actual: string }[]> {
  const wrong: { name: string; expected: string; actual: string }[] = [];
  for (const [name, expected] of Object.entries(digests)) {
    let actual: string;
    try {
      actual = await digestOfFile(join(dataRoot, name), 'md5');
    } catch {
      actual = 'none (the file is missing)';
    }
    if (actual !== expected.toLowerCase())
      wrong.push({ name, expected: expected.toLowerCase(), actual });
  }
  return wrong;
}

/** The digest to check: the option, else `MODELNET_SHA256`, else the built-in one; validated. */
function expectedDigest(options: DownloadModelNetOptions): string | undefined {
  const env = options.env ?? process.env;
  const given = options.sha256 ?? (env.MODELNET_SHA256?.trim() || undefined) ?? MODELNET40_SHA256;
  if (given === undefined) return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(given)) {
    throw new DownloadError(
      'DOWNLOAD_FAILED',
      `The SHA-256 '${given}' is not 64 hexadecimal digits (from ${options.sha256 !== undefined ? 'the sha256 option' : 'MODELNET_SHA256'}).`,
    );
  }
  return given.toLowerCase();
}

function isPlainHttp(url: string): boolean {
  return /^http:\/\//i.test(url);
}

/** Whether `url` names this machine (127.0.0.0/8, ::1, localhost): traffic that never leaves it. */
function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

function mirrorsFailed(failures: readonly MirrorFailure[], dest: string): DownloadError {
  const kinds = new Set(failures.map((failure) => failure.kind));
  const only = kinds.size === 1 ? [...kinds][0] : undefined;
  const tried = failures.map((failure) => `  - ${failure.url}: ${failure.reason}`).join('\n');
  const help = manualInstallHelp(dest);
  if (only === 'unreachable' || failures.length === 0) {
    return new DownloadError(
      'DOWNLOAD_OFFLINE',
      `Cannot download ModelNet40: no mirror could be reached (offline, or the hosts are down).\nTried:\n${tried || '  (no URL given)'}\n${help}`,
      { attempts: failures },
    );
  }
  const codes: Partial<Record<MirrorFailure['kind'], DownloadError['code']>> = {
    'size-mismatch': 'DOWNLOAD_SIZE_MISMATCH',
    incomplete: 'DOWNLOAD_INCOMPLETE',
    'checksum-mismatch': 'DOWNLOAD_CHECKSUM_MISMATCH',
    insecure: 'DOWNLOAD_INSECURE',
  };
  const code = (only === undefined ? undefined : codes[only]) ?? 'DOWNLOAD_FAILED';
  return new DownloadError(
    code,
    `Cannot download ModelNet40: every mirror failed.\nTried:\n${tried}\n${help}`,
    { attempts: failures },
  );
}
