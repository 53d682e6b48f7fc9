/**
 * edd_threshold: the player's cumulative withdrawal requests over a rolling period reach the
 * enhanced-due-diligence threshold of their jurisdiction (catalog 7), e.g. 10_000_00 in 30
 * days by default and 5_000_00 in the UK in the shipped rule set. These are examples to set
 * with the operator's MLRO, not legal advice: AMLD (Directive (EU) 2015/849, art. 11(d)) makes
 * €2,000 the customer-due-diligence trigger for gambling; enhanced checks (source of funds and
 * wealth) are set per licence and risk assessment. The default action asks for documents
 * (step_up_kyc).
 *
 * Sums are per currency (pitboss does not convert): the request's own currency is summed. A
 * cancelled request no longer counts. Every request is evaluated (hit or not).
 *
 * Worked example (thresholdMinor 10_000_00, windowMs 30 days): requests of 4_000_00 on day 1
 * and 5_999_99 on day 10 -> no hit (9_999_99); 1 more minor unit on day 12 -> hit, value
 * 10_000_00, threshold 10_000_00 ("reaches" counts); on day 32 the first request has left the
 * window (window is (t - 30 days, t]).
 *
 * The question is "as of now": a request arriving out of order (within grace) is judged on the
 * window ending at the latest request seen, so the requests made after it count too. Late
 * requests (before stream time minus `graceMs`) are flagged `late`, stored, and judged on the
 * window ending at stream time: that window is still open, while the one ending at the late
 * request closed long ago and raises nothing.
 * State is bounded by retention (window + grace) and `maxTrackedWithdrawals`; past the cap the
 * two oldest same-currency requests merge into one (sum kept, time of the later one), which can
 * only keep an amount in the window longer, never drop it early.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { insertByTime, isLate, retain, slidingWindow } from './windows.js'

export interface EddThresholdParams {
  /** Hit when the sum in the window reaches this (minor units of the request's currency). */
  readonly thresholdMinor: number
  readonly windowMs: number
  readonly graceMs: number
  readonly maxTrackedWithdrawals: number
}

interface Request {
  readonly eventId: string
  readonly withdrawalId: string
  readonly eventTimeMs: number
  readonly amountMinor: number
  readonly currency: string
}

export interface EddThresholdState {
  readonly requests: readonly Request[]
}

/** Merges the two oldest same-currency requests while over the cap (event-time order kept). */
function capByMerging(requests: readonly Request[], maxCount: number): Request[] {
  const result = [...requests]
  while (result.length > maxCount) {
    const oldest = result[0] as Request
    const partnerIndex = result.findIndex((request, index) => index > 0 && request.currency === oldest.currency)
    if (partnerIndex === -1) {
      // The only request in its currency cannot merge: dropping it is the one way under the cap
      // (an undercount only in a currency the player has used once in the whole window).
      result.shift()
      continue
    }
    const partner = result[partnerIndex] as Request
    result[partnerIndex] = { ...partner, amountMinor: partner.amountMinor + oldest.amountMinor }
    result.shift()
  }
  return result
}

export const eddThreshold = defineDetector({
  id: 'edd_threshold',
  version: 1,
  description: 'cumulative withdrawal requests in a rolling window reach the enhanced-due-diligence threshold',
  accepts: ['withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['thresholdMinor', 'windowMs', 'graceMs'],
    properties: {
      thresholdMinor: { type: 'integer', minimum: 1 },
      windowMs: { type: 'integer', minimum: 1, maximum: 366 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      maxTrackedWithdrawals: { type: 'integer', minimum: 2, maximum: 5000, default: 100 },
    },
  },
  init: (): EddThresholdState => ({ requests: [] }),
  step(state: EddThresholdState, event, params: EddThresholdParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    if (event.type === 'CANCELLED') {
      const requests = retain(state.requests.filter((request) => request.withdrawalId !== event.withdrawalId), context.streamTimeMs, params.windowMs, params.graceMs)
      return { state: { requests }, observation: null, late }
    }
    if (event.type !== 'REQUESTED') return { state, observation: null, late }
    const request: Request = { eventId: event.eventId, withdrawalId: event.withdrawalId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor, currency: event.currency }
    const stored = insertByTime(state.requests, request)
    // The total as of now: an out-of-order request (within grace) is judged with the requests
    // already seen after it, a late one on the window still open at stream time.
    const latestMs = stored.length === 0 ? event.eventTimeMs : Math.max(event.eventTimeMs, (stored[stored.length - 1] as Request).eventTimeMs)
    const endMs = late ? context.streamTimeMs : latestMs
    const inWindow = slidingWindow(stored, endMs, params.windowMs).filter((other) => other.currency === event.currency)
    const sumMinor = inWindow.reduce((sum, other) => sum + other.amountMinor, 0)
    const days = params.windowMs / DAY_MS
    const observation: Observation = {
      hit: sumMinor >= params.thresholdMinor,
      value: sumMinor,
      threshold: params.thresholdMinor,
      detail: `${sumMinor} minor units (${event.currency}) requested in ${Number.isInteger(days) ? `${days} days` : `${params.windowMs} ms`}, EDD threshold ${params.thresholdMinor}`,
      evidenceEventIds: inWindow.map((other) => other.eventId),
      windowStartMs: endMs - params.windowMs,
      windowEndMs: endMs,
    }
    const requests = capByMerging(retain(stored, context.streamTimeMs, params.windowMs, params.graceMs), params.maxTrackedWithdrawals)
    return { state: { requests }, observation, late }
  },
})
