function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = Math.min(above + 1, prev[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return prev[b.length]!;
}

/** The known names closest to `input`: prefix matches first, then small typos. */
export function suggest(input: string, known: readonly string[], max = 3): string[] {
  const needle = input.toLowerCase();
  const scored = known
    .map((name) => {
      const lower = name.toLowerCase();
      const score = lower.startsWith(needle) || needle.startsWith(lower) ? 0 : lower.includes(needle) ? 1 : editDistance(needle, lower);
      return { name, score };
    })
    .filter(({ name, score }) => score <= Math.max(2, Math.floor(name.length / 3)))
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, max).map((s) => s.name);
}

export function didYouMean(input: string, known: readonly string[]): string {
  const close = suggest(input, known);
  return close.length > 0 ? ` Did you mean ${close.map((c) => `\`${c}\``).join(' or ')}?` : '';
}
