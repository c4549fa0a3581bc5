import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../errors.js';
import { ensureGradients } from './gradients.js';
import { withNativeChatterFiltered } from './native-chatter.js';

/** A concrete backend, best first: native GPU, native CPU, WebAssembly, pure JavaScript. */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** What {@link initBackend} accepts: a concrete backend, or `auto` for the best available one. */
export type BackendRequest = BackendName | 'auto';

/** The package behind each backend and the name tfjs knows it by. */
export const BACKENDS: Readonly<
  Record<BackendName, { readonly packageName: string; readonly tfName: string }>
> = {
  'tensorflow-gpu': { packageName: '@tensorflow/tfjs-node-gpu', tfName: 'tensorflow' },
  tensorflow: { packageName: '@tensorflow/tfjs-node', tfName: 'tensorflow' },
  wasm: { packageName: '@tensorflow/tfjs-backend-wasm', tfName: 'wasm' },
  cpu: { packageName: '@tensorflow/tfjs-backend-cpu', tfName: 'cpu' },
};

const ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * The backend to use. `auto` tries `tensorflow-gpu` (only where a GPU exists), `tensorflow`,
   * `wasm` and `cpu`, in that order, and takes the first that loads. A concrete name loads that
   * backend or throws. Defaults to the `GORILLA_BACKEND` environment variable, else `auto`.
   */
  backend?: BackendRequest | string;
  /** Receives one line per skipped better backend and one naming the chosen one. Defaults to `console.info`. */
  logger?: (line: string) => void;
}

/** A better backend that {@link initBackend} passed over, and why. */
export interface SkippedBackend {
  /** The backend passed over. */
  name: BackendName;
  /** `no GPU`, `not installed`, or `failed to load: <message>`. */
  reason: string;
}

/** What {@link initBackend} chose. */
export interface BackendInfo {
  /** The backend in use. */
  name: BackendName;
  /** The npm package that provides it. */
  packageName: string;
  /** The name tfjs knows it by (`tf.getBackend()`): `tensorflow`, `wasm` or `cpu`. */
  tfBackend: string;
  /** The better backends passed over (only with `auto`), best first. */
  skipped: SkippedBackend[];
}

/** How backends are found; replaced in tests. @internal */
export interface BackendEnvironment {
  importPackage(packageName: string): Promise<unknown>;
  hasGpu(): boolean;
}

const STATE = Symbol.for('@gorilla-ts/train.backend');

interface BackendState {
  /** The request of the last successful call and its result. */
  last?: { request: BackendRequest; info: Promise<BackendInfo> };
  /** The native package loaded in this process (both register the backend `tensorflow`). */
  nativePackage?: string;
  /** What {@link shareCpuThreads} set, said once a native backend loads. */
  threadSharing?: string;
}

function backendState(): BackendState {
  const holder = globalThis as typeof globalThis & { [STATE]?: BackendState };
  holder[STATE] ??= {};
  return holder[STATE];
}

const nodeEnvironment: BackendEnvironment = {
  importPackage: async (packageName) => {
    if (
      packageName === BACKENDS.tensorflow.packageName ||
      packageName === BACKENDS['tensorflow-gpu'].packageName
    ) {
      // libtensorflow prints its start-up notes while it loads, past TF_CPP_MIN_LOG_LEVEL:
      // load it synchronously with them filtered (the import below then finds it loaded).
      withNativeChatterFiltered(() => createRequire(import.meta.url)(packageName));
    }
    return import(/* @vite-ignore */ packageName);
  },
  hasGpu: detectGpu,
};

/**
 * Picks and initialises the TensorFlow.js backend, and registers the gradient functions
 * autodiff needs. Call it once at start-up, before building a model.
 *
 * `auto` tries `@tensorflow/tfjs-node-gpu` (only when `nvidia-smi -L` lists a GPU or
 * `/dev/nvidia0` exists), then `@tensorflow/tfjs-node`, then `@tensorflow/tfjs-backend-wasm`,
 * then the pure-JavaScript `cpu`, and logs the one chosen plus each better one skipped with the
 * reason. The native packages are optional: install `@tensorflow/tfjs-node` (or `-gpu`) to get
 * them. Calling it again with the same request returns the same result without logging.
 *
 * @example
 * ```ts
 * const { name } = await initBackend(); // e.g. 'tensorflow'
 * await initBackend({ backend: 'wasm' });
 * ```
 * @throws {@link BackendError} `BACKEND_UNKNOWN` for a name that is not a backend,
 *   `BACKEND_UNAVAILABLE` when a concrete backend cannot be loaded.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  // TensorFlow's C++ start-up notes (oneDNN, CPU instruction sets, absl) are read from the
  // environment when tfjs-node loads: quiet unless the user set a level (0 shows them).
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const request = parseRequest(options.backend ?? process.env.GORILLA_BACKEND ?? 'auto');
  const state = backendState();
  if (state.last !== undefined && state.last.request === request) {
    const info = await state.last.info.catch(() => undefined);
    if (info !== undefined && tf.getBackend() === info.tfBackend) return info;
  }
  const logger = options.logger ?? ((line: string) => console.info(line));
  const info = selectBackend(request, nodeEnvironment, logger);
  state.last = { request, info };
  try {
    return await info;
  } catch (error) {
    state.last = undefined;
    throw error;
  }
}

/** The backend chosen by the last successful {@link initBackend}, if any. */
export function currentBackend(): BackendName | undefined {
  const name = tf.getBackend();
  if (name === 'tensorflow') {
    return backendState().nativePackage === BACKENDS['tensorflow-gpu'].packageName
      ? 'tensorflow-gpu'
      : 'tensorflow';
  }
  return name === 'wasm' || name === 'cpu' ? name : undefined;
}

function parseRequest(value: string): BackendRequest {
  const name = value.trim();
  if (name === 'auto' || (ORDER as readonly string[]).includes(name)) return name as BackendRequest;
  throw new BackendError(
    'BACKEND_UNKNOWN',
    name,
    `Unknown backend '${name}' (from ${value === process.env.GORILLA_BACKEND ? 'GORILLA_BACKEND' : 'the backend option'}). ` +
      `Use one of: auto, ${ORDER.join(', ')}.`,
  );
}

/** The selection itself, with the outside world injected. @internal */
export async function selectBackend(
  request: BackendRequest,
  environment: BackendEnvironment,
  logger: (line: string) => void,
): Promise<BackendInfo> {
  const candidates = request === 'auto' ? ORDER : [request];
  const skipped: SkippedBackend[] = [];
  for (const name of candidates) {
    const reason = await tryBackend(name, environment, request === 'auto', logger);
    if (reason === undefined) {
      await ensureGradients();
      const { packageName, tfName } = BACKENDS[name];
      for (const skip of skipped) {
        logger(
          `backend: skipped ${skip.name} (${BACKENDS[skip.name].packageName}): ${skip.reason}`,
        );
      }
      const hint =
        skipped.some((skip) => skip.name === 'tensorflow') && (name === 'wasm' || name === 'cpu')
          ? '; for the faster native backend: npm i @tensorflow/tfjs-node'
          : '';
      logger(`backend: ${name} (${packageName}${versionSuffix(packageName)})${hint}`);
      const copies = findTfjsCoreCopies([packageName]);
      if (copies.length > 1) logger(describeTfjsCoreCopies(copies));
      if (name === 'tensorflow-gpu' && request !== 'auto' && !environment.hasGpu()) {
        logger(
          'backend: no GPU found (nvidia-smi -L, /dev/nvidia0); tfjs-node-gpu runs on the CPU',
        );
      }
      return { name, packageName, tfBackend: tfName, skipped };
    }
    if (request !== 'auto') {
      throw new BackendError(
        'BACKEND_UNAVAILABLE',
        name,
        `The '${name}' backend is unavailable: ${BACKENDS[name].packageName} ${reason === 'not installed' ? 'is not installed' : reason}. ` +
          `Install it (npm i ${BACKENDS[name].packageName}) or choose another backend (auto, ${ORDER.join(', ')}).`,
      );
    }
    skipped.push({ name, reason });
  }
  // The pure-JS cpu backend ships with this package, so this is reached only if it is broken.
  throw new BackendError(
    'BACKEND_UNAVAILABLE',
    'auto',
    `No backend could be loaded: ${skipped.map((skip) => `${skip.name}: ${skip.reason}`).join('; ')}.`,
  );
}

/** Loads one backend and makes it current; returns why not, or undefined on success. */
async function tryBackend(
  name: BackendName,
  environment: BackendEnvironment,
  auto: boolean,
  logger: (line: string) => void,
): Promise<string | undefined> {
  const { packageName, tfName } = BACKENDS[name];
  const state = backendState();
  const native = name === 'tensorflow' || name === 'tensorflow-gpu';
  if (name === 'tensorflow-gpu' && auto && !environment.hasGpu()) return 'no GPU';
  if (native && state.nativePackage !== undefined && state.nativePackage !== packageName) {
    return `failed to load: ${state.nativePackage} is already loaded in this process`;
  }
  // TensorFlow reads its thread counts once, when the native library loads. The line is kept:
  // after a failed tfjs-node-gpu the variables are set, and tfjs-node must still say so.
  const firstNative = native && state.nativePackage === undefined;
  if (firstNative) state.threadSharing ??= shareCpuThreads();
  const threads = firstNative ? state.threadSharing : undefined;
  if (native) restoreUtilIsNullOrUndefined();
  try {
    await environment.importPackage(packageName);
  } catch (error) {
    return describeLoadFailure(error, packageName);
  }
  if (native) state.nativePackage = packageName;
  if (threads !== undefined) logger(threads);
  if (tf.findBackendFactory(tfName) == null) {
    return `failed to load: ${packageName} registered no '${tfName}' backend with this copy of @tensorflow/tfjs-core`;
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfName);
  } catch (error) {
    return `failed to load: ${firstLine(error)}`;
  }
  if (!ok) return `failed to load: the '${tfName}' backend failed to initialise`;
  await tf.ready();
  if (tfName === 'cpu') quietCpuBackend();
  return undefined;
}

/**
 * tfjs-node 4.22 calls `util.isNullOrUndefined` in every kernel that takes attributes; Node 23
 * removed it (deprecated since Node 4), so on Node 24 every op fails with
 * `(0 , util_1.isNullOrUndefined) is not a function`. Puts it back on the `util` module that
 * CommonJS `require('util')` returns, only where it is missing. Returns whether it was added.
 * @internal
 */
export function restoreUtilIsNullOrUndefined(): boolean {
  const util = createRequire(import.meta.url)('node:util') as {
    isNullOrUndefined?: (value: unknown) => boolean;
  };
  if (typeof util.isNullOrUndefined === 'function') return false;
  util.isNullOrUndefined = (value: unknown) => value === null || value === undefined;
  return true;
}

/** Environment variables that say how many processes of this job run on this machine. */
const LOCAL_SIZE_VARIABLES = [
  'LOCAL_WORLD_SIZE', // @gorilla-ts/dist's launcher, torchrun
  'OMPI_COMM_WORLD_LOCAL_SIZE', // Open MPI's mpirun
  'MPI_LOCALNRANKS', // MPICH's mpiexec
] as const;

/**
 * With several processes of one job on this machine, gives each TensorFlow an equal share of
 * the CPU threads (as torchrun does with OMP_NUM_THREADS): by default every process would start
 * one thread per core, and N processes would then fight over N times as many threads as cores.
 * Only fills in `TF_NUM_INTRAOP_THREADS` and `TF_NUM_INTEROP_THREADS` where they are unset.
 * Returns the line to log, or undefined when nothing was changed. @internal
 */
export function shareCpuThreads(
  env: Record<string, string | undefined> = process.env,
  cores: number = availableParallelism(),
): string | undefined {
  const source = LOCAL_SIZE_VARIABLES.find((name) => Number(env[name]) > 1);
  if (source === undefined) return undefined;
  const localSize = Number(env[source]);
  const threads = Math.max(1, Math.floor(cores / localSize));
  const set: string[] = [];
  for (const name of ['TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS']) {
    if (env[name] === undefined || env[name] === '') {
      env[name] = String(threads);
      set.push(name);
    }
  }
  if (set.length === 0) return undefined;
  return (
    `backend: ${localSize} processes on this machine (${source}) share its ${cores} cores: ` +
    `${set.join(' and ')} set to ${threads} (set them to override)`
  );
}

/**
 * `not installed` when the package itself cannot be resolved, else `failed to load: <first line>`
 * (a native addon that is missing or cannot be opened, a broken install). @internal
 */
export function describeLoadFailure(error: unknown, packageName: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = firstLine(error);
  const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  if (
    notFound &&
    (message.includes(`Cannot find package '${packageName}'`) ||
      message.includes(`Cannot find module '${packageName}'`) ||
      message.includes(`Failed to load url ${packageName} `))
  ) {
    return 'not installed';
  }
  if (packageName.startsWith('@tensorflow/tfjs-node') && /\.node\b|libtensorflow/.test(message)) {
    return `failed to load: ${message} (${rebuildHint(packageName)})`;
  }
  return `failed to load: ${message}`;
}

/**
 * What to rerun when a native package is installed but its binding is missing: its install
 * script downloads libtensorflow and the prebuilt addon, and failed or was not allowed to run.
 * @internal
 */
export function rebuildHint(packageName: string): string {
  return (
    `${packageName} is installed but its native binding is missing: its install script, which ` +
    `downloads libtensorflow, failed or did not run. Rerun it: npm rebuild ${packageName} ` +
    `(npm hides the download error unless --foreground-scripts), pnpm rebuild ${packageName} ` +
    `(pnpm 10+ runs it only when allowed: allowBuilds in pnpm-workspace.yaml or pnpm approve-builds), ` +
    `or yarn rebuild ${packageName}`
  );
}

/** One installed copy of `@tensorflow/tfjs-core` and the packages that resolve it. */
export interface TfjsCoreCopy {
  /** The copy's folder (real path). */
  path: string;
  /** Its version. */
  version: string;
  /** The packages that use this copy: `@gorilla-ts/train` and backend packages. */
  usedBy: string[];
}

/**
 * The copies of `@tensorflow/tfjs-core` that `@gorilla-ts/train` (from `from`, its own folder by
 * default) and the given backend packages resolve. More than one means two tfjs engines in one
 * process: a tensor made by one is not a tensor of the other, and a backend registered with one
 * is missing from the other. Packages that cannot be resolved are left out. @internal
 */
export function findTfjsCoreCopies(
  packageNames: readonly string[],
  from: string = import.meta.url,
): TfjsCoreCopy[] {
  const copies = new Map<string, TfjsCoreCopy>();
  const add = (resolveFrom: string, user: string): void => {
    try {
      const file = createRequire(resolveFrom).resolve('@tensorflow/tfjs-core/package.json');
      const path = dirname(realpathSync(file));
      const copy = copies.get(path) ?? {
        path,
        version: (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version,
        usedBy: [],
      };
      copy.usedBy.push(user);
      copies.set(path, copy);
    } catch {}
  };
  add(from, '@gorilla-ts/train');
  for (const name of packageNames) {
    if (name === BACKENDS.cpu.packageName) continue; // bundled with train, resolves train's copy
    try {
      add(createRequire(from).resolve(`${name}/package.json`), name);
    } catch {}
  }
  return [...copies.values()];
}

/** The warning for {@link findTfjsCoreCopies}' result. @internal */
export function describeTfjsCoreCopies(copies: readonly TfjsCoreCopy[]): string {
  return (
    `backend: ${copies.length} copies of @tensorflow/tfjs-core are installed, i.e. ${copies.length} tfjs engines: ` +
    copies
      .map((copy) => `${copy.version} at ${copy.path} (used by ${copy.usedBy.join(', ')})`)
      .join('; ') +
    '. Tensors and backends of one are not seen by the other. Install one version: the same ' +
    '@tensorflow/tfjs-core version as your backend packages, then npm dedupe (or an npm "overrides" / pnpm "overrides" entry)'
  );
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0]!.trim();
}

function versionSuffix(packageName: string): string {
  try {
    const require = createRequire(import.meta.url);
    const version = (require(`${packageName}/package.json`) as { version?: string }).version;
    return version === undefined ? '' : ` ${version}`;
  } catch {
    return '';
  }
}

/** The cpu backend prints an advert for tfjs-node on first use; {@link initBackend} already said which backend runs. */
function quietCpuBackend(): void {
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if (typeof backend.firstUse === 'boolean') backend.firstUse = false;
}

/** True when an NVIDIA GPU is visible: `/dev/nvidia0` exists or `nvidia-smi -L` lists one. */
export function detectGpu(): boolean {
  if (existsSync('/dev/nvidia0')) return true;
  try {
    const out = execFileSync('nvidia-smi', ['-L'], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return /^GPU \d+:/m.test(out);
  } catch {
    return false;
  }
}
