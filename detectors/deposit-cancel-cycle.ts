/**
 * deposit_cancel_cycle: repeated deposit-then-cancel and withdraw-then-cancel in a sliding
 * event-time window. Cancelled deposits (statuses from the rule set, CANCELLED by default) and
 * withdrawal requests the player cancelled count together: moving money in and out without
 * playing tests a payment route (placement), and reversing withdrawals to keep gambling is a
 * harm marker (reverse withdrawals are banned under UK licences). Evaluated on each
 * cancellation (an alert when the count goes over the limit) and on every withdrawal request.
 *
 * Worked example (maxCancellations 2, windowMs 7 d): deposit d1 cancelled on day 0, withdrawal
 * w1 requested and cancelled on day 1 -> 2, no hit; deposit d2 cancelled on day 2 -> 3, hit
 * (alert), value 3, threshold 2, evidence the three cancellation events; a withdrawal request on
 * day 3 -> hit; one on day 7.5 -> d1 (day 0) has left the window, value 2, no hit.
 *
 * Each deposit or withdrawal counts once, at its earliest cancellation event.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { capLatest, formatDuration, insertFirstOccurrence, isLate, retainRecent, slidingWindow, windowsContaining } from './windows.js'
import type { DepositStatus } from '../schemas/domain.js'

interface Cancellation {
  readonly eventId: string
  readonly eventTimeMs: number
  /** `deposit:<depositId>` or `withdrawal:<withdrawalId>`. */
  readonly subject: string
}
export interface DepositCancelCycleState { readonly cancellations: readonly Cancellation[] }
export interface DepositCancelCycleParams {
  /** Hit when the cancellations in the window are more than this. */
  readonly maxCancellations: number
  readonly windowMs: number
  readonly graceMs: number
  /** Deposit statuses that count as a cancelled deposit. */
  readonly depositStatuses: readonly DepositStatus[]
  /** Whether cancelled withdrawal requests count. */
  readonly countWithdrawalCancellations: boolean
  readonly maxTrackedCancellations: number
}

function observe(inWindow: readonly Cancellation[], endMs: number, params: DepositCancelCycleParams): Observation {
  const deposits = inWindow.filter((cancellation) => cancellation.subject.startsWith('deposit:')).length
  return {
    hit: inWindow.length > params.maxCancellations,
    value: inWindow.length,
    threshold: params.maxCancellations,
    detail: `${inWindow.length} cancellations in ${formatDuration(params.windowMs)} (${deposits} deposits, ${inWindow.length - deposits} withdrawals), limit ${params.maxCancellations}`,
    evidenceEventIds: inWindow.map((cancellation) => cancellation.eventId),
    windowStartMs: endMs - params.windowMs,
    windowEndMs: endMs,
  }
}

export const depositCancelCycle = defineDetector({
  id: 'deposit_cancel_cycle',
  version: 1,
  description: 'cancelled deposits and cancelled withdrawal requests per player in a sliding event-time window',
  accepts: ['deposit', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxCancellations', 'windowMs', 'graceMs'],
    properties: {
      maxCancellations: { type: 'integer', minimum: 0, maximum: 50 },
      windowMs: { type: 'integer', minimum: 1, maximum: 90 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      depositStatuses: { type: 'array', items: { enum: ['CANCELLED', 'FAILED', 'REVERSED', 'UNKNOWN'] }, uniqueItems: true, default: ['CANCELLED'] },
      countWithdrawalCancellations: { type: 'boolean', default: true },
      maxTrackedCancellations: { type: 'integer', minimum: 51, maximum: 1000, default: 100 },
    },
  },
  init: (): DepositCancelCycleState => ({ cancellations: [] }),
  step(state: DepositCancelCycleState, event, params: DepositCancelCycleParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    const kept = retainRecent(state.cancellations, context.streamTimeMs, params.windowMs, params.graceMs)
    const subject = event.kind === 'deposit'
      ? (params.depositStatuses.includes(event.status) ? `deposit:${event.depositId}` : null)
      : (event.type === 'CANCELLED' && params.countWithdrawalCancellations ? `withdrawal:${event.withdrawalId}` : null)
    if (subject !== null) {
      const cancellation: Cancellation = { eventId: event.eventId, eventTimeMs: event.eventTimeMs, subject }
      const { items, inserted } = insertFirstOccurrence(kept, cancellation, (other) => other.subject === subject)
      const cancellations = capLatest(items, params.maxTrackedCancellations)
      if (!inserted || late) return { state: { cancellations }, observation: null, late }
      const windows = windowsContaining(cancellations, event.eventTimeMs, params.windowMs)
      const busiest = windows.reduce((best, window) => (window.items.length > best.items.length ? window : best))
      const observation = observe(busiest.items, busiest.endMs, params)
      return { state: { cancellations }, observation: observation.hit ? observation : null, late }
    }
    if (event.kind !== 'withdrawal' || event.type !== 'REQUESTED') return { state, observation: null }
    return { state: kept === state.cancellations ? state : { cancellations: kept }, observation: observe(slidingWindow(kept, event.eventTimeMs, params.windowMs), event.eventTimeMs, params), late }
  },
})
