/**
 * The `download` command: fetches the official ModelNet40 HDF5 archive
 * (`modelnet40_ply_hdf5_2048.zip`, about 415 MB) from the mirrors in turn, resumably, with a
 * progress bar and a size check, and unpacks it where `configs/modelnet40.yaml` looks for it.
 * Offline, it says how to place the data by hand.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { downloadModelNet, type Extractor, MODELNET40_FOLDER } from './download/index.js';
import { parseCommandArgs } from './errors.js';
import { DEFAULT_DATA_DIR } from './paths.js';

/** The options of `download`. */
export interface DownloadOptions {
  dest: string;
  url?: string[];
  size?: number;
  sha256?: string;
  force: boolean;
  keepArchive: boolean;
  extractor: Extractor;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number <= 0) {
    throw new InvalidArgumentError('Expected a positive integer (bytes).');
  }
  return number;
}

/** The command line of `download`. */
export function getParser(): Command {
  return new Command('download')
    .description(`Download ModelNet40 (${MODELNET40_FOLDER}) for configs/modelnet40.yaml`)
    .option(
      '--dest <dir>',
      `folder to download into; the data lands in <dest>/${MODELNET40_FOLDER}`,
      DEFAULT_DATA_DIR,
    )
    .option(
      '--url <url>',
      'a mirror to try, in order (repeatable; default: MODELNET_URLS, else the built-in list)',
      (url: string, previous: string[] | undefined) => [...(previous ?? []), url],
    )
    .option('--size <bytes>', 'the archive size to check the download against', positiveInteger)
    .option(
      '--sha256 <digest>',
      "the archive's SHA-256 to check the download against (default: MODELNET_SHA256)",
    )
    .option('--force', 'download and unpack again even when the data is there', false)
    .option('--keep-archive', 'keep the zip after unpacking', false)
    .addOption(
      new Option('--extractor <kind>', 'how to unpack')
        .choices(['auto', 'unzip', 'builtin'])
        .default('auto'),
    );
}

/** The `download` command. A failure (offline, say) is a `DownloadError` that says what to do. */
export async function downloadCommand(argv: readonly string[]): Promise<void> {
  // Usage errors exit 2 like every user error; --help exits 0.
  const { options } = parseCommandArgs<DownloadOptions>(getParser(), argv);
  const result = await downloadModelNet({
    dest: options.dest,
    force: options.force,
    keepArchive: options.keepArchive,
    extractor: options.extractor,
    ...(options.url === undefined ? {} : { urls: options.url }),
    ...(options.size === undefined ? {} : { expectedSize: options.size }),
    ...(options.sha256 === undefined ? {} : { sha256: options.sha256 }),
  });
  process.stdout.write(`${result.dataRoot}\n`);
}
