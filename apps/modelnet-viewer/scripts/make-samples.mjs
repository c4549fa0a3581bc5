#!/usr/bin/env node
/**
 * Writes the viewer's bundled sample, `public/samples/modelnet10-test.bin`: the first
 * PER_CLASS shapes of each class of the ModelNet10 test split (1024 points each), from the
 * PointNet HDF5 copy. The file is small (≈190 kB) and committed; rerun this to regenerate it:
 *
 *   MODELNET10_ROOT=/path/to/modelnet10_ply_hdf5_1024 pnpm --filter modelnet-viewer samples
 *
 * Format: a uint32 little-endian header length, a JSON header
 * `{ format, source, classes, numPoints, scale, shapes: [{ id, label }] }`, padding to 4 bytes,
 * then int16 xyz of every shape in order (value / scale gives the float coordinate).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import h5wasm from 'h5wasm/node';

const PER_CLASS = 3;
const SCALE = 32767;
const root = process.env.MODELNET10_ROOT ?? '/work/shared/data/modelnet10_ply_hdf5_1024';
const out = join(
  dirname(dirname(fileURLToPath(import.meta.url))),
  'public/samples/modelnet10-test.bin',
);

await h5wasm.ready;
const classes = readFileSync(join(root, 'shape_names.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter(Boolean);
const files = readFileSync(join(root, 'test_files.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter(Boolean);
const shapes = [];
const chunks = [];
let numPoints;
for (const [part, entry] of files.entries()) {
  const file = new h5wasm.File(join(root, entry.split('/').pop()), 'r');
  const data = file.get('data');
  const labels = file.get('label').value;
  const [count, points] = data.shape;
  numPoints ??= points;
  const values = data.value;
  const ids = JSON.parse(readFileSync(join(root, `ply_data_test_${part}_id2file.json`), 'utf8'));
  for (let i = 0; i < count; i++) {
    const label = Number(labels[i]);
    if (shapes.filter((shape) => shape.label === label).length >= PER_CLASS) continue;
    const xyz = values.subarray(i * points * 3, (i + 1) * points * 3);
    chunks.push(
      Int16Array.from(xyz, (v) => Math.max(-SCALE, Math.min(SCALE, Math.round(v * SCALE)))),
    );
    shapes.push({
      id: String(ids[i] ?? `shape_${i}`)
        .replace(/^.*\//, '')
        .replace(/\.ply$/, ''),
      label,
    });
  }
  file.close();
}
const order = shapes
  .map((_shape, i) => i)
  .sort((a, b) => shapes[a].label - shapes[b].label || a - b);
const header = JSON.stringify({
  format: 'gorilla-ts-samples/1',
  source: 'ModelNet10 test split (modelnet10_ply_hdf5_1024)',
  classes,
  numPoints,
  scale: SCALE,
  shapes: order.map((i) => shapes[i]),
});
let json = new TextEncoder().encode(header);
const pad = (4 - ((4 + json.length) % 4)) % 4;
json = new TextEncoder().encode(header + ' '.repeat(pad));
const body = new Int16Array(order.length * numPoints * 3);
for (const [i, source] of order.entries()) body.set(chunks[source], i * numPoints * 3);
const bytes = new Uint8Array(4 + json.length + body.byteLength);
new DataView(bytes.buffer).setUint32(0, json.length, true);
bytes.set(json, 4);
bytes.set(new Uint8Array(body.buffer), 4 + json.length);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, bytes);
console.log(`wrote ${out}: ${order.length} shapes × ${numPoints} points, ${bytes.length} bytes`);
