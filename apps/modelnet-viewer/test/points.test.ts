import { describe, expect, test } from 'vitest';
import { InputError } from '../src/core.js';
import { parseMetrics } from '../src/curves.js';
import { parsePointFile, preparePoints } from '../src/points.js';
import { bundledSamples } from './helpers.js';

const text = (value: string) => new TextEncoder().encode(value);

/** A unit cube as an OFF mesh (12 triangles), with ModelNet's quirk of counts on the OFF line. */
const CUBE_OFF = `OFF8 6 0
0 0 0
1 0 0
1 1 0
0 1 0
0 0 1
1 0 1
1 1 1
0 1 1
4 0 3 2 1
4 4 5 6 7
4 0 1 5 4
4 2 3 7 6
4 1 2 6 5
4 0 4 7 3
`;

describe('point files', () => {
  test('ModelNet .txt with normals, comma-separated', () => {
    const cloud = parsePointFile('a.txt', text('0,0,0,0,0,1\n1,2,3,0,1,0\n'));
    expect(cloud.channels).toBe(6);
    expect([...cloud.points]).toEqual([0, 0, 0, 0, 0, 1, 1, 2, 3, 0, 1, 0]);
  });

  test('OFF meshes are sampled on their surface, deterministically', () => {
    const first = parsePointFile('cube.off', text(CUBE_OFF), 256);
    const second = parsePointFile('cube.off', text(CUBE_OFF), 256);
    expect(first.channels).toBe(6);
    expect(first.points.length).toBe(256 * 6);
    expect(first.points).toEqual(second.points);
    for (let i = 0; i < 256; i++) {
      const p = [...first.points.subarray(i * 6, i * 6 + 3)];
      // Every sample lies on a face of the cube: one coordinate is 0 or 1.
      expect(p.some((v) => Math.abs(v) < 1e-6 || Math.abs(v - 1) < 1e-6)).toBe(true);
    }
  });

  test('binary little-endian PLY point clouds', () => {
    const header = text(
      'ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\nend_header\n',
    );
    const body = new Float32Array([1, 2, 3, 4, 5, 6]);
    const bytes = new Uint8Array(header.length + body.byteLength);
    bytes.set(header);
    bytes.set(new Uint8Array(body.buffer), header.length);
    const cloud = parsePointFile('p.ply', bytes);
    expect(cloud.channels).toBe(3);
    expect([...cloud.points]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('ASCII PLY meshes with faces are sampled', () => {
    const ply =
      'ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n';
    const cloud = parsePointFile('t.ply', text(ply), 64);
    expect(cloud.points.length).toBe(64 * 6);
  });

  test.each([
    ['empty.txt', '', /'empty.txt' is empty/],
    ['bad.txt', '1,2,3\n4,five,6\n', /'bad.txt' line 2: expected 3 or 6 numbers/],
    ['mixed.txt', '1,2,3\n1,2,3,4,5,6\n', /line 2: 6 numbers, but earlier lines have 3/],
    ['x.off', 'COFF\n', /not an OFF file/],
    ['short.off', 'OFF\n3 1 0\n0 0 0\n', /truncated or malformed: expected 3 vertices/],
    ['face.off', 'OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n', /face 1 is malformed/],
    [
      'x.ply',
      'ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n1\n',
      /no vertex element with x, y and z/,
    ],
    ['cloud.obj', 'v 0 0 0', /not a point cloud file this viewer reads/],
  ])('%s gives a clear message', (name, content, message) => {
    expect(() => parsePointFile(name, text(content))).toThrow(InputError);
    expect(() => parsePointFile(name, text(content))).toThrow(message);
  });

  test('preparation centres, scales to the unit sphere and subsamples with a fixed seed', () => {
    const points = Float32Array.from({ length: 3000 * 3 }, (_, i) => (i % 7) + (i % 3) * 10);
    const a = preparePoints({ points, channels: 3 }, 1024);
    const b = preparePoints({ points, channels: 3 }, 1024);
    expect(a.length).toBe(1024 * 3);
    expect(a).toEqual(b);
    let radius = 0;
    for (let i = 0; i < 1024; i++)
      radius = Math.max(radius, Math.hypot(a[3 * i]!, a[3 * i + 1]!, a[3 * i + 2]!));
    expect(radius).toBeCloseTo(1, 5);
  });
});

test('the bundled sample holds 3 ModelNet10 test shapes per class', () => {
  const samples = bundledSamples();
  expect(samples.shapes).toHaveLength(30);
  expect(samples.classes).toHaveLength(10);
  for (let label = 0; label < 10; label++)
    expect(samples.shapes.filter((shape) => shape.label === label)).toHaveLength(3);
  expect(samples.shapes[0]!.points.length).toBe(1024 * 3);
});

test('metrics lines become series over epochs; a broken line is named', () => {
  const series = parseMetrics(
    'run.jsonl',
    '{"epoch":1,"loss":2,"accuracy":0.1}\n{"epoch":2,"loss":1}\n',
  );
  expect(series.get('loss')).toEqual([
    [1, 2],
    [2, 1],
  ]);
  expect(() => parseMetrics('run.jsonl', '{"epoch":1}\n{oops\n')).toThrow(
    /'run.jsonl' line 2 is not JSON/,
  );
});
