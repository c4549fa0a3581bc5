/**
 * The one period rule every hook shares: after `done` units (iterations or epochs, counted from
 * 1), a period of `interval` ends when `done` is a multiple of `interval`, and also at `last`
 * (the final unit of the run) when it is given. An `interval` of 0 or less never ends a period,
 * not even at `last`.
 *
 * @example
 * ```ts
 * isPeriodEnd(3, 3); // true: the 3rd epoch ends a period of 3
 * isPeriodEnd(4, 3); // false
 * isPeriodEnd(7, 3, 7); // true: the last epoch always ends a period
 * isPeriodEnd(3, 0); // false: disabled
 * ```
 */
export function isPeriodEnd(done: number, interval: number, last?: number): boolean {
  if (!(interval > 0) || done < 1) return false;
  return done % interval === 0 || (last !== undefined && done === last);
}
