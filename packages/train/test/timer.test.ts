import { describe, expect, test } from 'vitest';
import { TrainError } from '../src/errors.js';
import {
  convertSeconds,
  eta,
  formatDuration,
  remainingIterations,
  Timer,
  TimerError,
} from '../src/index.js';

/** A clock the test moves by hand. */
function fakeClock(start = 100) {
  let time = start;
  return {
    now: () => time,
    advance: (seconds: number) => {
      time += seconds;
    },
  };
}

describe('Timer (gorilla tests/test_utils/test_timer.py, with an injected clock)', () => {
  test('start flag, isRunning, start()', () => {
    const clock = fakeClock();
    const stopped = new Timer({ start: false, now: clock.now });
    expect(stopped.isRunning).toBe(false);
    stopped.start();
    expect(stopped.isRunning).toBe(true);
    expect(new Timer({ now: clock.now }).isRunning).toBe(true);
  });

  test('sinceStart / sinceLast move the last mark', () => {
    const clock = fakeClock();
    const timer = new Timer({ now: clock.now });
    clock.advance(1);
    expect(timer.sinceStart()).toBe(1);
    clock.advance(1);
    expect(timer.sinceLast()).toBe(1);
    expect(timer.sinceStart()).toBe(2);
    clock.advance(0.5);
    expect(timer.sinceLast()).toBe(0.5);
  });

  test('a stopped timer throws TimerError from both methods', () => {
    const timer = new Timer({ start: false });
    expect(() => timer.sinceStart()).toThrow(TimerError);
    expect(() => timer.sinceLast()).toThrow(TimerError);
    try {
      timer.sinceLast();
    } catch (error) {
      expect(TrainError.isInstance(error)).toBe(true);
      expect((error as TimerError).code).toBe('TIMER_NOT_RUNNING');
      expect((error as Error).message).toMatchInlineSnapshot(
        `"Timer.sinceLast(): the timer is not running; call start() first."`,
      );
    }
  });

  test('reset restarts from zero', () => {
    const clock = fakeClock();
    const timer = new Timer({ now: clock.now });
    clock.advance(5);
    timer.reset();
    clock.advance(2);
    expect(timer.sinceStart()).toBe(2);
  });

  test('pause and resume exclude the paused time', () => {
    const clock = fakeClock();
    const timer = new Timer({ now: clock.now });
    clock.advance(1);
    timer.pause();
    expect(timer.isPaused).toBe(true);
    clock.advance(10);
    expect(timer.sinceStart()).toBe(1); // frozen while paused
    timer.pause(); // no-op
    timer.resume();
    expect(timer.isPaused).toBe(false);
    clock.advance(2);
    expect(timer.sinceStart()).toBe(3);
    expect(timer.sinceLast()).toBe(0);
    timer.resume(); // no-op when not paused
    clock.advance(1);
    expect(timer.sinceLast()).toBe(1);
  });

  test('the default clock is real and monotonic', () => {
    const timer = new Timer();
    const first = timer.sinceStart();
    expect(first).toBeGreaterThanOrEqual(0);
    expect(timer.sinceStart()).toBeGreaterThanOrEqual(first);
  });
});

describe('convertSeconds (days from 0, no wrap)', () => {
  test.each([
    [0, '00 days 00:00:00'],
    [3661.7, '00 days 01:01:01'],
    [86399, '00 days 23:59:59'],
    [2 * 86400 + 5, '02 days 00:00:05'],
    [31 * 86400, '31 days 00:00:00'],
    [400 * 86400 + 61, '400 days 00:01:01'],
    [-5, '00 days 00:00:00'],
    [Number.POSITIVE_INFINITY, 'unknown'],
    [Number.NaN, 'unknown'],
  ])('%s s → %s', (seconds, expected) => {
    expect(convertSeconds(seconds)).toBe(expected);
  });
});

describe('remainingIterations / eta', () => {
  test.each([
    // epoch is 1-based, iter 0-based
    [{ epoch: 1, epochs: 1, iter: 9, itersPerEpoch: 10 }, 0],
    [{ epoch: 1, epochs: 1, iter: 0, itersPerEpoch: 10 }, 9],
    [{ epoch: 1, epochs: 3, iter: 0, itersPerEpoch: 10 }, 29],
    [{ epoch: 2, epochs: 3, iter: 4, itersPerEpoch: 10 }, 15],
    [{ epoch: 3, epochs: 3, iter: 9, itersPerEpoch: 10 }, 0],
  ])('%o → %i', (position, expected) => {
    expect(remainingIterations(position)).toBe(expected);
  });

  test('the seed formula over-counted; ours does not', () => {
    const position = { epoch: 1, epochs: 2, iter: 3, itersPerEpoch: 5 };
    const seed =
      (position.epochs - position.epoch + 1) * position.itersPerEpoch + position.iter + 1;
    expect(seed).toBe(14);
    expect(remainingIterations(position)).toBe(6);
  });

  test('eta formats secondsPerIter * remaining', () => {
    expect(eta(0.5, 7322)).toBe('1h 01m');
    expect(eta(0, 100)).toBe('0s');
    // The progress line's compact form; convertSeconds keeps gorilla's.
    expect([9, 750, 7322, 93_784, 31 * 86_400, -3, Number.NaN].map(formatDuration)).toEqual([
      '9s',
      '12m 30s',
      '2h 02m',
      '1d 02h',
      '31d 00h',
      '0s',
      'unknown',
    ]);
  });
});
