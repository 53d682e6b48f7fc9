/**
 * loss_chasing: rising deposits after losses (catalog 9, responsible gambling). A chain is a
 * run of completed deposits within `windowMs`, each larger than the one before, where between
 * each deposit and the next the player lost at least `minLossPercentOfDeposit` % of the earlier
 * deposit on settled bets (net result = wins - stakes). A chain of `minRisingDeposits` or more
 * deposits raises an alert on the deposit that completes it (RG intervention by default).
 *
 * Worked example (minRisingDeposits 3, minLossPercentOfDeposit 50, windowMs 24 h): deposit
 * 50_00 at 20:00, settled bets net -40_00; deposit 100_00 at 21:00, net -100_00; deposit 200_00
 * at 22:00 -> hit, value 3, threshold 3, evidence the three deposits. Had the player lost only
 * 20_00 of the first 50_00 (40 %), the chain would start at 100_00 and be 2 long: no hit.
 *
 * Only bets' SETTLED events carry a result, so only they count. State: the deposits in the
 * window, each with the net result of the bets settled after it and before the next deposit,
 * plus the bets of the last `graceMs` raw, so a deposit arriving out of order (within grace)
 * splits its predecessor's net exactly, and completes a chain running on through deposits seen
 * after it (the alert then names that chain). A late deposit or bet (beyond grace) is flagged `late`
 * and stored (a late deposit's split is then approximate) but raises no alert. Deposits are
 * compared as amounts: a player depositing in two currencies is not converted.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { appendLatest, insertByTime, isLate, keepFrom, retainRecent, sameId } from './windows.js'

export interface LossChasingParams {
  /** Hit when a rising chain has at least this many deposits. */
  readonly minRisingDeposits: number
  /** Loss between two deposits, as a share of the earlier one (percent), that makes the next one "chasing". */
  readonly minLossPercentOfDeposit: number
  readonly windowMs: number
  readonly graceMs: number
  readonly maxTrackedDeposits: number
}

interface TrackedDeposit {
  readonly eventId: string
  readonly eventTimeMs: number
  readonly amountMinor: number
  /** Net result (wins - stakes) of bets settled from this deposit until the next one. */
  readonly netAfterMinor: number
}

interface SettledBet {
  readonly eventId: string
  readonly eventTimeMs: number
  readonly netMinor: number
}

export interface LossChasingState {
  readonly deposits: readonly TrackedDeposit[]
  readonly recentBets: readonly SettledBet[]
}

const MAX_RECENT_BETS = 500

/** Index of the deposit a bet at `timeMs` follows (the last one at or before it), or -1. */
function depositBefore(deposits: readonly TrackedDeposit[], timeMs: number): number {
  let index = deposits.length - 1
  while (index >= 0 && (deposits[index] as TrackedDeposit).eventTimeMs > timeMs) index -= 1
  return index
}

/** Deposits some window within grace can still hold, at most `maxTrackedDeposits` (the newest). */
function prune(deposits: readonly TrackedDeposit[], streamTimeMs: number, params: LossChasingParams): readonly TrackedDeposit[] {
  const kept = retainRecent(deposits, streamTimeMs, params.windowMs, params.graceMs)
  return kept.length > params.maxTrackedDeposits ? kept.slice(kept.length - params.maxTrackedDeposits) : kept
}

// Helpers are module functions, not closures in step: under tsx (esbuild keepNames) every named
// closure costs a __name() call each time it is created, ~0.3 µs, on every event.
function hasEvent(items: ReadonlyArray<{ readonly eventId: string }>, eventId: string): boolean {
  for (const item of items) if (sameId(item.eventId, eventId)) return true
  return false
}

function lostEnough(deposit: TrackedDeposit, minLossPercent: number): boolean {
  // Integer arithmetic: loss x 100 >= amount x percent.
  return deposit.netAfterMinor < 0 && -deposit.netAfterMinor * 100 >= deposit.amountMinor * minLossPercent
}

/** True when `next` continues a chain from `previous`: larger, after a big enough loss. */
function continues(previous: TrackedDeposit, next: TrackedDeposit, minLossPercent: number): boolean {
  return previous.amountMinor < next.amountMinor && lostEnough(previous, minLossPercent)
}

/**
 * The longest chain that holds the deposit at `index`, within the window of its last deposit.
 * An in-order deposit can only end a chain; one arriving out of order (within grace) can also
 * sit inside a chain that runs on through deposits already seen after it.
 */
function longestChainThrough(deposits: readonly TrackedDeposit[], index: number, params: LossChasingParams): TrackedDeposit[] {
  let lastEnd = index
  while (lastEnd + 1 < deposits.length && continues(deposits[lastEnd] as TrackedDeposit, deposits[lastEnd + 1] as TrackedDeposit, params.minLossPercentOfDeposit)) lastEnd += 1
  let best: TrackedDeposit[] = [deposits[index] as TrackedDeposit]
  for (let end = index; end <= lastEnd; end += 1) {
    const endMs = (deposits[end] as TrackedDeposit).eventTimeMs
    let start = end
    while (start > 0) {
      const previous = deposits[start - 1] as TrackedDeposit
      if (previous.eventTimeMs <= endMs - params.windowMs || !continues(previous, deposits[start] as TrackedDeposit, params.minLossPercentOfDeposit)) break
      start -= 1
    }
    if (start <= index && end - start + 1 > best.length) best = deposits.slice(start, end + 1)
  }
  return best
}

export const lossChasing = defineDetector({
  id: 'loss_chasing',
  version: 1,
  description: 'a chain of rising deposits, each after losing a share of the previous one, within a window',
  accepts: ['deposit', 'bet'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['minRisingDeposits', 'minLossPercentOfDeposit', 'windowMs', 'graceMs'],
    properties: {
      minRisingDeposits: { type: 'integer', minimum: 2, maximum: 50 },
      minLossPercentOfDeposit: { type: 'integer', minimum: 0, maximum: 100 },
      windowMs: { type: 'integer', minimum: 1, maximum: 31 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      maxTrackedDeposits: { type: 'integer', minimum: 2, maximum: 1000, default: 200 },
    },
  },
  init: (): LossChasingState => ({ deposits: [], recentBets: [] }),
  step(state: LossChasingState, event, params: LossChasingParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    // Lists are copied only when they change: this runs on every bet.
    const recentBets = keepFrom(state.recentBets, context.streamTimeMs - params.graceMs)

    if (event.kind === 'bet') {
      if (event.type !== 'SETTLED' || hasEvent(recentBets, event.eventId)) return { state: recentBets === state.recentBets ? state : { deposits: state.deposits, recentBets }, observation: null, late }
      const netMinor = event.winMinor - event.stakeMinor
      const index = depositBefore(state.deposits, event.eventTimeMs)
      let deposits = state.deposits
      if (index !== -1) {
        const changed = deposits.slice()
        const deposit = changed[index] as TrackedDeposit
        changed[index] = { ...deposit, netAfterMinor: deposit.netAfterMinor + netMinor }
        deposits = changed
      }
      const nextRecent = late ? recentBets : appendLatest(recentBets, { eventId: event.eventId, eventTimeMs: event.eventTimeMs, netMinor }, MAX_RECENT_BETS)
      return { state: { deposits: prune(deposits, context.streamTimeMs, params), recentBets: nextRecent }, observation: null, late }
    }

    if (event.status !== 'COMPLETED' || hasEvent(state.deposits, event.eventId)) {
      return { state: recentBets === state.recentBets ? state : { deposits: state.deposits, recentBets }, observation: null, late }
    }
    // Place the deposit, then move the net of the bets settled after it (and before the next
    // deposit) from its predecessor's interval to its own.
    const placed = insertByTime(state.deposits, { eventId: event.eventId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor, netAfterMinor: 0 })
    const index = placed.findIndex((deposit) => deposit.eventId === event.eventId)
    const nextTimeMs = placed[index + 1]?.eventTimeMs ?? Number.POSITIVE_INFINITY
    let movedMinor = 0
    for (const bet of recentBets) if (bet.eventTimeMs >= event.eventTimeMs && bet.eventTimeMs < nextTimeMs) movedMinor += bet.netMinor
    // `placed` is a new list: its two entries are replaced in place.
    const deposits = placed
    deposits[index] = { ...(placed[index] as TrackedDeposit), netAfterMinor: movedMinor }
    const predecessor = placed[index - 1]
    if (predecessor !== undefined) deposits[index - 1] = { ...predecessor, netAfterMinor: predecessor.netAfterMinor - movedMinor }

    const chain = longestChainThrough(deposits, index, params)
    const nextState = { deposits: prune(deposits, context.streamTimeMs, params), recentBets }
    if (late || chain.length < params.minRisingDeposits) return { state: nextState, observation: null, late }
    const observation: Observation = {
      hit: true,
      value: chain.length,
      threshold: params.minRisingDeposits,
      detail: `${chain.length} rising deposits (${chain.map((deposit) => deposit.amountMinor).join(' < ')} minor units), each after losing at least ${params.minLossPercentOfDeposit} % of the previous, limit ${params.minRisingDeposits}`,
      evidenceEventIds: chain.map((deposit) => deposit.eventId),
      windowStartMs: (chain[0] as TrackedDeposit).eventTimeMs,
      windowEndMs: (chain[chain.length - 1] as TrackedDeposit).eventTimeMs,
    }
    return { state: nextState, observation, late }
  },
})
