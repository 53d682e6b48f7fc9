import type { ClusterAlert, EvidenceEdge, SharedIdentifier, TypologyId } from '../types.js'
import { hashList } from '../../core/seeded-random.js'

/** Evidence edges kept per alert: enough to draw the pattern, bounded for the topic. */
export const MAX_EVIDENCE_EDGES = 200

/**
 * Builds an alert with a deterministic id: the typology plus a hash of its players and the
 * identifiers it names, so a recompute or a restarted worker re-emits the same id.
 */
export function makeAlert(typology: TypologyId, clusterId: string, playerIds: Iterable<string>, sharedIdentifiers: readonly SharedIdentifier[],
  edges: readonly EvidenceEdge[], explanation: string): ClusterAlert {
  const players = [...new Set(playerIds)].sort()
  const identifiers = sharedIdentifiers.map((shared) => `${shared.identifierType}:${shared.identifier}`)
  let eventTimeMs = 0
  for (const edge of edges) if (edge.eventTimeMs !== undefined && edge.eventTimeMs > eventTimeMs) eventTimeMs = edge.eventTimeMs
  return {
    alertId: `${typology}:${hashList([...players, ...identifiers])}`,
    typology,
    clusterId,
    playerIds: players,
    sharedIdentifiers,
    edges: edges.slice(0, MAX_EVIDENCE_EDGES),
    eventTimeMs,
    explanation,
  }
}
