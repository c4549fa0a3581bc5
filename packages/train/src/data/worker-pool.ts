import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DataLoaderError } from '../errors.js';

/**
 * The code each worker thread runs (kept inline so it works from `src` and `dist` alike). It
 * imports the user's module, builds the dataset once, then answers `{ id, indices }` requests
 * with the samples, which are structured-cloned back (typed arrays are copied, so a dataset may
 * cache and return the same arrays).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const describe = (error) => (error && error.stack) ? String(error.stack) : String(error);
(async () => {
  const module = await import(workerData.moduleUrl);
  let dataset;
  if (typeof module.createDataset === 'function') dataset = await module.createDataset(workerData.options);
  else if (typeof module.default === 'function') dataset = await module.default(workerData.options);
  else dataset = module.dataset ?? module.default;
  if (!dataset || typeof dataset.get !== 'function' || typeof dataset.length !== 'number') {
    throw new Error(workerData.moduleUrl + ' must export createDataset(options) (or a default function, or a dataset) returning { length, get(index) }.');
  }
  parentPort.on('message', async (request) => {
    try {
      const samples = await Promise.all(request.indices.map((index) => dataset.get(index)));
      parentPort.postMessage({ type: 'batch', id: request.id, samples });
    } catch (error) {
      parentPort.postMessage({ type: 'error', id: request.id, message: describe(error) });
    }
  });
  parentPort.postMessage({ type: 'ready', length: dataset.length });
})().catch((error) => parentPort.postMessage({ type: 'fatal', message: describe(error) }));
`;

type WorkerMessage =
  | { type: 'ready'; length: number }
  | { type: 'batch'; id: number; samples: unknown[] }
  | { type: 'error'; id: number; message: string }
  | { type: 'fatal'; message: string };

interface Pending {
  resolve: (samples: unknown[]) => void;
  reject: (error: Error) => void;
  indices: readonly number[];
}

interface Slot {
  worker: Worker;
  /** Requests assigned to this worker and not answered yet (including those awaiting ready). */
  busy: number;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  failure: Error | undefined;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Path (relative to the cwd) or URL of the module that builds the dataset. */
  module: string | URL;
  /** Number of worker threads. */
  size: number;
  /** Passed to the module's `createDataset(options)`; must be structured-cloneable. */
  options?: unknown;
  /** The main thread's dataset length, which each worker's dataset must match. */
  expectedLength: number;
}

/**
 * Worker threads that each build the dataset from a module and load samples on request.
 * Requests go to the least busy worker. Threads keep the process alive while starting or
 * loading, not while idle.
 *
 * @internal Used by {@link DataLoader} when `numWorkers > 0`.
 */
export class WorkerPool {
  readonly #slots: Slot[];
  readonly #moduleUrl: string;
  #nextId = 0;
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    this.#moduleUrl = workerModuleUrl(options.module);
    this.#slots = Array.from({ length: options.size }, (_, rank) =>
      this.#spawn(rank, options.options, options.expectedLength),
    );
  }

  /** Loads the samples at `indices` on one worker, in order. */
  async load(indices: readonly number[]): Promise<unknown[]> {
    if (this.#closed)
      throw new DataLoaderError('The worker pool is closed.', { code: 'DATA_WORKER_FAILED' });
    const slot = this.#slots.reduce((best, slot) => (slot.busy < best.busy ? slot : best));
    slot.busy += 1;
    try {
      await slot.ready;
      if (slot.failure) throw slot.failure;
      const id = this.#nextId++;
      return await new Promise<unknown[]>((resolvePromise, reject) => {
        slot.pending.set(id, { resolve: resolvePromise, reject, indices });
        slot.worker.ref();
        slot.worker.postMessage({ id, indices });
      });
    } finally {
      slot.busy -= 1;
    }
  }

  /** Terminates every thread; pending loads are rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#slots.map(async (slot) => {
        this.#fail(
          slot,
          new DataLoaderError('The worker pool was closed.', { code: 'DATA_WORKER_FAILED' }),
        );
        await slot.worker.terminate();
      }),
    );
  }

  #spawn(rank: number, options: unknown, expectedLength: number): Slot {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { moduleUrl: this.#moduleUrl, options },
    });
    let markReady: () => void = () => {};
    const slot: Slot = {
      worker,
      busy: 0,
      pending: new Map(),
      failure: undefined,
      ready: new Promise<void>((resolvePromise) => {
        markReady = resolvePromise;
      }),
    };
    const name = `data worker ${rank} (${this.#moduleUrl})`;
    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'ready':
          if (message.length !== expectedLength) {
            this.#fail(
              slot,
              new DataLoaderError(
                `${name} built a dataset of length ${message.length}, the loader's has ${expectedLength}. ` +
                  'The worker module must build the same dataset as the main thread.',
                { code: 'DATA_WORKER_FAILED' },
              ),
            );
          }
          if (slot.pending.size === 0) worker.unref();
          markReady();
          break;
        case 'batch':
        case 'error': {
          const pending = slot.pending.get(message.id);
          slot.pending.delete(message.id);
          if (slot.pending.size === 0) worker.unref();
          if (pending === undefined) break;
          if (message.type === 'batch') pending.resolve(message.samples);
          else {
            pending.reject(
              new DataLoaderError(
                `${name} failed to load indices [${pending.indices.join(', ')}]:\n${message.message}`,
                { code: 'DATA_WORKER_FAILED' },
              ),
            );
          }
          break;
        }
        case 'fatal':
          this.#fail(
            slot,
            new DataLoaderError(`${name} could not build its dataset:\n${message.message}`, {
              code: 'DATA_WORKER_FAILED',
            }),
          );
          markReady();
          break;
      }
    });
    worker.on('error', (error) => {
      this.#fail(
        slot,
        new DataLoaderError(`${name} crashed.`, { code: 'DATA_WORKER_FAILED', cause: error }),
      );
      markReady();
    });
    worker.on('exit', (code) => {
      if (!this.#closed) {
        this.#fail(
          slot,
          new DataLoaderError(`${name} exited with code ${code}.`, { code: 'DATA_WORKER_FAILED' }),
        );
      }
      markReady();
    });
    return slot;
  }

  #fail(slot: Slot, error: Error): void {
    slot.failure ??= error;
    for (const pending of slot.pending.values()) pending.reject(slot.failure);
    slot.pending.clear();
  }
}

/**
 * The `file:` URL of a worker module given as a path (absolute, or relative to the cwd) or a
 * `file:` URL. Anything else (`data:`, `http:`, `node:`, ...) is refused: a worker module runs
 * with the process's rights, so it must be a file the user has on disk, never code carried inside
 * a string (a config read out of a checkpoint, say).
 *
 * @throws {@link DataLoaderError} `DATA_INVALID` naming the value and what is accepted.
 */
export function workerModuleUrl(module: string | URL): string {
  const refuse = (given: string, scheme: string) =>
    new DataLoaderError(
      `workerModule must be a file path or a file: URL of a module on disk; got a ${scheme} URL ` +
        `(${given.length > 60 ? `${given.slice(0, 57)}...` : given}). ` +
        'Worker modules run code, so they are never taken from data:, http: or other URLs.',
      { code: 'DATA_INVALID' },
    );
  if (module instanceof URL) {
    if (module.protocol !== 'file:') throw refuse(module.href, module.protocol);
    return module.href;
  }
  if (typeof module !== 'string' || module.trim() === '') {
    throw new DataLoaderError(
      `workerModule must be a file path or a file: URL; got ${JSON.stringify(module)}.`,
      { code: 'DATA_INVALID' },
    );
  }
  // A scheme (two letters or more, so that a Windows drive `C:\` stays a path).
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(module);
  if (scheme !== null) {
    if (scheme[1]!.toLowerCase() !== 'file') throw refuse(module, `${scheme[1]}:`);
    return new URL(module).href;
  }
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}
