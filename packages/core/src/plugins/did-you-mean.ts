/** Edit distance (insertions, deletions, substitutions; a swap of neighbours counts 1), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j += 1) d[0][j] = j;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate closest to `name` when it is close enough to be a typo (at most one edit per five letters, three at
 * most, and at least one letter right), else undefined. Case-insensitive; a package name's scope counts too.
 */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const score = distance(name.toLowerCase(), candidate.toLowerCase());
    if (!best || score < best.score) best = { candidate, score };
  }
  if (!best) return undefined;
  return best.score <= Math.min(3, Math.max(1, Math.floor(name.length / 5))) && best.score < name.length ? best.candidate : undefined;
}

/** ` (did you mean "x"?)` or ''. */
export function didYouMeanSuffix(name: string, candidates: Iterable<string>): string {
  const close = didYouMean(name, candidates);
  return close === undefined ? '' : ` (did you mean "${close}"?)`;
}
