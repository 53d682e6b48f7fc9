/**
 * Event-time extraction: the one place pitboss reads an event's time (Kafka Streams'
 * TimestampExtractor). Windows, lateness and decisions all use the value returned here, never
 * the wall clock and never the Kafka record timestamp.
 *
 * Rules, in order:
 * - `eventTimeMs` missing, null or not an integer (a safe one)  -> RISK_ERR_EVENT_TIME_MISSING
 * - negative (before 1970)                                      -> RISK_ERR_EVENT_TIME_NEGATIVE
 * - more than `maxFutureSkewMs` ahead of the record's Kafka timestamp (when the record was
 *   written), when the record has one                           -> RISK_ERR_EVENT_TIME_FUTURE
 * The future check is relative to the record's own timestamp, which is stored with it, so a
 * replay of the same records behaves exactly as the live run did, and a player who was idle for
 * months (stream time far behind) is not mistaken for a clock gone wrong. It catches an event
 * that claims to happen well after it was written: a wrong clock or wrong units.
 *
 * Example:
 *   extractEventTime({ eventTimeMs: 1_000 }, { referenceTimeMs: null, maxFutureSkewMs: 60_000 })
 *     -> { ok: true, eventTimeMs: 1000 }
 *   extractEventTime({ eventTimeMs: 100_000 }, { referenceTimeMs: 1_000, maxFutureSkewMs: 60_000 })
 *     -> { ok: false, code: 'RISK_ERR_EVENT_TIME_FUTURE', message: '...' }
 */
import type { ErrorCode } from '../core/errors.js'

export interface EventTimeOptions {
  /** The record's Kafka timestamp in epoch milliseconds; null when it has none. */
  readonly referenceTimeMs: number | null
  /** How far ahead of that an event may be (config.pipeline.maxFutureSkewMs). */
  readonly maxFutureSkewMs: number
}

export type EventTimeResult =
  | { readonly ok: true; readonly eventTimeMs: number }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string }

export function extractEventTime(wire: unknown, options: EventTimeOptions): EventTimeResult {
  const eventTimeMs = wire !== null && typeof wire === 'object' ? (wire as { eventTimeMs?: unknown }).eventTimeMs : undefined
  if (typeof eventTimeMs !== 'number' || !Number.isSafeInteger(eventTimeMs)) {
    return { ok: false, code: 'RISK_ERR_EVENT_TIME_MISSING', message: `eventTimeMs is ${eventTimeMs === undefined ? 'missing' : JSON.stringify(eventTimeMs) ?? String(eventTimeMs)}; it must be an integer number of epoch milliseconds` }
  }
  if (eventTimeMs < 0) {
    return { ok: false, code: 'RISK_ERR_EVENT_TIME_NEGATIVE', message: `eventTimeMs ${eventTimeMs} is negative (before 1970); it must be epoch milliseconds` }
  }
  if (options.referenceTimeMs !== null && eventTimeMs - options.referenceTimeMs > options.maxFutureSkewMs) {
    return {
      ok: false,
      code: 'RISK_ERR_EVENT_TIME_FUTURE',
      message: `eventTimeMs ${eventTimeMs} is ${eventTimeMs - options.referenceTimeMs} ms ahead of the record's Kafka timestamp ${options.referenceTimeMs}, more than the allowed ${options.maxFutureSkewMs} ms (PITBOSS_MAX_FUTURE_SKEW_MS); check the producer's clock and units (milliseconds, not microseconds)`,
    }
  }
  return { ok: true, eventTimeMs }
}
