// "Did you mean": the nearest of the names a user could have meant, for
// unknown keys in pod configs and in the config file.

/** Edit distance; long inputs are not compared (a key is short, a typo close). */
export function levenshtein(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64
  const row = Array.from({length: b.length + 1}, (_v, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]
}

/**
 * ` (did you mean "x"?)` for the candidate nearest to `word`, ignoring case
 * and the difference between '-', '_' and none; '' when nothing is close.
 */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const best = nearest(word, candidates)
  return best === undefined ? '' : ` (did you mean "${best}"?)`
}

const fold = (s: string) => s.toLowerCase().replace(/[-_]/g, '')

/**
 * The candidate nearest to `word` by edit distance, if close enough; with
 * `prefixes`, else the one candidate (as folded) that starts with it, for
 * abbreviations such as log_dir.
 */
export function nearest(word: string, candidates: readonly string[], options: {prefixes?: boolean} = {}): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = fold(c) === fold(word) ? 0 : levenshtein(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) {
      bestDistance = d
      best = c
    }
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3))) return best
  if (!options.prefixes || fold(word).length < 3) return undefined
  const prefixed = candidates.filter((c) => fold(c).startsWith(fold(word)))
  return new Set(prefixed.map(fold)).size === 1 ? prefixed[0] : undefined
}
