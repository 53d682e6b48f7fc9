import { UndirectedGraph } from 'graphology'
import louvainModule from 'graphology-communities-louvain'
import type { ComponentProjection } from './projection.js'
import { hashString, seededRandom } from '../core/seeded-random.js'

// The package is CommonJS with an ESM-style `export default` in its typings.
type Louvain = typeof louvainModule.default
const louvain = ((louvainModule as unknown as { default?: Louvain }).default ?? louvainModule) as Louvain

/**
 * Louvain communities of one component, deterministic for (seed, component): the RNG stream is
 * derived from the seed and the component id, and the projection is in canonical order.
 * Returns the community number of each projection node (same order as `projection.keys`).
 *
 * Example: louvainCommunities(projection, { seed: 42, resolution: 1, componentId: 'cmp:p1' })
 *   // Int32Array [0, 0, 1, 1, ...]
 */
export function louvainCommunities(projection: ComponentProjection, options: { seed: number; resolution: number; componentId: string }): Int32Array {
  const communities = new Int32Array(projection.keys.length)
  // Two nodes or fewer, or no edges: one community; Louvain adds nothing but cost.
  if (projection.keys.length <= 2 || projection.sources.length === 0) return communities
  const graph = new UndirectedGraph({ allowSelfLoops: false })
  for (let index = 0; index < projection.keys.length; index++) graph.addNode(index)
  for (let index = 0; index < projection.sources.length; index++) {
    graph.addUndirectedEdge(projection.sources[index] as number, projection.targets[index] as number, { weight: projection.weights[index] as number })
  }
  const mapping = louvain(graph, {
    getEdgeWeight: 'weight',
    resolution: options.resolution,
    rng: seededRandom(hashString(options.componentId, options.seed)),
  })
  for (let index = 0; index < projection.keys.length; index++) communities[index] = mapping[String(index)] ?? 0
  return communities
}
