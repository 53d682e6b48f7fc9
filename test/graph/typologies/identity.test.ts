import { describe, expect, it } from 'vitest'
import { LinkGraph } from '../../../graph/link-graph.js'
import type { ClusterAlert, IdentifierType } from '../../../graph/types.js'

const link = (graph: LinkGraph, playerId: string, identifierType: IdentifierType, identifier: string, eventTimeMs = 1_000): void =>
  graph.addLink({ playerId, identifierType, identifier, eventTimeMs })
const ofType = (alerts: readonly ClusterAlert[], typology: ClusterAlert['typology']): ClusterAlert[] => alerts.filter((alert) => alert.typology === typology)

describe('multi-account farm', () => {
  it('fires when k accounts share a device, with the device and the link edges as evidence', () => {
    const graph = new LinkGraph({ farm: { minAccounts: 3 } })
    for (const playerId of ['p1', 'p2', 'p3']) link(graph, playerId, 'device', 'fp:1')
    const farms = ofType(graph.recompute().alerts, 'multi_account_farm')
    expect(farms).toHaveLength(1)
    expect(farms[0]?.playerIds).toEqual(['p1', 'p2', 'p3'])
    expect(farms[0]?.sharedIdentifiers).toEqual([{ identifierType: 'device', identifier: 'fp:1', playerCount: 3 }])
    expect(farms[0]?.edges).toContainEqual({ kind: 'link', from: 'p2', to: 'device:fp:1', reference: 'device' })
    expect(graph.clusterOf('p3')?.typologies).toEqual(['multi_account_farm'])
  })

  it('reports identifiers shared by the same accounts in one alert', () => {
    const graph = new LinkGraph({ farm: { minAccounts: 3 } })
    for (const playerId of ['p1', 'p2', 'p3']) { link(graph, playerId, 'device', 'fp:1'); link(graph, playerId, 'card', 'tok:9') }
    const farms = ofType(graph.recompute().alerts, 'multi_account_farm')
    expect(farms).toHaveLength(1)
    expect(farms[0]?.sharedIdentifiers.map((shared) => shared.identifierType)).toEqual(['card', 'device'])
  })

  it('near misses: k-1 accounts on a device, or k accounts on one IP block only', () => {
    const graph = new LinkGraph({ farm: { minAccounts: 3 } })
    link(graph, 'p1', 'device', 'fp:1'); link(graph, 'p2', 'device', 'fp:1')
    for (const playerId of ['q1', 'q2', 'q3', 'q4']) link(graph, playerId, 'ip_block', '10.0.0.0/24')
    expect(ofType(graph.recompute().alerts, 'multi_account_farm')).toEqual([])
  })
})

describe('referral ring', () => {
  it('fires when a referrer and its referees share a device (self-referral)', () => {
    const graph = new LinkGraph({ referral: { minAccounts: 3 } })
    for (const referee of ['r1', 'r2']) link(graph, referee, 'referrer', 'boss')
    for (const playerId of ['boss', 'r1', 'r2']) link(graph, playerId, 'device', 'fp:7')
    const rings = ofType(graph.recompute().alerts, 'referral_ring')
    expect(rings).toHaveLength(1)
    expect(rings[0]?.playerIds).toEqual(['boss', 'r1', 'r2'])
    expect(rings[0]?.edges).toContainEqual({ kind: 'referral', from: 'boss', to: 'r1', reference: 'boss' })
  })

  it('fires on a referral cycle', () => {
    const graph = new LinkGraph()
    link(graph, 'a', 'referrer', 'b'); link(graph, 'b', 'referrer', 'c'); link(graph, 'c', 'referrer', 'a')
    const rings = ofType(graph.recompute().alerts, 'referral_ring')
    expect(rings).toHaveLength(1)
    expect(rings[0]?.playerIds).toEqual(['a', 'b', 'c'])
  })

  it('near miss: a referrer with many honest referees sharing nothing else, or sharing only an IP block', () => {
    const graph = new LinkGraph({ referral: { minAccounts: 3 } })
    for (const referee of ['r1', 'r2', 'r3', 'r4']) { link(graph, referee, 'referrer', 'host'); link(graph, referee, 'ip_block', '10.1.0.0/24') }
    link(graph, 'r1', 'device', 'fp:r1'); link(graph, 'host', 'device', 'fp:host')
    expect(ofType(graph.recompute().alerts, 'referral_ring')).toEqual([])
  })
})

describe('bonus-abuse farm', () => {
  it('fires on k bonus claimers linked by cards and referral codes', () => {
    const graph = new LinkGraph({ bonusFarm: { minAccounts: 3 } })
    link(graph, 'b1', 'card', 'tok:1'); link(graph, 'b2', 'card', 'tok:1')
    link(graph, 'b3', 'referrer', 'b2')
    for (const playerId of ['b1', 'b2', 'b3']) graph.setPlayerFlags(playerId, { bonusClaimed: true })
    const farms = ofType(graph.recompute().alerts, 'bonus_abuse_farm')
    expect(farms).toHaveLength(1)
    expect(farms[0]?.playerIds).toEqual(['b1', 'b2', 'b3'])
    expect(farms[0]?.sharedIdentifiers.map((shared) => `${shared.identifierType}:${shared.identifier}`)).toEqual(['card:tok:1', 'referrer:b2'])
  })

  it('near misses: linked accounts that did not claim, and claimers linked only by an IP block', () => {
    const graph = new LinkGraph({ bonusFarm: { minAccounts: 3 } })
    for (const playerId of ['b1', 'b2', 'b3']) link(graph, playerId, 'card', 'tok:1')
    graph.setPlayerFlags('b1', { bonusClaimed: true }); graph.setPlayerFlags('b2', { bonusClaimed: true })
    for (const playerId of ['c1', 'c2', 'c3']) { link(graph, playerId, 'ip_block', '10.9.0.0/24'); graph.setPlayerFlags(playerId, { bonusClaimed: true }) }
    expect(ofType(graph.recompute().alerts, 'bonus_abuse_farm')).toEqual([])
  })
})
