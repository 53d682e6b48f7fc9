/**
 * unusual_amount: a withdrawal far above the player's own history, measured with a robust
 * z-score so that one earlier outlier does not hide the next one. Over the last `historySize`
 * withdrawal requests in the same currency (not older than `historyMaxAgeMs`, before this one in
 * event time), with median m and median absolute deviation MAD:
 *   z = 0.6745 x (amount - m) / MAD                      (Iglewicz and Hoaglin's modified z-score)
 * When MAD is 0 (more than half the history has one amount) it falls back to the mean absolute
 * deviation: z = (amount - m) / (1.253314 x meanAD). When that is 0 too (every past amount equal)
 * there is no spread to measure against, and the rule compares the ratio amount / m with
 * `fallbackRatio` instead. Only amounts above the history count (a small withdrawal is not
 * suspicious here), and only from `minAmountMinor` on, so a EUR 40 request after EUR 5 ones does
 * not page an officer.
 *
 * Worked example (minHistory 5, zThreshold 3.5): past requests 100, 120, 90, 110, 100 (EUR) ->
 * m = 100, MAD = 10; a request of 130 -> z = 0.6745 x 30 / 10 = 2.02, no hit; a request of 160
 * -> z = 4.05 > 3.5, hit, value 4.05, threshold 3.5. Past requests all 50.00, then 200.00 ->
 * MAD = meanAD = 0, ratio 4 > fallbackRatio 3: hit, value 4, threshold 3.
 *
 * With fewer than `minHistory` past requests it returns no observation: there is no history to
 * be unusual against, and a NO_HIT would claim a check that was not made. The history is a count
 * of requests, not a time window, so no event is ever late for it; an out-of-order request is
 * compared with the requests before it in event time and then stored in order.
 */
import { DAY_MS, defineDetector } from './detector.js'
import { insertRecent } from './windows.js'

interface PastWithdrawal { readonly eventId: string; readonly eventTimeMs: number; readonly amountMinor: number; readonly currency: string }
export interface UnusualAmountState { readonly withdrawals: readonly PastWithdrawal[] }
export interface UnusualAmountParams {
  /** Past requests needed before the rule evaluates. */
  readonly minHistory: number
  /** How many past requests form the history (the newest are kept). */
  readonly historySize: number
  readonly historyMaxAgeMs: number
  /** Hit when the robust z-score is above this. */
  readonly zThreshold: number
  /** Hit when amount / median is above this, when the history has no spread at all. */
  readonly fallbackRatio: number
  /** Requests below this amount (minor units) never hit. */
  readonly minAmountMinor: number
}

/** Scale factors that make MAD and the mean absolute deviation estimate a normal standard deviation. */
const MAD_SCALE = 0.6745
const MEAN_ABSOLUTE_DEVIATION_SCALE = 1.253314

function median(sortedValues: readonly number[]): number {
  const middle = Math.floor(sortedValues.length / 2)
  return sortedValues.length % 2 === 1 ? (sortedValues[middle] as number) : ((sortedValues[middle - 1] as number) + (sortedValues[middle] as number)) / 2
}

const ascending = (a: number, b: number): number => a - b

/**
 * The last `historySize` past requests in the request's currency, before it in event time and
 * not older than `historyMaxAgeMs` (oldest first): one pass from the newest, no intermediate list.
 */
function historyOf(withdrawals: readonly PastWithdrawal[], event: { readonly eventId: string; readonly eventTimeMs: number; readonly currency: string }, params: UnusualAmountParams): PastWithdrawal[] {
  const oldestMs = event.eventTimeMs - params.historyMaxAgeMs
  const history: PastWithdrawal[] = []
  for (let index = withdrawals.length - 1; index >= 0 && history.length < params.historySize; index -= 1) {
    const past = withdrawals[index] as PastWithdrawal
    if (past.currency === event.currency && past.eventId !== event.eventId && past.eventTimeMs <= event.eventTimeMs && past.eventTimeMs > oldestMs) history.push(past)
  }
  return history.reverse()
}
const rounded = (value: number): number => Math.round(value * 100) / 100

export const unusualAmount = defineDetector({
  id: 'unusual_amount',
  version: 1,
  description: "withdrawal far above the player's own withdrawal history (robust z-score over median and MAD)",
  accepts: ['withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['minHistory', 'historySize', 'zThreshold'],
    properties: {
      minHistory: { type: 'integer', minimum: 2 },
      historySize: { type: 'integer', minimum: 2, maximum: 1000 },
      historyMaxAgeMs: { type: 'integer', minimum: 1, default: 365 * DAY_MS },
      zThreshold: { type: 'number', exclusiveMinimum: 0 },
      fallbackRatio: { type: 'number', exclusiveMinimum: 1, default: 3 },
      minAmountMinor: { type: 'integer', minimum: 0, default: 0 },
    },
  },
  init: (): UnusualAmountState => ({ withdrawals: [] }),
  step(state: UnusualAmountState, event, params: UnusualAmountParams, context) {
    if (event.type !== 'REQUESTED') return { state, observation: null }
    const history = historyOf(state.withdrawals, event, params)
    const current: PastWithdrawal = { eventId: event.eventId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor, currency: event.currency }
    const withdrawals = insertRecent(state.withdrawals, current, context.streamTimeMs, params.historyMaxAgeMs, 0, params.historySize)
    if (history.length < params.minHistory) return { state: { withdrawals }, observation: null }

    const amounts = history.map((past) => past.amountMinor).sort(ascending)
    const middle = median(amounts)
    const deviations = amounts.map((amount) => Math.abs(amount - middle))
    const mad = median([...deviations].sort(ascending))
    const meanDeviation = deviations.reduce((sum, deviation) => sum + deviation, 0) / deviations.length
    const amount = event.amountMinor
    const bigEnough = amount >= params.minAmountMinor
    const base = { evidenceEventIds: [...history.map((past) => past.eventId), event.eventId], windowStartMs: history[0]?.eventTimeMs ?? null, windowEndMs: event.eventTimeMs }
    const of = `the median ${middle} of the last ${history.length} ${event.currency} withdrawals`
    if (mad > 0 || meanDeviation > 0) {
      const z = mad > 0 ? (MAD_SCALE * (amount - middle)) / mad : (amount - middle) / (MEAN_ABSOLUTE_DEVIATION_SCALE * meanDeviation)
      const spread = mad > 0 ? `MAD ${mad}` : `MAD 0, mean absolute deviation ${rounded(meanDeviation)}`
      return {
        state: { withdrawals },
        observation: {
          ...base, hit: bigEnough && z > params.zThreshold, value: rounded(z), threshold: params.zThreshold,
          detail: `withdrawal of ${amount} scores robust z ${rounded(z)} against ${of} (${spread}), hit above ${params.zThreshold}${bigEnough ? '' : ` (under the ${params.minAmountMinor} minimum)`}`,
        },
      }
    }
    // No spread at all: every past amount is the same.
    const ratio = middle > 0 ? amount / middle : null
    const hit = bigEnough && (ratio === null ? amount > 0 : ratio > params.fallbackRatio)
    return {
      state: { withdrawals },
      observation: {
        ...base, hit, value: ratio === null ? null : rounded(ratio), threshold: params.fallbackRatio,
        detail: `withdrawal of ${amount} is ${ratio === null ? 'above zero' : `${rounded(ratio)} times`} ${of}, all equal, hit above ${params.fallbackRatio} times${bigEnough ? '' : ` (under the ${params.minAmountMinor} minimum)`}`,
      },
    }
  },
})
