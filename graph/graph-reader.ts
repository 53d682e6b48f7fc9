import type { IdentifierType, PlayerFlags } from './types.js'

/** One transfer as kept on a player-to-player edge. */
export interface TransferRecord {
  readonly transferId: string
  readonly amountMinor: number
  readonly eventTimeMs: number
}

export interface BetRecord {
  readonly betId: string
  readonly playerId: string
  readonly side: string
  readonly amountMinor: number
  readonly resultMinor: number
  readonly eventTimeMs: number
}

export interface RoundBets {
  readonly tableId: string
  readonly roundId: string
  readonly bets: readonly BetRecord[]
}

export interface PlayerIdentifier {
  readonly identifierType: IdentifierType
  readonly identifier: string
  /** True for the referrer's own edge to its referral code (not a referee). */
  readonly owner: boolean
  readonly lastSeenMs: number
}

export interface TransferEdge {
  readonly counterpartyId: string
  /** Sorted by event time. */
  readonly transfers: readonly TransferRecord[]
}

/**
 * Read access the typologies get over the live graph. LinkGraph implements it; a test or a
 * future partitioned store can implement it too. Lists are in a deterministic order (sorted by
 * id) so alerts do not depend on arrival order.
 */
export interface GraphReader {
  identifiersOf(playerId: string): readonly PlayerIdentifier[]
  /** Players linked to an identifier (referrer owners included, flagged by `owner`). */
  playersOf(identifierType: IdentifierType, identifier: string): ReadonlyArray<{ readonly playerId: string; readonly owner: boolean }>
  transfersOut(playerId: string): readonly TransferEdge[]
  transfersIn(playerId: string): readonly TransferEdge[]
  flagsOf(playerId: string): PlayerFlags
  roundsOf(playerId: string): readonly RoundBets[]
}

/** One component handed to the typologies. */
export interface ComponentView {
  readonly clusterId: string
  /** Sorted. */
  readonly playerIds: readonly string[]
  readonly reader: GraphReader
}

/** Evidence name of an identifier node, e.g. 'device:fp:9a1c'. */
export const identifierName = (identifierType: IdentifierType, identifier: string): string => `${identifierType}:${identifier}`
