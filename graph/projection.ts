/**
 * The weighted, undirected projection of one component that Louvain and risk propagation run
 * on: nodes in sorted key order and each edge once, in a canonical order, so the result does
 * not depend on the order events arrived in (or on a snapshot restore).
 */
export interface ComponentProjection {
  /** Node keys ('p:<playerId>' or 'i:<type>:<identifier>'), sorted. */
  readonly keys: readonly string[]
  /** Edge endpoints as positions in `keys` (source < target) and weights, sorted by (source, target). */
  readonly sources: Int32Array
  readonly targets: Int32Array
  readonly weights: Float64Array
}

/** Collects (keyA, keyB, weight) triples, merging duplicates, into a canonical projection. */
export function buildProjection(keys: string[], forEachEdge: (visit: (keyA: string, keyB: string, weight: number) => void) => void): ComponentProjection {
  keys.sort()
  const position = new Map<string, number>()
  keys.forEach((key, index) => position.set(key, index))
  const nodeCount = keys.length
  const merged = new Map<number, number>()
  forEachEdge((keyA, keyB, weight) => {
    const a = position.get(keyA)
    const b = position.get(keyB)
    if (a === undefined || b === undefined || a === b) return
    // Pair code: exact in a double up to ~9e7 nodes per component.
    const code = a < b ? a * nodeCount + b : b * nodeCount + a
    merged.set(code, (merged.get(code) ?? 0) + weight)
  })
  const codes = Float64Array.from(merged.keys()).sort()
  const sources = new Int32Array(codes.length)
  const targets = new Int32Array(codes.length)
  const weights = new Float64Array(codes.length)
  codes.forEach((code, index) => {
    sources[index] = Math.floor(code / nodeCount)
    targets[index] = code % nodeCount
    weights[index] = merged.get(code) as number
  })
  return { keys, sources, targets, weights }
}
