/**
 * withdrawal_velocity: too many withdrawal requests in a sliding window of event time
 * (the seed's example: more than 3 a day). Also sums the amounts, so a rule set can cap the
 * total requested in the window.
 *
 * Worked example (maxCount 3, windowMs 24 h): requests at 00:00, 01:00, 02:00 -> no hit;
 * a fourth at 03:00 -> hit, value 4, threshold 3; a fifth at 00:30 next day sees the first
 * one expired (window is (t - 24 h, t]) -> value 4 again.
 *
 * A cancelled withdrawal stays counted: requesting and cancelling repeatedly is itself a
 * pattern (the cancellation detector looks at it separately).
 */
import { DAY_MS, defineDetector } from './detector.js'

interface Request { readonly eventId: string; readonly eventTimeMs: number; readonly amountMinor: number }
export interface WithdrawalVelocityState { readonly requests: readonly Request[] }
export interface WithdrawalVelocityParams {
  /** Hit when the count in the window is greater than this. */
  readonly maxCount: number
  /** Hit when the summed amount in the window is greater than this (minor units); null = no cap. */
  readonly maxAmountMinor: number | null
  readonly windowMs: number
}

export const withdrawalVelocity = defineDetector({
  id: 'withdrawal_velocity',
  version: 1,
  description: 'withdrawal requests per player in a sliding event-time window, by count and by sum',
  accepts: ['withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxCount', 'windowMs'],
    properties: {
      maxCount: { type: 'integer', minimum: 0 },
      maxAmountMinor: { type: ['integer', 'null'], minimum: 0, default: null },
      windowMs: { type: 'integer', minimum: 1, maximum: 31 * DAY_MS },
    },
  },
  init: (): WithdrawalVelocityState => ({ requests: [] }),
  step(state: WithdrawalVelocityState, event, params: WithdrawalVelocityParams) {
    if (event.type !== 'REQUESTED') return { state, observation: null }
    const windowStartMs = event.eventTimeMs - params.windowMs
    // Keep requests inside (t - window, t]; an out-of-order one is inserted in event-time order,
    // so the evidence list reads chronologically.
    const kept = state.requests.filter((request) => request.eventTimeMs > windowStartMs && request.eventId !== event.eventId)
    const request: Request = { eventId: event.eventId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor }
    const insertAt = kept.findIndex((other) => other.eventTimeMs > event.eventTimeMs)
    const requests = insertAt === -1 ? [...kept, request] : [...kept.slice(0, insertAt), request, ...kept.slice(insertAt)]
    // Requests later than this one (out of order) are not in this one's window.
    const inWindow = requests.filter((other) => other.eventTimeMs <= event.eventTimeMs)
    const count = inWindow.length
    const sumMinor = inWindow.reduce((sum, other) => sum + other.amountMinor, 0)
    const countHit = count > params.maxCount
    const amountHit = params.maxAmountMinor !== null && sumMinor > params.maxAmountMinor
    const hours = params.windowMs / (60 * 60 * 1000)
    const detail = amountHit && !countHit
      ? `${sumMinor} minor units requested in ${hours} h, limit ${params.maxAmountMinor}`
      : `${count} withdrawal requests in ${hours} h, limit ${params.maxCount}`
    return {
      state: { requests },
      observation: {
        hit: countHit || amountHit,
        value: amountHit && !countHit ? sumMinor : count,
        threshold: amountHit && !countHit ? params.maxAmountMinor : params.maxCount,
        detail,
        evidenceEventIds: inWindow.map((other) => other.eventId),
        windowStartMs,
        windowEndMs: event.eventTimeMs,
      },
    }
  },
})
