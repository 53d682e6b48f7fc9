import { describe, expect, it } from 'vitest'
import { bet as wireBet, player } from '../../bench/events.js'
import { isNight, nightIntensity, type NightIntensityParams, type NightIntensityState } from '../../detectors/night-intensity.js'
import type { InputEvent } from '../../schemas/domain.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, alertsOf, at, bet, deposit, lastObservation, paramsFor, runScenario, shippedRuleSetWith } from './scenario.js'

const UK = paramsFor('night_intensity', 'UK', 'VERIFIED') as unknown as NightIntensityParams
/** The UK rule with a small sample size and the default share, so tables stay short. */
const SMALL = { ...UK, minEvents: 10, maxNightShare: 0.5 }
const DAY0 = Date.UTC(2026, 0, 5)

/** `night` bets between 01:00 and 02:00 UTC and `day` bets from 12:00 UTC, day ones first. */
function activity(night: number, day: number, dayStartMs = DAY0): InputEvent[] {
  return [
    ...Array.from({ length: day }, (_, index) => at(dayStartMs + 12 * HOUR_MS + index * MINUTE_MS, bet(1_00, { betId: `day${dayStartMs}-${index}` }))),
    ...Array.from({ length: night }, (_, index) => at(dayStartMs + DAY_MS + HOUR_MS + index * MINUTE_MS, bet(1_00, { betId: `night${dayStartMs}-${index}` }))),
  ]
}

describe('night_intensity: local night', () => {
  it('ships 00:00-06:00 local, a week, 50 activities, share 0.5 (UK 0.4) with each jurisdiction offset', () => {
    expect(paramsFor('night_intensity', 'MT', 'VERIFIED')).toEqual({
      utcOffsetMinutes: 60, nightStartHour: 0, nightEndHour: 6, windowMs: 7 * DAY_MS, bucketMs: HOUR_MS, minEvents: 50, maxNightShare: 0.5, countBetsOn: 'SETTLED', graceMs: 5 * MINUTE_MS,
    })
    expect(UK).toMatchObject({ utcOffsetMinutes: 0, maxNightShare: 0.4 })
    expect(paramsFor('night_intensity', 'CW', 'VERIFIED')).toMatchObject({ utcOffsetMinutes: -240 })
  })

  it.each([
    { utc: '23:30', mt: true, uk: false, cw: false },
    { utc: '04:30', mt: true, uk: true, cw: true },
    { utc: '05:30', mt: false, uk: true, cw: true },
    { utc: '09:30', mt: false, uk: false, cw: true },
    { utc: '10:00', mt: false, uk: false, cw: false },
  ])('$utc UTC is night in MT $mt, UK $uk, CW $cw', ({ utc, mt, uk, cw }) => {
    const [hours, minutes] = utc.split(':').map(Number) as [number, number]
    const timeMs = DAY0 + hours * HOUR_MS + minutes * MINUTE_MS
    const night = (utcOffsetMinutes: number) => isNight(timeMs, { utcOffsetMinutes, nightStartHour: 0, nightEndHour: 6 })
    expect([night(60), night(0), night(-240)]).toEqual([mt, uk, cw])
  })

  it('a night that wraps past midnight (22 -> 6)', () => {
    const night = (hour: number) => isNight(DAY0 + hour * HOUR_MS, { utcOffsetMinutes: 0, nightStartHour: 22, nightEndHour: 6 })
    expect([21, 22, 23, 0, 5, 6].map(night)).toEqual([false, true, true, true, true, false])
  })
})

describe('night_intensity: scenarios', () => {
  it.each([
    { night: 4, day: 6, hit: false },
    { night: 5, day: 5, hit: false },
    { night: 6, day: 4, hit: true },
  ])('$night of 10 at night against share 0.5 -> hit $hit', ({ night, day, hit }) => {
    const steps = runScenario(nightIntensity, SMALL, activity(night, day))
    expect(steps.slice(0, -1).every((step) => step.observation === null)).toBe(true)
    const observation = lastObservation(steps)
    if (!hit) {
      expect(observation).toBeNull()
      return
    }
    const lastMs = DAY0 + DAY_MS + HOUR_MS + (night - 1) * MINUTE_MS
    expect(observation).toEqual({
      hit: true, value: 0.6, threshold: 0.5, detail: '6 of 10 bets and deposits at night (0:00-6:00 local, UTC+0) in 7 days, limit share 0.5',
      evidenceEventIds: Array.from({ length: night }, (_, index) => `ev:night${DAY0}-${index}`), windowStartMs: lastMs - 7 * DAY_MS, windowEndMs: lastMs,
    })
  })

  it.each([
    { count: 9, hit: false },
    { count: 10, hit: true },
  ])('$count activities, all at night, against minEvents 10 -> hit $hit', ({ count, hit }) => {
    expect(lastObservation(runScenario(nightIntensity, SMALL, activity(count, 0)))?.hit ?? false).toBe(hit)
  })

  it('counts settled bets and completed deposits only, and alerts at most once per window', () => {
    const mixed = [
      ...activity(5, 5),
      at(DAY0 + DAY_MS + 2 * HOUR_MS, bet(1_00, { betId: 'placed', type: 'PLACED' })),
      at(DAY0 + DAY_MS + 2 * HOUR_MS + 1, deposit(10_00, { depositId: 'failed', status: 'FAILED' })),
    ]
    expect(runScenario(nightIntensity, SMALL, mixed).some((step) => step.observation !== null)).toBe(false)
    const withDeposit = [...mixed, at(DAY0 + DAY_MS + 2 * HOUR_MS + 2, deposit(10_00, { depositId: 'night-deposit' }))]
    expect(lastObservation(runScenario(nightIntensity, SMALL, withDeposit))).toMatchObject({ hit: true, value: 0.545 })
    const twoWeeks = [...activity(10, 0), ...activity(10, 0, DAY0 + 3 * DAY_MS), ...activity(10, 0, DAY0 + 8 * DAY_MS)]
    const alertedAt = runScenario(nightIntensity, SMALL, twoWeeks).filter((step) => step.observation !== null).map((step) => (step.event.eventTimeMs - DAY0) / MINUTE_MS)
    expect(alertedAt).toEqual([(DAY_MS + HOUR_MS + 9 * MINUTE_MS) / MINUTE_MS, (9 * DAY_MS + HOUR_MS) / MINUTE_MS])
  })

  it('forgets buckets older than the window', () => {
    const steps = runScenario(nightIntensity, SMALL, [...activity(9, 0), ...activity(1, 0, DAY0 + 8 * DAY_MS)])
    expect(lastObservation(steps)).toBeNull()
    expect((steps[steps.length - 1]?.state as NightIntensityState).buckets.filter((_, index) => index % 3 === 0)).toEqual([DAY0 + 9 * DAY_MS + HOUR_MS])
  })

  it('an out-of-order activity within grace counts at once; a late one is flagged, counted, and raises nothing', () => {
    const base = activity(5, 5)
    const lastMs = base[base.length - 1]!.eventTimeMs
    const inGrace = runScenario(nightIntensity, SMALL, [...base, at(lastMs - 5 * MINUTE_MS, bet(1_00, { betId: 'in-grace' }))])
    expect(inGrace[inGrace.length - 1]).toMatchObject({ late: false, observation: { hit: true, value: 0.545 } })
    const late = runScenario(nightIntensity, SMALL, [...base, at(lastMs - 5 * MINUTE_MS - 1, bet(1_00, { betId: 'late' })), at(lastMs + MINUTE_MS, bet(1_00, { betId: 'next' }))])
    expect(late.slice(-2).map((step) => [step.late, step.observation?.value ?? null])).toEqual([[true, null], [false, 0.583]])
  })

  it('overrides change the outcome: the same hours are night in Malta, evening in Curaçao; UK judges at 0.4; a tier override', () => {
    const lateEvening = Array.from({ length: 60 }, (_, index) => at(DAY0 + 23 * HOUR_MS + index * 30_000, bet(1_00, { betId: `e${index}` })))
    expect(runScenario(nightIntensity, paramsFor('night_intensity', 'MT', 'VERIFIED'), lateEvening).some((step) => step.observation?.hit === true)).toBe(true)
    expect(runScenario(nightIntensity, paramsFor('night_intensity', 'CW', 'VERIFIED'), lateEvening).some((step) => step.observation !== null)).toBe(false)
    // 55 afternoon bets, then 45 between 01:00 and 02:00 (night in both the UK and Malta)
    const split = activity(45, 55)
    const alerts = (params: Record<string, unknown>) => runScenario(nightIntensity, params, split).flatMap((step) => (step.observation === null ? [] : [step.observation.value]))
    // the 37th night bet makes 37 of 92 = 0.402 > 0.4; the share never passes Malta's 0.5
    expect(alerts(paramsFor('night_intensity', 'UK', 'VERIFIED'))).toEqual([0.402])
    expect(alerts(paramsFor('night_intensity', 'MT', 'VERIFIED'))).toEqual([])
    const document = shippedRuleSetWith(['night_intensity'])
    const custom = { ...document, overrides: [...(document.overrides ?? []), { match: { tier: 'VIP' }, detectors: { night_intensity: { params: { minEvents: 200 } } } }] }
    expect(alerts(paramsFor('night_intensity', 'UK', 'VIP', custom))).toEqual([])
  })
})

describe('night_intensity end to end', () => {
  it('raises an RG alert when a UK player plays 50 times between 01:00 and 03:00', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['night_intensity']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: DAY0, jurisdiction: 'UK' }))
    for (let index = 0; index < 50; index += 1) pipeline.send('bets', wireBet({ playerId: 'p1', betId: `b${index}`, eventTimeMs: DAY0 + HOUR_MS + index * 2 * MINUTE_MS }))
    await pipeline.driver.run()
    const alerts = await alertsOf(pipeline)
    expect(alerts.map((alert) => [alert.alertId, alert.action, alert.severity, alert.value, alert.threshold])).toEqual([['night_intensity@1:ev:b49', 'rg_intervention', 'LOW', 1, 0.4]])
    expect(alerts[0]?.evidenceEventIds).toHaveLength(10)
  })
})

describe('night_intensity: state shape', () => {
  it('keeps buckets as one flat list, and reads the object-per-bucket shape of older checkpoints the same way', () => {
    const events = activity(6, 4)
    const flat = runScenario(nightIntensity, SMALL, events.slice(0, -1))
    const flatState = flat[flat.length - 1]?.state as NightIntensityState
    expect(flatState.buckets.every((value) => typeof value === 'number')).toBe(true)
    const buckets = []
    for (let index = 0; index < flatState.buckets.length; index += 3) buckets.push({ startMs: flatState.buckets[index], total: flatState.buckets[index + 1], night: flatState.buckets[index + 2] })
    const legacy = { ...flatState, buckets }
    const last = events.slice(-1)
    const streamTimeMs = flat[flat.length - 1]?.streamTimeMs
    expect(runScenario(nightIntensity, SMALL, last, { state: legacy, streamTimeMs })).toEqual(runScenario(nightIntensity, SMALL, last, { state: flatState, streamTimeMs }))
    expect(lastObservation(runScenario(nightIntensity, SMALL, last, { state: legacy, streamTimeMs }))?.hit).toBe(true)
  })
})
