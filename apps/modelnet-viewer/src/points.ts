/**
 * Point clouds from files: ModelNet `.txt` (x,y,z[,nx,ny,nz] per line), `.off` and `.ply`
 * (ASCII or binary; meshes are sampled on their surface, area-weighted), and the preparation
 * the classifier sees (a fixed number of points, centred and scaled to the unit sphere).
 * Everything here is pure and deterministic: the same file gives the same points everywhere.
 */
import { RandomGenerator } from '@gorilla-ts/train/nn';
import { InputError } from './core.js';

/** A point cloud: `n` rows of `channels` floats (xyz, then normals when present). */
export interface PointCloud {
  points: Float32Array;
  channels: 3 | 6;
  /** Triangles `[i, j, k]` when the file was a mesh (before sampling), for the record. */
  faces?: number;
}

/** Seed of the surface sampling and subsampling (fixed: the same file, the same points). */
const SEED = 0;

/** Parses a point cloud or mesh file by its extension. */
export function parsePointFile(name: string, bytes: Uint8Array, numPoints = 1024): PointCloud {
  const extension = name.toLowerCase().split('.').pop() ?? '';
  if (bytes.byteLength === 0) throw new InputError(`'${name}' is empty (0 bytes).`);
  switch (extension) {
    case 'txt':
    case 'xyz':
    case 'csv':
      return parseText(name, decode(bytes));
    case 'off':
      return parseOff(name, decode(bytes), numPoints);
    case 'ply':
      return parsePly(name, bytes, numPoints);
    default:
      throw new InputError(
        `'${name}' is not a point cloud file this viewer reads: expected .txt (x,y,z[,nx,ny,nz] per line), .off, .ply or a .safetensors checkpoint.`,
      );
  }
}

/** ModelNet `.txt`: one point per line, comma- or space-separated, 3 or 6 numbers. */
export function parseText(name: string, text: string): PointCloud {
  const rows: number[][] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const values = line.split(/[\s,]+/).map(Number);
    if (
      values.some((value) => !Number.isFinite(value)) ||
      (values.length !== 3 && values.length !== 6)
    ) {
      throw new InputError(
        `'${name}' line ${i + 1}: expected 3 or 6 numbers (x,y,z[,nx,ny,nz]), got '${line.slice(0, 60)}'.`,
      );
    }
    if (rows.length > 0 && values.length !== rows[0]!.length) {
      throw new InputError(
        `'${name}' line ${i + 1}: ${values.length} numbers, but earlier lines have ${rows[0]!.length}.`,
      );
    }
    rows.push(values);
  }
  if (rows.length === 0) throw new InputError(`'${name}' holds no points.`);
  const channels = rows[0]!.length as 3 | 6;
  return { points: Float32Array.from(rows.flat()), channels };
}

/** OFF (ModelNet's meshes; the header may share its line with the counts, `OFF490 518 0`). */
export function parseOff(name: string, text: string, numPoints: number): PointCloud {
  const tokens = text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '')
    .join(' ')
    .split(/\s+/);
  const first = tokens.shift() ?? '';
  if (!first.startsWith('OFF')) {
    throw new InputError(`'${name}' is not an OFF file: it does not start with 'OFF'.`);
  }
  if (first.length > 3) tokens.unshift(first.slice(3));
  const [vertexCount, faceCount] = [Number(tokens[0]), Number(tokens[1])];
  if (!Number.isInteger(vertexCount) || !Number.isInteger(faceCount) || vertexCount <= 0) {
    throw new InputError(`'${name}': the OFF header needs '<vertices> <faces> <edges>' counts.`);
  }
  let at = 3;
  const vertices = new Float32Array(vertexCount * 3);
  for (let i = 0; i < vertexCount * 3; i++) vertices[i] = Number(tokens[at++]);
  if (vertices.some((value) => !Number.isFinite(value))) {
    throw new InputError(
      `'${name}' is truncated or malformed: expected ${vertexCount} vertices of 3 numbers.`,
    );
  }
  const triangles: number[] = [];
  for (let f = 0; f < faceCount; f++) {
    const count = Number(tokens[at++]);
    const face = Array.from({ length: count }, () => Number(tokens[at++]));
    if (
      !Number.isInteger(count) ||
      face.some((v) => !Number.isInteger(v) || v < 0 || v >= vertexCount)
    ) {
      throw new InputError(
        `'${name}' face ${f + 1} is malformed (expected a count and vertex indices below ${vertexCount}).`,
      );
    }
    for (let k = 1; k + 1 < count; k++) triangles.push(face[0]!, face[k]!, face[k + 1]!);
  }
  return fromMesh(vertices, triangles, numPoints);
}

interface PlyProperty {
  name: string;
  type: string;
  /** For lists: the count type. */
  countType?: string;
}

interface PlyElement {
  name: string;
  count: number;
  properties: PlyProperty[];
}

const PLY_SIZES: Record<string, number> = {
  char: 1,
  int8: 1,
  uchar: 1,
  uint8: 1,
  short: 2,
  int16: 2,
  ushort: 2,
  uint16: 2,
  int: 4,
  int32: 4,
  uint: 4,
  uint32: 4,
  float: 4,
  float32: 4,
  double: 8,
  float64: 8,
};

/** PLY, ASCII or binary (either endianness): vertices x,y,z[,nx,ny,nz], optional faces. */
export function parsePly(name: string, bytes: Uint8Array, numPoints: number): PointCloud {
  const headText = new TextDecoder('latin1').decode(
    bytes.subarray(0, Math.min(bytes.length, 65536)),
  );
  const end = headText.indexOf('end_header');
  if (!headText.startsWith('ply') || end < 0) {
    throw new InputError(`'${name}' is not a PLY file: no 'ply' ... 'end_header' header.`);
  }
  const headerLines = headText.slice(0, end).split(/\r?\n/);
  let format = '';
  const elements: PlyElement[] = [];
  for (const line of headerLines) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'format') format = words[1] ?? '';
    else if (words[0] === 'element')
      elements.push({ name: words[1]!, count: Number(words[2]), properties: [] });
    else if (words[0] === 'property') {
      const element = elements[elements.length - 1];
      if (element === undefined)
        throw new InputError(`'${name}': a PLY property before any element.`);
      element.properties.push(
        words[1] === 'list'
          ? { name: words[4]!, type: words[3]!, countType: words[2]! }
          : { name: words[2]!, type: words[1]! },
      );
    }
  }
  if (!['ascii', 'binary_little_endian', 'binary_big_endian'].includes(format)) {
    throw new InputError(`'${name}': unsupported PLY format '${format}'.`);
  }
  const vertex = elements.find((element) => element.name === 'vertex');
  const names = vertex?.properties.map((property) => property.name) ?? [];
  if (vertex === undefined || !['x', 'y', 'z'].every((axis) => names.includes(axis))) {
    throw new InputError(`'${name}': the PLY file has no vertex element with x, y and z.`);
  }
  const newline = bytes.indexOf(0x0a, end);
  let offset = newline < 0 ? bytes.length : newline + 1;
  const values = new Map<string, number[][]>();
  if (format === 'ascii') {
    const tokens = new TextDecoder('latin1').decode(bytes.subarray(offset)).trim().split(/\s+/);
    let at = 0;
    const next = (): number => {
      const value = Number(tokens[at++]);
      if (!Number.isFinite(value))
        throw new InputError(`'${name}' is truncated or malformed in its PLY data.`);
      return value;
    };
    for (const element of elements) {
      const rows: number[][] = [];
      for (let i = 0; i < element.count; i++) {
        const row: number[] = [];
        for (const property of element.properties) {
          if (property.countType === undefined) row.push(next());
          else {
            const count = next();
            row.push(count);
            for (let k = 0; k < count; k++) row.push(next());
          }
        }
        rows.push(row);
      }
      values.set(element.name, rows);
    }
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const little = format === 'binary_little_endian';
    const read = (type: string): number => {
      const size = PLY_SIZES[type];
      if (size === undefined) throw new InputError(`'${name}': unknown PLY type '${type}'.`);
      if (offset + size > bytes.length)
        throw new InputError(`'${name}' is truncated in its PLY data.`);
      let value: number;
      switch (type) {
        case 'char':
        case 'int8':
          value = view.getInt8(offset);
          break;
        case 'uchar':
        case 'uint8':
          value = view.getUint8(offset);
          break;
        case 'short':
        case 'int16':
          value = view.getInt16(offset, little);
          break;
        case 'ushort':
        case 'uint16':
          value = view.getUint16(offset, little);
          break;
        case 'int':
        case 'int32':
          value = view.getInt32(offset, little);
          break;
        case 'uint':
        case 'uint32':
          value = view.getUint32(offset, little);
          break;
        case 'float':
        case 'float32':
          value = view.getFloat32(offset, little);
          break;
        default:
          value = view.getFloat64(offset, little);
      }
      offset += size;
      return value;
    };
    for (const element of elements) {
      const rows: number[][] = [];
      for (let i = 0; i < element.count; i++) {
        const row: number[] = [];
        for (const property of element.properties) {
          if (property.countType === undefined) row.push(read(property.type));
          else {
            const count = read(property.countType);
            row.push(count);
            for (let k = 0; k < count; k++) row.push(read(property.type));
          }
        }
        rows.push(row);
      }
      values.set(element.name, rows);
    }
  }
  const vertexRows = values.get('vertex')!;
  const column = (axis: string) => names.indexOf(axis);
  const hasNormals = ['nx', 'ny', 'nz'].every((axis) => names.includes(axis));
  const faceRows = values.get('face') ?? [];
  if (faceRows.length > 0) {
    const vertices = Float32Array.from(
      vertexRows.flatMap((row) => [row[column('x')]!, row[column('y')]!, row[column('z')]!]),
    );
    const triangles: number[] = [];
    for (const row of faceRows) {
      const count = row[0]!;
      for (let k = 1; k + 1 < count; k++) triangles.push(row[1]!, row[1 + k]!, row[2 + k]!);
    }
    if (triangles.some((v) => !Number.isInteger(v) || v < 0 || v >= vertexRows.length)) {
      throw new InputError(`'${name}': a PLY face refers to a vertex that does not exist.`);
    }
    return fromMesh(vertices, triangles, numPoints);
  }
  const channels = hasNormals ? 6 : 3;
  const axes = hasNormals ? ['x', 'y', 'z', 'nx', 'ny', 'nz'] : ['x', 'y', 'z'];
  const indices = axes.map(column);
  return {
    points: Float32Array.from(vertexRows.flatMap((row) => indices.map((i) => row[i]!))),
    channels,
  };
}

/** Samples `count` points on a triangle mesh's surface, area-weighted (with face normals). */
function fromMesh(vertices: Float32Array, triangles: number[], count: number): PointCloud {
  if (triangles.length === 0) return { points: vertices, channels: 3 };
  const faces = triangles.length / 3;
  const cumulative = new Float64Array(faces);
  const normals = new Float32Array(faces * 3);
  let total = 0;
  for (let f = 0; f < faces; f++) {
    const [a, b, c] = [triangles[3 * f]!, triangles[3 * f + 1]!, triangles[3 * f + 2]!];
    const ux = vertices[3 * b]! - vertices[3 * a]!;
    const uy = vertices[3 * b + 1]! - vertices[3 * a + 1]!;
    const uz = vertices[3 * b + 2]! - vertices[3 * a + 2]!;
    const vx = vertices[3 * c]! - vertices[3 * a]!;
    const vy = vertices[3 * c + 1]! - vertices[3 * a + 1]!;
    const vz = vertices[3 * c + 2]! - vertices[3 * a + 2]!;
    const nx = uy * vz - uz * vy;
    const ny = uz * vx - ux * vz;
    const nz = ux * vy - uy * vx;
    const length = Math.hypot(nx, ny, nz);
    total += length / 2;
    cumulative[f] = total;
    if (length > 0) normals.set([nx / length, ny / length, nz / length], 3 * f);
  }
  if (total === 0) return { points: vertices, channels: 3, faces };
  const rng = new RandomGenerator(SEED);
  const points = new Float32Array(count * 6);
  for (let i = 0; i < count; i++) {
    const target = rng.random() * total;
    let lo = 0;
    let hi = faces - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    let r1 = rng.random();
    let r2 = rng.random();
    if (r1 + r2 > 1) [r1, r2] = [1 - r1, 1 - r2];
    const [a, b, c] = [triangles[3 * lo]!, triangles[3 * lo + 1]!, triangles[3 * lo + 2]!];
    for (let axis = 0; axis < 3; axis++) {
      const p = vertices[3 * a + axis]!;
      points[6 * i + axis] =
        p + r1 * (vertices[3 * b + axis]! - p) + r2 * (vertices[3 * c + axis]! - p);
      points[6 * i + 3 + axis] = normals[3 * lo + axis]!;
    }
  }
  return { points, channels: 6, faces };
}

/**
 * What the classifier gets: at most `maxPoints` points (a fixed-seed subset when there are
 * more), xyz centred at the mean and scaled so the farthest point is on the unit sphere
 * (as the demo's datasets do), normals unchanged. Returns a new array.
 */
export function preparePoints(cloud: PointCloud, maxPoints: number): Float32Array {
  const { channels } = cloud;
  const n = cloud.points.length / channels;
  let points: Float32Array;
  if (n > maxPoints) {
    const order = new RandomGenerator(SEED)
      .permutation(n)
      .slice(0, maxPoints)
      .sort((a, b) => a - b);
    points = new Float32Array(maxPoints * channels);
    for (const [i, source] of order.entries()) {
      points.set(cloud.points.subarray(source * channels, (source + 1) * channels), i * channels);
    }
  } else points = Float32Array.from(cloud.points);
  const count = points.length / channels;
  const mean = [0, 0, 0];
  for (let i = 0; i < count; i++)
    for (let a = 0; a < 3; a++) mean[a]! += points[i * channels + a]! / count;
  let radius = 0;
  for (let i = 0; i < count; i++) {
    let squared = 0;
    for (let a = 0; a < 3; a++) {
      const value = points[i * channels + a]! - mean[a]!;
      points[i * channels + a] = value;
      squared += value * value;
    }
    radius = Math.max(radius, squared);
  }
  radius = Math.sqrt(radius);
  if (radius > 0)
    for (let i = 0; i < count; i++) for (let a = 0; a < 3; a++) points[i * channels + a]! /= radius;
  return points;
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}
