/**
 * Sorts `xs` in place, as `xs.sort(cmp)` would (stable, same order), without the allocation of
 * Array.prototype.sort: V8 allocates its work state on every call, which at 10k Services was
 * ~25 MB of garbage from sorting thousands of two- and three-element lists (issue #5).
 * Insertion sort up to 16 elements; longer lists go to Array.prototype.sort.
 */
export function sortSmall<T>(xs: T[], cmp: (a: T, b: T) => number): T[] {
  if (xs.length > 16) return xs.sort(cmp);
  for (let i = 1; i < xs.length; i++) {
    const x = xs[i]!;
    let j = i - 1;
    // Strictly greater moves: equal elements keep their order (stable).
    while (j >= 0 && cmp(xs[j]!, x) > 0) {
      xs[j + 1] = xs[j]!;
      j--;
    }
    xs[j + 1] = x;
  }
  return xs;
}
