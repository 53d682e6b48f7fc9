/**
 * chargeback_count: deposits charged back or reversed (statuses from the rule set, CHARGEBACK
 * and REVERSED by default) in a sliding event-time window, by count and optionally by amount.
 * A player who disputes deposits and withdraws winnings is paid twice (friendly fraud); stolen
 * cards surface the same way. Evaluated on each such deposit event (an alert when the count or
 * sum goes over the limit) and on every withdrawal request (recorded hit or not).
 *
 * Worked example (maxCount 0, maxAmountMinor null, windowMs 90 d): a chargeback of deposit d1
 * (100.00) on day 3 -> count 1, hit (alert), value 1, threshold 0; a withdrawal on day 5 -> hit,
 * evidence the chargeback; a REVERSED event for the same d1 on day 6 -> still 1 (one deposit
 * counts once, at its first such status); a withdrawal on day 94 -> d1 is 91 days old, value 0.
 *
 * With maxCount 2 and maxAmountMinor 500_00: chargebacks of 300.00 and 250.00 -> count 2 (no
 * count hit) but 550.00 > 500.00 -> hit on the amount, value 55000, threshold 50000.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { capLatest, formatDuration, insertFirstOccurrence, isLate, retainRecent, slidingWindow, windowsContaining } from './windows.js'
import type { DepositStatus } from '../schemas/domain.js'

interface Chargeback { readonly eventId: string; readonly eventTimeMs: number; readonly depositId: string; readonly amountMinor: number }
export interface ChargebackCountState { readonly chargebacks: readonly Chargeback[] }
export interface ChargebackCountParams {
  /** Hit when the charged-back deposits in the window are more than this. */
  readonly maxCount: number
  /** Hit when their summed amount is more than this (minor units); null = no amount limit. */
  readonly maxAmountMinor: number | null
  readonly windowMs: number
  readonly graceMs: number
  /** Deposit statuses that count as a chargeback. */
  readonly statuses: readonly DepositStatus[]
  readonly maxTrackedChargebacks: number
}

function observe(inWindow: readonly Chargeback[], endMs: number, params: ChargebackCountParams): Observation {
  const count = inWindow.length
  const sumMinor = inWindow.reduce((sum, chargeback) => sum + chargeback.amountMinor, 0)
  const countHit = count > params.maxCount
  const amountHit = params.maxAmountMinor !== null && sumMinor > params.maxAmountMinor
  const byAmount = amountHit && !countHit
  const window = formatDuration(params.windowMs)
  return {
    hit: countHit || amountHit,
    value: byAmount ? sumMinor : count,
    threshold: byAmount ? params.maxAmountMinor : params.maxCount,
    detail: byAmount
      ? `${sumMinor} minor units charged back in ${window} (${count} deposits), limit ${params.maxAmountMinor}`
      : `${count} deposits charged back in ${window} (${sumMinor} minor units), limit ${params.maxCount}`,
    evidenceEventIds: inWindow.map((chargeback) => chargeback.eventId),
    windowStartMs: endMs - params.windowMs,
    windowEndMs: endMs,
  }
}

/** The window around `eventTimeMs` most over a limit: highest count, then highest sum. */
function total(items: readonly Chargeback[]): number {
  let sumMinor = 0
  for (const chargeback of items) sumMinor += chargeback.amountMinor
  return sumMinor
}

function worstWindow(chargebacks: readonly Chargeback[], eventTimeMs: number, params: ChargebackCountParams): { endMs: number; items: Chargeback[] } {
  return windowsContaining(chargebacks, eventTimeMs, params.windowMs).reduce((worst, window) =>
    window.items.length > worst.items.length || (window.items.length === worst.items.length && total(window.items) > total(worst.items)) ? window : worst)
}

export const chargebackCount = defineDetector({
  id: 'chargeback_count',
  version: 1,
  description: 'charged-back or reversed deposits per player in a sliding event-time window, by count and by sum',
  accepts: ['deposit', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxCount', 'windowMs', 'graceMs'],
    properties: {
      maxCount: { type: 'integer', minimum: 0, maximum: 50 },
      maxAmountMinor: { type: ['integer', 'null'], minimum: 0, default: null },
      windowMs: { type: 'integer', minimum: 1, maximum: 365 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: 7 * DAY_MS },
      statuses: { type: 'array', items: { enum: ['CHARGEBACK', 'REVERSED', 'FAILED', 'CANCELLED', 'UNKNOWN'] }, minItems: 1, uniqueItems: true, default: ['CHARGEBACK', 'REVERSED'] },
      maxTrackedChargebacks: { type: 'integer', minimum: 51, maximum: 1000, default: 100 },
    },
  },
  init: (): ChargebackCountState => ({ chargebacks: [] }),
  step(state: ChargebackCountState, event, params: ChargebackCountParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    const kept = retainRecent(state.chargebacks, context.streamTimeMs, params.windowMs, params.graceMs)
    if (event.kind === 'deposit') {
      if (!params.statuses.includes(event.status)) return { state, observation: null }
      // One deposit counts once (CHARGEBACK then REVERSED, or a redelivery), at its earliest such event.
      const chargeback: Chargeback = { eventId: event.eventId, eventTimeMs: event.eventTimeMs, depositId: event.depositId, amountMinor: event.amountMinor }
      const { items, inserted } = insertFirstOccurrence(kept, chargeback, (other) => other.depositId === event.depositId)
      const chargebacks = capLatest(items, params.maxTrackedChargebacks)
      if (!inserted || late) return { state: { chargebacks }, observation: null, late }
      const worst = worstWindow(chargebacks, event.eventTimeMs, params)
      const observation = observe(worst.items, worst.endMs, params)
      return { state: { chargebacks }, observation: observation.hit ? observation : null, late }
    }
    if (event.type !== 'REQUESTED') return { state, observation: null }
    return { state: kept === state.chargebacks ? state : { chargebacks: kept }, observation: observe(slidingWindow(kept, event.eventTimeMs, params.windowMs), event.eventTimeMs, params), late }
  },
})
