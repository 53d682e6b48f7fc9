import { describe, expect, it } from 'vitest'
import { extractEventTime } from '../../schemas/event-time.js'

const DAY_MS = 24 * 60 * 60 * 1000

describe('extractEventTime', () => {
  it.each([
    { name: 'a plain event time', wire: { eventTimeMs: 1_715_690_412_345 }, referenceTimeMs: null, expected: { ok: true, eventTimeMs: 1_715_690_412_345 } },
    { name: 'zero (the epoch)', wire: { eventTimeMs: 0 }, referenceTimeMs: null, expected: { ok: true, eventTimeMs: 0 } },
    { name: 'any time when record timestamp is unknown', wire: { eventTimeMs: 9 * DAY_MS }, referenceTimeMs: null, expected: { ok: true, eventTimeMs: 9 * DAY_MS } },
    { name: 'exactly the allowed skew ahead', wire: { eventTimeMs: 1_000 + DAY_MS }, referenceTimeMs: 1_000, expected: { ok: true, eventTimeMs: 1_000 + DAY_MS } },
    { name: 'a late event (behind record timestamp)', wire: { eventTimeMs: 10 }, referenceTimeMs: 5 * DAY_MS, expected: { ok: true, eventTimeMs: 10 } },
  ])('accepts $name', ({ wire, referenceTimeMs, expected }) => {
    expect(extractEventTime(wire, { referenceTimeMs, maxFutureSkewMs: DAY_MS })).toEqual(expected)
  })

  it.each([
    { name: 'no eventTimeMs', wire: { eventId: 'e' }, code: 'RISK_ERR_EVENT_TIME_MISSING' },
    { name: 'null eventTimeMs', wire: { eventTimeMs: null }, code: 'RISK_ERR_EVENT_TIME_MISSING' },
    { name: 'a string', wire: { eventTimeMs: '1715690412345' }, code: 'RISK_ERR_EVENT_TIME_MISSING' },
    { name: 'a fraction', wire: { eventTimeMs: 1.5 }, code: 'RISK_ERR_EVENT_TIME_MISSING' },
    { name: 'NaN', wire: { eventTimeMs: Number.NaN }, code: 'RISK_ERR_EVENT_TIME_MISSING' },
    { name: 'an unsafe integer', wire: { eventTimeMs: 2 ** 60 }, code: 'RISK_ERR_EVENT_TIME_MISSING' },
    { name: 'a non-object', wire: null, code: 'RISK_ERR_EVENT_TIME_MISSING' },
    { name: 'a negative time', wire: { eventTimeMs: -1 }, code: 'RISK_ERR_EVENT_TIME_NEGATIVE' },
    { name: 'one millisecond beyond the skew', wire: { eventTimeMs: 1_000 + DAY_MS + 1 }, code: 'RISK_ERR_EVENT_TIME_FUTURE' },
    { name: 'microseconds mistaken for milliseconds', wire: { eventTimeMs: 1_715_690_412_345_000 }, code: 'RISK_ERR_EVENT_TIME_FUTURE' },
  ])('refuses $name', ({ wire, code }) => {
    const result = extractEventTime(wire, { referenceTimeMs: 1_000, maxFutureSkewMs: DAY_MS })
    expect(result).toMatchObject({ ok: false, code })
    expect(result.ok === false && result.message.length > 10).toBe(true)
  })

  it('judges the future against record timestamp, not the wall clock', () => {
    // Stream time in 2001: an event of 2003 is far future there, even though it is long past now.
    const referenceTimeMs = Date.UTC(2001, 0, 1)
    expect(extractEventTime({ eventTimeMs: Date.UTC(2003, 0, 1) }, { referenceTimeMs, maxFutureSkewMs: DAY_MS })).toMatchObject({ ok: false, code: 'RISK_ERR_EVENT_TIME_FUTURE' })
    // And an event far ahead of the wall clock is fine when record timestamp is there too.
    const farStreamMs = Date.UTC(2090, 0, 1)
    expect(extractEventTime({ eventTimeMs: farStreamMs + 1 }, { referenceTimeMs: farStreamMs, maxFutureSkewMs: DAY_MS })).toEqual({ ok: true, eventTimeMs: farStreamMs + 1 })
  })
})
