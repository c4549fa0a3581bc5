import { distance } from 'fastest-levenshtein';

/**
 * The registered names closest to a misspelt one, best first: case-insensitive equality, then
 * prefix/substring matches, then small edit distances (at most a third of the name, min. 2).
 */
export function closestNames(wanted: string, names: Iterable<string>, limit = 3): string[] {
  const lower = wanted.toLowerCase();
  const scored: Array<{ name: string; score: number }> = [];
  for (const name of names) {
    const candidate = name.toLowerCase();
    let score: number;
    if (candidate === lower) score = 0;
    else if (candidate.includes(lower) || lower.includes(candidate)) score = 1;
    else {
      const edits = distance(lower, candidate);
      if (edits > Math.max(2, Math.floor(Math.max(lower.length, candidate.length) / 3))) continue;
      score = 1 + edits;
    }
    scored.push({ name, score });
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, limit).map((entry) => entry.name);
}
