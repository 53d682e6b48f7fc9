/**
 * Deterministic randomness and hashing: the graph's (no Math.random in graph/: Louvain's output
 * must be the same for the same seed and input, so a restarted worker republishes the same
 * communities), and the seeded samples of the screening evaluation, the bench fixtures and the
 * tests. One generator for all of them.
 *
 * Example: const rng = seededRandom(hashString('cmp:p1', 42)); rng() // 0.2986...
 */

/** mulberry32: small and fast; good enough for shuffles and samples, not for anything secret. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = state
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

/** FNV-1a 32-bit of a string, mixed with a seed. */
export function hashString(text: string, seed = 0): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash >>> 0
}

/** Hex id of a sorted list, for deterministic alert ids. */
export function hashList(values: readonly string[]): string {
  return hashString([...values].sort().join('\u0000')).toString(16).padStart(8, '0')
}
