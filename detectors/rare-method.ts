/**
 * rare_method: a withdrawal by a payment method this player rarely or never uses. Over the
 * player's last `historySize` payments (completed deposits and withdrawal requests, not older
 * than `historyMaxAgeMs`, before this request in event time), the share of those made with the
 * request's method (CARD, BANK_TRANSFER, EWALLET, CRYPTO, PREPAID, OTHER) is the value; it hits
 * when the share is below `minShare`. A sudden switch to an unusual way out is a sign of account
 * takeover or of an account being emptied for someone else. closed_loop_breach looks at the
 * exact instrument; this one at the method family, so a new card is not "rare" here but a first
 * crypto withdrawal after twenty card payments is.
 *
 * Worked example (minHistory 5, minShare 0.1): nine CARD deposits and one EWALLET withdrawal,
 * then a withdrawal by EWALLET -> share 1/10 = 0.1, not below 0.1: no hit; by CRYPTO -> share 0,
 * hit, value 0, threshold 0.1.
 *
 * With fewer than `minHistory` past payments it returns no observation (no history to call a
 * method rare against). The history is a count, not a time window, so no event is late for it;
 * an out-of-order event is stored in event-time order.
 */
import { DAY_MS, defineDetector } from './detector.js'
import { insertRecent } from './windows.js'
import type { PaymentMethod } from '../schemas/domain.js'

interface Payment { readonly eventId: string; readonly eventTimeMs: number; readonly method: PaymentMethod }
export interface RareMethodState { readonly payments: readonly Payment[] }
export interface RareMethodParams {
  readonly minHistory: number
  readonly historySize: number
  readonly historyMaxAgeMs: number
  /** Hit when the method's share of past payments is below this (0..1). */
  readonly minShare: number
}

/** The payments counted in the history, oldest first, from the oldest one counted (`firstIndex`). */
function historyFrom(payments: readonly Payment[], firstIndex: number, eventId: string, eventTimeMs: number, oldestMs: number): Payment[] {
  const history: Payment[] = []
  for (let index = firstIndex; index < payments.length; index += 1) {
    const past = payments[index] as Payment
    if (past.eventId !== eventId && past.eventTimeMs <= eventTimeMs && past.eventTimeMs > oldestMs) history.push(past)
  }
  return history
}

export const rareMethod = defineDetector({
  id: 'rare_method',
  version: 1,
  description: "withdrawal by a payment method that is rare in the player's past deposits and withdrawals",
  accepts: ['deposit', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['minHistory', 'historySize', 'minShare'],
    properties: {
      minHistory: { type: 'integer', minimum: 1 },
      historySize: { type: 'integer', minimum: 1, maximum: 1000 },
      historyMaxAgeMs: { type: 'integer', minimum: 1, default: 365 * DAY_MS },
      minShare: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    },
  },
  init: (): RareMethodState => ({ payments: [] }),
  step(state: RareMethodState, event, params: RareMethodParams, context) {
    const counts = event.kind === 'deposit' ? event.status === 'COMPLETED' : event.type === 'REQUESTED'
    if (!counts) return { state, observation: null }
    const payment: Payment = { eventId: event.eventId, eventTimeMs: event.eventTimeMs, method: event.method }
    const payments = insertRecent(state.payments, payment, context.streamTimeMs, params.historyMaxAgeMs, 0, params.historySize)
    if (event.kind === 'deposit') return { state: { payments }, observation: null }

    // The history counted from the newest in one pass; the lists are built only for an observation.
    const oldestMs = event.eventTimeMs - params.historyMaxAgeMs
    let historyLength = 0
    let sameCount = 0
    let firstIndex = -1
    for (let index = state.payments.length - 1; index >= 0 && historyLength < params.historySize; index -= 1) {
      const past = state.payments[index] as Payment
      if (past.eventId === event.eventId || past.eventTimeMs > event.eventTimeMs || past.eventTimeMs <= oldestMs) continue
      historyLength += 1
      if (past.method === event.method) sameCount += 1
      firstIndex = index
    }
    if (historyLength < params.minHistory) return { state: { payments }, observation: null }
    const history = historyFrom(state.payments, firstIndex, event.eventId, event.eventTimeMs, oldestMs)
    const same = history.filter((past) => past.method === event.method)
    const share = sameCount / historyLength
    const hit = share < params.minShare
    return {
      state: { payments },
      observation: {
        hit,
        value: Math.round(share * 1000) / 1000,
        threshold: params.minShare,
        detail: `withdrawal by ${event.method}: ${same.length} of the last ${history.length} payments used it (share ${(Math.round(share * 1000) / 1000).toString()}), rare below ${params.minShare}`,
        evidenceEventIds: [...(hit ? history : same).map((past) => past.eventId), event.eventId],
        windowStartMs: history[0]?.eventTimeMs ?? null,
        windowEndMs: event.eventTimeMs,
      },
    }
  },
})
