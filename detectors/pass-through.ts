/**
 * pass_through: money that goes in and comes straight back out with little play in between
 * (inflow -> minimal activity -> outflow), the casino used as a pipe (issue 3). At each outflow it
 * looks back over a sliding window of event time: D = the inflows in the window (completed
 * deposits, and transfers RECEIVED from other players of the kinds in `inflowTransferKinds`),
 * W = the stakes of bets settled since the first of those inflows, O = the outflows since that
 * inflow (withdrawal requests, and P2P/tip/chip transfers SENT to another player, this one
 * included). It hits when D >= `minDepositMinor`, W / D < `maxWageringRatio` and
 * O >= `minOutflowRatio` x D. Summing the inflows means splitting one large deposit into small
 * ones (or into several transfers from friends) does not evade it; summing the outflows does the
 * same for the way out. (`minDepositMinor` keeps its v1 name so rule sets stay valid; it is the
 * minimum of all inflows, deposits and transfers received together.)
 *
 * Worked example, deposit (minDepositMinor 1000.00 EUR, maxWageringRatio 0.25, minOutflowRatio
 * 0.5, windowMs 48 h): deposit 2000.00 at 10:00, bets settled for 100.00 in total, withdrawal
 * request of 1900.00 at 12:00 -> W / D = 0.05 < 0.25 and O = 1900.00 >= 1000.00: hit, value
 * 0.05, threshold 0.25. Had the player wagered 500.00 (ratio 0.25, not below it) -> no hit.
 *
 * Worked example, received (same rule): player A sends B 2000.00 P2P at 10:00 (transfer event
 * ev-7, transferId tr-7); B deposits nothing, bets 50.00 and asks to withdraw 1900.00 at 12:00 ->
 * D = 2000.00 (0 deposited, 2000.00 received), W / D = 0.025 < 0.25, O = 1900.00 >= 1000.00:
 * hit on B's withdrawal, evidence [ev-7, B's withdrawal event]. A redelivered copy of tr-7 is
 * counted once.
 *
 * Transfers received: casino.transfers.v1 is keyed by the sender, so the receiver's partition
 * never sees it; the sender's partition task re-keys each transfer to the receiver on
 * risk.transfers-received.v1 (pipelines/processor.ts), which the receiver's task merges by event
 * time like its own events (event kind `transferReceived`, same eventId and transferId as the
 * transfer). A replay or redelivery re-emits the same transfer, so received transfers are
 * de-duplicated by transferId. Default `inflowTransferKinds`: P2P, TIP and CHIP_TRANSFER (money
 * one player gives another: chip dumping and mule accounts move it this way); OTHER is left out
 * because it is also what a kind added by a newer producer decodes to, whose meaning (a refund,
 * a promotional credit...) is not known here; a rule set can add it. A received transfer can
 * arrive after the receiver's withdrawal when the sender's partition runs behind (the merge
 * waits only for transfers already written, pipelines/partition-task.ts): it is then not in that
 * withdrawal's decision, and counts for the next outflow (flagged late beyond grace).
 *
 * Transfers sent count as outflow because sending money in without wagering it to another player
 * is the same pipe with a different exit; a hit on a transfer sent is an alert.
 *
 * Wagering is counted on SETTLED bet events (each bet settles once; the schema repeats the betId
 * from PLACED to SETTLED, and counting both would double it) and kept in tumbling buckets of
 * `wageringBucketMs` rather than bet by bet, so state stays small for a player who spins all
 * day: a bucket counts when it starts at or after the bucket holding the first inflow, so bets
 * up to one bucket before that inflow may count as wagering after it (which can only lower the
 * ratio's chance of a hit, never raise it). Bets are therefore not listed in the evidence.
 * Only events in the rule's `currency` count (no FX conversion here).
 *
 * Late events (behind stream time minus `graceMs`) are flagged `late` and stored; a late
 * transfer sent raises no alert, a late withdrawal request is still evaluated (it is answered
 * once, and only here). A withdrawal with no inflow in its window gets no observation.
 *
 * Version 2 (issue 3): inflows include transfers received; the state's `deposits` list became
 * `inflows` (a v1 state is dropped and the detector starts afresh, see pipelines/processor.ts).
 */
import type { TransferKind } from '../schemas/domain.js'
import { DAY_MS, HOUR_MS, defineDetector, type Observation } from './detector.js'
import { insertByTime, isLate, retainRecent, slidingWindow, tumblingWindowStart } from './windows.js'

/** Money in: a completed deposit (`sourceId` its depositId) or a transfer received (its transferId). */
interface Inflow { readonly eventId: string; readonly source: 'deposit' | 'transfer'; readonly sourceId: string; readonly eventTimeMs: number; readonly amountMinor: number }
interface Outflow { readonly eventId: string; readonly eventTimeMs: number; readonly amountMinor: number }
/** Stakes settled in the tumbling bucket starting at `eventTimeMs`. */
interface WageringBucket { readonly eventTimeMs: number; readonly stakeMinor: number }

export interface PassThroughState {
  /** Completed deposits and transfers received, in event-time order. */
  readonly inflows: readonly Inflow[]
  readonly outflows: readonly Outflow[]
  readonly wagering: readonly WageringBucket[]
}

export interface PassThroughParams {
  /** Inflows (deposits and transfers received) in the window must sum to at least this (minor units of `currency`). */
  readonly minDepositMinor: number
  /** Hit when wagering / inflows is below this (0.25 = less than a quarter of the money was played). */
  readonly maxWageringRatio: number
  /** Hit only when outflows since the first inflow reach this fraction of the inflows. */
  readonly minOutflowRatio: number
  readonly windowMs: number
  readonly graceMs: number
  readonly currency: string
  /** Transfer kinds that count as money leaving the player when sent (all four by default). */
  readonly outflowTransferKinds: readonly TransferKind[]
  /** Transfer kinds that count as money coming in when received (P2P, TIP, CHIP_TRANSFER by default). */
  readonly inflowTransferKinds: readonly TransferKind[]
  readonly wageringBucketMs: number
  /** Upper bound on each list kept in state (the newest are kept). */
  readonly maxTrackedEvents: number
}

/** The newest `maxCount` items, without a copy when there are not more. */
const capped = <T>(items: readonly T[], maxCount: number): readonly T[] => (items.length > maxCount ? items.slice(items.length - maxCount) : items)

// Module functions rather than closures in step: under tsx (esbuild keepNames) a named closure
// costs a __name() call each time it is created, ~0.3 µs on every event.
/** What some window within grace can still hold, at most `maxTrackedEvents` (the newest). */
function keep<T extends { readonly eventTimeMs: number }>(items: readonly T[], streamTimeMs: number, params: PassThroughParams): readonly T[] {
  return capped(retainRecent(items, streamTimeMs, params.windowMs, params.graceMs), params.maxTrackedEvents)
}

/** One bucket more than the window: the bucket holding the oldest inflow may start before it. */
function keepWagering(buckets: readonly WageringBucket[], streamTimeMs: number, params: PassThroughParams): readonly WageringBucket[] {
  return capped(retainRecent(buckets, streamTimeMs, params.windowMs + params.wageringBucketMs, params.graceMs), params.maxTrackedEvents)
}

const TRANSFER_KINDS = ['P2P', 'TIP', 'CHIP_TRANSFER', 'OTHER'] as const satisfies readonly TransferKind[]
/** OTHER is left out: it is also what an unknown newer kind decodes to (see the header). */
const DEFAULT_INFLOW_TRANSFER_KINDS = ['P2P', 'TIP', 'CHIP_TRANSFER'] as const satisfies readonly TransferKind[]

function addStake(buckets: readonly WageringBucket[], bucketStartMs: number, stakeMinor: number): WageringBucket[] {
  const last = buckets[buckets.length - 1]
  // The usual case: a bet in the newest bucket (one copy of the list, one new bucket).
  if (last !== undefined && last.eventTimeMs === bucketStartMs) {
    const result = buckets.slice()
    result[result.length - 1] = { eventTimeMs: bucketStartMs, stakeMinor: last.stakeMinor + stakeMinor }
    return result
  }
  const index = buckets.findIndex((bucket) => bucket.eventTimeMs >= bucketStartMs)
  if (index === -1) return [...buckets, { eventTimeMs: bucketStartMs, stakeMinor }]
  const found = buckets[index] as WageringBucket
  if (found.eventTimeMs === bucketStartMs) return [...buckets.slice(0, index), { eventTimeMs: bucketStartMs, stakeMinor: found.stakeMinor + stakeMinor }, ...buckets.slice(index + 1)]
  return [...buckets.slice(0, index), { eventTimeMs: bucketStartMs, stakeMinor }, ...buckets.slice(index)]
}

function hasInflow(inflows: readonly Inflow[], source: Inflow['source'], sourceId: string): boolean {
  for (const inflow of inflows) if (inflow.source === source && inflow.sourceId === sourceId) return true
  return false
}

function evaluate(state: PassThroughState, endMs: number, params: PassThroughParams): Observation | null {
  const inflows = slidingWindow(state.inflows, endMs, params.windowMs)
  const first = inflows[0]
  if (first === undefined) return null
  let depositedMinor = 0
  let receivedMinor = 0
  for (const inflow of inflows) {
    if (inflow.source === 'deposit') depositedMinor += inflow.amountMinor
    else receivedMinor += inflow.amountMinor
  }
  const inMinor = depositedMinor + receivedMinor
  const firstBucketMs = tumblingWindowStart(first.eventTimeMs, params.wageringBucketMs)
  const wageredMinor = state.wagering.reduce((sum, bucket) => (bucket.eventTimeMs >= firstBucketMs && bucket.eventTimeMs <= endMs ? sum + bucket.stakeMinor : sum), 0)
  const outflows = state.outflows.filter((outflow) => outflow.eventTimeMs >= first.eventTimeMs && outflow.eventTimeMs <= endMs)
  const outMinor = outflows.reduce((sum, outflow) => sum + outflow.amountMinor, 0)
  const ratio = inMinor > 0 ? wageredMinor / inMinor : null
  const large = inMinor >= params.minDepositMinor
  const lowWagering = ratio !== null && wageredMinor < params.maxWageringRatio * inMinor
  const mostlyOut = outMinor >= params.minOutflowRatio * inMinor
  const hours = params.windowMs / HOUR_MS
  const money = `${params.currency} minor units`
  const sources = `${depositedMinor} deposited, ${receivedMinor} received from other players`
  const detail = !large
    ? `${inMinor} ${money} came in within ${hours} h (${sources}), under the ${params.minDepositMinor} minimum for pass-through`
    : `wagered ${wageredMinor} of ${inMinor} ${money} that came in within ${hours} h (${sources}; ratio ${ratio === null ? 'n/a' : ratio.toFixed(4)}, hit below ${params.maxWageringRatio}); ${outMinor} out since the first inflow (hit from ${params.minOutflowRatio} of inflows)`
  return {
    hit: large && lowWagering && mostlyOut,
    value: ratio === null ? null : Math.round(ratio * 10_000) / 10_000,
    threshold: params.maxWageringRatio,
    detail,
    evidenceEventIds: [...inflows, ...outflows].sort((a, b) => a.eventTimeMs - b.eventTimeMs).map((item) => item.eventId),
    windowStartMs: endMs - params.windowMs,
    windowEndMs: endMs,
  }
}

export const passThrough = defineDetector({
  id: 'pass_through',
  version: 2,
  description: 'withdrawal or transfer sent soon after large inflows (deposits, transfers received) with little wagering relative to them',
  accepts: ['deposit', 'transferReceived', 'bet', 'withdrawal', 'transfer'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['minDepositMinor', 'maxWageringRatio', 'windowMs', 'currency'],
    properties: {
      minDepositMinor: { type: 'integer', minimum: 1 },
      maxWageringRatio: { type: 'number', exclusiveMinimum: 0 },
      minOutflowRatio: { type: 'number', minimum: 0, default: 0.5 },
      windowMs: { type: 'integer', minimum: 1, maximum: 31 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS, default: 5 * 60 * 1000 },
      currency: { type: 'string', pattern: '^[A-Z]{3}$' },
      outflowTransferKinds: { type: 'array', uniqueItems: true, items: { enum: TRANSFER_KINDS }, default: [...TRANSFER_KINDS] },
      inflowTransferKinds: { type: 'array', uniqueItems: true, items: { enum: TRANSFER_KINDS }, default: [...DEFAULT_INFLOW_TRANSFER_KINDS] },
      wageringBucketMs: { type: 'integer', minimum: 1000, maximum: DAY_MS, default: 15 * 60 * 1000 },
      maxTrackedEvents: { type: 'integer', minimum: 1, maximum: 10_000, default: 500 },
    },
  },
  init: (): PassThroughState => ({ inflows: [], outflows: [], wagering: [] }),
  step(state: PassThroughState, event, params: PassThroughParams, context) {
    if (event.currency !== params.currency) return { state, observation: null }
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    switch (event.kind) {
      case 'bet': {
        if (event.type !== 'SETTLED') return { state, observation: null }
        const added = addStake(state.wagering, tumblingWindowStart(event.eventTimeMs, params.wageringBucketMs), event.stakeMinor)
        // Buckets can only expire once time has moved a bucket on: prune when one was added (and at every evaluation).
        const wagering = added.length > state.wagering.length ? keepWagering(added, context.streamTimeMs, params) : added
        return { state: { inflows: state.inflows, outflows: state.outflows, wagering }, observation: null, late }
      }
      case 'deposit': {
        if (event.status !== 'COMPLETED') return { state, observation: null }
        const inflow: Inflow = { eventId: event.eventId, source: 'deposit', sourceId: event.depositId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor }
        // A deposit's status events repeat its depositId: the earlier entry goes (rarely there is one).
        const others = hasInflow(state.inflows, 'deposit', event.depositId) ? state.inflows.filter((other) => other.source !== 'deposit' || other.sourceId !== event.depositId) : state.inflows
        const inflows = keep(insertByTime(others, inflow), context.streamTimeMs, params)
        return { state: { inflows, outflows: state.outflows, wagering: state.wagering }, observation: null, late }
      }
      case 'transferReceived': {
        if (!params.inflowTransferKinds.includes(event.transferKind)) return { state, observation: null }
        // Redelivered or replayed by the sender's task: the same transfer counts once.
        if (hasInflow(state.inflows, 'transfer', event.transferId)) return { state, observation: null }
        const inflow: Inflow = { eventId: event.eventId, source: 'transfer', sourceId: event.transferId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor }
        const inflows = keep(insertByTime(state.inflows, inflow), context.streamTimeMs, params)
        return { state: { inflows, outflows: state.outflows, wagering: state.wagering }, observation: null, late }
      }
      case 'withdrawal':
      case 'transfer': {
        if (event.kind === 'withdrawal' && event.type !== 'REQUESTED') return { state, observation: null }
        if (event.kind === 'transfer' && !params.outflowTransferKinds.includes(event.transferKind)) return { state, observation: null }
        const outflows = keep(insertByTime(state.outflows, { eventId: event.eventId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor }), context.streamTimeMs, params)
        // Evaluations are rarer than inflows and bets: prune every list here, not only the one touched.
        const next: PassThroughState = { inflows: keep(state.inflows, context.streamTimeMs, params), outflows, wagering: keepWagering(state.wagering, context.streamTimeMs, params) }
        const observation = evaluate(next, event.eventTimeMs, params)
        // A transfer sent is not decided on: it only raises an alert, and not for a closed window.
        if (event.kind === 'transfer') return { state: next, observation: observation?.hit === true && !late ? observation : null, late }
        return { state: next, observation, late }
      }
    }
  },
})
