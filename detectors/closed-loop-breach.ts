/**
 * closed_loop_breach: a withdrawal to a payment instrument the player never deposited with.
 * Closed-loop payouts (money goes back where it came from) are the usual licence condition and
 * the cheapest defence against using a casino account to move money between instruments.
 * Instruments are compared by `instrument.token` (card hash, IBAN hash, wallet address or
 * e-wallet id); an instrument counts from its first completed deposit, in event time, and is
 * remembered for `instrumentMemoryMs` after its last one (at most `maxInstruments`, the most
 * recently used kept).
 *
 * One exception is data: when every instrument the player deposited with is of a method that
 * cannot receive payouts (`nonPayableDepositMethods`, e.g. PREPAID vouchers), a withdrawal by one
 * of `fallbackWithdrawalMethods` (e.g. BANK_TRANSFER) is the accepted way back and not a breach.
 *
 * Worked example: deposits with card:A (CARD) and wallet:W (EWALLET); a withdrawal to card:A ->
 * no hit (value 0); to card:B -> hit (value 1, no threshold), evidence the last deposit of each
 * known instrument and the request. Deposits only by voucher:V (PREPAID), withdrawal by
 * BANK_TRANSFER to iban:X -> no hit, by EWALLET to wallet:W -> hit.
 *
 * A player with no deposit known to pitboss gets no observation: its state starts empty when
 * pitboss is deployed, so "no deposit seen" means "history unknown", not "never deposited". The
 * memory is not a window, so no event is late for it; a deposit that arrives after the request
 * it preceded cannot change that request's decision.
 */
import type { PaymentMethod } from '../schemas/domain.js'
import { DAY_MS, defineDetector } from './detector.js'

interface KnownInstrument {
  readonly token: string
  readonly method: PaymentMethod
  readonly firstUsedMs: number
  readonly lastUsedMs: number
  /** The latest deposit event with this instrument, for evidence. */
  readonly lastEventId: string
}
export interface ClosedLoopBreachState { readonly instruments: readonly KnownInstrument[] }
export interface ClosedLoopBreachParams {
  readonly instrumentMemoryMs: number
  readonly maxInstruments: number
  readonly nonPayableDepositMethods: readonly PaymentMethod[]
  readonly fallbackWithdrawalMethods: readonly PaymentMethod[]
}

const PAYMENT_METHODS = ['CARD', 'BANK_TRANSFER', 'EWALLET', 'CRYPTO', 'PREPAID', 'OTHER'] as const satisfies readonly PaymentMethod[]

export const closedLoopBreach = defineDetector({
  id: 'closed_loop_breach',
  version: 1,
  description: 'withdrawal to a payment instrument never used for a deposit',
  accepts: ['deposit', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: [],
    properties: {
      instrumentMemoryMs: { type: 'integer', minimum: 1, default: 365 * DAY_MS },
      maxInstruments: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
      nonPayableDepositMethods: { type: 'array', uniqueItems: true, items: { enum: PAYMENT_METHODS }, default: ['PREPAID'] },
      fallbackWithdrawalMethods: { type: 'array', uniqueItems: true, items: { enum: PAYMENT_METHODS }, default: ['BANK_TRANSFER'] },
    },
  },
  init: (): ClosedLoopBreachState => ({ instruments: [] }),
  step(state: ClosedLoopBreachState, event, params: ClosedLoopBreachParams, context) {
    if (event.kind === 'deposit') {
      if (event.status !== 'COMPLETED') return { state, observation: null }
      const token = event.instrument.token
      const known = state.instruments.find((instrument) => instrument.token === token)
      const updated: KnownInstrument = known === undefined
        ? { token, method: event.method, firstUsedMs: event.eventTimeMs, lastUsedMs: event.eventTimeMs, lastEventId: event.eventId }
        : {
            token, method: event.method,
            firstUsedMs: Math.min(known.firstUsedMs, event.eventTimeMs),
            lastUsedMs: Math.max(known.lastUsedMs, event.eventTimeMs),
            lastEventId: event.eventTimeMs >= known.lastUsedMs ? event.eventId : known.lastEventId,
          }
      const forgetBeforeMs = context.streamTimeMs - params.instrumentMemoryMs
      const last = state.instruments[state.instruments.length - 1]
      const first = state.instruments[0]
      // The usual deposit: the newest instrument again, nothing to forget. One copy, no sort.
      if (last !== undefined && last.token === token && updated.lastUsedMs >= last.lastUsedMs && (first as KnownInstrument).lastUsedMs > forgetBeforeMs && state.instruments.length <= params.maxInstruments) {
        const instruments = state.instruments.slice()
        instruments[instruments.length - 1] = updated
        return { state: { instruments }, observation: null }
      }
      const instruments = [...state.instruments.filter((instrument) => instrument.token !== token && instrument.lastUsedMs > forgetBeforeMs), updated]
        .sort((a, b) => a.lastUsedMs - b.lastUsedMs)
        .slice(-params.maxInstruments)
      return { state: { instruments }, observation: null }
    }
    if (event.type !== 'REQUESTED') return { state, observation: null }
    const known = state.instruments.filter((instrument) => instrument.firstUsedMs <= event.eventTimeMs && instrument.lastUsedMs > event.eventTimeMs - params.instrumentMemoryMs)
    if (known.length === 0) return { state, observation: null }
    const base = { threshold: null, windowStartMs: null, windowEndMs: event.eventTimeMs, evidenceEventIds: [...known.map((instrument) => instrument.lastEventId), event.eventId] }
    if (known.some((instrument) => instrument.token === event.instrument.token)) {
      return { state, observation: { ...base, hit: false, value: 0, detail: `withdrawal to ${event.method} ${event.instrument.token}, an instrument the player deposited with` } }
    }
    const methods = [...new Set(known.map((instrument) => instrument.method))].sort()
    const onlyNonPayable = known.every((instrument) => params.nonPayableDepositMethods.includes(instrument.method))
    if (onlyNonPayable && params.fallbackWithdrawalMethods.includes(event.method)) {
      return { state, observation: { ...base, hit: false, value: 0, detail: `withdrawal by ${event.method}: the player deposited only by ${methods.join(', ')}, which cannot receive payouts` } }
    }
    return {
      state,
      observation: { ...base, hit: true, value: 1, detail: `withdrawal to ${event.method} ${event.instrument.token}, never used for a deposit (${known.length} deposit instruments known: ${methods.join(', ')})` },
    }
  },
})
