import { describe, expect, it } from 'vitest'
import { bet as wireBet, device, player } from '../../bench/events.js'
import { longSession, thinActivity, type LongSessionState } from '../../detectors/long-session.js'
import type { InputEvent } from '../../schemas/domain.js'
import { testPipeline } from '../support/pipeline.js'
import { HOUR_MS, MINUTE_MS, alertsOf, at, bet, lastObservation, login, paramsFor, runScenario, shippedRuleSetWith } from './scenario.js'

const MT = paramsFor('long_session', 'MT', 'VERIFIED')
const SIX_HOURS = 6 * HOUR_MS

/** Bets every `everyMs` from `fromMs` up to and including `toMs`. */
function betsEvery(everyMs: number, fromMs: number, toMs: number, prefix = 'b'): InputEvent[] {
  const events: InputEvent[] = []
  for (let timeMs = fromMs; timeMs <= toMs; timeMs += everyMs) events.push(at(timeMs, bet(1_00, { betId: `${prefix}${timeMs}` })))
  return events
}

describe('long_session', () => {
  it('ships 6 h (UK 4 h) with sessions split by 30-minute pauses', () => {
    expect(MT).toEqual({ maxSessionMs: SIX_HOURS, gapMs: 30 * MINUTE_MS, graceMs: 5 * MINUTE_MS, maxTrackedActivity: 500 })
    expect(paramsFor('long_session', 'UK', 'VERIFIED')).toMatchObject({ maxSessionMs: 4 * HOUR_MS })
  })

  it.each([
    { lastMs: SIX_HOURS - 1, hit: false, case: 'a millisecond short of 6 h' },
    { lastMs: SIX_HOURS, hit: false, case: 'exactly 6 h' },
    { lastMs: SIX_HOURS + 1, hit: true, case: 'a millisecond over' },
  ])('a session of $case -> hit $hit', ({ lastMs, hit }) => {
    const steps = runScenario(longSession, MT, [at(0, login({ eventId: 'login' })), ...betsEvery(10 * MINUTE_MS, 10 * MINUTE_MS, 5 * HOUR_MS + 50 * MINUTE_MS), at(lastMs, bet(1_00, { betId: 'last' }))])
    expect(steps.slice(0, -1).every((step) => step.observation === null)).toBe(true)
    expect(lastObservation(steps)).toEqual(hit
      ? {
          hit: true, value: lastMs, threshold: SIX_HOURS, detail: 'session of 6 h 0 min (pauses under 0 h 30 min), limit 6 h 0 min',
          evidenceEventIds: ['login', 'ev:last'], windowStartMs: 0, windowEndMs: lastMs,
        }
      : null)
  })

  it('alerts once per session; a pause of 30 minutes starts a new one, 1 ms less does not', () => {
    const steps = runScenario(longSession, MT, betsEvery(10 * MINUTE_MS, 0, 8 * HOUR_MS))
    expect(steps.filter((step) => step.observation !== null).map((step) => step.event.eventTimeMs)).toEqual([6 * HOUR_MS + 10 * MINUTE_MS])
    const split = (pauseMs: number) => runScenario(longSession, MT, [...betsEvery(10 * MINUTE_MS, 0, 3 * HOUR_MS), ...betsEvery(10 * MINUTE_MS, 3 * HOUR_MS + pauseMs, 7 * HOUR_MS, 'c')])
    expect(split(30 * MINUTE_MS).some((step) => step.observation !== null)).toBe(false)
    expect(split(30 * MINUTE_MS - 1).some((step) => step.observation !== null)).toBe(true)
  })

  it('an out-of-order bet within grace that bridges two sessions raises the alert', () => {
    const steps = runScenario(longSession, MT, [
      ...betsEvery(10 * MINUTE_MS, 0, 5 * HOUR_MS + 50 * MINUTE_MS),
      at(6 * HOUR_MS + 21 * MINUTE_MS, bet(1_00, { betId: 'next-session' })),
      at(6 * HOUR_MS + 17 * MINUTE_MS, bet(1_00, { betId: 'bridge' })),
    ])
    expect(steps.slice(-2).map((step) => [step.late, step.observation?.hit ?? null])).toEqual([[false, null], [false, true]])
    expect(lastObservation(steps)).toMatchObject({ value: 6 * HOUR_MS + 21 * MINUTE_MS, evidenceEventIds: ['ev:b0', 'ev:next-session', 'ev:bridge'] })
  })

  it('a late bet is flagged and raises nothing', () => {
    const steps = runScenario(longSession, MT, [
      ...betsEvery(10 * MINUTE_MS, 0, 5 * HOUR_MS + 50 * MINUTE_MS),
      at(6 * HOUR_MS + 20 * MINUTE_MS, login({ eventId: 'elsewhere' })),
      at(6 * HOUR_MS + 5 * MINUTE_MS, bet(1_00, { betId: 'late' })),
    ])
    expect(steps[steps.length - 1]).toMatchObject({ late: true, observation: null })
  })

  it('keeps state small: activity thinned to what shapes sessions, closed sessions forgotten', () => {
    const day = betsEvery(MINUTE_MS, 0, 24 * HOUR_MS)
    const steps = runScenario(longSession, MT, day)
    const state = steps[steps.length - 1]?.state as LongSessionState
    expect(state.activity.length).toBeLessThanOrEqual(100)
    expect(state.alertedAtMs).toEqual([SIX_HOURS + MINUTE_MS])
    const afterPause = runScenario(longSession, MT, [at(24 * HOUR_MS + HOUR_MS, bet(1_00, { betId: 'later' }))], { state })
    expect((afterPause[0]?.state as LongSessionState)).toEqual({ activity: [{ eventId: 'ev:later', eventTimeMs: 25 * HOUR_MS }], alertedAtMs: [] })
    const items = [0, 10, 20, 60, 70].map((minutes) => ({ eventId: `e${minutes}`, eventTimeMs: minutes * MINUTE_MS }))
    expect(thinActivity(items, 30 * MINUTE_MS).map((item) => item.eventId)).toEqual(['e0', 'e20', 'e60', 'e70'])
  })

  it('overrides change the outcome: the UK 4 h limit, and a tier override', () => {
    const fiveHours = betsEvery(10 * MINUTE_MS, 0, 5 * HOUR_MS)
    expect(runScenario(longSession, MT, fiveHours).some((step) => step.observation !== null)).toBe(false)
    expect(runScenario(longSession, paramsFor('long_session', 'UK', 'VERIFIED'), fiveHours).some((step) => step.observation?.hit === true)).toBe(true)
    const document = shippedRuleSetWith(['long_session'])
    const custom = { ...document, overrides: [...(document.overrides ?? []), { match: { tier: 'VIP' }, detectors: { long_session: { params: { maxSessionMs: 8 * HOUR_MS } } } }] }
    expect(runScenario(longSession, paramsFor('long_session', 'UK', 'VIP', custom), fiveHours).some((step) => step.observation !== null)).toBe(false)
  })
})

describe('long_session end to end', () => {
  it('raises one RG alert for a 6.5-hour session', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['long_session']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
    pipeline.send('devices', device({ playerId: 'p1', eventId: 'login', eventTimeMs: HOUR_MS }))
    for (let minutes = 15; minutes <= 390; minutes += 15) pipeline.send('bets', wireBet({ playerId: 'p1', betId: `b${minutes}`, eventTimeMs: HOUR_MS + minutes * MINUTE_MS }))
    await pipeline.driver.run()
    expect((await alertsOf(pipeline)).map((alert) => [alert.alertId, alert.action, alert.value, alert.windowStartMs, alert.evidenceEventIds])).toEqual([
      ['long_session@1:ev:b375', 'rg_intervention', 375 * MINUTE_MS, HOUR_MS, ['login', 'ev:b375']],
    ])
  })
})
