import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// Users install single packages from npm: each tarball must install and import on its own,
// with nothing from this workspace around it.
const root = resolve(import.meta.dirname, '../../..');
const packed = ['registry', 'config', 'dist', 'dist-mpi', 'train', 'models-pointnet'] as const;
const typescript = join(root, 'node_modules/typescript/bin/tsc');

let work: string;
const tarballs = new Map<string, string>();

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    // Say what the command printed (a type error, an npm failure), not only that it failed.
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`,
      { cause: error },
    );
  }
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'gorilla-pack-'));
  const destination = join(work, 'tarballs');
  mkdirSync(destination);
  for (const name of packed) {
    run('pnpm', ['pack', '--pack-destination', destination], join(root, 'packages', name));
    const file = readdirSync(destination).find((entry) => entry.startsWith(`gorilla-ts-${name}-`));
    if (file === undefined) throw new Error(`pnpm pack produced no tarball for ${name}`);
    tarballs.set(name, join(destination, file));
  }
}, 120_000);

// The scratch projects hold several npm installs (tfjs-node's native library among them): removing
// them took over 10 s (vitest's default hook limit) on CI's 2 cores with two CPU burners beside it.
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
}, 300_000);

function emptyProject(name: string, type: 'module' | 'commonjs' = 'module'): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
  return dir;
}

const NPM_INSTALL = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

function npmInstall(dir: string, specs: string[]): void {
  run('npm', [...NPM_INSTALL, ...specs], dir);
}

// A consumer of config and registry, as an ES module and as CommonJS (`require()` of the ESM
// build, Node >= 20.19): validates a config and registers a class with a schema from the
// project's own zod.
const CONSUMER_BODY = `const out = { node: process.versions.node };
const cfg = await Config.fromString('model:\\n  width: 4\\n', 'yaml');
try {
  out.config = validateConfig(cfg, z.object({ model: z.object({ width: z.number() }) }));
} catch (error) {
  out.config = { code: error.code, message: error.message };
}
try {
  MODELS.register('Net', class Net {}, { schema: z.object({ width: z.number() }) });
  out.registry = 'registered';
} catch (error) {
  out.registry = { name: error.name, message: error.message };
}
console.log(JSON.stringify(out));`;
const ESM_CONSUMER = `import { Config, validateConfig } from '@gorilla-ts/config';
import { MODELS } from '@gorilla-ts/registry';
import * as z from 'zod';
${CONSUMER_BODY}
`;
const CJS_CONSUMER = `const { Config, validateConfig } = require('@gorilla-ts/config');
const { MODELS } = require('@gorilla-ts/registry');
const z = require('zod');
(async () => {
${CONSUMER_BODY}
})();
`;

describe.each(['4', '3'])('a CommonJS project on zod %s', (zodMajor) => {
  let dir: string;
  let strictInstall: { status: number | null; output: string };
  beforeAll(() => {
    dir = emptyProject(`zod-${zodMajor}`, 'commonjs');
    const specs = [tarballs.get('registry')!, tarballs.get('config')!, `zod@${zodMajor}`];
    const first = spawnSync('npm', [...NPM_INSTALL, ...specs], { cwd: dir, encoding: 'utf8' });
    strictInstall = { status: first.status, output: `${first.stdout}${first.stderr}` };
    // npm refuses a peer dependency conflict; --legacy-peer-deps (or pnpm) installs anyway.
    if (first.status !== 0) npmInstall(dir, ['--legacy-peer-deps', ...specs]);
    writeFileSync(join(dir, 'main.mjs'), ESM_CONSUMER);
    writeFileSync(join(dir, 'main.js'), CJS_CONSUMER);
  }, 240_000);

  test.each([
    ['ESM', 'main.mjs'],
    ['CJS', 'main.js'],
  ])('%s consumer (%s)', (_kind, script) => {
    const out = JSON.parse(run(process.execPath, [script], dir));
    if (zodMajor === '4') {
      expect(strictInstall.status, strictInstall.output).toBe(0);
      expect(out).toEqual({
        node: process.versions.node,
        config: { model: { width: 4 } },
        registry: 'registered',
      });
      return;
    }
    // npm names the conflict at install time...
    expect(strictInstall.status).not.toBe(0);
    expect(strictInstall.output).toContain('ERESOLVE');
    expect(strictInstall.output).toMatch(/peer zod@"\^4\.0\.0"/);
    // ...and, installed anyway, both packages name the versions instead of failing inside zod.
    const installed = JSON.parse(readFileSync(join(dir, 'node_modules/zod/package.json'), 'utf8'))
      .version as string;
    expect(installed).toMatch(/^3\./);
    expect(out.config.code).toBe('CONFIG_ZOD_VERSION');
    expect(out.config.message).toContain(`zod ${installed}`);
    expect(out.config.message).toContain('^4');
    expect(out.registry.name).toBe('TypeError');
    expect(out.registry.message).toContain('zod 3 schema');
    expect(out.registry.message).toContain(`zod ${installed} is installed`);
  });
});

// The models-pointnet README's "train PointNet from npm" example, found by its marker, runs
// against the packed tarballs exactly as a reader would run it (a tsc --init project with
// target ES2022, installed with npm).
const POINTNET_MARKER = '<!-- readme-test: id pointnet-from-npm -->';
function pointnetExample(): string | undefined {
  const readme = readFileSync(join(root, 'packages/models-pointnet/README.md'), 'utf8');
  const at = readme.indexOf(POINTNET_MARKER);
  if (at < 0) return undefined;
  const match = /```(?:ts|typescript)\n([\s\S]*?)\n```/.exec(readme.slice(at));
  return match?.[1];
}
const pointnetBlock = pointnetExample();

describe('packed tarballs', () => {
  test.skipIf(pointnetBlock === undefined)(
    `the models-pointnet README example marked pointnet-from-npm trains from npm${pointnetBlock === undefined ? ' (skipped: no block carries the marker yet)' : ''}`,
    () => {
      const dir = emptyProject('pointnet-from-npm');
      npmInstall(dir, [
        '--omit=optional',
        ...['registry', 'dist', 'train', 'models-pointnet'].map((name) => tarballs.get(name)!),
        '@tensorflow/tfjs-core@4',
        'zod@4',
        `@types/node@${process.versions.node.split('.')[0]}`,
      ]);
      writeFileSync(join(dir, 'main.ts'), `${pointnetBlock}\n`);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            target: 'ES2022',
            strict: true,
            skipLibCheck: true,
            types: ['node'],
            outDir: 'out',
          },
          files: ['main.ts'],
        }),
      );
      run(process.execPath, [typescript, '-p', 'tsconfig.json'], dir);
      const result = spawnSync(process.execPath, ['out/main.js'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 540_000,
      });
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    },
    600_000,
  );

  test('contain the build, the types, a README and the licence, and no tests', () => {
    for (const [name, file] of tarballs) {
      const listing = run('tar', ['-tzf', file], work).split('\n');
      expect(listing, name).toEqual(
        expect.arrayContaining([
          'package/package.json',
          'package/README.md',
          'package/LICENSE',
          'package/dist/index.js',
          'package/dist/index.d.ts',
        ]),
      );
      expect(
        listing.filter((entry) => entry.includes('/test/')),
        name,
      ).toEqual([]);
    }
  });

  test('@gorilla-ts/registry installs alone, imports and type-checks', () => {
    const dir = emptyProject('uses-registry');
    npmInstall(dir, [tarballs.get('registry')!, 'zod@4']);
    writeFileSync(
      join(dir, 'main.ts'),
      `import { MODELS, Registry, buildModel } from '@gorilla-ts/registry';
import { z } from 'zod';
class Net { constructor(readonly options: { width: number }) {} }
MODELS.register('Net', Net, { schema: z.object({ width: z.number() }) });
const net = buildModel<Net>({ type: 'Net', width: 4 });
const local = new Registry<Net>('local');
console.log(JSON.stringify({ width: net.options.width, size: local.size, models: MODELS.size }));
`,
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          target: 'ES2022',
          strict: true,
          outDir: 'out',
          skipLibCheck: false,
          types: [],
        },
        files: ['main.ts'],
      }),
    );
    run(process.execPath, [typescript, '-p', 'tsconfig.json'], dir);
    expect(JSON.parse(run(process.execPath, ['out/main.js'], dir))).toEqual({
      width: 4,
      size: 0,
      models: 1,
    });
  }, 120_000);

  test('@gorilla-ts/config installs alone and loads a YAML file with a base', () => {
    const dir = emptyProject('uses-config');
    npmInstall(dir, [tarballs.get('config')!]);
    writeFileSync(join(dir, 'base.yaml'), 'model:\n  type: Net\n  width: 4\nlr: 1e-3\n');
    writeFileSync(join(dir, 'child.yaml'), '_base_: ./base.yaml\nmodel:\n  width: 8\n');
    writeFileSync(
      join(dir, 'main.mjs'),
      `import { Config } from '@gorilla-ts/config';
const cfg = await Config.fromFile('child.yaml');
console.log(JSON.stringify(cfg.toObject()));
`,
    );
    expect(JSON.parse(run(process.execPath, ['main.mjs'], dir))).toEqual({
      model: { type: 'Net', width: 8 },
      lr: 0.001,
    });
  }, 120_000);

  test('@gorilla-ts/train installs with its own dependencies and trains a step on the cpu backend', () => {
    const dir = emptyProject('uses-train');
    // The native backend is optional; leave it out here so the test needs no libtensorflow.
    npmInstall(dir, [
      '--omit=optional',
      tarballs.get('registry')!,
      tarballs.get('dist')!,
      tarballs.get('train')!,
      '@tensorflow/tfjs-core@4.22.0',
    ]);
    writeFileSync(
      join(dir, 'main.mjs'),
      `import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Linear, SGD, setRandomSeed } from '@gorilla-ts/train';
import { getWorldSize } from '@gorilla-ts/dist';
const info = await initBackend({ backend: 'cpu', logger: () => {} });
setRandomSeed(0);
const layer = new Linear({ inFeatures: 2, outFeatures: 1 });
const optimizer = new SGD({ params: layer.namedParameters(), lr: 0.1 });
const x = tf.tensor2d([[1, 2]]);
const before = layer.weight.arraySync();
optimizer.minimize(() => tf.sum(layer.apply(x)));
console.log(JSON.stringify({ backend: info.name, world: getWorldSize(), moved: JSON.stringify(before) !== JSON.stringify(layer.weight.arraySync()) }));
`,
    );
    expect(JSON.parse(run(process.execPath, ['main.mjs'], dir))).toEqual({
      backend: 'cpu',
      world: 1,
      moved: true,
    });
  }, 180_000);

  test('@gorilla-ts/models-pointnet installs with its own dependencies and classifies points', () => {
    const dir = emptyProject('uses-pointnet');
    npmInstall(dir, [
      '--omit=optional',
      ...['registry', 'dist', 'train', 'models-pointnet'].map((name) => tarballs.get(name)!),
      '@tensorflow/tfjs-core@4.22.0',
    ]);
    writeFileSync(
      join(dir, 'main.mjs'),
      `import * as tf from '@tensorflow/tfjs-core';
import { MODELS, buildModel } from '@gorilla-ts/registry';
import { initBackend, parameterCount, setRandomSeed } from '@gorilla-ts/train';
import '@gorilla-ts/models-pointnet';
await initBackend({ backend: 'cpu', logger: () => {} });
setRandomSeed(0);
const model = buildModel({ type: 'PointNetCls', num_classes: 40, dropout: 0.4 });
model.eval();
const { logits } = model.forward(tf.randomNormal([2, 64, 3], 0, 1, 'float32', 1));
console.log(JSON.stringify({ registered: MODELS.has('PointNetCls'), shape: logits.shape, parameters: parameterCount(model).get('') }));
`,
    );
    expect(JSON.parse(run(process.execPath, ['main.mjs'], dir))).toEqual({
      registered: true,
      shape: [2, 40],
      parameters: 811_048,
    });
  }, 180_000);

  test('@gorilla-ts/dist-mpi compiles its addon on install and all-reduces under mpirun', () => {
    const dir = emptyProject('uses-dist-mpi');
    npmInstall(dir, [tarballs.get('dist')!, tarballs.get('dist-mpi')!]);
    writeFileSync(
      join(dir, 'main.mjs'),
      `import { allReduce, getRank, getWorldSize, launch } from '@gorilla-ts/dist';
import { isMpiAvailable, mpiUnavailableReason } from '@gorilla-ts/dist-mpi';
if (!isMpiAvailable()) {
  console.log(JSON.stringify({ mpi: false, reason: mpiUnavailableReason() }));
} else {
  await launch(async () => {
    const sum = await allReduce(Float32Array.of(getRank() + 1, 10), 'sum');
    console.log(JSON.stringify({ mpi: true, rank: getRank(), world: getWorldSize(), sum: [...sum] }));
  }, 1);
}
`,
    );
    const hasMpi = spawnSync('mpicc', ['--version'], { stdio: 'ignore' }).status === 0;
    if (!hasMpi) {
      // Without MPI the install still succeeds and the package says why the backend is missing.
      expect(process.env.GORILLA_REQUIRE_MPI, 'GORILLA_REQUIRE_MPI=1 but no mpicc').not.toBe('1');
      const alone = JSON.parse(run(process.execPath, ['main.mjs'], dir));
      expect(alone).toMatchObject({ mpi: false, reason: expect.stringContaining('not built') });
      return;
    }
    // Open MPI refuses root (CI containers) and more ranks than cores unless told.
    const openMpi = run('mpirun', ['--version'], dir).includes('Open MPI');
    const flags = openMpi ? ['--allow-run-as-root', '--oversubscribe'] : [];
    const lines = run('mpirun', [...flags, '-np', '2', process.execPath, 'main.mjs'], dir)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .sort((a, b) => a.rank - b.rank);
    expect(lines).toEqual([
      { mpi: true, rank: 0, world: 2, sum: [3, 20] },
      { mpi: true, rank: 1, world: 2, sum: [3, 20] },
    ]);
  }, 180_000);

  test('every pending changeset parses (pnpm changeset status)', () => {
    const output = run('pnpm', ['changeset', 'status'], root);
    for (const name of packed) expect(output).toContain(`@gorilla-ts/${name}`);
  }, 60_000);

  test('pnpm publish -r --dry-run passes', () => {
    const output = run('pnpm', ['publish', '-r', '--dry-run', '--no-git-checks'], root);
    for (const name of packed) expect(output).toContain(`@gorilla-ts/${name}`);
  }, 120_000);
});
