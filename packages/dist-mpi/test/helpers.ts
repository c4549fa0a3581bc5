import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMpiAvailable, mpiUnavailableReason } from '../src/addon.js';

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** The built entry point (tests run against the build, like the fixtures). */
export const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** dist's own collective fixture: the tests the TCP backend passes. */
export const sharedCollectives = fileURLToPath(
  new URL('../../dist/test/fixtures/collectives.mjs', import.meta.url),
);

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, command);
    if (dir && existsSync(file)) return file;
  }
  return undefined;
}

const mpirun = onPath('mpirun');
const isOpenMpi =
  mpirun !== undefined &&
  /Open MPI|OpenRTE/.test(spawnSync(mpirun, ['--version'], { encoding: 'utf8' }).stdout ?? '');

/** Why the tests that need MPI cannot run here, or `undefined` when they can. */
export const mpiSkipReason: string | undefined = !mpirun
  ? 'mpirun is not on PATH (apt-get install openmpi-bin libopenmpi-dev)'
  : !existsSync(entry)
    ? `${entry} is missing: run pnpm build first`
    : !isMpiAvailable()
      ? `the mpi backend is unavailable: ${mpiUnavailableReason()}`
      : undefined;

// CI sets GORILLA_REQUIRE_MPI=1 once it has installed OpenMPI: there a skip would hide a broken
// build, so it fails instead.
if (mpiSkipReason !== undefined && process.env.GORILLA_REQUIRE_MPI === '1') {
  throw new Error(`GORILLA_REQUIRE_MPI=1 but the MPI tests cannot run: ${mpiSkipReason}`);
}

/** A describe title that carries the reason when skipped. */
export const titled = (title: string, reason: string | undefined = mpiSkipReason): string =>
  reason ? `${title} (skipped: ${reason})` : title;

/** The environment of a fresh process: no launcher variables of an enclosing run. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      /^(RANK|LOCAL_RANK|WORLD_SIZE|LOCAL_WORLD_SIZE|GROUP_RANK|MASTER_ADDR|MASTER_PORT)$/.test(
        name,
      )
    )
      continue;
    if (/^(GORILLA_DIST_|OMPI_|PMI_|PMIX_|SLURM_)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end (killed after `timeoutMs`). */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Result> {
  const started = Date.now();
  const child = spawn(command, args, {
    env: options.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** `mpirun -np <np> node [nodeArgs] <script> [args]` (Open MPI: as root, oversubscribed). */
export function mpiRun(
  np: number,
  script: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<Result> {
  const flags = isOpenMpi ? ['--allow-run-as-root', '--oversubscribe'] : [];
  return run(
    mpirun ?? 'mpirun',
    [...flags, '-np', String(np), process.execPath, ...(options.nodeArgs ?? []), script, ...args],
    options,
  );
}

/** The JSON objects printed one per line, sorted by their `rank`. */
export function rankLines<T extends { rank: number }>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as T)
    .sort((a, b) => a.rank - b.rank);
}
