/**
 * Parametric shapes for {@link SyntheticShapes}: each writes `n` surface points (xyz, y up, about
 * unit size) into `out`, with its proportions drawn from `rng` within class-specific ranges that
 * do not overlap between look-alike classes.
 */
import type { Rng } from './random.js';

/** Writes `n` points of one random instance of a shape class into `out` (xyz per point). */
export type ShapeGenerator = (out: Float32Array, n: number, rng: Rng) => void;

const TAU = 2 * Math.PI;

/** A uniform random direction (Marsaglia via normals). */
function direction(rng: Rng): [number, number, number] {
  for (;;) {
    const x = rng.normal();
    const y = rng.normal();
    const z = rng.normal();
    const length = Math.sqrt(x * x + y * y + z * z);
    if (length > 1e-9) return [x / length, y / length, z / length];
  }
}

function put(out: Float32Array, i: number, x: number, y: number, z: number): void {
  out[i * 3] = x;
  out[i * 3 + 1] = y;
  out[i * 3 + 2] = z;
}

/** Picks an index with probability proportional to `weights`. */
function pick(weights: readonly number[], rng: Rng): number {
  let total = 0;
  for (const weight of weights) total += weight;
  let u = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i]!;
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** A uniform point of the triangle (a, b, c). */
function triangle(
  out: Float32Array,
  i: number,
  a: readonly number[],
  b: readonly number[],
  c: readonly number[],
  rng: Rng,
): void {
  const r1 = Math.sqrt(rng.next());
  const r2 = rng.next();
  const wa = 1 - r1;
  const wb = r1 * (1 - r2);
  const wc = r1 * r2;
  put(
    out,
    i,
    wa * a[0]! + wb * b[0]! + wc * c[0]!,
    wa * a[1]! + wb * b[1]! + wc * c[1]!,
    wa * a[2]! + wb * b[2]! + wc * c[2]!,
  );
}

const sphere: ShapeGenerator = (out, n, rng) => {
  for (let i = 0; i < n; i++) put(out, i, ...direction(rng));
};

const cube: ShapeGenerator = (out, n, rng) => {
  for (let i = 0; i < n; i++) {
    const face = rng.int(6);
    const axis = face >> 1;
    const coordinates = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)];
    coordinates[axis] = face & 1 ? 1 : -1;
    put(out, i, coordinates[0]!, coordinates[1]!, coordinates[2]!);
  }
};

/** Tall: radius 0.35–0.5, height 1.6–2.0, flat caps. */
const cylinder: ShapeGenerator = (out, n, rng) => {
  const radius = rng.uniform(0.35, 0.5);
  const half = rng.uniform(0.8, 1.0);
  const weights = [TAU * radius * 2 * half, Math.PI * radius * radius * 2];
  for (let i = 0; i < n; i++) {
    const angle = rng.uniform(0, TAU);
    if (pick(weights, rng) === 0) {
      put(out, i, radius * Math.cos(angle), rng.uniform(-half, half), radius * Math.sin(angle));
    } else {
      const r = radius * Math.sqrt(rng.next());
      put(out, i, r * Math.cos(angle), rng.next() < 0.5 ? -half : half, r * Math.sin(angle));
    }
  }
};

/** Apex up: base radius 0.6–0.8, height 1.4–1.8, closed base. */
const cone: ShapeGenerator = (out, n, rng) => {
  const radius = rng.uniform(0.6, 0.8);
  const height = rng.uniform(1.4, 1.8);
  const weights = [Math.PI * radius * Math.hypot(radius, height), Math.PI * radius * radius];
  for (let i = 0; i < n; i++) {
    const angle = rng.uniform(0, TAU);
    if (pick(weights, rng) === 0) {
      const t = Math.sqrt(rng.next()); // area grows linearly from the apex
      put(
        out,
        i,
        radius * t * Math.cos(angle),
        height / 2 - height * t,
        radius * t * Math.sin(angle),
      );
    } else {
      const r = radius * Math.sqrt(rng.next());
      put(out, i, r * Math.cos(angle), -height / 2, r * Math.sin(angle));
    }
  }
};

/** Lying flat (axis y): ring radius 1, tube radius 0.2–0.35, area-uniform. */
const torus: ShapeGenerator = (out, n, rng) => {
  const ring = 1;
  const tube = rng.uniform(0.2, 0.35);
  for (let i = 0; i < n; i++) {
    let phi: number;
    do phi = rng.uniform(0, TAU);
    while (rng.next() * (ring + tube) > ring + tube * Math.cos(phi));
    const theta = rng.uniform(0, TAU);
    const r = ring + tube * Math.cos(phi);
    put(out, i, r * Math.cos(theta), tube * Math.sin(phi), r * Math.sin(theta));
  }
};

/** A flat horizontal disc of radius 1. */
const disc: ShapeGenerator = (out, n, rng) => {
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(rng.next());
    const angle = rng.uniform(0, TAU);
    put(out, i, r * Math.cos(angle), 0, r * Math.sin(angle));
  }
};

/** Square base (half side 0.7–0.9), apex up, height 1.0–1.4. */
const pyramid: ShapeGenerator = (out, n, rng) => {
  const a = rng.uniform(0.7, 0.9);
  const height = rng.uniform(1.0, 1.4);
  const bottom = -height / 2;
  const apex = [0, height / 2, 0];
  const corners = [
    [-a, bottom, -a],
    [a, bottom, -a],
    [a, bottom, a],
    [-a, bottom, a],
  ];
  const side = a * Math.hypot(height, a); // 0.5 · base 2a · slant height
  const weights = [4 * a * a, side, side, side, side];
  for (let i = 0; i < n; i++) {
    const face = pick(weights, rng);
    if (face === 0) put(out, i, rng.uniform(-a, a), bottom, rng.uniform(-a, a));
    else triangle(out, i, apex, corners[face - 1]!, corners[face % 4]!, rng);
  }
};

/** A spring: 2.5–4 turns of radius 0.6–0.8 over height 2, wire radius 0.06. */
const helix: ShapeGenerator = (out, n, rng) => {
  const turns = rng.uniform(2.5, 4);
  const radius = rng.uniform(0.6, 0.8);
  const wire = 0.06;
  for (let i = 0; i < n; i++) {
    const t = rng.next();
    const angle = TAU * turns * t;
    const [dx, dy, dz] = direction(rng);
    put(
      out,
      i,
      radius * Math.cos(angle) + wire * dx,
      -1 + 2 * t + wire * dy,
      radius * Math.sin(angle) + wire * dz,
    );
  }
};

/** Long horizontal axis 1, the others 0.3–0.45 (vertical) and 0.55–0.7. */
const ellipsoid: ShapeGenerator = (out, n, rng) => {
  const b = rng.uniform(0.3, 0.45);
  const c = rng.uniform(0.55, 0.7);
  for (let i = 0; i < n; i++) {
    const [x, y, z] = direction(rng);
    put(out, i, x, b * y, c * z);
  }
};

/** Upright: radius 0.3–0.4, straight part 1.0–1.4 long, round ends. */
const capsule: ShapeGenerator = (out, n, rng) => {
  const radius = rng.uniform(0.3, 0.4);
  const half = rng.uniform(0.5, 0.7);
  const weights = [TAU * radius * 2 * half, 4 * Math.PI * radius * radius];
  for (let i = 0; i < n; i++) {
    if (pick(weights, rng) === 0) {
      const angle = rng.uniform(0, TAU);
      put(out, i, radius * Math.cos(angle), rng.uniform(-half, half), radius * Math.sin(angle));
    } else {
      const [x, y, z] = direction(rng);
      put(out, i, radius * x, radius * y + (y >= 0 ? half : -half), radius * z);
    }
  }
};

/** The shape classes, in label order. */
export const SHAPES: readonly { name: string; generate: ShapeGenerator }[] = [
  { name: 'sphere', generate: sphere },
  { name: 'cube', generate: cube },
  { name: 'cylinder', generate: cylinder },
  { name: 'cone', generate: cone },
  { name: 'torus', generate: torus },
  { name: 'disc', generate: disc },
  { name: 'pyramid', generate: pyramid },
  { name: 'helix', generate: helix },
  { name: 'ellipsoid', generate: ellipsoid },
  { name: 'capsule', generate: capsule },
];
