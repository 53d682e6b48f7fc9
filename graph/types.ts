/**
 * The link graph's input events and output records (issue 5).
 *
 * A graph worker turns each `risk.links.v1` record into one call on LinkGraph:
 *   graph.addLink({ playerId: 'p1', identifierType: 'device', identifier: 'fp:9a1c', eventTimeMs: 1_700_000_000_000 })
 *   graph.addTransfer({ transferId: 't7', fromPlayerId: 'p1', toPlayerId: 'p2', amountMinor: 50_00, eventTimeMs: 1_700_000_060_000 })
 *   graph.addBet({ betId: 'b9', playerId: 'p1', tableId: 'bac-3', roundId: 'r-118', side: 'banker', amountMinor: 20_00, resultMinor: -20_00, eventTimeMs: ... })
 * and publishes `graph.clusterOf(playerId)` for every player `recompute()` reports as changed.
 */

/** Identifiers that link accounts. A `referrer` identifier is the referring player's id. */
export const IDENTIFIER_TYPES = ['device', 'card', 'wallet', 'ip_block', 'email', 'phone', 'referrer'] as const
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number]

export interface LinkEvent {
  readonly playerId: string
  readonly identifierType: IdentifierType
  /** Already hashed / tokenised upstream (card token, device fingerprint, /24 block...). */
  readonly identifier: string
  readonly eventTimeMs: number
}

export interface TransferEvent {
  /** Used to ignore a replayed transfer (snapshot + topic replay is at-least-once). */
  readonly transferId: string
  readonly fromPlayerId: string
  readonly toPlayerId: string
  readonly amountMinor: number
  readonly eventTimeMs: number
}

/** One settled bet at a live table, the evidence for collusion. */
export interface BetEvent {
  readonly betId: string
  readonly playerId: string
  readonly tableId: string
  readonly roundId: string
  /** The bet spot: 'player' / 'banker', 'red' / 'black'... Opposing pairs are a parameter. */
  readonly side: string
  readonly amountMinor: number
  /** Net result of the bet for the player (negative when lost); chip flow is read from it. */
  readonly resultMinor: number
  readonly eventTimeMs: number
}

/** What the rest of the engine knows about a player; flags seed risk propagation. */
export interface PlayerFlags {
  readonly flagged?: boolean
  readonly sanctioned?: boolean
  readonly chargedBack?: boolean
  readonly bonusClaimed?: boolean
}

export const TYPOLOGIES = [
  'multi_account_farm',
  'referral_ring',
  'bonus_abuse_farm',
  'table_collusion_opposing_bets',
  'table_collusion_chip_flow',
  'fan_in',
  'fan_out',
  'cycle',
  'scatter_gather',
] as const
export type TypologyId = (typeof TYPOLOGIES)[number]

/** An edge named in an alert's evidence. Node names are player ids or `type:identifier`. */
export interface EvidenceEdge {
  readonly kind: 'link' | 'transfer' | 'referral' | 'bet'
  readonly from: string
  readonly to: string
  /** transfer / bet ids, link type, or table:round, depending on kind. */
  readonly reference: string
  readonly amountMinor?: number
  readonly eventTimeMs?: number
}

export interface SharedIdentifier {
  readonly identifierType: IdentifierType
  readonly identifier: string
  /** Players currently linked to the identifier (including this one). */
  readonly playerCount: number
}

/**
 * A typology hit on a cluster with its evidence.
 * Example: { alertId: 'multi_account_farm:3f9a0c21', typology: 'multi_account_farm',
 *   clusterId: 'cmp:p1', playerIds: ['p1','p2','p3'], sharedIdentifiers: [{ identifierType: 'device', identifier: 'fp:9a1c', playerCount: 3 }],
 *   edges: [{ kind: 'link', from: 'p1', to: 'device:fp:9a1c', reference: 'device' }, ...], eventTimeMs: 1_700_000_000_000,
 *   explanation: '3 accounts share device fp:9a1c (threshold 3)' }
 */
export interface ClusterAlert {
  /** Deterministic: typology plus a hash of the evidence's players, so a recompute re-emits the same id. */
  readonly alertId: string
  readonly typology: TypologyId
  readonly clusterId: string
  readonly playerIds: readonly string[]
  readonly sharedIdentifiers: readonly SharedIdentifier[]
  readonly edges: readonly EvidenceEdge[]
  /** Latest event time among the evidence. */
  readonly eventTimeMs: number
  readonly explanation: string
}

/**
 * The per-player record published to the compacted `risk.clusters.v1`.
 * Example: { playerId: 'p2', clusterId: 'cmp:p1', size: 3, communityId: 'com:p1', communitySize: 3,
 *   sharedIdentifiers: [...], risk: 0.42, typologies: ['multi_account_farm'], stale: false, computedAtMs: 1_700_000_100_000 }
 */
export interface ClusterSummary {
  readonly playerId: string
  /** Connected component: 'cmp:' + the smallest player id in it (stable while it neither splits nor merges). */
  readonly clusterId: string
  /** Players in the component. */
  readonly size: number
  /** Louvain community inside the component ('com:' + smallest player id), from the last recompute. */
  readonly communityId: string | null
  readonly communitySize: number
  readonly sharedIdentifiers: readonly SharedIdentifier[]
  /** 0..1, personalized PageRank from flagged, sanctioned and charged-back players (last recompute). */
  readonly risk: number
  readonly typologies: readonly TypologyId[]
  /** True when the component changed after the last recompute: community, risk and typologies lag. */
  readonly stale: boolean
  /** Stream time (highest event time seen) of the last recompute that covered this player. */
  readonly computedAtMs: number | null
}
