import { describe, expect, it } from 'vitest'
import { LinkGraph } from '../../../graph/link-graph.js'
import type { ClusterAlert } from '../../../graph/types.js'

const ofType = (alerts: readonly ClusterAlert[], typology: ClusterAlert['typology']): ClusterAlert[] => alerts.filter((alert) => alert.typology === typology)

/** Rounds r0..r{n-1} at table bac-1, one bet each for two players. */
function playRounds(graph: LinkGraph, rounds: number, bet: (round: number) => Array<{ playerId: string; side: string; amountMinor: number; resultMinor: number }>): void {
  for (let round = 0; round < rounds; round++) {
    for (const [position, entry] of bet(round).entries()) {
      graph.addBet({ betId: `b${round}-${position}`, tableId: 'bac-1', roundId: `r${round}`, eventTimeMs: 10_000 + round * 60_000, ...entry })
    }
  }
}

function linkedPair(): LinkGraph {
  const graph = new LinkGraph({ collusion: { minOpposingRounds: 5, minOpposingShare: 0.6, minChipFlowRounds: 10, minChipFlowShare: 0.8, minChipFlowAmountMinor: 500_00 } })
  graph.addLink({ playerId: 'a', identifierType: 'device', identifier: 'fp:shared', eventTimeMs: 1_000 })
  graph.addLink({ playerId: 'b', identifierType: 'device', identifier: 'fp:shared', eventTimeMs: 1_000 })
  return graph
}

describe('live-table collusion', () => {
  it('fires when linked players hedge opposite sides with similar stakes', () => {
    const graph = linkedPair()
    playRounds(graph, 6, (round) => [
      { playerId: 'a', side: 'player', amountMinor: 100_00, resultMinor: round % 2 === 0 ? 100_00 : -100_00 },
      { playerId: 'b', side: 'banker', amountMinor: 95_00, resultMinor: round % 2 === 0 ? -95_00 : 90_00 },
    ])
    const alerts = ofType(graph.recompute().alerts, 'table_collusion_opposing_bets')
    expect(alerts).toHaveLength(1)
    expect(alerts[0]?.playerIds).toEqual(['a', 'b'])
    expect(alerts[0]?.edges).toHaveLength(6)
    expect(alerts[0]?.edges[0]).toMatchObject({ kind: 'bet', from: 'a', to: 'b', reference: 'bac-1:r0' })
  })

  it('fires on steady chip flow from one linked player to the other', () => {
    const graph = linkedPair()
    playRounds(graph, 12, () => [
      { playerId: 'a', side: 'player', amountMinor: 100_00, resultMinor: -100_00 },
      { playerId: 'b', side: 'player', amountMinor: 100_00, resultMinor: 100_00 },
    ])
    const alerts = ofType(graph.recompute().alerts, 'table_collusion_chip_flow')
    expect(alerts).toHaveLength(1)
    expect(alerts[0]?.explanation).toContain('from a to b in 12 of 12 rounds')
  })

  it('near misses: strangers hedging, mismatched stakes, too few rounds, two-way chip flow', () => {
    const strangers = new LinkGraph()
    playRounds(strangers, 10, () => [
      { playerId: 'x', side: 'player', amountMinor: 100_00, resultMinor: -100_00 },
      { playerId: 'y', side: 'banker', amountMinor: 100_00, resultMinor: 95_00 },
    ])
    expect(strangers.recompute().alerts).toEqual([])

    const mismatched = linkedPair()
    playRounds(mismatched, 8, () => [
      { playerId: 'a', side: 'red', amountMinor: 500_00, resultMinor: 500_00 },
      { playerId: 'b', side: 'black', amountMinor: 10_00, resultMinor: -10_00 },
    ])
    expect(ofType(mismatched.recompute().alerts, 'table_collusion_opposing_bets')).toEqual([])

    const tooFew = linkedPair()
    playRounds(tooFew, 4, () => [
      { playerId: 'a', side: 'player', amountMinor: 100_00, resultMinor: 100_00 },
      { playerId: 'b', side: 'banker', amountMinor: 100_00, resultMinor: -100_00 },
    ])
    expect(ofType(tooFew.recompute().alerts, 'table_collusion_opposing_bets')).toEqual([])

    const twoWay = linkedPair()
    playRounds(twoWay, 20, (round) => [
      { playerId: 'a', side: 'player', amountMinor: 100_00, resultMinor: round % 2 === 0 ? -100_00 : 100_00 },
      { playerId: 'b', side: 'player', amountMinor: 100_00, resultMinor: round % 2 === 0 ? 100_00 : -100_00 },
    ])
    expect(ofType(twoWay.recompute().alerts, 'table_collusion_chip_flow')).toEqual([])
  })
})
