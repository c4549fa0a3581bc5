import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, test } from 'vitest';
import {
  crc32c,
  decodeRecords,
  EventFileError,
  encodeRecord,
  histogram,
  maskedCrc32c,
  readEventFile,
  readEvents,
  TensorBoardWriter,
} from '../src/index.js';

const PYTHON_TENSORBOARD =
  spawnSync('python3', ['-c', 'import tensorboard'], { stdio: 'ignore' }).status === 0;
const READER = fileURLToPath(new URL('./fixtures/read_events.py', import.meta.url));

/** A 2×3 RGB PNG (written with Python's zlib). */
const TINY_PNG = new Uint8Array(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAEElEQVR4nGM4kWIERAwoFABZuwg14xt6pAAAAABJRU5ErkJggg==',
    'base64',
  ),
);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gorilla-tb-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fixed clock so wall times are known. */
const fixedNow = () => 1_700_000_000.5;

describe('TFRecord framing', () => {
  test('CRC-32C check values (RFC 3720) and the mask', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    const crc = crc32c(new Uint8Array([1, 2, 3]));
    expect(maskedCrc32c(new Uint8Array([1, 2, 3]))).toBe(
      ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0,
    );
  });

  test('encode → decode round trip; corrupt bytes are reported with the offset', () => {
    const records = [
      new Uint8Array([1, 2, 3]),
      new Uint8Array(0),
      new TextEncoder().encode('hello'),
    ];
    const bytes = new Uint8Array(Buffer.concat(records.map(encodeRecord)));
    expect(decodeRecords(bytes)).toEqual(records);
    const corrupt = bytes.slice();
    corrupt[13] = corrupt[13]! ^ 0xff;
    expect(() => decodeRecords(corrupt, 'x')).toThrowErrorMatchingInlineSnapshot(
      `[EventFileError: x: bad data CRC in the record at byte 0.]`,
    );
    const badLength = bytes.slice();
    badLength[0] = 9;
    expect(() => decodeRecords(badLength)).toThrow(/bad length CRC at byte 0/);
    expect(() => decodeRecords(bytes.subarray(0, bytes.length - 2))).toThrow(EventFileError);
  });
});

describe('TensorBoardWriter', () => {
  test('file name, first record brain.Event:2, scalars/text/histograms read back by our reader', () => {
    const writer = new TensorBoardWriter(dir, { rank: 0, now: fixedNow });
    writer.addScalar('loss', 0.5, 1);
    writer.addText('config', '# hello *world*', 0);
    writer.addHistogram('weights', new Float32Array([1, 2, 2, 3, 3, 3, Number.NaN]), 2, {
      bins: 3,
    });
    writer.close();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toBe(`events.out.tfevents.1700000000.${hostname()}.${process.pid}`);
    expect(writer.path).toBe(join(dir, files[0]!));

    const events = readEventFile(join(dir, files[0]!));
    expect(events[0]).toEqual({
      wallTime: 1_700_000_000.5,
      step: 0,
      fileVersion: 'brain.Event:2',
      values: [],
    });
    expect(events.slice(1).map((event) => [event.step, event.values])).toEqual([
      [1, [{ kind: 'scalar', tag: 'loss', value: 0.5 }]],
      [0, [{ kind: 'text', tag: 'config', text: '# hello *world*' }]],
      [
        2,
        [
          {
            kind: 'histogram',
            tag: 'weights',
            histogram: {
              min: 1,
              max: 3,
              num: 6,
              sum: 14,
              sumSquares: 36,
              bucketLimit: [1 + 2 / 3, 1 + 4 / 3, 3],
              bucket: [1, 2, 3],
            },
          },
        ],
      ],
    ]);
  });

  test("update/write: gorilla's buffer averaging (§1.19), no step increment on an empty write", () => {
    const writer = new TensorBoardWriter(dir, { rank: 0 });
    writer.update({ loss: 0.1, lr: 0.001 });
    writer.update({ loss: 0.05, lr: 0.002 });
    writer.write();
    expect(writer.step).toBe(1);
    writer.update({ loss: 1 }, 10); // a step writes at once
    expect(writer.step).toBe(10);
    writer.write(); // empty: nothing written, step unchanged (the original incremented it)
    expect(writer.step).toBe(10);
    writer.update({ loss: [2, 3] }); // [value, num]
    writer.update({ loss: [4, 1] });
    writer.write();
    expect(writer.step).toBe(11);
    expect(writer.buffer.isEmpty).toBe(true);
    writer.close();

    const scalars = readEventFile(writer.path!)
      .slice(1)
      .flatMap((event) =>
        event.values.map((value) => [
          event.step,
          value.tag,
          value.kind === 'scalar' ? value.value : NaN,
        ]),
      );
    expect(scalars).toEqual([
      [1, 'loss', Math.fround(0.075)],
      [1, 'lr', Math.fround(0.0015)],
      [10, 'loss', 1],
      [11, 'loss', 2.5],
    ]);
    expect(String(writer)).toBe(`writer's logdir: ${dir}\ncurrent buffer: \n`);
  });

  test('addScalars writes one series per key under logDir/<main>_<key>', () => {
    const writer = new TensorBoardWriter(dir, { rank: 0 });
    writer.addScalars('loss', { train: 1, val: 2 }, 3);
    writer.close();
    expect(readdirSync(dir).sort()).toEqual([
      expect.stringMatching(/^events\.out\.tfevents\./),
      'loss_train',
      'loss_val',
    ]);
    const [file] = readdirSync(join(dir, 'loss_val'));
    const values = readEventFile(join(dir, 'loss_val', file!)).flatMap((event) => event.values);
    expect(values).toEqual([{ kind: 'scalar', tag: 'loss', value: 2 }]);
  });

  test('two writers in one folder in the same second get distinct files', () => {
    const first = new TensorBoardWriter(dir, { rank: 0, now: fixedNow });
    const second = new TensorBoardWriter(dir, { rank: 0, now: fixedNow });
    expect(second.path).not.toBe(first.path);
    first.close();
    second.close();
    expect(readdirSync(dir)).toHaveLength(2);
  });

  test('events are queued until flush, then readable', () => {
    const writer = new TensorBoardWriter(dir, { rank: 0, flushSecs: 3600 });
    writer.addScalar('x', 1, 1);
    expect(readEventFile(writer.path!)).toHaveLength(1);
    writer.flush();
    expect(readEventFile(writer.path!)).toHaveLength(2);
    writer.close();
    writer.close(); // idempotent
  });

  test('other ranks: no file, every method a no-op', () => {
    const writer = new TensorBoardWriter(join(dir, 'rank1'), { rank: 1 });
    writer.update({ loss: 1 }, 1);
    writer.addScalar('a', 1);
    writer.addScalars('b', { c: 1 });
    writer.addText('t', 'x');
    writer.addHistogram('h', [1, 2]);
    writer.write();
    writer.flush();
    writer.close();
    expect(writer.active).toBe(false);
    expect(writer.path).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
  });

  test('readEvents wraps an undecodable record', () => {
    const bytes = encodeRecord(new Uint8Array([0xff, 0xff, 0xff]));
    expect(() => readEvents(bytes, 'junk')).toThrow(/junk: record 0 is not an Event proto/);
    writeFileSync(join(dir, 'empty'), '');
    expect(readEventFile(join(dir, 'empty'))).toEqual([]);
  });

  test('histogram helper: explicit edges, constant values, empty input', () => {
    expect(histogram([0, 1, 5, 10], [1, 5])).toMatchObject({
      bucketLimit: [1, 5, 10],
      bucket: [2, 1, 1],
    });
    expect(histogram([2, 2], 10)).toMatchObject({ bucketLimit: [2], bucket: [2], num: 2 });
    expect(histogram([], 10)).toMatchObject({ num: 0, bucket: [] });
  });

  it.skipIf(!PYTHON_TENSORBOARD)(
    "TensorBoard's own EventAccumulator reads scalars, text, images and histograms (needs `pip install tensorboard`)",
    () => {
      const writer = new TensorBoardWriter(dir, { rank: 0 });
      for (let step = 1; step <= 3; step += 1) {
        writer.update({ loss: 1 / step });
        writer.update({ loss: 3 / step });
        writer.write(step);
      }
      writer.addText('notes', 'résumé **bold**', 1);
      writer.addImage('val/confusion', TINY_PNG, 2);
      expect(() => writer.addImage('bad', new Uint8Array([1, 2, 3]), 2)).toThrow(
        'addImage expects PNG bytes',
      );
      writer.addHistogram(
        'w',
        Float32Array.from({ length: 100 }, (_, i) => i / 10),
        5,
        { bins: 4 },
      );
      writer.close();
      const read = JSON.parse(execFileSync('python3', [READER, dir], { encoding: 'utf8' }));
      expect(read.scalars).toEqual({
        loss: [
          [1, 2],
          [2, 1],
          [3, Math.fround(2 / 3)],
        ],
      });
      expect(read.texts).toEqual({ notes: [[1, 'text', 'résumé **bold**']] });
      expect(read.images).toEqual({
        'val/confusion': [
          { step: 2, width: 2, height: 3, png: Buffer.from(TINY_PNG).toString('hex') },
        ],
      });
      expect(read.histograms.w).toHaveLength(1);
      expect(read.histograms.w[0]).toMatchObject({
        step: 5,
        min: 0,
        max: Math.fround(9.9),
        num: 100,
        bucket: [25, 25, 25, 25],
      });
    },
    // Importing TensorBoard takes ~2 s alone and over 5 s on a busy 2-core machine.
    60_000,
  );
});

// Keep the reader fixture honest: it must exist even when Python is absent.
test('the Python reader fixture is present', () => {
  expect(readFileSync(READER, 'utf8')).toContain('EventAccumulator');
});
