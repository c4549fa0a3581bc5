import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type EventMessage, encodeEvent } from './proto.js';
import { encodeRecord } from './record.js';

/** Options of {@link EventFileWriter}. */
export interface EventFileWriterOptions {
  /** Seconds between automatic flushes of queued events to disk. Defaults to `10`. */
  flushSecs?: number;
  /** Queued events that force a flush. Defaults to `100`. */
  maxQueue?: number;
  /** Wall clock in seconds, stamped on each event. Defaults to `Date.now() / 1000`. */
  now?: () => number;
}

/** Writers with unflushed events, flushed when the process exits. */
const open = new Set<EventFileWriter>();
let exitHookInstalled = false;

/**
 * One `events.out.tfevents.<secs>.<hostname>.<pid>` file in a folder: TFRecord-framed `Event`
 * protos, starting with `file_version: "brain.Event:2"`. Events are queued and written
 * synchronously on {@link EventFileWriter.flush}, every `flushSecs`, when `maxQueue` is reached,
 * on {@link EventFileWriter.close} and at process exit.
 *
 * @internal The public face is {@link TensorBoardWriter}.
 */
export class EventFileWriter {
  /** The event file's path. */
  readonly path: string;
  readonly #now: () => number;
  readonly #maxQueue: number;
  #fd: number | undefined;
  #queue: Uint8Array[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(logDir: string, options: EventFileWriterOptions = {}) {
    this.#now = options.now ?? (() => Date.now() / 1000);
    this.#maxQueue = options.maxQueue ?? 100;
    mkdirSync(logDir, { recursive: true });
    const base = `events.out.tfevents.${Math.floor(this.#now())}.${hostname()}.${process.pid}`;
    let path = join(logDir, base);
    for (let suffix = 1; ; suffix += 1) {
      try {
        this.#fd = openSync(path, 'wx');
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        path = join(logDir, `${base}.${suffix}`);
      }
    }
    this.path = path;
    this.add({ wallTime: this.#now(), step: 0, fileVersion: 'brain.Event:2' });
    this.flush();
    this.#timer = setInterval(() => this.flush(), (options.flushSecs ?? 10) * 1000);
    this.#timer.unref();
    open.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const writer of open) writer.flush();
      });
    }
  }

  /** Queues an event; `wallTime` defaults to now. */
  add(event: Omit<EventMessage, 'wallTime'> & { wallTime?: number }): void {
    if (this.#fd === undefined) throw new Error(`The event file ${this.path} is closed.`);
    this.#queue.push(
      encodeRecord(encodeEvent({ ...event, wallTime: event.wallTime ?? this.#now() })),
    );
    if (this.#queue.length >= this.#maxQueue) this.flush();
  }

  /** Writes every queued event to disk. */
  flush(): void {
    if (this.#fd === undefined || this.#queue.length === 0) return;
    const chunk = Buffer.concat(this.#queue);
    this.#queue = [];
    let written = 0;
    while (written < chunk.length) written += writeSync(this.#fd, chunk, written);
  }

  /** Flushes and closes the file; later calls are no-ops. */
  close(): void {
    if (this.#fd === undefined) return;
    this.flush();
    clearInterval(this.#timer);
    closeSync(this.#fd);
    this.#fd = undefined;
    open.delete(this);
  }
}
