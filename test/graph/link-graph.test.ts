import { describe, expect, it } from 'vitest'
import { isRiskError } from '../../core/errors.js'
import { LinkGraph } from '../../graph/link-graph.js'
import { seededRandom } from '../../core/seeded-random.js'
import type { IdentifierType } from '../../graph/types.js'

const DAY_MS = 24 * 60 * 60 * 1000
const link = (graph: LinkGraph, playerId: string, identifierType: IdentifierType, identifier: string, eventTimeMs = 1_000): void =>
  graph.addLink({ playerId, identifierType, identifier, eventTimeMs })

describe('components', () => {
  it('joins players through shared identifiers and transfers, incrementally', () => {
    const graph = new LinkGraph()
    link(graph, 'p2', 'device', 'fp:1'); link(graph, 'p3', 'device', 'fp:1')
    link(graph, 'p9', 'card', 'tok:1')
    expect(graph.clusterOf('p3')).toMatchObject({ clusterId: 'cmp:p2', size: 2, stale: true })
    expect(graph.clusterOf('p9')).toMatchObject({ clusterId: 'cmp:p9', size: 1 })
    graph.addTransfer({ transferId: 't1', fromPlayerId: 'p9', toPlayerId: 'p1', amountMinor: 10_00, eventTimeMs: 2_000 })
    graph.addTransfer({ transferId: 't2', fromPlayerId: 'p1', toPlayerId: 'p3', amountMinor: 10_00, eventTimeMs: 3_000 })
    expect(graph.clusterOf('p2')).toMatchObject({ clusterId: 'cmp:p1', size: 4 })
    expect(graph.membersOf('cmp:p1')).toEqual(['p1', 'p2', 'p3', 'p9'])
    const result = graph.recompute()
    expect(result.changedPlayerIds).toEqual(['p1', 'p2', 'p3', 'p9'])
    expect(graph.clusterOf('p2')).toMatchObject({ stale: false, computedAtMs: 3_000 })
    expect(graph.clusterOf('p2')?.sharedIdentifiers).toEqual([{ identifierType: 'device', identifier: 'fp:1', playerCount: 2 }])
    expect(graph.clusterOf('nobody')).toBeNull()
    // Nothing changed since: nothing recomputed.
    expect(graph.recompute().componentsRecomputed).toBe(0)
  })

  it('ignores replayed transfers and repeated links', () => {
    const graph = new LinkGraph()
    const transfer = { transferId: 't1', fromPlayerId: 'a', toPlayerId: 'b', amountMinor: 10_00, eventTimeMs: 1_000 }
    graph.addTransfer(transfer); graph.addTransfer(transfer)
    link(graph, 'a', 'email', 'h:1'); link(graph, 'a', 'email', 'h:1', 5_000)
    expect(graph.counts()).toMatchObject({ players: 2, identifiers: 1, links: 1, transferEdges: 1, transfers: 1 })
  })

  it('splits a component when the link that joined it expires (by event time), and drops the orphaned identifier', () => {
    const graph = new LinkGraph({ linkTtlMs: 30 * DAY_MS })
    link(graph, 'a', 'device', 'fp:old', 0)
    link(graph, 'b', 'device', 'fp:old', 0)
    link(graph, 'b', 'card', 'tok:b', 0)
    graph.recompute()
    expect(graph.clusterOf('a')?.size).toBe(2)
    // Stream time moves on through another player's events; b keeps its card alive.
    link(graph, 'b', 'card', 'tok:b', 40 * DAY_MS)
    link(graph, 'z', 'phone', 'h:z', 40 * DAY_MS)
    const result = graph.recompute()
    expect(result.expired).toMatchObject({ links: 2, identifiers: 1 })
    expect(result.changedPlayerIds).toEqual(['a', 'b', 'z'])
    expect(graph.clusterOf('a')).toMatchObject({ clusterId: 'cmp:a', size: 1, stale: false })
    expect(graph.clusterOf('b')).toMatchObject({ clusterId: 'cmp:b', size: 1 })
  })

  it('removes an erased player and re-forms what it held together', () => {
    const graph = new LinkGraph({ farm: { minAccounts: 3 } })
    for (const playerId of ['a', 'b', 'c']) link(graph, playerId, 'wallet', 'w:1')
    expect(graph.recompute().alerts.map((alert) => alert.typology)).toEqual(['multi_account_farm'])
    graph.removePlayer('b')
    const result = LinkGraph.restore(graph.snapshot(), { farm: { minAccounts: 3 } }).recompute()
    expect(graph.recompute()).toEqual(result)
    expect(result.changedPlayerIds).toEqual(['a', 'b', 'c'])
    expect(result.alerts).toEqual([])
    expect(graph.clusterOf('b')).toBeNull()
    expect(graph.clusterOf('c')).toMatchObject({ clusterId: 'cmp:a', size: 2, typologies: [] })
    expect(graph.allAlerts()).toEqual([])
  })

  it('rejects malformed input with coded errors', () => {
    const graph = new LinkGraph()
    expect(() => graph.addLink({ playerId: '', identifierType: 'device', identifier: 'x', eventTimeMs: 1 })).toThrow(/RISK_ERR_INVALID_FIELD: playerId/)
    expect(() => graph.addLink({ playerId: 'a', identifierType: 'shoe' as IdentifierType, identifier: 'x', eventTimeMs: 1 })).toThrow(/identifierType must be one of/)
    try {
      graph.addTransfer({ transferId: 't', fromPlayerId: 'a', toPlayerId: 'b', amountMinor: 1.5, eventTimeMs: 1 })
      expect.unreachable()
    } catch (error) {
      expect(isRiskError(error, 'RISK_ERR_INVALID_FIELD')).toBe(true)
    }
    expect(() => new LinkGraph({ farm: { minAccounts: 0 } })).toThrow(/RISK_ERR_CONFIG_INVALID: graph parameter farm.minAccounts/)
  })
})

/** Two rings of players on devices, bridged by one weak IP-block link, plus a transfer chain. */
function events(): Array<(graph: LinkGraph) => void> {
  const list: Array<(graph: LinkGraph) => void> = []
  for (let ring = 0; ring < 2; ring++) {
    for (let member = 0; member < 6; member++) {
      const playerId = `r${ring}m${member}`
      list.push((graph) => link(graph, playerId, 'device', `fp:${ring}:${member % 3}`, 1_000 + member))
      list.push((graph) => link(graph, playerId, 'card', `tok:${ring}`, 1_000 + member))
    }
  }
  list.push((graph) => link(graph, 'r0m0', 'ip_block', '10.0.0.0/24', 2_000))
  list.push((graph) => link(graph, 'r1m0', 'ip_block', '10.0.0.0/24', 2_000))
  list.push((graph) => graph.addTransfer({ transferId: 'x1', fromPlayerId: 'r1m5', toPlayerId: 'out1', amountMinor: 500_00, eventTimeMs: 3_000 }))
  list.push((graph) => graph.setPlayerFlags('r0m1', { sanctioned: true }))
  return list
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed)
  const copy = [...items]
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1))
    ;[copy[index], copy[other]] = [copy[other] as T, copy[index] as T]
  }
  return copy
}

describe('communities and risk', () => {
  it('finds the two rings as Louvain communities, the same whatever order the events arrive in', () => {
    const summaries = [1, 2, 3].map((order) => {
      const graph = new LinkGraph({ seed: 7 })
      for (const apply of shuffled(events(), order)) apply(graph)
      graph.recompute()
      return graph.membersOf('r0m0').map((playerId) => graph.clusterOf(playerId))
    })
    expect(summaries[1]).toEqual(summaries[0])
    expect(summaries[2]).toEqual(summaries[0])
    const byPlayer = new Map(summaries[0]?.map((summary) => [summary?.playerId, summary]))
    expect(byPlayer.get('r0m3')?.communityId).toBe('com:r0m0')
    expect(byPlayer.get('r1m3')?.communityId).toBe('com:r1m0')
    expect(byPlayer.get('r0m3')?.clusterId).toBe('cmp:out1')
  })

  it('propagates risk from a sanctioned player: high in its ring, lower across the weak bridge', () => {
    const graph = new LinkGraph()
    for (const apply of events()) apply(graph)
    graph.recompute()
    const risk = (playerId: string): number => graph.clusterOf(playerId)?.risk ?? Number.NaN
    expect(risk('r0m1')).toBe(1)
    expect(risk('r0m4')).toBeGreaterThan(risk('r1m4'))
    expect(risk('r1m4')).toBeGreaterThan(0)
    expect(risk('out1')).toBeLessThan(risk('r1m5'))
    const unrelated = new LinkGraph()
    link(unrelated, 'u1', 'device', 'fp:u'); link(unrelated, 'u2', 'device', 'fp:u')
    unrelated.recompute()
    expect(unrelated.clusterOf('u1')?.risk).toBe(0)
  })
})

describe('snapshot and restore', () => {
  it('restores identical clusters, alerts and pending work, and goes on identically', () => {
    const graph = new LinkGraph({ farm: { minAccounts: 3 } })
    for (const apply of events()) apply(graph)
    graph.addBet({ betId: 'b1', playerId: 'r0m0', tableId: 't', roundId: 'r', side: 'red', amountMinor: 5_00, resultMinor: -5_00, eventTimeMs: 4_000 })
    graph.recompute()
    link(graph, 'late', 'device', 'fp:0:1', 5_000) // pending at snapshot time
    const restored = LinkGraph.restore(graph.snapshot(), { farm: { minAccounts: 3 } })
    const everyone = [...graph.membersOf('r0m0'), 'late']
    expect(everyone.map((playerId) => restored.clusterOf(playerId))).toEqual(everyone.map((playerId) => graph.clusterOf(playerId)))
    expect(restored.allAlerts()).toEqual(graph.allAlerts())
    expect(restored.counts()).toEqual(graph.counts())
    expect(restored.streamTimeMs).toBe(graph.streamTimeMs)
    expect(restored.recompute()).toEqual(graph.recompute())
    expect(everyone.map((playerId) => restored.clusterOf(playerId))).toEqual(everyone.map((playerId) => graph.clusterOf(playerId)))
    const again = LinkGraph.restore(restored.snapshot(), { farm: { minAccounts: 3 } })
    expect(everyone.map((playerId) => again.clusterOf(playerId))).toEqual(everyone.map((playerId) => graph.clusterOf(playerId)))
  })

  it('marks everything for recompute when restored with other params, and refuses a corrupt snapshot', () => {
    const graph = new LinkGraph()
    for (const apply of events()) apply(graph)
    graph.recompute()
    const restored = LinkGraph.restore(graph.snapshot(), { farm: { minAccounts: 2 } })
    expect(restored.clusterOf('r0m0')?.stale).toBe(true)
    expect(() => LinkGraph.restore(Buffer.from('{"format":"other"}\n'))).toThrow(/RISK_ERR_STATE_CORRUPT/)
    const truncated = graph.snapshot().subarray(0, 200)
    expect(() => LinkGraph.restore(truncated)).toThrow(/RISK_ERR_STATE_CORRUPT/)
  })
})
