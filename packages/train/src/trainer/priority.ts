/**
 * Named hook priorities (mmengine's levels). A hook with a lower number runs earlier at every
 * hook point; hooks of equal priority run in the order they were given.
 */
export const PRIORITY = {
  HIGHEST: 0,
  VERY_HIGH: 10,
  HIGH: 30,
  ABOVE_NORMAL: 40,
  NORMAL: 50,
  BELOW_NORMAL: 60,
  LOW: 70,
  VERY_LOW: 90,
  LOWEST: 100,
} as const;

/** One of the {@link PRIORITY} names. */
export type PriorityName = keyof typeof PRIORITY;

/** A hook priority: a number (lower runs first) or a {@link PRIORITY} name. */
export type Priority = number | PriorityName;

/**
 * The number of a priority: a finite number as it is, a name through {@link PRIORITY}.
 *
 * @throws RangeError for an unknown name or a non-finite number, listing the names.
 */
export function resolvePriority(priority: Priority): number {
  if (typeof priority === 'number' && Number.isFinite(priority)) return priority;
  if (typeof priority === 'string' && Object.hasOwn(PRIORITY, priority)) {
    return PRIORITY[priority as PriorityName];
  }
  throw new RangeError(
    `Unknown hook priority ${JSON.stringify(priority)}: expected a number or one of ${Object.keys(PRIORITY).join(', ')}.`,
  );
}
