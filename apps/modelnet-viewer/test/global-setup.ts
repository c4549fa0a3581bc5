/**
 * The checkpoint every test classifies with: `GORILLA_VIEWER_CHECKPOINT` when set, else the main
 * job's (`pnpm --filter modelnet-demo train` → apps/modelnet-demo/log/default/epoch_latest),
 * else a short real run of the demo CLI on the synthetic default (seed 0, 3 epochs, 16 shapes
 * per class: about 10 s), written to a temporary folder removed afterwards.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const here = dirname(fileURLToPath(import.meta.url));
const demo = resolve(here, '../../modelnet-demo');

declare module 'vitest' {
  export interface ProvidedContext {
    checkpoint: string;
    metrics: string | undefined;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  let temporary: string | undefined;
  let checkpoint = process.env.GORILLA_VIEWER_CHECKPOINT;
  const mainJob = join(demo, 'log/default/epoch_latest.safetensors');
  if (checkpoint === undefined && existsSync(mainJob)) checkpoint = mainJob;
  if (checkpoint === undefined) {
    temporary = mkdtempSync(join(tmpdir(), 'viewer-run-'));
    await promisify(execFile)(
      process.execPath,
      [
        join(demo, 'dist/cli.js'),
        'train',
        `logRoot=${temporary}`,
        'epochs=3',
        'dataset.samplesPerClass=16',
      ],
      { cwd: temporary, timeout: 300_000 },
    );
    checkpoint = join(temporary, 'default/epoch_latest.safetensors');
  }
  const runDir = dirname(checkpoint);
  const metrics = readdirSync(runDir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .pop(); // the newest run's (timestamped names)
  project.provide('checkpoint', resolve(checkpoint));
  project.provide('metrics', metrics === undefined ? undefined : join(runDir, metrics));
  return () => {
    if (temporary !== undefined) rmSync(temporary, { recursive: true, force: true });
  };
}
