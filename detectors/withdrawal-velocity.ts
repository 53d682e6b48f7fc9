/**
 * withdrawal_velocity: too many withdrawal requests in a sliding window of event time
 * (the seed's example: more than 3 a day). Also sums the amounts, so a rule set can cap the
 * total requested in the window, and optionally applies the same two checks over a second,
 * longer window (a week by default) so that a player who spreads requests just under the daily
 * limit is still caught.
 *
 * Worked example (maxCount 3, windowMs 24 h): requests at 00:00, 01:00, 02:00 -> no hit;
 * a fourth at 03:00 -> hit, value 4, threshold 3; a fifth at 00:30 next day sees the first
 * one expired (window is (t - 24 h, t]) -> value 4 again.
 * Weekly (weeklyMaxCount 10, weeklyWindowMs 7 days): three requests a day for four days never
 * trip the daily limit, but the 11th request, on day 4, is a hit with value 11, threshold 10,
 * "11 withdrawal requests in 7 days, limit 10". The daily checks come first: when a daily limit
 * is crossed, the value, threshold, detail and evidence are the daily ones.
 *
 * A cancelled withdrawal stays counted: requesting and cancelling repeatedly is itself a
 * pattern (the cancellation detector looks at it separately).
 *
 * Late requests (before stream time minus `graceMs`) are flagged `late` and stored, and they are
 * still evaluated: a withdrawal request is answered exactly once, and answering a late one
 * without its checks would make lateness a way around them.
 */
import { DAY_MS, HOUR_MS, defineDetector, type Observation } from './detector.js'
import { insertRecent, isLate, slidingWindow } from './windows.js'

interface Request { readonly eventId: string; readonly eventTimeMs: number; readonly amountMinor: number }
export interface WithdrawalVelocityState { readonly requests: readonly Request[] }
export interface WithdrawalVelocityParams {
  /** Hit when the count in the window is greater than this. */
  readonly maxCount: number
  /** Hit when the summed amount in the window is greater than this (minor units); null = no cap. */
  readonly maxAmountMinor: number | null
  readonly windowMs: number
  /** Hit when the count in the weekly window is greater than this; null = no weekly count check. */
  readonly weeklyMaxCount: number | null
  /** Hit when the summed amount in the weekly window is greater than this (minor units); null = no cap. */
  readonly weeklyMaxAmountMinor: number | null
  /** Size of the longer window (7 days by default). */
  readonly weeklyWindowMs: number
  /** How far behind stream time a request may arrive before it counts as late. */
  readonly graceMs: number
  /** Upper bound on the requests kept in state (the newest are kept). */
  readonly maxTrackedRequests: number
}

interface Check {
  readonly hit: boolean
  readonly value: number
  readonly threshold: number | null
  readonly detail: string
  readonly windowMs: number
  readonly inWindow: readonly Request[]
}

// The daily detail text is unchanged since version 1 ("... in 24 h ..."); the weekly one reads in days.
const hoursLabel = (windowMs: number): string => `${windowMs / HOUR_MS} h`
const daysLabel = (windowMs: number): string => (windowMs % DAY_MS === 0 ? `${windowMs / DAY_MS} days` : hoursLabel(windowMs))

/** The count and sum checks over one window ending at `endMs`; the count check first. */
function checks(requests: readonly Request[], endMs: number, windowMs: number, label: string, maxCount: number | null, maxAmountMinor: number | null): Check[] {
  const inWindow = slidingWindow(requests, endMs, windowMs)
  const count = inWindow.length
  const sumMinor = inWindow.reduce((sum, request) => sum + request.amountMinor, 0)
  const result: Check[] = []
  if (maxCount !== null) result.push({ hit: count > maxCount, value: count, threshold: maxCount, detail: `${count} withdrawal requests in ${label}, limit ${maxCount}`, windowMs, inWindow })
  if (maxAmountMinor !== null) result.push({ hit: sumMinor > maxAmountMinor, value: sumMinor, threshold: maxAmountMinor, detail: `${sumMinor} minor units requested in ${label}, limit ${maxAmountMinor}`, windowMs, inWindow })
  return result
}

export const withdrawalVelocity = defineDetector({
  id: 'withdrawal_velocity',
  version: 1,
  description: 'withdrawal requests per player in a sliding event-time window (daily and weekly), by count and by sum',
  accepts: ['withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxCount', 'windowMs'],
    properties: {
      maxCount: { type: 'integer', minimum: 0 },
      maxAmountMinor: { type: ['integer', 'null'], minimum: 0, default: null },
      windowMs: { type: 'integer', minimum: 1, maximum: 31 * DAY_MS },
      weeklyMaxCount: { type: ['integer', 'null'], minimum: 0, default: null },
      weeklyMaxAmountMinor: { type: ['integer', 'null'], minimum: 0, default: null },
      weeklyWindowMs: { type: 'integer', minimum: 1, maximum: 31 * DAY_MS, default: 7 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS, default: 5 * 60 * 1000 },
      maxTrackedRequests: { type: 'integer', minimum: 1, maximum: 10_000, default: 500 },
    },
  },
  init: (): WithdrawalVelocityState => ({ requests: [] }),
  step(state: WithdrawalVelocityState, event, params: WithdrawalVelocityParams, context) {
    if (event.type !== 'REQUESTED') return { state, observation: null }
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    const weeklyOn = params.weeklyMaxCount !== null || params.weeklyMaxAmountMinor !== null
    const retentionMs = weeklyOn ? Math.max(params.windowMs, params.weeklyWindowMs) : params.windowMs
    // Out-of-order requests are inserted in event-time order, so the evidence list reads
    // chronologically; a redelivered request (same eventId) replaces itself.
    const request: Request = { eventId: event.eventId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor }
    const requests = insertRecent(state.requests, request, context.streamTimeMs, retentionMs, params.graceMs, params.maxTrackedRequests)

    // Requests later than this one (out of order) are not in this one's window.
    const daily = checks(requests, event.eventTimeMs, params.windowMs, hoursLabel(params.windowMs), params.maxCount, params.maxAmountMinor)
    const weekly = weeklyOn ? checks(requests, event.eventTimeMs, params.weeklyWindowMs, daysLabel(params.weeklyWindowMs), params.weeklyMaxCount, params.weeklyMaxAmountMinor) : []
    // The daily count check is always first, so with nothing hit the observation reads as it always has.
    const chosen = [...daily, ...weekly].find((check) => check.hit) ?? (daily[0] as Check)
    const observation: Observation = {
      hit: chosen.hit,
      value: chosen.value,
      threshold: chosen.threshold,
      detail: chosen.detail,
      evidenceEventIds: chosen.inWindow.map((other) => other.eventId),
      windowStartMs: event.eventTimeMs - chosen.windowMs,
      windowEndMs: event.eventTimeMs,
    }
    return { state: { requests }, observation, late }
  },
})
