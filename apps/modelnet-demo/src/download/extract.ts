import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, realpath, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import { DownloadError } from './errors.js';

/** Which unzipper to use: the system `unzip`, the built-in reader, or `unzip` when present. */
export type Extractor = 'auto' | 'unzip' | 'builtin';

/** Whether the system `unzip` command can be run. */
export function hasSystemUnzip(): boolean {
  const result = spawnSync('unzip', ['-v'], { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/**
 * Unpacks the zip `archive` into `dest`. `'auto'` (the default) uses the system `unzip` when it is
 * installed and otherwise the built-in reader (stored and deflated entries, no zip64, which covers
 * the ModelNet archives).
 *
 * An archive is data: before anything is written, both paths refuse symbolic-link entries,
 * absolute names and names with `..` that leave `dest`, and entries that would be written
 * through a link already in `dest` (left by an earlier archive or placed there), all listed in one
 * {@link DownloadError}. Every file-system failure while unpacking is a `DownloadError` too.
 */
export async function extractZip(
  archive: string,
  dest: string,
  extractor: Extractor = 'auto',
): Promise<void> {
  try {
    await mkdir(dest, { recursive: true });
  } catch (error) {
    throw new DownloadError(
      'DOWNLOAD_EXTRACT_FAILED',
      `Cannot unpack ${archive}: cannot create ${resolve(dest)} (${(error as Error).message}).`,
      { cause: error },
    );
  }
  const useSystem = extractor === 'unzip' || (extractor === 'auto' && hasSystemUnzip());
  if (useSystem) {
    const entries = await listEntries(archive, true);
    await checkEntries(archive, dest, entries);
    await extractWithUnzip(archive, dest);
  } else await extractBuiltin(archive, dest);
}

/** S_IFMT and S_IFLNK of the Unix mode in an entry's external attributes. */
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** What {@link checkEntries} needs of an entry: its name and whether it is a symbolic link. */
interface EntrySummary {
  name: string;
  symlink: boolean;
}

/**
 * The entries of `archive`: from its central directory, or (for the system `unzip` path, on an
 * archive the built-in reader cannot list, e.g. zip64) from `zipinfo`'s listing.
 */
async function listEntries(archive: string, allowZipinfo: boolean): Promise<EntrySummary[]> {
  try {
    const { entries } = await readDirectory(archive);
    return entries.map(({ name, symlink }) => ({ name, symlink }));
  } catch (error) {
    if (!allowZipinfo || !DownloadError.isInstance(error) || !/zip64/.test(error.message))
      throw error;
  }
  // `unzip -Z -l`: one line per entry, `lrwxrwxrwx ... name` for a link (names without blanks,
  // as in the ModelNet archives; a name with blanks keeps its tail after the 9th field).
  const listing = spawnSync('unzip', ['-Z', archive], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (listing.status !== 0) {
    throw new DownloadError(
      'DOWNLOAD_EXTRACT_FAILED',
      `Cannot list ${archive} with zipinfo (exit ${listing.status}): ${listing.stderr.trim() || 'no message'}.`,
    );
  }
  return listing.stdout
    .split('\n')
    .filter((line) => /^[-dlbcps?][-rwxsStT]{9}/.test(line))
    .map((line) => ({ name: line.split(/\s+/).slice(8).join(' '), symlink: line.startsWith('l') }));
}

/**
 * Refuses, all at once, entries that are symbolic links, that name a place outside `dest`, or
 * whose path inside `dest` already passes through a symbolic link (or real path outside `dest`).
 */
async function checkEntries(
  archive: string,
  dest: string,
  entries: readonly EntrySummary[],
): Promise<void> {
  const root = resolve(dest);
  const realRoot = await realpath(root);
  const problems: string[] = [];
  const checked = new Map<string, string | undefined>();
  for (const entry of entries) {
    if (entry.symlink) {
      problems.push(`'${entry.name}' is a symbolic link (archives may not hold links)`);
      continue;
    }
    const target = resolve(root, entry.name);
    if (isAbsolute(entry.name) || (target !== root && !target.startsWith(root + sep))) {
      problems.push(`the entry '${entry.name}' would land outside ${root}`);
      continue;
    }
    // Every existing component below dest must be a real folder (or the file itself), inside dest.
    const parts = target
      .slice(root.length + 1)
      .split(sep)
      .filter(Boolean);
    let path = root;
    for (const part of parts) {
      path = join(path, part);
      if (!checked.has(path)) checked.set(path, await linkProblem(path, realRoot));
      const problem = checked.get(path);
      if (problem !== undefined) {
        problems.push(`'${entry.name}' would be written through ${problem}`);
        break;
      }
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10);
    if (problems.length > 10) shown.push(`... and ${problems.length - 10} more`);
    throw new DownloadError(
      'DOWNLOAD_EXTRACT_FAILED',
      `Cannot unpack ${archive}: nothing was written:\n  - ${shown.join('\n  - ')}`,
    );
  }
}

/** Why writing at or below `path` would leave `realRoot` (a link, or a real path outside), if so. */
async function linkProblem(path: string, realRoot: string): Promise<string | undefined> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(path);
  } catch {
    return undefined; // not there yet: it will be created as a real folder or file
  }
  if (stats.isSymbolicLink()) return `the symbolic link ${path} already in the destination`;
  const real = await realpath(path);
  if (real !== realRoot && !real.startsWith(realRoot + sep))
    return `${path}, which is really ${real}`;
  return undefined;
}

function extractWithUnzip(archive: string, dest: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('unzip', ['-o', '-q', archive, '-d', dest], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', (error) =>
      fail(
        new DownloadError('DOWNLOAD_EXTRACT_FAILED', `Cannot run unzip: ${error.message}.`, {
          cause: error,
        }),
      ),
    );
    child.on('close', (status) => {
      if (status === 0) done();
      else {
        fail(
          new DownloadError(
            'DOWNLOAD_EXTRACT_FAILED',
            `Cannot unpack ${archive}: unzip failed (exit ${status}): ${stderr.trim() || 'no message'}.`,
          ),
        );
      }
    });
  });
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** A Unix symbolic link (made on Unix, S_IFLNK in the external attributes). */
  symlink: boolean;
}

/** Reads the central directory of `archive` (no zip64). */
async function readDirectory(archive: string): Promise<{ entries: ZipEntry[] }> {
  const fail = (message: string, cause?: unknown): never => {
    throw new DownloadError('DOWNLOAD_EXTRACT_FAILED', `Cannot unpack ${archive}: ${message}.`, {
      cause,
    });
  };
  const entries: ZipEntry[] = [];
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(archive, 'r');
  } catch (error) {
    return fail((error as Error).message, error);
  }
  try {
    const { size } = await handle.stat();
    const tailSize = Math.min(size, 0xffff + 22);
    const tail = Buffer.alloc(tailSize);
    await handle.read(tail, 0, tailSize, size - tailSize);
    let end = -1;
    for (let i = tailSize - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        end = i;
        break;
      }
    }
    if (end < 0) fail('not a zip archive (no end-of-central-directory record)');
    const count = tail.readUInt16LE(end + 10);
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryOffset = tail.readUInt32LE(end + 16);
    if (count === 0xffff || directoryOffset === 0xffffffff) {
      fail('zip64 archives need the system `unzip` (install it, e.g. `apt-get install unzip`)');
    }
    const directory = Buffer.alloc(directorySize);
    await handle.read(directory, 0, directorySize, directoryOffset);
    let p = 0;
    for (let k = 0; k < count; k++) {
      if (p + 46 > directory.length || directory.readUInt32LE(p) !== CENTRAL) {
        fail('corrupt central directory');
      }
      const nameLength = directory.readUInt16LE(p + 28);
      const madeOnUnix = directory.readUInt16LE(p + 4) >> 8 === 3;
      const mode = directory.readUInt32LE(p + 38) >>> 16;
      const entry: ZipEntry = {
        flags: directory.readUInt16LE(p + 8),
        method: directory.readUInt16LE(p + 10),
        crc: directory.readUInt32LE(p + 16),
        compressedSize: directory.readUInt32LE(p + 20),
        size: directory.readUInt32LE(p + 24),
        localOffset: directory.readUInt32LE(p + 42),
        name: directory.toString('utf8', p + 46, p + 46 + nameLength),
        symlink: madeOnUnix && (mode & S_IFMT) === S_IFLNK,
      };
      entries.push(entry);
      p += 46 + nameLength + directory.readUInt16LE(p + 30) + directory.readUInt16LE(p + 32);
    }
  } finally {
    await handle.close();
  }
  return { entries };
}

/** The built-in reader: central directory, then each entry streamed through inflate with a CRC check. */
export async function extractBuiltin(archive: string, dest: string): Promise<void> {
  const fail = (message: string, cause?: unknown): never => {
    throw new DownloadError('DOWNLOAD_EXTRACT_FAILED', `Cannot unpack ${archive}: ${message}.`, {
      cause,
    });
  };
  const root = resolve(dest);
  const { entries } = await readDirectory(archive);
  try {
    await mkdir(root, { recursive: true });
  } catch (error) {
    fail(`cannot create ${root} (${(error as Error).message})`, error);
  }
  await checkEntries(archive, root, entries);
  const handle = await open(archive, 'r');
  try {
    for (const entry of entries) {
      try {
        const target = resolve(root, entry.name);
        if (isAbsolute(entry.name) || (target !== root && !target.startsWith(root + sep))) {
          fail(`the entry '${entry.name}' would land outside ${root}`);
        }
        if (entry.name.endsWith('/')) {
          await mkdir(target, { recursive: true });
          continue;
        }
        if (entry.flags & 1) fail(`'${entry.name}' is encrypted`);
        if (entry.method !== 0 && entry.method !== 8) {
          fail(`'${entry.name}' uses compression method ${entry.method}; install the system unzip`);
        }
        const local = Buffer.alloc(30);
        await handle.read(local, 0, 30, entry.localOffset);
        if (local.readUInt32LE(0) !== LOCAL) fail(`corrupt local header of '${entry.name}'`);
        const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
        await mkdir(dirname(target), { recursive: true });
        if (entry.compressedSize === 0) {
          await writeFile(target, new Uint8Array(0));
          if (entry.size !== 0) fail(`'${entry.name}' is truncated`);
          continue;
        }
        let crc = 0;
        let written = 0;
        const check = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            crc = crc32(chunk, crc);
            written += chunk.length;
            callback(null, chunk);
          },
        });
        const source = createReadStream(archive, {
          start: dataStart,
          end: dataStart + entry.compressedSize - 1,
        });
        try {
          if (entry.method === 8) {
            await pipeline(source, createInflateRaw(), check, createWriteStream(target));
          } else {
            await pipeline(source, check, createWriteStream(target));
          }
        } catch (error) {
          fail(`'${entry.name}' is corrupt (${(error as Error).message})`, error);
        }
        if (written !== entry.size || crc >>> 0 !== entry.crc) {
          fail(`'${entry.name}' fails its size or CRC check`);
        }
      } catch (error) {
        if (DownloadError.isInstance(error)) throw error;
        fail(`cannot write '${entry.name}' into ${root} (${(error as Error).message})`, error);
      }
    }
  } finally {
    await handle.close();
  }
}
