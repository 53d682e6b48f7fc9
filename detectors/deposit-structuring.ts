/**
 * deposit_structuring: deposits shaped to stay under a reporting or due-diligence threshold.
 * Two patterns over a sliding window of event time, on completed deposits in the rule's
 * currency:
 * - several deposits each "just under" the threshold: at least `minNearBelowCount` deposits with
 *   `reportingThresholdMinor * (1 - nearBelowRatio) <= amount < reportingThresholdMinor`;
 * - split deposits whose sum lands just under it: at least `minSumDepositCount` deposits in the
 *   window whose total is in that same band.
 * On a deposit it raises an alert when a pattern holds in a window that holds the deposit; on a
 * withdrawal request it reports hit or no hit for the window ending at the request, so the
 * decision shows whether the money being taken out was structured in. A withdrawal with no
 * counted deposit in the window gets no observation (there is nothing to evaluate).
 *
 * Thresholds are data per jurisdiction. Examples, not legal advice: the EU's AMLD (Directive
 * (EU) 2015/849, art. 11(d)) makes casinos apply due diligence on transactions of EUR 2,000 or
 * more, single or linked, which Malta applies to remote gaming (FIAU Implementing Procedures,
 * Part II); the UK's Money Laundering Regulations 2017 (reg. 27(5)) carry the same EUR 2,000,
 * which operators express in sterling (about GBP 1,700). Use the figure your licence and your
 * MLRO set.
 *
 * Worked example (threshold 2000.00 EUR, nearBelowRatio 0.1 so the band is [1800.00, 2000.00),
 * minNearBelowCount 2, windowMs 24 h): deposits of 1900.00 at 10:00 -> nothing; 1950.00 at
 * 14:00 -> hit, value 2, threshold 2; a withdrawal at 15:00 -> hit in the decision. Deposits of
 * 700.00, 650.00 and 600.00 in one afternoon (minSumDepositCount 2) -> the third makes the sum
 * 1950.00, in the band: hit, value 195000, threshold 200000.
 *
 * Out-of-order deposits (within `graceMs`) are inserted in event-time order and every window that
 * holds them is checked: the window ending at the deposit and the windows ending at the later
 * deposits already stored. A late deposit (behind stream time minus grace) is flagged `late` and
 * stored, so later windows count it, but raises no alert for the closed window. A late
 * withdrawal request is still evaluated: it is answered once, and only here.
 */
import { DAY_MS, HOUR_MS, defineDetector, type Observation } from './detector.js'
import { insertRecent, isLate, slidingWindow } from './windows.js'

interface CountedDeposit { readonly eventId: string; readonly depositId: string; readonly eventTimeMs: number; readonly amountMinor: number }
export interface DepositStructuringState { readonly deposits: readonly CountedDeposit[] }
export interface DepositStructuringParams {
  /** The reporting / due-diligence threshold the deposits stay under, in minor units of `currency`. */
  readonly reportingThresholdMinor: number
  /** ISO 4217 code the threshold is in; deposits in other currencies are not counted (no FX here). */
  readonly currency: string
  /** Width of the "just under" band as a fraction of the threshold (0.1 = the top 10% below it). */
  readonly nearBelowRatio: number
  /** Hit when this many just-under deposits fall in one window (2 = "two or more"). */
  readonly minNearBelowCount: number
  /** The sum pattern needs at least this many deposits in the window (a single deposit is the other pattern). */
  readonly minSumDepositCount: number
  readonly windowMs: number
  readonly graceMs: number
  /** Upper bound on the deposits kept in state (the newest are kept). */
  readonly maxTrackedDeposits: number
}

interface Evaluation {
  readonly hit: boolean
  readonly observation: Observation
}

/**
 * True when `evaluate` would report a hit for the window ending at `endMs`: the same counts,
 * without the lists and the detail text (most deposits hit nothing and need no observation).
 */
function hits(deposits: readonly CountedDeposit[], endMs: number, params: DepositStructuringParams): boolean {
  const startMs = endMs - params.windowMs
  const lowerBoundMinor = Math.ceil(params.reportingThresholdMinor * (1 - params.nearBelowRatio))
  let count = 0
  let nearBelow = 0
  let sumMinor = 0
  for (const deposit of deposits) {
    if (deposit.eventTimeMs <= startMs || deposit.eventTimeMs > endMs) continue
    count += 1
    sumMinor += deposit.amountMinor
    if (deposit.amountMinor >= lowerBoundMinor && deposit.amountMinor < params.reportingThresholdMinor) nearBelow += 1
  }
  if (count === 0) return false
  return nearBelow >= params.minNearBelowCount || (count >= params.minSumDepositCount && sumMinor >= lowerBoundMinor && sumMinor < params.reportingThresholdMinor)
}

function evaluate(deposits: readonly CountedDeposit[], endMs: number, params: DepositStructuringParams): Evaluation | null {
  const inWindow = slidingWindow(deposits, endMs, params.windowMs)
  if (inWindow.length === 0) return null
  const lowerBoundMinor = Math.ceil(params.reportingThresholdMinor * (1 - params.nearBelowRatio))
  // Inline, not a closure: under tsx a named closure costs a __name() call each time (~0.3 µs).
  const nearBelow = inWindow.filter((deposit) => deposit.amountMinor >= lowerBoundMinor && deposit.amountMinor < params.reportingThresholdMinor)
  let sumMinor = 0
  for (const deposit of inWindow) sumMinor += deposit.amountMinor
  const countHit = nearBelow.length >= params.minNearBelowCount
  const sumHit = inWindow.length >= params.minSumDepositCount && sumMinor >= lowerBoundMinor && sumMinor < params.reportingThresholdMinor
  const hours = params.windowMs / HOUR_MS
  const band = `[${lowerBoundMinor}, ${params.reportingThresholdMinor}) ${params.currency} minor units`
  const window = { windowStartMs: endMs - params.windowMs, windowEndMs: endMs }
  if (sumHit && !countHit) {
    return {
      hit: true,
      observation: {
        hit: true, value: sumMinor, threshold: params.reportingThresholdMinor, ...window,
        detail: `${inWindow.length} deposits in ${hours} h sum to ${sumMinor}, just under the threshold: band ${band}`,
        evidenceEventIds: inWindow.map((deposit) => deposit.eventId),
      },
    }
  }
  return {
    hit: countHit,
    observation: {
      hit: countHit, value: nearBelow.length, threshold: params.minNearBelowCount, ...window,
      detail: `${nearBelow.length} deposits just under the threshold in ${hours} h (band ${band}), hit at ${params.minNearBelowCount}; ${inWindow.length} deposits sum to ${sumMinor}`,
      evidenceEventIds: (countHit ? nearBelow : inWindow).map((deposit) => deposit.eventId),
    },
  }
}

export const depositStructuring = defineDetector({
  id: 'deposit_structuring',
  version: 1,
  description: 'deposits each just under a reporting threshold, or summing to just under it, in a sliding event-time window',
  accepts: ['deposit', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['reportingThresholdMinor', 'currency', 'windowMs'],
    properties: {
      reportingThresholdMinor: { type: 'integer', minimum: 1 },
      currency: { type: 'string', pattern: '^[A-Z]{3}$' },
      nearBelowRatio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.1 },
      minNearBelowCount: { type: 'integer', minimum: 2, default: 2 },
      minSumDepositCount: { type: 'integer', minimum: 2, default: 2 },
      windowMs: { type: 'integer', minimum: 1, maximum: 31 * DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS, default: 5 * 60 * 1000 },
      maxTrackedDeposits: { type: 'integer', minimum: 1, maximum: 10_000, default: 200 },
    },
  },
  init: (): DepositStructuringState => ({ deposits: [] }),
  step(state: DepositStructuringState, event, params: DepositStructuringParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    if (event.kind === 'withdrawal') {
      if (event.type !== 'REQUESTED') return { state, observation: null }
      return { state, observation: evaluate(state.deposits, event.eventTimeMs, params)?.observation ?? null, late }
    }
    if (event.status !== 'COMPLETED' || event.currency !== params.currency) return { state, observation: null }
    // A deposit's status events repeat its depositId: one deposit counts once.
    const counted: CountedDeposit = { eventId: event.eventId, depositId: event.depositId, eventTimeMs: event.eventTimeMs, amountMinor: event.amountMinor }
    const others = state.deposits.some((deposit) => deposit.depositId === event.depositId) ? state.deposits.filter((deposit) => deposit.depositId !== event.depositId) : state.deposits
    const deposits = insertRecent(others, counted, context.streamTimeMs, params.windowMs, params.graceMs, params.maxTrackedDeposits)
    if (late) return { state: { deposits }, observation: null, late }
    // Every sliding window that holds this deposit: the one ending at it, and (when it arrived out
    // of order) those ending at the later deposits already stored, first hit wins.
    // (The ends windowsContaining gives, without building each window's list.)
    let lastEndMs = event.eventTimeMs
    for (let index = -1; index < deposits.length; index += 1) {
      const endMs = index === -1 ? event.eventTimeMs : (deposits[index] as CountedDeposit).eventTimeMs
      if (index !== -1) {
        if (endMs <= lastEndMs || endMs >= event.eventTimeMs + params.windowMs) continue
        lastEndMs = endMs
      }
      if (!hits(deposits, endMs, params)) continue
      const evaluation = evaluate(deposits, endMs, params)
      if (evaluation?.hit === true) return { state: { deposits }, observation: evaluation.observation, late }
    }
    return { state: { deposits }, observation: null, late }
  },
})
