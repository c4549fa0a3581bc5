import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
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
 */
export async function extractZip(
  archive: string,
  dest: string,
  extractor: Extractor = 'auto',
): Promise<void> {
  await mkdir(dest, { recursive: true });
  const useSystem = extractor === 'unzip' || (extractor === 'auto' && hasSystemUnzip());
  if (useSystem) await extractWithUnzip(archive, dest);
  else await extractBuiltin(archive, dest);
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
            `unzip failed on ${archive} (exit ${status}): ${stderr.trim() || 'no message'}.`,
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
}

/** The built-in reader: central directory, then each entry streamed through inflate with a CRC check. */
export async function extractBuiltin(archive: string, dest: string): Promise<void> {
  const fail = (message: string, cause?: unknown): never => {
    throw new DownloadError('DOWNLOAD_EXTRACT_FAILED', `Cannot unpack ${archive}: ${message}.`, {
      cause,
    });
  };
  const root = resolve(dest);
  const entries: ZipEntry[] = [];
  const handle = await open(archive, 'r');
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
      const entry: ZipEntry = {
        flags: directory.readUInt16LE(p + 8),
        method: directory.readUInt16LE(p + 10),
        crc: directory.readUInt32LE(p + 16),
        compressedSize: directory.readUInt32LE(p + 20),
        size: directory.readUInt32LE(p + 24),
        localOffset: directory.readUInt32LE(p + 42),
        name: directory.toString('utf8', p + 46, p + 46 + nameLength),
      };
      entries.push(entry);
      p += 46 + nameLength + directory.readUInt16LE(p + 30) + directory.readUInt16LE(p + 32);
    }
    for (const entry of entries) {
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
    }
  } finally {
    await handle.close();
  }
}
