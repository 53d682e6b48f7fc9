/**
 * Live-table collusion between linked accounts (same component): hedged opposing bets in the
 * same round, or steady chip flow from one to the other. Unlinked strangers betting opposite
 * sides are ordinary play and never counted.
 */
import type { ComponentView } from '../graph-reader.js'
import type { GraphParams } from '../params.js'
import type { ClusterAlert, EvidenceEdge } from '../types.js'
import { MAX_EVIDENCE_EDGES, makeAlert } from './alert.js'

interface PairStats {
  sharedRounds: number
  opposingRounds: number
  opposingEdges: EvidenceEdge[]
  /** Rounds where first lost and second won, and the reverse; with the chips moved. */
  firstToSecondRounds: number
  secondToFirstRounds: number
  firstToSecondMinor: number
  secondToFirstMinor: number
  flowEdges: EvidenceEdge[]
}

/**
 * Example: p1 and p2 share a device; in 6 of 7 baccarat rounds at table bac-3 p1 bets player and
 * p2 bets banker with similar stakes -> 'table_collusion_opposing_bets' naming both, with one
 * 'bet' edge per round.
 */
export function detectTableCollusion(view: ComponentView, params: GraphParams): ClusterAlert[] {
  const config = params.collusion
  const members = new Set(view.playerIds)
  const opposite = new Map<string, Set<string>>()
  for (const [left, right] of config.opposingSides) {
    opposite.set(left, (opposite.get(left) ?? new Set()).add(right))
    opposite.set(right, (opposite.get(right) ?? new Set()).add(left))
  }
  const pairs = new Map<string, PairStats>()
  const seenRounds = new Set<string>()
  for (const playerId of view.playerIds) {
    for (const round of view.reader.roundsOf(playerId)) {
      const roundKey = `${round.tableId}:${round.roundId}`
      if (seenRounds.has(roundKey)) continue
      seenRounds.add(roundKey)
      const linked = round.bets.filter((bet) => members.has(bet.playerId))
      const players = [...new Set(linked.map((bet) => bet.playerId))].sort()
      for (let left = 0; left < players.length; left++) {
        for (let right = left + 1; right < players.length; right++) {
          const first = players[left] as string
          const second = players[right] as string
          const firstBets = linked.filter((bet) => bet.playerId === first)
          const secondBets = linked.filter((bet) => bet.playerId === second)
          const key = `${first}\u0000${second}`
          const stats = pairs.get(key) ?? { sharedRounds: 0, opposingRounds: 0, opposingEdges: [], firstToSecondRounds: 0, secondToFirstRounds: 0, firstToSecondMinor: 0, secondToFirstMinor: 0, flowEdges: [] }
          pairs.set(key, stats)
          stats.sharedRounds++
          const hedged = firstBets.some((mine) => secondBets.some((theirs) => opposite.get(mine.side)?.has(theirs.side) === true
            && Math.min(mine.amountMinor, theirs.amountMinor) / Math.max(mine.amountMinor, theirs.amountMinor, 1) >= config.minStakeRatio))
          const eventTimeMs = Math.max(...firstBets.map((bet) => bet.eventTimeMs), ...secondBets.map((bet) => bet.eventTimeMs))
          if (hedged) {
            stats.opposingRounds++
            if (stats.opposingEdges.length < MAX_EVIDENCE_EDGES) stats.opposingEdges.push({ kind: 'bet', from: first, to: second, reference: roundKey, eventTimeMs })
          }
          const firstResult = firstBets.reduce((sum, bet) => sum + bet.resultMinor, 0)
          const secondResult = secondBets.reduce((sum, bet) => sum + bet.resultMinor, 0)
          if (firstResult < 0 && secondResult > 0) {
            const moved = Math.min(-firstResult, secondResult)
            stats.firstToSecondRounds++
            stats.firstToSecondMinor += moved
            if (stats.flowEdges.length < MAX_EVIDENCE_EDGES) stats.flowEdges.push({ kind: 'bet', from: first, to: second, reference: roundKey, amountMinor: moved, eventTimeMs })
          } else if (secondResult < 0 && firstResult > 0) {
            const moved = Math.min(-secondResult, firstResult)
            stats.secondToFirstRounds++
            stats.secondToFirstMinor += moved
            if (stats.flowEdges.length < MAX_EVIDENCE_EDGES) stats.flowEdges.push({ kind: 'bet', from: second, to: first, reference: roundKey, amountMinor: moved, eventTimeMs })
          }
        }
      }
    }
  }
  const alerts: ClusterAlert[] = []
  for (const [key, stats] of [...pairs.entries()].sort(([left], [right]) => (left < right ? -1 : 1))) {
    const [first, second] = key.split('\u0000') as [string, string]
    if (stats.opposingRounds >= config.minOpposingRounds && stats.opposingRounds / stats.sharedRounds >= config.minOpposingShare) {
      alerts.push(makeAlert('table_collusion_opposing_bets', view.clusterId, [first, second], [], stats.opposingEdges,
        `${first} and ${second} bet opposite sides in ${stats.opposingRounds} of ${stats.sharedRounds} shared rounds (threshold ${config.minOpposingRounds} and ${config.minOpposingShare})`))
    }
    const forward = stats.firstToSecondRounds >= stats.secondToFirstRounds
    const dominantRounds = forward ? stats.firstToSecondRounds : stats.secondToFirstRounds
    const flowRounds = stats.firstToSecondRounds + stats.secondToFirstRounds
    const netMinor = Math.abs(stats.firstToSecondMinor - stats.secondToFirstMinor)
    if (dominantRounds >= config.minChipFlowRounds && dominantRounds / flowRounds >= config.minChipFlowShare && netMinor >= config.minChipFlowAmountMinor) {
      const [from, to] = forward ? [first, second] : [second, first]
      alerts.push(makeAlert('table_collusion_chip_flow', view.clusterId, [first, second], [], stats.flowEdges,
        `chips flowed from ${from} to ${to} in ${dominantRounds} of ${flowRounds} rounds, net ${netMinor} minor units (thresholds ${config.minChipFlowRounds} rounds, ${config.minChipFlowShare}, ${config.minChipFlowAmountMinor})`))
    }
    if (alerts.length >= params.maxAlertsPerTypology) break
  }
  return alerts
}
