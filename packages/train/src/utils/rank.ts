import { getRank, isInitialized } from '@gorilla-ts/dist';

/**
 * This process's rank: the process group's when one is initialised (`@gorilla-ts/dist`), else the
 * `RANK` environment variable that launchers set in each worker (so a logger or writer made before
 * the group joins already knows it), else 0.
 *
 * @internal
 */
export function currentRank(): number {
  if (isInitialized()) return getRank();
  const raw = process.env.RANK;
  if (raw === undefined || raw === '') return 0;
  const rank = Number(raw);
  return Number.isInteger(rank) && rank >= 0 ? rank : 0;
}
