import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelNetH5 } from '../src/datasets/index.js';
import {
  createProgressBar,
  DownloadError,
  downloadModelNet,
  extractZip,
  hasSystemUnzip,
  MODELNET40_ARCHIVE,
  MODELNET40_FILE_MD5,
  modelNetUrls,
} from '../src/download/index.js';
import { writeH5Tree } from './fixtures/modelnet-trees.js';
import { makeZip } from './fixtures/zip.js';

/** A local stand-in for the mirrors. */
interface Mirror {
  url: string;
  requests: { path: string; range: string | undefined }[];
  /** How the next responses behave. */
  mode: 'ok' | 'cut-first' | 'always-cut' | 'stall' | 'ignore-range' | 'not-found';
  close(): Promise<void>;
}

let tmp: string;
let zip: Buffer;
/** The MD5 of each fixture .h5 file: the fixture's stand-in for MODELNET40_FILE_MD5. */
let fixtureDigests: Record<string, string>;
let mirror: Mirror;
const logs: string[] = [];
const quiet = { write: (chunk: string) => logs.push(chunk) };

async function startMirror(body: Buffer): Promise<Mirror> {
  const state: Mirror = {
    url: '',
    requests: [],
    mode: 'ok',
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const range = request.headers.range;
    state.requests.push({ path: request.url ?? '', range });
    if (state.mode === 'not-found' || request.url !== `/${MODELNET40_ARCHIVE}`) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('no such file');
      return;
    }
    const match = range?.match(/^bytes=(\d+)-$/);
    const start = match && state.mode !== 'ignore-range' ? Number(match[1]) : 0;
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/zip',
      'Content-Length': body.length - start,
      ETag: '"fixture-1"',
      'Accept-Ranges': 'bytes',
    };
    if (start > 0) headers['Content-Range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    response.writeHead(start > 0 ? 206 : 200, headers);
    if (state.mode === 'stall') {
      response.write(body.subarray(start, start + 1000)); // then nothing more
      return;
    }
    const cut =
      state.mode === 'always-cut' || (state.mode === 'cut-first' && state.requests.length === 1);
    if (cut) {
      // Send part of the body, then drop the connection mid-transfer.
      response.write(body.subarray(start, start + Math.floor((body.length - start) / 2)), () =>
        setTimeout(() => response.socket?.destroy(), 20),
      );
      return;
    }
    response.end(body.subarray(start));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}/${MODELNET40_ARCHIVE}`;
  return state;
}

/** A port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

let counter = 0;
const freshDest = () => join(tmp, `dest-${++counter}`);
const clean = (text: string) =>
  text
    .replaceAll(tmp, '<tmp>')
    .replaceAll(mirror.url.replace(`/${MODELNET40_ARCHIVE}`, ''), '<mirror>');

async function failure(run: Promise<unknown>): Promise<DownloadError> {
  try {
    await run;
  } catch (error) {
    if (DownloadError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a DownloadError');
}

// h5wasm start-up and the fixture files: measured under 5 s with two CPU burners beside it.
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'modelnet-download-'));
  // A miniature modelnet40_ply_hdf5_2048.zip: real HDF5 files plus incompressible padding, so
  // that a transfer can be cut in the middle.
  const tree = join(tmp, 'tree', 'modelnet40_ply_hdf5_2048');
  await writeH5Tree(tree, { listPrefix: 'data/modelnet40_ply_hdf5_2048/', points: 32 });
  fixtureDigests = Object.fromEntries(
    readdirSync(tree)
      .filter((name) => name.endsWith('.h5'))
      .map((name) => [
        name,
        createHash('md5')
          .update(readFileSync(join(tree, name)))
          .digest('hex'),
      ]),
  );
  const padding = randomBytes(256 * 1024);
  zip = makeZip([
    { name: 'modelnet40_ply_hdf5_2048/' },
    ...readdirSync(tree).map((name) => ({
      name: `modelnet40_ply_hdf5_2048/${name}`,
      data: readFileSync(join(tree, name)),
    })),
    { name: 'modelnet40_ply_hdf5_2048/padding.bin', data: padding },
  ]);
  mirror = await startMirror(zip);
}, 60_000);
afterAll(async () => {
  await mirror.close();
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => {
  mirror.mode = 'ok';
  mirror.requests = [];
  logs.length = 0;
});

describe('downloadModelNet', () => {
  it('checks every unpacked file against the official digests by default; other data is removed, not trained on', async () => {
    const dest = freshDest();
    const error = await failure(downloadModelNet({ dest, urls: [mirror.url], progress: quiet }));
    expect(error.code).toBe('DOWNLOAD_CHECKSUM_MISMATCH');
    const expected = MODELNET40_FILE_MD5['ply_data_train0.h5'];
    expect(clean(error.message)).toContain(
      `The unpacked data is not the official modelnet40_ply_hdf5_2048: ply_data_train0.h5 has MD5 ${fixtureDigests['ply_data_train0.h5']}, ${expected} expected;`,
    );
    expect(clean(error.message)).toContain('ply_data_train4.h5 has MD5 none (the file is missing)');
    expect(clean(error.message)).toMatch(
      /The archive and <tmp>\/dest-\d+\/modelnet40_ply_hdf5_2048 were removed\. Try another mirror \(MODELNET_URLS\), or, for an archive of your own, pass its --sha256\.$/,
    );
    expect(readdirSync(dest)).toEqual([]);
  });

  it("an archive SHA-256 replaces the file digests (an archive of the user's own)", async () => {
    const dest = freshDest();
    const sha256 = createHash('sha256').update(zip).digest('hex');
    const result = await downloadModelNet({ dest, urls: [mirror.url], progress: quiet, sha256 });
    expect(result.skipped).toBe(false);
    expect(existsSync(join(result.dataRoot, 'ply_data_train0.h5'))).toBe(true);
  });

  it('downloads, checks, unpacks into <dest>/modelnet40_ply_hdf5_2048, then skips next time', async () => {
    const dest = freshDest();
    const result = await downloadModelNet({
      fileDigests: fixtureDigests,
      dest,
      urls: [mirror.url],
      progress: quiet,
    });
    expect(result).toEqual({
      dataRoot: join(dest, 'modelnet40_ply_hdf5_2048'),
      skipped: false,
      url: mirror.url,
      bytes: zip.length,
      resumedFrom: 0,
    });
    expect(readdirSync(dest)).toEqual(['modelnet40_ply_hdf5_2048']); // no zip, no .part left
    const train = await ModelNetH5.load({ dataRoot: result.dataRoot });
    expect([train.length, train.numPoints]).toEqual([9, 32]);
    expect(logs.join('')).toContain('100.0%');
    const again = await downloadModelNet({
      fileDigests: fixtureDigests,
      dest,
      urls: [mirror.url],
      progress: quiet,
    });
    expect(again).toEqual({ dataRoot: result.dataRoot, skipped: true });
    expect(mirror.requests).toHaveLength(1);
  });

  it('resumes a partial .part file with an HTTP Range request', async () => {
    const dest = freshDest();
    mkdirSync(dest, { recursive: true });
    const half = 100_000;
    writeFileSync(join(dest, `${MODELNET40_ARCHIVE}.part`), zip.subarray(0, half));
    const result = await downloadModelNet({
      fileDigests: fixtureDigests,
      dest,
      urls: [mirror.url],
      progress: false,
      keepArchive: true,
    });
    expect(mirror.requests).toEqual([{ path: `/${MODELNET40_ARCHIVE}`, range: `bytes=${half}-` }]);
    expect(result.resumedFrom).toBe(half);
    expect(readFileSync(join(dest, MODELNET40_ARCHIVE)).equals(zip)).toBe(true);
    expect(existsSync(join(dest, 'modelnet40_ply_hdf5_2048', 'ply_data_train1.h5'))).toBe(true);
  });

  it('retries a transfer cut mid-way, resuming where it stopped', async () => {
    mirror.mode = 'cut-first';
    const dest = freshDest();
    const result = await downloadModelNet({
      fileDigests: fixtureDigests,
      dest,
      urls: [mirror.url],
      progress: quiet,
      retryDelayMs: 0,
      keepArchive: true,
    });
    // How far the first transfer got before the cut depends on the machine's load: the second
    // request resumes exactly where the log says it stopped.
    const stopped = /failed: the transfer stopped at (\d+) of (\d+) bytes/.exec(
      clean(logs.join('')),
    );
    expect(stopped?.[2]).toBe(String(zip.length));
    const at = Number(stopped?.[1]);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(Math.floor(zip.length / 2));
    expect(mirror.requests.map((request) => request.range)).toEqual([undefined, `bytes=${at}-`]);
    expect(readFileSync(join(dest, MODELNET40_ARCHIVE)).equals(zip)).toBe(true);
    expect(result.bytes).toBe(zip.length);
  });

  it('starts over when the server ignores the Range header', async () => {
    mirror.mode = 'ignore-range';
    const dest = freshDest();
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, `${MODELNET40_ARCHIVE}.part`), Buffer.from('garbage that must go'));
    await downloadModelNet({
      fileDigests: fixtureDigests,
      dest,
      urls: [mirror.url],
      progress: false,
      keepArchive: true,
    });
    expect(readFileSync(join(dest, MODELNET40_ARCHIVE)).equals(zip)).toBe(true);
  });

  it('fails on a size mismatch with the expected size, and removes the .part file', async () => {
    const dest = freshDest();
    const error = await failure(
      downloadModelNet({
        fileDigests: fixtureDigests,
        dest,
        urls: [mirror.url],
        progress: false,
        expectedSize: zip.length + 1,
      }),
    );
    expect(error.code).toBe('DOWNLOAD_SIZE_MISMATCH');
    expect(error.attempts.map((attempt) => attempt.kind)).toEqual(['size-mismatch']);
    expect(clean(error.message).split('\n').slice(0, 3)).toEqual([
      'Cannot download ModelNet40: every mirror failed.',
      'Tried:',
      `  - <mirror>/modelnet40_ply_hdf5_2048.zip: the server offers ${zip.length} bytes, but ${zip.length + 1} are expected`,
    ]);
    expect(existsSync(join(dest, `${MODELNET40_ARCHIVE}.part`))).toBe(false);
  });

  it('checks the bytes received against Content-Length, keeping the .part file to resume', async () => {
    mirror.mode = 'always-cut';
    const dest = freshDest();
    const error = await failure(
      downloadModelNet({
        fileDigests: fixtureDigests,
        dest,
        urls: [mirror.url],
        progress: false,
        retries: 1,
        retryDelayMs: 0,
      }),
    );
    expect(error.code).toBe('DOWNLOAD_INCOMPLETE');
    expect(mirror.requests).toHaveLength(2);
    const part = statSync(join(dest, `${MODELNET40_ARCHIVE}.part`)).size;
    expect(part).toBeGreaterThan(zip.length / 2);
    expect(part).toBeLessThan(zip.length);
    expect(error.attempts[0]!.reason).toMatch(
      new RegExp(
        `^the transfer stopped at ${part} of ${zip.length} bytes \\(.+\\); run again to resume$`,
      ),
    );
    // The next run resumes it.
    mirror.mode = 'ok';
    const result = await downloadModelNet({
      fileDigests: fixtureDigests,
      dest,
      urls: [mirror.url],
      progress: false,
    });
    expect(result.resumedFrom).toBe(part);
  });

  it('aborts a transfer that stalls', async () => {
    mirror.mode = 'stall';
    const error = await failure(
      downloadModelNet({
        fileDigests: fixtureDigests,
        dest: freshDest(),
        urls: [mirror.url],
        progress: false,
        retries: 0,
        stallTimeoutMs: 200,
      }),
    );
    expect(error.code).toBe('DOWNLOAD_INCOMPLETE');
    expect(error.attempts[0]!.reason).toBe(
      `the transfer stopped at 1000 of ${zip.length} bytes (no data for 200 ms); run again to resume`,
    );
  });

  it('tries the mirrors in turn', async () => {
    const dest = freshDest();
    const missing = mirror.url.replace(MODELNET40_ARCHIVE, 'gone.zip');
    const dead = `http://127.0.0.1:${await closedPort()}/${MODELNET40_ARCHIVE}`;
    const result = await downloadModelNet({
      fileDigests: fixtureDigests,
      dest,
      urls: [dead, missing, mirror.url],
      progress: quiet,
    });
    expect(result.url).toBe(mirror.url);
    const text = clean(logs.join(''));
    expect(text).toContain('failed: HTTP 404 Not Found');
    expect(text).toContain('ECONNREFUSED');
  });

  it('offline: all mirrors unreachable gives one message saying how to place the data by hand', async () => {
    const dest = freshDest();
    const ports = [await closedPort(), await closedPort()];
    const urls = ports.map((port) => `http://127.0.0.1:${port}/${MODELNET40_ARCHIVE}`);
    const error = await failure(
      downloadModelNet({ fileDigests: fixtureDigests, dest, urls, progress: false }),
    );
    expect(error.code).toBe('DOWNLOAD_OFFLINE');
    expect(error.attempts.map((attempt) => attempt.kind)).toEqual(['unreachable', 'unreachable']);
    const message = clean(error.message.replaceAll(dest, '<dest>'))
      .replaceAll(String(ports[0]), 'P1')
      .replaceAll(String(ports[1]), 'P2');
    expect(message).toMatchInlineSnapshot(`
      "Cannot download ModelNet40: no mirror could be reached (offline, or the hosts are down).
      Tried:
        - http://127.0.0.1:P1/modelnet40_ply_hdf5_2048.zip: fetch failed <- connect ECONNREFUSED 127.0.0.1:P1
        - http://127.0.0.1:P2/modelnet40_ply_hdf5_2048.zip: fetch failed <- connect ECONNREFUSED 127.0.0.1:P2
      To install ModelNet40 by hand, get modelnet40_ply_hdf5_2048.zip (about 415 MB) on a machine with internet access, then either:
        - put the zip at <dest>/modelnet40_ply_hdf5_2048.zip and run \`pnpm --filter modelnet-demo download\` again (it is unpacked, not fetched), or
        - unpack it so that these exist:
            <dest>/modelnet40_ply_hdf5_2048/shape_names.txt
            <dest>/modelnet40_ply_hdf5_2048/train_files.txt and test_files.txt
            <dest>/modelnet40_ply_hdf5_2048/ply_data_train0.h5 ... ply_data_train4.h5, ply_data_test0.h5, ply_data_test1.h5
      Other mirrors: set MODELNET_URLS="<url> <url>" (tried in order). The default config needs no download: it trains on SyntheticShapes."
    `);
  });

  it('only HTTP errors: DOWNLOAD_FAILED, with the same help', async () => {
    mirror.mode = 'not-found';
    const error = await failure(
      downloadModelNet({
        fileDigests: fixtureDigests,
        dest: freshDest(),
        urls: [mirror.url],
        progress: false,
      }),
    );
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.message).toContain('To install ModelNet40 by hand');
  });

  it('unpacks a zip placed by hand without touching the network', async () => {
    const dest = freshDest();
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, MODELNET40_ARCHIVE), zip);
    const result = await downloadModelNet({
      fileDigests: fixtureDigests,
      dest,
      urls: ['http://unused.invalid/x.zip'],
      fetch: refuse,
      progress: false,
    });
    expect(result.skipped).toBe(false);
    expect(existsSync(join(result.dataRoot, 'shape_names.txt'))).toBe(true);
  });

  it('reads the mirror list from MODELNET_URLS', () => {
    expect(
      modelNetUrls(undefined, { MODELNET_URLS: ' http://a/x.zip,http://b/x.zip  http://c/x.zip ' }),
    ).toEqual(['http://a/x.zip', 'http://b/x.zip', 'http://c/x.zip']);
    expect(modelNetUrls(['http://given/x.zip'], { MODELNET_URLS: 'http://a/x.zip' })).toEqual([
      'http://given/x.zip',
    ]);
    expect(modelNetUrls(undefined, {})[0]).toBe(
      'https://shapenet.cs.stanford.edu/media/modelnet40_ply_hdf5_2048.zip',
    );
  });
});

describe('SHA-256 of the archive', () => {
  const digest = () => createHash('sha256').update(zip).digest('hex');

  it('checks the digest while downloading, across a resumed transfer, then unpacks', async () => {
    mirror.mode = 'cut-first';
    const dest = freshDest();
    const result = await downloadModelNet({
      fileDigests: fixtureDigests,
      dest,
      urls: [mirror.url],
      progress: quiet,
      retryDelayMs: 0,
      sha256: digest().toUpperCase(),
    });
    expect(mirror.requests).toHaveLength(2); // cut, then resumed: the digest covers both parts
    expect(result.bytes).toBe(zip.length);
    expect(clean(logs.join(''))).not.toContain('WARNING');
    expect(new ModelNetH5({ dataRoot: result.dataRoot, split: 'test' }).length).toBe(3);
  });

  it('a wrong digest: DOWNLOAD_CHECKSUM_MISMATCH, the file removed, nothing unpacked', async () => {
    const dest = freshDest();
    const wrong = 'ab'.repeat(32);
    const error = await failure(
      downloadModelNet({
        fileDigests: fixtureDigests,
        dest,
        urls: [mirror.url],
        progress: quiet,
        sha256: wrong,
      }),
    );
    expect(error.code).toBe('DOWNLOAD_CHECKSUM_MISMATCH');
    expect(clean(error.message)).toContain(
      `<mirror>/${MODELNET40_ARCHIVE}: the file's SHA-256 is ${digest()}, but ${wrong} is expected (the file was removed)`,
    );
    expect(readdirSync(dest)).toEqual([]);
  });

  it('MODELNET_SHA256 is used; a zip placed by hand is checked before it is unpacked', async () => {
    const dest = freshDest();
    mkdirSync(dest, { recursive: true });
    const damaged = Buffer.from(zip);
    damaged[damaged.length - 100] = damaged[damaged.length - 100]! ^ 0xff;
    writeFileSync(join(dest, MODELNET40_ARCHIVE), damaged);
    const error = await failure(
      downloadModelNet({
        fileDigests: fixtureDigests,
        dest,
        progress: quiet,
        env: { MODELNET_SHA256: digest() },
      }),
    );
    expect(error.code).toBe('DOWNLOAD_CHECKSUM_MISMATCH');
    expect(clean(error.message)).toMatch(
      /^<tmp>\/dest-\d+\/modelnet40_ply_hdf5_2048\.zip has SHA-256 [0-9a-f]{64}, but [0-9a-f]{64} is expected/,
    );
    expect(readdirSync(dest)).toEqual([MODELNET40_ARCHIVE]);
    expect(mirror.requests).toEqual([]);
  });

  it('a plain http:// mirror without a digest is refused before it is contacted', async () => {
    let fetched = 0;
    const error = await failure(
      downloadModelNet({
        fileDigests: fixtureDigests,
        dest: freshDest(),
        urls: [`http://modelnet.example.invalid/${MODELNET40_ARCHIVE}`],
        progress: quiet,
        env: {},
        fetch: async () => {
          fetched += 1;
          throw new Error('must not be called');
        },
      }),
    );
    expect(fetched).toBe(0);
    expect(error.code).toBe('DOWNLOAD_INSECURE');
    expect(error.message).toContain(
      'plain http:// is refused without a checksum (anyone on the way can change the archive): use an https:// mirror, or pass --sha256 <digest> (MODELNET_SHA256)',
    );
  });

  it('http:// on this machine only warns; a malformed digest is refused', async () => {
    await downloadModelNet({
      fileDigests: fixtureDigests,
      dest: freshDest(),
      urls: [mirror.url],
      progress: quiet,
      env: {},
    });
    expect(clean(logs.join(''))).toContain(
      'WARNING: <mirror>/modelnet40_ply_hdf5_2048.zip is plain http:// and no SHA-256 is known',
    );
    const error = await failure(
      downloadModelNet({
        fileDigests: fixtureDigests,
        dest: freshDest(),
        urls: [mirror.url],
        progress: quiet,
        sha256: 'abc',
      }),
    );
    expect(error.message).toBe(
      "The SHA-256 'abc' is not 64 hexadecimal digits (from the sha256 option).",
    );
  });
});

describe('extractZip', () => {
  it.each([
    ['builtin', true],
    ['unzip', hasSystemUnzip()],
  ] as const)('%s unpacks folders, stored and deflated files', async (extractor, available) => {
    if (!available) return; // the system unzip is optional
    const dest = freshDest();
    const archive = join(tmp, `x-${extractor}.zip`);
    writeFileSync(
      archive,
      Buffer.concat([
        makeZip([
          { name: 'a/' },
          { name: 'a/b.txt', data: 'hello '.repeat(100) },
          { name: 'a/empty' },
        ]),
      ]),
    );
    await extractZip(archive, dest, extractor);
    expect(readFileSync(join(dest, 'a', 'b.txt'), 'utf8')).toBe('hello '.repeat(100));
    expect(readFileSync(join(dest, 'a', 'empty'), 'utf8')).toBe('');
    const stored = join(tmp, `stored-${extractor}.zip`);
    writeFileSync(stored, makeZip([{ name: 'c.txt', data: 'plain' }], false));
    await extractZip(stored, dest, extractor);
    expect(readFileSync(join(dest, 'c.txt'), 'utf8')).toBe('plain');
  });

  it('the built-in reader refuses paths outside dest, corrupt data and non-zip files', async () => {
    const dest = freshDest();
    const evil = join(tmp, 'evil.zip');
    writeFileSync(evil, makeZip([{ name: '../escape.txt', data: 'x' }]));
    expect((await failure(extractZip(evil, dest, 'builtin'))).message).toMatch(
      /^Cannot unpack .*evil\.zip: nothing was written:\n {2}- the entry '\.\.\/escape\.txt' would land outside /,
    );
    const corrupt = makeZip([{ name: 'd.txt', data: 'some data to flip' }], false);
    const flipped = 30 + 'd.txt'.length + 2;
    corrupt[flipped] = corrupt[flipped]! ^ 0xff;
    writeFileSync(join(tmp, 'corrupt.zip'), corrupt);
    const error = await failure(extractZip(join(tmp, 'corrupt.zip'), dest, 'builtin'));
    expect(error.code).toBe('DOWNLOAD_EXTRACT_FAILED');
    expect(error.message).toContain("'d.txt' fails its size or CRC check");
    writeFileSync(join(tmp, 'plain.zip'), 'not a zip');
    expect((await failure(extractZip(join(tmp, 'plain.zip'), dest, 'builtin'))).message).toContain(
      'not a zip archive',
    );
  });
});

describe('createProgressBar', () => {
  it('redraws one line on a TTY, with percentage, sizes, speed and ETA', () => {
    const out: string[] = [];
    let time = 0;
    const bar = createProgressBar({
      label: 'x.zip',
      stream: { write: (chunk) => out.push(chunk), isTTY: true, columns: 200 },
      now: () => time,
      intervalMs: 100,
    });
    bar.update(0, 4_000_000);
    time = 1000;
    bar.update(1_000_000, 4_000_000);
    time = 1050;
    bar.update(1_100_000, 4_000_000); // within the interval: not drawn
    time = 2000;
    bar.update(2_000_000, 4_000_000);
    bar.finish();
    expect(out.map((line) => line.replace('\x1b[K', ''))).toEqual([
      '\rx.zip [------------------------]   0.0%  0 B/4.0 MB  0 B/s  ETA --:--',
      '\rx.zip [######------------------]  25.0%  1.0 MB/4.0 MB  1.0 MB/s  ETA 0:03',
      '\rx.zip [############------------]  50.0%  2.0 MB/4.0 MB  1.0 MB/s  ETA 0:02',
      '\rx.zip [############------------]  50.0%  2.0 MB/4.0 MB  1.0 MB/s  ETA 0:02\n',
    ]);
  });

  it('prints a line per 10 % when not a TTY', () => {
    const out: string[] = [];
    const bar = createProgressBar({
      label: 'x.zip',
      stream: { write: (chunk) => out.push(chunk) },
      now: () => 0,
    });
    for (let bytes = 0; bytes <= 1000; bytes += 50) bar.update(bytes, 1000);
    bar.finish();
    expect(out).toHaveLength(11);
    expect(out.at(-1)).toContain('100.0%');
  });
});

/** A fetch that must not be called. */
async function refuse(): Promise<Response> {
  throw new Error('the network must not be used here');
}
