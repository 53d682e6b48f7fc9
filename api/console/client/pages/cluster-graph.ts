/// <reference lib="dom" />
/**
 * A cluster of linked accounts drawn with sigma.js over graphology: players as large nodes
 * coloured by risk, shared identifiers (device, card, wallet, IP block) as small grey ones.
 * The API gives no coordinates, so the layout is computed here, deterministically: players on a
 * circle, each identifier at the centre of the players sharing it (nudged so none overlap).
 *
 * When drawn, the container carries `data-graph-state="drawn"` and the node and edge counts
 * (the browser test reads them).
 */
import { MultiUndirectedGraph } from 'graphology'
import Sigma from 'sigma'
import { element, replace } from '../dom.js'
import type { ClusterGraph } from '../types.js'

/** Red for risky players, amber for middling, blue for low; identifiers grey. */
function riskColor(risk: number | undefined): string {
  if (risk === undefined) return '#98a2b3'
  if (risk >= 0.7) return '#d92d20'
  if (risk >= 0.3) return '#f79009'
  return '#2e90fa'
}

/** Positions: players on the unit circle, identifiers at their players' centroid (see above). */
export function layoutCluster(cluster: ClusterGraph): Map<string, { x: number; y: number }> {
  const positions = new Map<string, { x: number; y: number }>()
  const players = cluster.nodes.filter((node) => node.kind === 'player')
  players.forEach((node, index) => {
    const angle = (2 * Math.PI * index) / Math.max(1, players.length) - Math.PI / 2
    positions.set(node.id, { x: Math.cos(angle), y: Math.sin(angle) })
  })
  const identifiers = cluster.nodes.filter((node) => node.kind !== 'player')
  identifiers.forEach((node, index) => {
    const linked = cluster.edges.flatMap((edge) => (edge.source === node.id ? [edge.target] : edge.target === node.id ? [edge.source] : []))
      .map((id) => positions.get(id)).filter((position): position is { x: number; y: number } => position !== undefined)
    const centre = linked.length === 0 ? { x: 0, y: 0 } : { x: linked.reduce((sum, p) => sum + p.x, 0) / linked.length, y: linked.reduce((sum, p) => sum + p.y, 0) / linked.length }
    // Identifiers shared by the same players would sit on one spot: spread them on a small spiral.
    const angle = index * 2.399963
    const radius = 0.12 * Math.sqrt(index + 1)
    positions.set(node.id, { x: centre.x * 0.6 + radius * Math.cos(angle), y: centre.y * 0.6 + radius * Math.sin(angle) })
  })
  return positions
}

let active: Sigma | null = null

/** Stops the drawn graph (its WebGL contexts and resize listener); the router calls it before every page. */
export function killActiveGraph(): void {
  active?.kill()
  active = null
}

/** Draws `cluster` into `container` (which must be in the document, with a size), replacing any graph drawn before. */
export function drawCluster(container: HTMLElement, cluster: ClusterGraph): Sigma {
  killActiveGraph()
  const graph = new MultiUndirectedGraph()
  const positions = layoutCluster(cluster)
  for (const node of cluster.nodes) {
    const position = positions.get(node.id) ?? { x: 0, y: 0 }
    const label = node.kind === 'player' ? `${node.label}${node.risk === undefined ? '' : ` (risk ${node.risk.toFixed(2)})`}` : `${node.identifierType ?? 'id'}: ${node.label}`
    graph.addNode(node.id, { x: position.x, y: position.y, size: node.kind === 'player' ? 12 : 6, label, color: node.kind === 'player' ? riskColor(node.risk) : '#98a2b3' })
  }
  for (const edge of cluster.edges) {
    if (graph.hasNode(edge.source) && graph.hasNode(edge.target)) graph.addEdge(edge.source, edge.target, { size: 1.5, color: '#cbd5e1', label: edge.kind })
  }
  const renderer = new Sigma(graph, container, { renderLabels: true, labelRenderedSizeThreshold: 0, labelSize: 12, renderEdgeLabels: false })
  renderer.on('afterRender', () => {
    container.dataset.graphState = 'drawn'
  })
  container.dataset.nodeCount = String(graph.order)
  container.dataset.edgeCount = String(graph.size)
  active = renderer
  renderer.refresh()
  return renderer
}

/** The graph panel's content: the canvas area, a legend, and what was left out. */
export function clusterView(cluster: ClusterGraph): { view: HTMLElement; draw: () => Sigma } {
  const container = element('div', { class: 'graph', id: 'cluster-graph', 'data-cluster-id': cluster.clusterId, 'data-graph-state': 'pending' })
  const view = element('div', {},
    container,
    element('p', { class: 'legend' }, `${cluster.size} player(s) in ${cluster.clusterId}; large nodes are players (red high risk, amber medium, blue low), small grey ones the identifiers they share.`),
    cluster.truncated ? element('p', { class: 'muted' }, 'Only the riskiest 500 players are drawn.') : null)
  return { view, draw: () => drawCluster(container, cluster) }
}

/** Replaces `target` with a message when the cluster cannot be drawn. */
export function clusterUnavailable(target: HTMLElement, message: string): void {
  replace(target, element('p', { class: 'muted', 'data-graph-state': 'unavailable' }, message))
}
