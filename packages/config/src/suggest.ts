/** Edit distance (insertions, deletions, substitutions) between two strings. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The key closest to a misspelt one (case-insensitive edit distance of at most a third of the
 * longer name, min. 2), or `undefined` when none is close.
 */
export function closestKey(wanted: string, keys: readonly string[]): string | undefined {
  const lower = wanted.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const key of keys) {
    const distance = editDistance(lower, key.toLowerCase());
    const limit = Math.max(2, Math.floor(Math.max(lower.length, key.length) / 3));
    if (distance <= limit && distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  return best;
}
