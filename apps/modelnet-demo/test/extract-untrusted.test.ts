/**
 * Archives are data: a zip may not plant a symbolic link, and a second archive may not write
 * through a link already in the destination, with the system `unzip` or the built-in reader.
 * File-system failures while unpacking are download errors, never a raw stack.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DownloadError, extractZip, hasSystemUnzip } from '../src/download/index.js';
import { makeZip } from './fixtures/zip.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'modelnet-zip-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  try {
    await promise;
  } catch (error) {
    if (DownloadError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a DownloadError');
}

describe.each([
  ['unzip', hasSystemUnzip()],
  ['builtin', true],
] as const)('extractZip with %s', (extractor, available) => {
  it.skipIf(!available)(
    'refuses a symbolic-link entry, writing nothing; a second archive cannot write through it',
    async () => {
      const outside = join(tmp, `outside-${extractor}`);
      mkdirSync(outside);
      const dest = join(tmp, `dest-${extractor}`);
      const first = join(tmp, `link-${extractor}.zip`);
      writeFileSync(
        first,
        makeZip([
          { name: 'modelnet/' },
          { name: 'modelnet/a.txt', data: 'fine' },
          { name: 'modelnet/escape', symlink: outside },
        ]),
      );
      const error = await failure(extractZip(first, dest, extractor));
      expect(error.code).toBe('DOWNLOAD_EXTRACT_FAILED');
      expect(error.message).toContain(
        "nothing was written:\n  - 'modelnet/escape' is a symbolic link (archives may not hold links)",
      );
      expect(existsSync(join(dest, 'modelnet', 'escape'))).toBe(false);
      expect(existsSync(join(dest, 'modelnet', 'a.txt'))).toBe(false);

      // The link is there anyway (an older unpacker, or placed by hand): the next archive that
      // writes below it is refused, and nothing reaches the folder it points to.
      mkdirSync(join(dest, 'modelnet'), { recursive: true });
      symlinkSync(outside, join(dest, 'modelnet', 'escape'));
      const second = join(tmp, `through-${extractor}.zip`);
      writeFileSync(
        second,
        makeZip([
          { name: 'modelnet/escape/planted.sh', data: 'echo owned' },
          { name: 'modelnet/b.txt', data: 'fine' },
        ]),
      );
      const through = await failure(extractZip(second, dest, extractor));
      expect(through.message).toContain(
        `'modelnet/escape/planted.sh' would be written through the symbolic link ${join(dest, 'modelnet', 'escape')} already in the destination`,
      );
      expect(existsSync(join(outside, 'planted.sh'))).toBe(false);
      expect(existsSync(join(dest, 'modelnet', 'b.txt'))).toBe(false);
      expect(lstatSync(join(dest, 'modelnet', 'escape')).isSymbolicLink()).toBe(true);
    },
  );

  it.skipIf(!available)('a file where the archive needs a folder is a download error', async () => {
    const dest = join(tmp, `clash-${extractor}`);
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, 'modelnet'), 'a file, not a folder');
    const archive = join(tmp, `clash-${extractor}.zip`);
    writeFileSync(archive, makeZip([{ name: 'modelnet/' }, { name: 'modelnet/a.txt', data: 'x' }]));
    const error = await failure(extractZip(archive, dest, extractor));
    expect(error.code).toBe('DOWNLOAD_EXTRACT_FAILED');
    expect(error.message).toContain(`Cannot unpack ${archive}`);
  });
});
