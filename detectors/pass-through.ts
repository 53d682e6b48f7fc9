/**
 * pass_through: money that goes in and comes straight back out with little play in between
 * (deposit -> minimal activity -> withdrawal), the casino used as a pipe. At each outflow it
 * looks back over a sliding window of event time: D = completed deposits in the window, W = the
 * stakes of bets settled since the first of those deposits, O = the outflows since that deposit
 * (withdrawal requests, and P2P/tip/chip transfers SENT to another player, this one included).
 * It hits when D >= `minDepositMinor`, W / D < `maxWageringRatio` and O >= `minOutflowRatio` x D.
 * Summing the deposits means splitting one large deposit into small ones does not evade it;
 * summing the outflows does the same for the way out.
 *
 * Worked example (minDepositMinor 1000.00 EUR, maxWageringRatio 0.25, minOutflowRatio 0.5,
 * windowMs 48 h): deposit 2000.00 at 10:00, bets settled for 100.00 in total, withdrawal request
 * of 1900.00 at 12:00 -> W / D = 0.05 < 0.25 and O = 1900.00 >= 1000.00: hit, value 0.05,
 * threshold 0.25. Had the player wagered 500.00 (ratio 0.25, not below it) -> no hit.
 *
 * Transfers sent count as outflow because sending deposited money to another player without
 * wagering it is the same pipe with a different exit; a hit on a transfer is an alert. Money
 * RECEIVED over P2P is not seen here: casino.transfers.v1 is keyed by the sender, so the
 * receiver's partition never sees the transfer. "Received via P2P, then withdrawn" needs the
 * re-keyed stream of the link-graph issue (5), which is not built yet.
 *
 * Wagering is counted on SETTLED bet events (each bet settles once; the schema repeats the betId
 * from PLACED to SETTLED, and counting both would double it) and kept in tumbling buckets of
 * `wageringBucketMs` rather than bet by bet, so state stays small for a player who spins all
 * day: a bucket counts when it starts at or after the bucket holding the first deposit, so bets
 * up to one bucket before that deposit may count as wagering after it (which can only lower the
 * ratio's chance of a hit, never raise it). Bets are therefore not listed in the evidence.
 * Only events in the rule's `currency` count (no FX conversion here).
 *
 * Late events (behind stream time minus `graceMs`) are flagged `late` and stored; a late
 * transfer raises no alert, a late withdrawal request is still evaluated (it is answered once,
 * and only here). A withdrawal with no deposit in its window gets no observation.
 */
import type { TransferKind } from '../schemas/domain.js'
import { DAY_MS, HOUR_MS, defineDetector, type Observation } from './detector.js'
import { insertByTime, isLate, retainRecent, slidingWindow, tumblingWindowStart } from './windows.js'

interface Inflow { readonly eventId: string; readonly depositId: string; readonly eventTimeMs: number; readonly amountMinor: number }
interface Outflow { readonly eventId: string; readonly eventTimeMs: number; readonly amountMinor: number }
/** Stakes settled in the tumbling bucket starting at `eventTimeMs`. */
interface WageringBucket { readonly eventTimeMs: number; readonly stakeMinor: number }

export interface PassThroughState {
  readonly deposits: readonly Inflow[]
  readonly outflows: readonly Outflow[]
  readonly wagering: readonly WageringBucket[]
}

export interface PassThroughParams {
  /** Deposits in the window must sum to at least this (minor units of `currency`). */
  readonly minDepositMinor: number
  /** Hit when wagering / deposits is below this (0.25 = less than a quarter of the money was played). */
  readonly maxWageringRatio: number
  /** Hit only when outflows since the first deposit reach this fraction of the deposits. */
  readonly minOutflowRatio: number
  readonly windowMs: number
  readonly graceMs: number
  readonly currency: string
  /** Transfer kinds that count as money leaving the player (all four by default). */
  readonly outflowTransferKinds: readonly TransferKind[]
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

/** One bucket more than the window: the bucket holding the oldest deposit may start before it. */
function keepWagering(buckets: readonly WageringBucket[], streamTimeMs: number, params: PassThroughParams): readonly WageringBucket[] {
  return capped(retainRecent(buckets, streamTimeMs, params.windowMs + params.wageringBucketMs, params.graceMs), params.maxTrackedEvents)
}

const TRANSFER_KINDS = ['P2P', 'TIP', 'CHIP_TRANSFER', 'OTHER'] as const satisfies readonly TransferKind[]

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

function evaluate(state: PassThroughState, endMs: number, params: PassThroughParams): Observation | null {
  const deposits = slidingWindow(state.deposits, endMs, params.windowMs)
  const first = deposits[0]
  if (first === undefined) return null
  const depositedMinor = deposits.reduce((sum, deposit) => sum + deposit.amountMinor, 0)
  const firstBucketMs = tumblingWindowStart(first.eventTimeMs, params.wageringBucketMs)
  const wageredMinor = state.wagering.reduce((sum, bucket) => (bucket.eventTimeMs >= firstBucketMs && bucket.eventTimeMs <= endMs ? sum + bucket.stakeMinor : sum), 0)
  const outflows = state.outflows.filter((outflow) => outflow.eventTimeMs >= first.eventTimeMs && outflow.eventTimeMs <= endMs)
  const outMinor = outflows.reduce((sum, outflow) => sum + outflow.amountMinor, 0)
  const ratio = depositedMinor > 0 ? wageredMinor / depositedMinor : null
  const large = depositedMinor >= params.minDepositMinor
  const lowWagering = ratio !== null && wageredMinor < params.maxWageringRatio * depositedMinor
  const mostlyOut = outMinor >= params.minOutflowRatio * depositedMinor
  const hours = params.windowMs / HOUR_MS
  const money = `${params.currency} minor units`
  const detail = !large
    ? `${depositedMinor} ${money} deposited in ${hours} h, under the ${params.minDepositMinor} minimum for pass-through`
    : `wagered ${wageredMinor} of ${depositedMinor} ${money} deposited in ${hours} h (ratio ${ratio === null ? 'n/a' : ratio.toFixed(4)}, hit below ${params.maxWageringRatio}); ${outMinor} out since the first deposit (hit from ${params.minOutflowRatio} of deposits)`
  return {
    hit: large && lowWagering && mostlyOut,
    value: ratio === null ? null : Math.round(ratio * 10_000) / 10_000,
    threshold: params.maxWageringRatio,
    detail,
    evidenceEventIds: [...deposits, ...outflows].sort((a, b) => a.eventTimeMs - b.eventTimeMs).map((item) => item.eventId),
    windowStartMs: endMs - params.windowMs,
    windowEndMs: endMs,
  }
}

export const passThrough = defineDetector({
  id: 'pass_through',
  version: 1,
  description: 'withdrawal or transfer sent soon after large deposits with little wagering relative to them',
  accepts: ['deposit', 'bet', 'withdrawal', 'transfer'] as const,
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
      wageringBucketMs: { type: 'integer', minimum: 1000, maximum: DAY_MS, default: 15 * 60 * 1000 },
      maxTrackedEvents: { type: 'integer', minimum: 1, maximum: 10_000, default: 500 },
    },
  },
  init: (): PassThroughState => ({ deposits: [], outflows: [], wagering: [] }),
  step(state: PassThroughState, event, params: PassThroughParams, context) {
    if (event.currency !== params.currency) return { state, observation: null }
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    switch (event.kind) {
      case 'bet': {
        if (event.type !== 'SETTLED') return { state, observation: null }
        const added = addStake(state.wagering, tumblingWindowStart(event.eventTimeMs, params.wageringBucketMs), event.stakeMinor)
        // Buckets can only expire once time has moved a bucket on: prune when one was added (and at every evaluation).
        const wagering = added.length > state.wagering.length ? keepWagering(added, context.streamTimeMs, params) : added
        return { state: { deposits: state.deposits, outflows: state.outflows, wagering }, observation: null, late }
      }
      case 'deposit': {
        if (event.status !== 'COMPLETED') return { state, observation: null }
        const inflow: Inflow = { eventId: event.eventId, depositId: event.depositId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor }
        // A deposit's status events repeat its depositId: the earlier entry goes (rarely there is one).
        const others = state.deposits.some((deposit) => deposit.depositId === event.depositId) ? state.deposits.filter((deposit) => deposit.depositId !== event.depositId) : state.deposits
        const deposits = keep(insertByTime(others, inflow), context.streamTimeMs, params)
        return { state: { deposits, outflows: state.outflows, wagering: state.wagering }, observation: null, late }
      }
      case 'withdrawal':
      case 'transfer': {
        if (event.kind === 'withdrawal' && event.type !== 'REQUESTED') return { state, observation: null }
        if (event.kind === 'transfer' && !params.outflowTransferKinds.includes(event.transferKind)) return { state, observation: null }
        const outflows = keep(insertByTime(state.outflows, { eventId: event.eventId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor }), context.streamTimeMs, params)
        // Evaluations are rarer than deposits and bets: prune every list here, not only the one touched.
        const next: PassThroughState = { deposits: keep(state.deposits, context.streamTimeMs, params), outflows, wagering: keepWagering(state.wagering, context.streamTimeMs, params) }
        const observation = evaluate(next, event.eventTimeMs, params)
        // A transfer is not decided on: it only raises an alert, and not for a closed window.
        if (event.kind === 'transfer') return { state: next, observation: observation?.hit === true && !late ? observation : null, late }
        return { state: next, observation, late }
      }
    }
  },
})
