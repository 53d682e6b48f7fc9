import { describe, expect, it } from 'vitest'
import { LinkGraph } from '../../../graph/link-graph.js'
import type { ClusterAlert } from '../../../graph/types.js'

const DAY_MS = 24 * 60 * 60 * 1000
const ofType = (alerts: readonly ClusterAlert[], typology: ClusterAlert['typology']): ClusterAlert[] => alerts.filter((alert) => alert.typology === typology)
let sequence = 0
const send = (graph: LinkGraph, fromPlayerId: string, toPlayerId: string, amountMinor: number, day: number): void =>
  graph.addTransfer({ transferId: `t${sequence++}`, fromPlayerId, toPlayerId, amountMinor, eventTimeMs: day * DAY_MS })

describe('fan-in and fan-out', () => {
  it('fan-in fires on k distinct senders within the window', () => {
    const graph = new LinkGraph({ fan: { minCounterparties: 4, windowMs: 3 * DAY_MS } })
    for (const [position, sender] of ['s1', 's2', 's3', 's4'].entries()) send(graph, sender, 'mule', 90_00, 10 + position * 0.5)
    const fans = ofType(graph.recompute().alerts, 'fan_in')
    expect(fans).toHaveLength(1)
    expect(fans[0]?.playerIds).toEqual(['mule', 's1', 's2', 's3', 's4'])
    expect(fans[0]?.edges).toHaveLength(4)
  })

  it('fan-out fires on k distinct receivers; near misses: spread over time, repeated sender, amounts above the cap', () => {
    const graph = new LinkGraph({ fan: { minCounterparties: 4, windowMs: 3 * DAY_MS, maxTransferAmountMinor: 1_000_00 } })
    for (const receiver of ['r1', 'r2', 'r3', 'r4']) send(graph, 'boss', receiver, 200_00, 5)
    // Near misses for fan-in at three other receivers.
    for (const [position, sender] of ['a1', 'a2', 'a3', 'a4'].entries()) send(graph, sender, 'slow', 90_00, 10 + position * 2)
    for (let repeat = 0; repeat < 6; repeat++) send(graph, repeat % 2 === 0 ? 'b1' : 'b2', 'same', 90_00, 20)
    for (const sender of ['c1', 'c2', 'c3', 'c4']) send(graph, sender, 'big', 5_000_00, 30)
    const alerts = graph.recompute().alerts
    expect(ofType(alerts, 'fan_out').map((alert) => alert.playerIds)).toEqual([['boss', 'r1', 'r2', 'r3', 'r4']])
    expect(ofType(alerts, 'fan_in')).toEqual([])
  })
})

describe('cycles', () => {
  it('fires on a time-ordered loop with amounts kept within tolerance, whatever player starts it', () => {
    const graph = new LinkGraph({ cycle: { minLength: 3, maxLength: 5, timeOrdered: true, maxSpanMs: 10 * DAY_MS, amountToleranceRatio: 0.1 } })
    send(graph, 'c', 'a', 100_00, 1) // the loop starts at c, not at the smallest id
    send(graph, 'a', 'b', 97_00, 2)
    send(graph, 'b', 'c', 95_00, 3)
    const cycles = ofType(graph.recompute().alerts, 'cycle')
    expect(cycles).toHaveLength(1)
    expect(cycles[0]?.playerIds).toEqual(['a', 'b', 'c'])
    expect(cycles[0]?.edges.map((edge) => `${edge.from}>${edge.to}`)).toEqual(['c>a', 'a>b', 'b>c'])
  })

  it('near misses: hops out of time order, a loop slower than the span, an amount that changes too much, a round trip shorter than minLength', () => {
    const params = { cycle: { minLength: 3, maxLength: 5, timeOrdered: true, maxSpanMs: 10 * DAY_MS, amountToleranceRatio: 0.1 } }
    const outOfOrder = new LinkGraph(params)
    send(outOfOrder, 'a', 'b', 100_00, 5); send(outOfOrder, 'b', 'c', 100_00, 3); send(outOfOrder, 'c', 'a', 100_00, 1)
    const slow = new LinkGraph(params)
    send(slow, 'a', 'b', 100_00, 1); send(slow, 'b', 'c', 100_00, 8); send(slow, 'c', 'a', 100_00, 15)
    const changed = new LinkGraph(params)
    send(changed, 'a', 'b', 100_00, 1); send(changed, 'b', 'c', 40_00, 2); send(changed, 'c', 'a', 40_00, 3)
    const roundTrip = new LinkGraph(params)
    send(roundTrip, 'a', 'b', 100_00, 1); send(roundTrip, 'b', 'a', 100_00, 2)
    for (const graph of [outOfOrder, slow, changed, roundTrip]) expect(ofType(graph.recompute().alerts, 'cycle')).toEqual([])
  })

  it('without time order, out-of-order hops with one repeated amount still close a cycle', () => {
    const graph = new LinkGraph({ cycle: { timeOrdered: false, amountToleranceRatio: 0, maxLength: 6 } })
    send(graph, 'a', 'b', 11_51, 18); send(graph, 'b', 'c', 11_51, 103); send(graph, 'c', 'd', 11_51, 50); send(graph, 'd', 'a', 11_51, 70)
    expect(ofType(graph.recompute().alerts, 'cycle').map((alert) => alert.playerIds)).toEqual([['a', 'b', 'c', 'd']])
  })
})

describe('scatter-gather', () => {
  it('fires when a source reaches one sink through k intermediaries with similar amounts in the window', () => {
    const graph = new LinkGraph({ scatterGather: { minIntermediaries: 3, windowMs: 2 * DAY_MS, amountToleranceRatio: 0.1 } })
    for (const middle of ['m1', 'm2', 'm3']) { send(graph, 'src', middle, 100_00, 1); send(graph, middle, 'sink', 95_00, 2) }
    const alerts = ofType(graph.recompute().alerts, 'scatter_gather')
    expect(alerts).toHaveLength(1)
    expect(alerts[0]?.playerIds).toEqual(['m1', 'm2', 'm3', 'sink', 'src'])
    expect(alerts[0]?.edges).toHaveLength(6)
  })

  it('near misses: onward transfer before receipt, after the window, or of another size', () => {
    const graph = new LinkGraph({ scatterGather: { minIntermediaries: 3, windowMs: 2 * DAY_MS, amountToleranceRatio: 0.1 } })
    send(graph, 'src', 'm1', 100_00, 5); send(graph, 'm1', 'sink', 100_00, 4)
    send(graph, 'src', 'm2', 100_00, 5); send(graph, 'm2', 'sink', 100_00, 9)
    send(graph, 'src', 'm3', 100_00, 5); send(graph, 'm3', 'sink', 50_00, 6)
    send(graph, 'src', 'm4', 100_00, 5); send(graph, 'm4', 'sink', 100_00, 6)
    expect(ofType(graph.recompute().alerts, 'scatter_gather')).toEqual([])
  })
})
