import { TimerError } from '../errors.js';

/** Options of {@link Timer}. */
export interface TimerOptions {
  /** Start the timer in the constructor. Defaults to `true`. */
  start?: boolean;
  /**
   * The clock, in seconds. Inject a fake one for deterministic tests.
   * Defaults to `performance.now() / 1000` (monotonic).
   */
  now?: () => number;
}

const defaultNow = (): number => performance.now() / 1000;

/**
 * A stopwatch in seconds, after gorilla's `Timer`: {@link Timer.sinceStart} and
 * {@link Timer.sinceLast} both read the clock and move the "last" mark; time spent paused is not
 * counted.
 *
 * Differences from the original: a monotonic clock instead of wall time, `pause()`/`resume()`,
 * and an injectable clock. There is no context-manager form.
 *
 * @example
 * ```ts
 * const timer = new Timer();
 * for (const batch of loader) {
 *   dataTime.update(timer.sinceLast());
 *   step(batch);
 *   iterTime.update(timer.sinceLast());
 * }
 * ```
 */
export class Timer {
  readonly #now: () => number;
  #running = false;
  #pausedAt: number | undefined;
  /** Total paused time, in clock seconds. */
  #pausedTotal = 0;
  /** Start and last marks on the "active" clock (clock time minus paused time). */
  #start = 0;
  #last = 0;

  constructor(options: TimerOptions = {}) {
    this.#now = options.now ?? defaultNow;
    if (options.start ?? true) this.start();
  }

  /** Whether the timer has been started (paused timers are still running). */
  get isRunning(): boolean {
    return this.#running;
  }

  /** Whether the timer is paused. */
  get isPaused(): boolean {
    return this.#pausedAt !== undefined;
  }

  /**
   * Starts the timer if it is not running, and always moves the "last" mark to now (as the
   * original does). Returns `this`.
   */
  start(): this {
    if (!this.#running) {
      this.#running = true;
      this.#pausedAt = undefined;
      this.#pausedTotal = 0;
      this.#start = this.#active();
    }
    this.#last = this.#active();
    return this;
  }

  /**
   * Seconds since the start, paused time excluded; also moves the "last" mark to now.
   *
   * @throws {@link TimerError} when the timer is not running.
   */
  sinceStart(): number {
    this.#assertRunning('sinceStart');
    const now = this.#active();
    this.#last = now;
    return now - this.#start;
  }

  /**
   * Seconds since the last `start()`, `sinceStart()` or `sinceLast()`, paused time excluded;
   * moves the "last" mark to now.
   *
   * @throws {@link TimerError} when the timer is not running.
   */
  sinceLast(): number {
    this.#assertRunning('sinceLast');
    const now = this.#active();
    const elapsed = now - this.#last;
    this.#last = now;
    return elapsed;
  }

  /** Restarts from zero (running and not paused), whatever the state was. */
  reset(): void {
    this.#running = false;
    this.start();
  }

  /** Stops the clock until {@link Timer.resume}; a no-op when already paused. */
  pause(): void {
    this.#assertRunning('pause');
    if (this.#pausedAt === undefined) this.#pausedAt = this.#now();
  }

  /** Restarts the clock after {@link Timer.pause}; a no-op when not paused. */
  resume(): void {
    this.#assertRunning('resume');
    if (this.#pausedAt === undefined) return;
    this.#pausedTotal += this.#now() - this.#pausedAt;
    this.#pausedAt = undefined;
  }

  /** The clock minus paused time; frozen while paused. */
  #active(): number {
    return (this.#pausedAt ?? this.#now()) - this.#pausedTotal;
  }

  #assertRunning(method: string): void {
    if (!this.#running) {
      throw new TimerError(`Timer.${method}(): the timer is not running; call start() first.`);
    }
  }
}
