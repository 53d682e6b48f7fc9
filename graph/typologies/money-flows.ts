/**
 * Money-flow typologies over player-to-player transfers: fan-in, fan-out, cycles and
 * scatter-gather. All times are event times; nothing reads the clock.
 */
import type { ComponentView, TransferEdge, TransferRecord } from '../graph-reader.js'
import type { GraphParams } from '../params.js'
import type { ClusterAlert, EvidenceEdge, TypologyId } from '../types.js'
import { makeAlert } from './alert.js'

interface Flow { readonly counterpartyId: string; readonly transfer: TransferRecord }

const withinRatio = (amountMinor: number, referenceMinor: number, ratio: number): boolean =>
  Math.abs(amountMinor - referenceMinor) <= ratio * referenceMinor

/**
 * Fan-in (or fan-out): within any window of `fan.windowMs`, transfers from (to) at least
 * `fan.minCounterparties` distinct players, each at or below `fan.maxTransferAmountMinor` when
 * set, totalling at least `fan.minTotalAmountMinor`. The window with the most counterparties is
 * the evidence.
 * Example: p9 receives from p1..p5 within two days, k = 5 -> fan_in naming p9 and p1..p5.
 */
export function detectFans(view: ComponentView, params: GraphParams, direction: 'in' | 'out'): ClusterAlert[] {
  const config = params.fan
  const typology: TypologyId = direction === 'in' ? 'fan_in' : 'fan_out'
  const alerts: ClusterAlert[] = []
  for (const playerId of view.playerIds) {
    const edges = direction === 'in' ? view.reader.transfersIn(playerId) : view.reader.transfersOut(playerId)
    if (edges.length < config.minCounterparties) continue
    const flows: Flow[] = []
    for (const edge of edges) {
      if (edge.counterpartyId === playerId) continue
      for (const transfer of edge.transfers) {
        if (config.maxTransferAmountMinor !== null && transfer.amountMinor > config.maxTransferAmountMinor) continue
        flows.push({ counterpartyId: edge.counterpartyId, transfer })
      }
    }
    flows.sort((left, right) => left.transfer.eventTimeMs - right.transfer.eventTimeMs || (left.counterpartyId < right.counterpartyId ? -1 : 1))
    const countByCounterparty = new Map<string, number>()
    let totalMinor = 0
    let best: { start: number; end: number; distinct: number } | null = null
    let start = 0
    for (let end = 0; end < flows.length; end++) {
      const entering = flows[end] as Flow
      countByCounterparty.set(entering.counterpartyId, (countByCounterparty.get(entering.counterpartyId) ?? 0) + 1)
      totalMinor += entering.transfer.amountMinor
      while (entering.transfer.eventTimeMs - (flows[start] as Flow).transfer.eventTimeMs > config.windowMs) {
        const leaving = flows[start++] as Flow
        const remaining = (countByCounterparty.get(leaving.counterpartyId) as number) - 1
        if (remaining === 0) countByCounterparty.delete(leaving.counterpartyId)
        else countByCounterparty.set(leaving.counterpartyId, remaining)
        totalMinor -= leaving.transfer.amountMinor
      }
      const distinct = countByCounterparty.size
      if (distinct >= config.minCounterparties && totalMinor >= config.minTotalAmountMinor && (best === null || distinct > best.distinct)) {
        best = { start, end, distinct }
      }
    }
    if (best === null) continue
    const window = flows.slice(best.start, best.end + 1)
    const evidence: EvidenceEdge[] = window.map((flow) => ({
      kind: 'transfer', from: direction === 'in' ? flow.counterpartyId : playerId, to: direction === 'in' ? playerId : flow.counterpartyId,
      reference: flow.transfer.transferId, amountMinor: flow.transfer.amountMinor, eventTimeMs: flow.transfer.eventTimeMs,
    }))
    const counterparties = window.map((flow) => flow.counterpartyId)
    const total = window.reduce((sum, flow) => sum + flow.transfer.amountMinor, 0)
    alerts.push(makeAlert(typology, view.clusterId, [playerId, ...counterparties], [], evidence,
      `${playerId} ${direction === 'in' ? 'received from' : 'sent to'} ${best.distinct} distinct players within ${config.windowMs} ms, ${total} minor units (threshold ${config.minCounterparties})`))
    if (alerts.length >= params.maxAlertsPerTypology) break
  }
  return alerts
}

export interface CycleSearchStats { truncatedStarts: number }

/**
 * Cycles: money leaving a player and coming back through `cycle.minLength`..`cycle.maxLength`
 * distinct players. With `timeOrdered`, each hop happens no earlier than the previous one and
 * the whole loop within `maxSpanMs` (any rotation may start it); with `amountToleranceRatio`,
 * each hop carries an amount within that ratio of the previous hop (the same money going round).
 * The search from each start is bounded by `maxExpansionsPerStart`; truncated starts are counted.
 * Example: p1 -> p2 (100.00, day 1) -> p3 (98.00, day 2) -> p1 (97.00, day 3) -> one 'cycle' alert.
 */
export function detectCycles(view: ComponentView, params: GraphParams, stats: CycleSearchStats = { truncatedStarts: 0 }): ClusterAlert[] {
  const config = params.cycle
  const alerts: ClusterAlert[] = []
  const reported = new Set<string>()
  const outgoing = new Map<string, readonly TransferEdge[]>()
  const outOf = (playerId: string): readonly TransferEdge[] => {
    let edges = outgoing.get(playerId)
    if (edges === undefined) { edges = view.reader.transfersOut(playerId); outgoing.set(playerId, edges) }
    return edges
  }
  // Without time order every rotation is the same cycle: search only from its smallest player.
  const canonical = !config.timeOrdered
  const tolerance = config.amountToleranceRatio
  const path: string[] = []
  const hops: TransferRecord[] = []
  const onPath = new Set<string>()
  let expansions = 0
  let startId = ''

  const admissible = (transfer: TransferRecord): boolean => {
    const previous = hops[hops.length - 1]
    if (previous !== undefined) {
      if (config.timeOrdered && (transfer.eventTimeMs < previous.eventTimeMs || transfer.eventTimeMs - (hops[0] as TransferRecord).eventTimeMs > config.maxSpanMs)) return false
      if (tolerance !== null && !withinRatio(transfer.amountMinor, previous.amountMinor, tolerance)) return false
    }
    return true
  }
  const report = (closing: TransferRecord): void => {
    const cycleKey = [...path].sort().join('\u0000')
    if (reported.has(cycleKey) || alerts.length >= params.maxAlertsPerTypology) return
    reported.add(cycleKey)
    const transfers = [...hops, closing]
    const edges: EvidenceEdge[] = transfers.map((transfer, index) => ({
      kind: 'transfer', from: path[index] as string, to: path[(index + 1) % path.length] as string,
      reference: transfer.transferId, amountMinor: transfer.amountMinor, eventTimeMs: transfer.eventTimeMs,
    }))
    alerts.push(makeAlert('cycle', view.clusterId, path, [], edges,
      `money went round ${path.length} players: ${[...path, path[0]].join(' -> ')}`))
  }
  const search = (playerId: string): boolean => {
    for (const edge of outOf(playerId)) {
      if (++expansions > config.maxExpansionsPerStart) return false
      const next = edge.counterpartyId
      if (next === startId) {
        if (path.length >= config.minLength) {
          const closing = edge.transfers.find(admissible)
          if (closing !== undefined) report(closing)
        }
        continue
      }
      if (onPath.has(next) || path.length >= config.maxLength || (canonical && next < startId)) continue
      for (const transfer of edge.transfers) {
        if (!admissible(transfer)) continue
        path.push(next); hops.push(transfer); onPath.add(next)
        const completed = search(next)
        path.pop(); hops.pop(); onPath.delete(next)
        if (!completed) return false
        // Without an amount rule the earliest admissible transfer leaves the most room for later hops.
        if (tolerance === null) break
      }
    }
    return true
  }
  for (const playerId of view.playerIds) {
    if (alerts.length >= params.maxAlertsPerTypology) break
    startId = playerId
    expansions = 0
    path.length = 0; hops.length = 0; onPath.clear()
    path.push(playerId); onPath.add(playerId)
    if (!search(playerId)) stats.truncatedStarts++
  }
  return alerts
}

/**
 * Scatter-gather: one source pays several intermediaries who each pass a similar amount
 * (within `amountToleranceRatio`) on to the same sink within `windowMs` of receiving it; at least
 * `minIntermediaries` distinct intermediaries.
 * Example: p1 -> m1, m2, m3 (100.00 each), each -> p9 (95.00) the next day -> one alert.
 */
export function detectScatterGather(view: ComponentView, params: GraphParams): ClusterAlert[] {
  const config = params.scatterGather
  // Walk by intermediary: its outgoing transfers sorted by time, so each incoming transfer only
  // scans the onward transfers inside its window.
  const routes = new Map<string, Map<string, EvidenceEdge[]>>() // source \0 sink -> intermediary -> two edges
  for (const middleId of view.playerIds) {
    const onward: Flow[] = []
    for (const edge of view.reader.transfersOut(middleId)) {
      if (edge.counterpartyId === middleId) continue
      for (const transfer of edge.transfers) onward.push({ counterpartyId: edge.counterpartyId, transfer })
    }
    if (onward.length === 0) continue
    onward.sort((left, right) => left.transfer.eventTimeMs - right.transfer.eventTimeMs)
    for (const incoming of view.reader.transfersIn(middleId)) {
      const sourceId = incoming.counterpartyId
      if (sourceId === middleId) continue
      for (const first of incoming.transfers) {
        let low = 0
        let high = onward.length
        while (low < high) {
          const middle = (low + high) >>> 1
          if ((onward[middle] as Flow).transfer.eventTimeMs < first.eventTimeMs) low = middle + 1
          else high = middle
        }
        for (let position = low; position < onward.length; position++) {
          const { counterpartyId: sinkId, transfer: second } = onward[position] as Flow
          if (second.eventTimeMs - first.eventTimeMs > config.windowMs) break
          if (sinkId === sourceId || !withinRatio(second.amountMinor, first.amountMinor, config.amountToleranceRatio)) continue
          const routeKey = `${sourceId}\u0000${sinkId}`
          const byMiddle = routes.get(routeKey) ?? new Map<string, EvidenceEdge[]>()
          if (byMiddle.has(middleId)) continue
          byMiddle.set(middleId, [
            { kind: 'transfer', from: sourceId, to: middleId, reference: first.transferId, amountMinor: first.amountMinor, eventTimeMs: first.eventTimeMs },
            { kind: 'transfer', from: middleId, to: sinkId, reference: second.transferId, amountMinor: second.amountMinor, eventTimeMs: second.eventTimeMs },
          ])
          routes.set(routeKey, byMiddle)
        }
      }
    }
  }
  const alerts: ClusterAlert[] = []
  for (const [routeKey, byMiddle] of [...routes.entries()].sort(([left], [right]) => (left < right ? -1 : 1))) {
    if (byMiddle.size < config.minIntermediaries) continue
    const [sourceId, sinkId] = routeKey.split('\u0000') as [string, string]
    const middles = [...byMiddle.keys()].sort()
    alerts.push(makeAlert('scatter_gather', view.clusterId, [sourceId, sinkId, ...middles], [], middles.flatMap((middle) => byMiddle.get(middle) as EvidenceEdge[]),
      `${sourceId} scattered money through ${middles.length} players that gathered it at ${sinkId} (threshold ${config.minIntermediaries})`))
    if (alerts.length >= params.maxAlertsPerTypology) break
  }
  return alerts
}
