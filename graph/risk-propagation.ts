import type { ComponentProjection } from './projection.js'

/**
 * Personalized PageRank by power iteration over a weighted undirected projection (the
 * graphology packages installed have no PPR). A walker restarts at the seeds (flagged,
 * sanctioned, charged-back players) with probability `restartProbability`, weighted by seed
 * weight; dangling nodes hand their mass back to the seeds.
 *
 * Returned risk is the degree-normalised score x(v) / d(v), scaled so the strongest seed gets its
 * own weight and clamped to [0, 1]: on an undirected graph x_s(v) / d(v) = x_v(s) / d(s), so it
 * reads "how likely a walk from v reaches the flagged players", and a hub identifier does not
 * dilute its neighbours. Seeds keep at least their own weight.
 *
 * Example: path p1 - dev - p2 (projection keys sorted: ['dev', 'p1', 'p2']), p1 the only seed:
 *   personalizedPageRank(projection, Float64Array.of(0, 1, 0), { restartProbability: 0.15, maxIterations: 50, tolerance: 1e-9 })
 *   // Float64Array [0.665, 1, 0.566]
 */
export function personalizedPageRank(projection: ComponentProjection, seedWeights: Float64Array,
  options: { restartProbability: number; maxIterations: number; tolerance: number }): Float64Array {
  const nodeCount = projection.keys.length
  const risk = new Float64Array(nodeCount)
  let seedTotal = 0
  for (const weight of seedWeights) seedTotal += weight
  if (seedTotal <= 0) return risk

  // CSR adjacency, both directions.
  const degreeCount = new Int32Array(nodeCount + 1)
  for (let index = 0; index < projection.sources.length; index++) {
    degreeCount[(projection.sources[index] as number) + 1]!++
    degreeCount[(projection.targets[index] as number) + 1]!++
  }
  for (let index = 0; index < nodeCount; index++) degreeCount[index + 1]! += degreeCount[index] as number
  const offsets = degreeCount
  const neighbours = new Int32Array(offsets[nodeCount] as number)
  const neighbourWeights = new Float64Array(offsets[nodeCount] as number)
  const fill = offsets.slice(0, nodeCount)
  const strength = new Float64Array(nodeCount)
  for (let index = 0; index < projection.sources.length; index++) {
    const source = projection.sources[index] as number
    const target = projection.targets[index] as number
    const weight = projection.weights[index] as number
    neighbours[fill[source]!] = target; neighbourWeights[fill[source]!++] = weight
    neighbours[fill[target]!] = source; neighbourWeights[fill[target]!++] = weight
    strength[source]! += weight
    strength[target]! += weight
  }

  const restart = new Float64Array(nodeCount)
  for (let index = 0; index < nodeCount; index++) restart[index] = (seedWeights[index] as number) / seedTotal
  const alpha = options.restartProbability
  let current = Float64Array.from(restart)
  let next = new Float64Array(nodeCount)
  for (let iteration = 0; iteration < options.maxIterations; iteration++) {
    next.fill(0)
    let dangling = 0
    for (let node = 0; node < nodeCount; node++) {
      const mass = current[node] as number
      if (mass === 0) continue
      const total = strength[node] as number
      if (total === 0) { dangling += mass; continue }
      const share = (1 - alpha) * mass / total
      for (let slot = offsets[node] as number; slot < (offsets[node + 1] as number); slot++) {
        next[neighbours[slot]!]! += share * (neighbourWeights[slot] as number)
      }
    }
    let change = 0
    for (let node = 0; node < nodeCount; node++) {
      const value = (next[node] as number) + (alpha + (1 - alpha) * dangling) * (restart[node] as number)
      change += Math.abs(value - (current[node] as number))
      next[node] = value
    }
    ;[current, next] = [next, current]
    if (change < options.tolerance) break
  }

  let reference = 0
  let strongestSeed = 0
  for (let node = 0; node < nodeCount; node++) {
    // An isolated node has no walk to anything: only its own seed weight counts.
    const normalised = (strength[node] as number) > 0 ? (current[node] as number) / (strength[node] as number) : 0
    risk[node] = normalised
    if ((seedWeights[node] as number) > 0 && normalised > reference) reference = normalised
    strongestSeed = Math.max(strongestSeed, seedWeights[node] as number)
  }
  for (let node = 0; node < nodeCount; node++) {
    const scaled = reference > 0 ? (risk[node] as number) / reference * strongestSeed : 0
    risk[node] = Math.min(1, Math.max(scaled, seedWeights[node] as number))
  }
  return risk
}
