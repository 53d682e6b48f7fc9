import { describe, expect, it } from 'vitest'
import { bet as wireBet, player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { ageInYears, civilFromDays, underage } from '../../detectors/underage.js'
import { testPipeline } from '../support/pipeline.js'
import { HOUR_MS, MINUTE_MS, alertsOf, at, bet, deposit, lastObservation, paramsFor, profile, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('underage', 'MT', 'VERIFIED')
const CW = paramsFor('underage', 'CW', 'VERIFIED')
const born2008 = profile({ dateOfBirth: '2008-06-01' })
/** Midnight of 1 June 2026 in Malta (UTC+1): the 18th birthday begins. */
const MT_BIRTHDAY_MS = Date.UTC(2026, 4, 31, 23)

describe('underage: age on the local calendar', () => {
  it('counts whole years, with the birthday at local midnight', () => {
    expect(ageInYears('2008-06-01', MT_BIRTHDAY_MS - 1, 60)).toBe(17)
    expect(ageInYears('2008-06-01', MT_BIRTHDAY_MS, 60)).toBe(18)
    expect(ageInYears('2008-06-01', MT_BIRTHDAY_MS, 0)).toBe(17)
    expect(ageInYears('not a date', MT_BIRTHDAY_MS, 0)).toBeNull()
  })

  it('a 29 February birthday comes on 1 March in a common year', () => {
    expect(ageInYears('2008-02-29', Date.UTC(2026, 1, 28, 23, 59), 0)).toBe(17)
    expect(ageInYears('2008-02-29', Date.UTC(2026, 2, 1), 0)).toBe(18)
    expect(ageInYears('2008-02-29', Date.UTC(2028, 1, 29), 0)).toBe(20)
  })
})

describe('underage: calendar arithmetic without a Date per event', () => {
  it('civilFromDays gives the UTC calendar date Date gives, across leap years and centuries', () => {
    expect(civilFromDays(0)).toEqual([1970, 1, 1])
    expect(civilFromDays(11_016)).toEqual([2000, 2, 29])
    for (let days = -200_000; days <= 200_000; days += 7) {
      const date = new Date(days * 86_400_000)
      expect(civilFromDays(days)).toEqual([date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()])
    }
  })

  it('reads the date of birth again when it changes between calls', () => {
    const timeMs = Date.UTC(2026, 5, 1)
    expect([ageInYears('2008-06-01', timeMs, 0), ageInYears('2008-06-02', timeMs, 0), ageInYears('not a date', timeMs, 0), ageInYears('2008-06-01', timeMs, 0)]).toEqual([18, 17, null, 18])
  })
})

describe('underage: scenarios', () => {
  it('ships minimum age 18 and the jurisdictions offsets', () => {
    expect(MT).toEqual({ minimumAge: 18, utcOffsetMinutes: 60 })
    expect(CW).toEqual({ minimumAge: 18, utcOffsetMinutes: -240 })
    expect(paramsFor('underage', 'UK', 'VERIFIED')).toEqual({ minimumAge: 18, utcOffsetMinutes: 0 })
  })

  it.each([
    { case: 'a millisecond before the 18th birthday', timeMs: MT_BIRTHDAY_MS - 1, age: 17, hit: true },
    { case: 'on the 18th birthday', timeMs: MT_BIRTHDAY_MS, age: 18, hit: false },
    { case: 'a year later', timeMs: MT_BIRTHDAY_MS + 366 * 24 * HOUR_MS, age: 19, hit: false },
  ])('withdrawal $case -> age $age, hit $hit', ({ timeMs, age, hit }) => {
    const observation = lastObservation(runScenario(underage, MT, [at(timeMs, withdrawal(50_00, { withdrawalId: 'w1' }))], { profile: born2008 }))
    expect(observation).toEqual({
      hit, value: age, threshold: 18, detail: `age ${age} at the event time (born 2008-06-01), minimum 18`,
      evidenceEventIds: ['ev:w1'], windowStartMs: null, windowEndMs: null,
    })
  })

  it('raises one alert per date of birth on deposits and bets, but evaluates every withdrawal', () => {
    const before = MT_BIRTHDAY_MS - 10 * 24 * HOUR_MS
    const steps = runScenario(underage, MT, [
      at(before, deposit(20_00, { depositId: 'd1' })),
      at(before + MINUTE_MS, bet(1_00, { betId: 'b1' })),
      at(before + 2 * MINUTE_MS, withdrawal(10_00, { withdrawalId: 'w1' })),
      at(before + 3 * MINUTE_MS, withdrawal(10_00, { withdrawalId: 'w2' })),
    ], { profile: born2008 })
    expect(steps.map((step) => step.observation?.hit ?? null)).toEqual([true, null, true, true])
    expect(steps[0]?.observation?.evidenceEventIds).toEqual(['ev:d1'])
    // an adult's deposits say nothing
    expect(runScenario(underage, MT, [at(MT_BIRTHDAY_MS, deposit(20_00))], { profile: born2008 })[0]?.observation).toBeNull()
  })

  it('an unknown date of birth is not checked', () => {
    const steps = runScenario(underage, MT, [at(0, deposit(20_00)), at(1, withdrawal(10_00, { withdrawalId: 'w1' }))], { profile: profile({ dateOfBirth: null }) })
    expect(steps[0]?.observation).toBeNull()
    expect(steps[1]?.observation).toMatchObject({ hit: false, value: null, detail: 'date of birth unknown; age not checked' })
  })

  it('the jurisdiction offset decides around midnight: 02:00 UTC on the birthday is 1 June in Malta, 31 May in Curaçao', () => {
    const scenario = [at(Date.UTC(2026, 5, 1, 2), withdrawal(10_00, { withdrawalId: 'w1' }))]
    expect(lastObservation(runScenario(underage, MT, scenario, { profile: born2008 }))).toMatchObject({ hit: false, value: 18 })
    expect(lastObservation(runScenario(underage, CW, scenario, { profile: born2008 }))).toMatchObject({ hit: true, value: 17 })
  })

  it('a tier override changes the minimum (no shipped tier differs: the law does not; here a stricter NEW rule)', () => {
    const document = shippedRuleSetWith(['underage'])
    const stricter = { ...document, overrides: [...(document.overrides ?? []), { match: { tier: 'NEW' }, detectors: { underage: { params: { minimumAge: 21 } } } }] }
    const scenario = [at(MT_BIRTHDAY_MS + 24 * HOUR_MS, withdrawal(10_00, { withdrawalId: 'w1' }))]
    expect(lastObservation(runScenario(underage, paramsFor('underage', 'MT', 'VERIFIED', stricter), scenario, { profile: born2008 }))?.hit).toBe(false)
    expect(lastObservation(runScenario(underage, paramsFor('underage', 'MT', 'NEW', stricter), scenario, { profile: born2008 }))).toMatchObject({ hit: true, value: 18, threshold: 21 })
  })
})

describe('underage end to end', () => {
  it('alerts at registration and declines the withdrawal of a minor; a later bet adds no second alert', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['underage']) })
    const registeredMs = Date.UTC(2026, 0, 10)
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: registeredMs, jurisdiction: 'MT', dateOfBirth: '2009-03-15' }))
    pipeline.send('bets', wireBet({ playerId: 'p1', eventTimeMs: registeredMs + HOUR_MS }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: registeredMs + 2 * HOUR_MS }))
    await pipeline.driver.run()
    const [decision] = await pipeline.decisions()
    expect(decision).toMatchObject({ withdrawalId: 'w1', outcome: 'DECLINE', actions: ['block_payout'], executions: [{ detectorId: 'underage', status: 'HIT', value: 16, threshold: 18 }] })
    expect((await alertsOf(pipeline)).map((alert) => [alert.alertId, alert.severity])).toEqual([
      [`underage@1:pl:p1:${registeredMs}`, 'CRITICAL'],
      ['underage@1:ev:w1', 'CRITICAL'],
    ])
  })
})
