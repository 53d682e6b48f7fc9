import { describe, expect, it } from 'vitest'
import { player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { withdrawalVelocity } from '../../detectors/withdrawal-velocity.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, alertsOf, at, lastObservation, paramsFor, runScenario, shippedRuleSetWith, withdrawal, type ScenarioStep } from './scenario.js'

const MT = paramsFor('withdrawal_velocity', 'MT', 'VERIFIED')

/** Three requests a day at 01:00, 02:00 and 03:00, for `days` days, then the extra ones given. */
function threePerDay(days: number) {
  const events = []
  for (let day = 0; day < days; day += 1) {
    for (let hour = 1; hour <= 3; hour += 1) events.push(at(day * DAY_MS + hour * HOUR_MS, withdrawal(50_00, { withdrawalId: `w-${day}-${hour}` })))
  }
  return events
}

const hits = (steps: readonly ScenarioStep[]): boolean[] => steps.map((step) => step.observation?.hit ?? false)

describe('withdrawal_velocity: daily window (unchanged since version 1)', () => {
  it('ships MT with 3 a day, 10 a week and a grace', () => {
    expect(MT).toMatchObject({ maxCount: 3, maxAmountMinor: null, windowMs: DAY_MS, weeklyMaxCount: 10, weeklyWindowMs: 7 * DAY_MS, graceMs: 5 * MINUTE_MS })
  })

  it.each([
    { requests: 3, hit: false, detail: '3 withdrawal requests in 24 h, limit 3' },
    { requests: 4, hit: true, detail: '4 withdrawal requests in 24 h, limit 3' },
    { requests: 5, hit: true, detail: '5 withdrawal requests in 24 h, limit 3' },
  ])('$requests requests in a day -> hit $hit', ({ requests, hit, detail }) => {
    const events = Array.from({ length: requests }, (_, index) => at((index + 1) * HOUR_MS, withdrawal(50_00, { withdrawalId: `w${index}` })))
    const observation = lastObservation(runScenario(withdrawalVelocity, MT, events))
    expect(observation).toMatchObject({ hit, value: requests, threshold: 3, detail, windowStartMs: requests * HOUR_MS - DAY_MS, windowEndMs: requests * HOUR_MS })
    expect(observation?.evidenceEventIds).toHaveLength(requests)
  })

  it('a request exactly 24 h old has left the window', () => {
    const events = [0, 1, 2, 3].map((hour) => at(hour * HOUR_MS, withdrawal(50_00, { withdrawalId: `w${hour}` })))
    expect(lastObservation(runScenario(withdrawalVelocity, MT, [...events, at(DAY_MS - 1, withdrawal(50_00, { withdrawalId: 'next' }))]))).toMatchObject({ hit: true, value: 5 })
    expect(lastObservation(runScenario(withdrawalVelocity, MT, [...events, at(DAY_MS, withdrawal(50_00, { withdrawalId: 'next' }))]))).toMatchObject({ hit: true, value: 4 })
  })

  it('caps the daily sum when maxAmountMinor is set: the amount detail shows only when the count is fine', () => {
    const params = { ...MT, maxAmountMinor: 100_00 }
    const steps = runScenario(withdrawalVelocity, params, [at(HOUR_MS, withdrawal(60_00, { withdrawalId: 'a' })), at(2 * HOUR_MS, withdrawal(40_00, { withdrawalId: 'b' })), at(3 * HOUR_MS, withdrawal(1, { withdrawalId: 'c' }))])
    expect(steps.map((step) => [step.observation?.hit, step.observation?.value])).toEqual([[false, 1], [false, 2], [true, 100_01]])
    expect(steps[2]?.observation?.detail).toBe('10001 minor units requested in 24 h, limit 10000')
  })

  it('ignores cancellations', () => {
    expect(runScenario(withdrawalVelocity, MT, [at(HOUR_MS, withdrawal(50_00, { type: 'CANCELLED' }))])[0]?.observation).toBeNull()
  })
})

describe('withdrawal_velocity: weekly window', () => {
  it.each([
    { extra: 0, value: 9, hit: false },
    { extra: 1, value: 10, hit: false },
    { extra: 2, value: 11, hit: true },
  ])('three a day for three days, then $extra more on day four -> weekly count $value, hit $hit', ({ extra, value, hit }) => {
    const events = [...threePerDay(3), ...threePerDay(4).slice(9, 9 + extra)]
    const steps = runScenario(withdrawalVelocity, MT, events)
    // never more than 3 in 24 h, so nothing fires before the last request
    expect(steps.slice(0, -1).every((step) => step.observation?.hit === false)).toBe(true)
    const observation = lastObservation(steps)
    if (hit) {
      expect(observation).toMatchObject({ hit: true, value, threshold: 10, detail: `${value} withdrawal requests in 7 days, limit 10` })
      expect(observation?.evidenceEventIds).toHaveLength(value)
      expect(observation?.windowStartMs).toBe((observation?.windowEndMs ?? 0) - 7 * DAY_MS)
    } else {
      // below the weekly limit the observation reads exactly as the daily one always did
      expect(observation).toMatchObject({ hit: false, threshold: 3 })
      expect(observation?.detail).toMatch(/withdrawal requests in 24 h, limit 3$/)
    }
  })

  it('the daily limit wins when both are crossed', () => {
    const events = [...threePerDay(3), at(3 * DAY_MS + HOUR_MS, withdrawal(1, { withdrawalId: 'd3a' })), at(3 * DAY_MS + 2 * HOUR_MS, withdrawal(1, { withdrawalId: 'd3b' })), at(3 * DAY_MS + 3 * HOUR_MS, withdrawal(1, { withdrawalId: 'd3c' })), at(3 * DAY_MS + 4 * HOUR_MS, withdrawal(1, { withdrawalId: 'd3d' }))]
    expect(lastObservation(runScenario(withdrawalVelocity, MT, events))).toMatchObject({ hit: true, value: 4, threshold: 3, detail: '4 withdrawal requests in 24 h, limit 3' })
  })

  it('caps the weekly sum', () => {
    const params = { ...MT, weeklyMaxCount: null, weeklyMaxAmountMinor: 500_00 }
    const events = [0, 1, 2, 3, 4].map((day) => at(day * DAY_MS + HOUR_MS, withdrawal(100_00, { withdrawalId: `w${day}` })))
    expect(hits(runScenario(withdrawalVelocity, params, events))).toEqual([false, false, false, false, false])
    const observation = lastObservation(runScenario(withdrawalVelocity, params, [...events, at(5 * DAY_MS + HOUR_MS, withdrawal(1, { withdrawalId: 'w5' }))]))
    expect(observation).toMatchObject({ hit: true, value: 500_01, threshold: 500_00, detail: '50001 minor units requested in 7 days, limit 50000' })
  })

  it('requests older than the week leave it', () => {
    const events = [...threePerDay(3), ...threePerDay(4).slice(9, 10), at(7 * DAY_MS + 2 * HOUR_MS, withdrawal(50_00, { withdrawalId: 'day-7' }))]
    // the window (day 7 02:00 - 7 d, day 7 02:00] starts after day 0's 01:00 and 02:00 requests: 9 of 11 remain
    expect(lastObservation(runScenario(withdrawalVelocity, { ...MT, weeklyMaxCount: 9 }, events))).toMatchObject({ hit: false, value: 1, threshold: 3 })
    expect(lastObservation(runScenario(withdrawalVelocity, { ...MT, weeklyMaxCount: 8 }, events))).toMatchObject({ hit: true, value: 9, threshold: 8 })
  })

  it('without weekly params (a version-1 rule set) there is no weekly check and state keeps one day', () => {
    const legacy = paramsFor('withdrawal_velocity', 'MT', 'VERIFIED', {
      version: 'legacy', detectors: { withdrawal_velocity: { enabled: true, severity: 'medium', action: 'hold_for_review', params: { maxCount: 3, maxAmountMinor: null, windowMs: DAY_MS } } },
    }, [withdrawalVelocity])
    expect(legacy).toMatchObject({ weeklyMaxCount: null, weeklyMaxAmountMinor: null })
    const steps = runScenario(withdrawalVelocity, legacy, threePerDay(6))
    expect(hits(steps).some(Boolean)).toBe(false)
    expect((lastObservation(steps)?.detail)).toBe('3 withdrawal requests in 24 h, limit 3')
    // one day plus the 5-minute grace behind stream time (day 5 03:00): day 4's 03:00 request is still kept
    expect((steps[steps.length - 1]?.state as { requests: unknown[] }).requests).toHaveLength(4)
  })
})

describe('withdrawal_velocity: event time', () => {
  it('an out-of-order request within grace is counted in order and not late', () => {
    const steps = runScenario(withdrawalVelocity, MT, [
      at(0, withdrawal(50_00, { withdrawalId: 'a' })),
      at(10 * MINUTE_MS, withdrawal(50_00, { withdrawalId: 'b' })),
      at(20 * MINUTE_MS, withdrawal(50_00, { withdrawalId: 'd' })),
      at(15 * MINUTE_MS, withdrawal(50_00, { withdrawalId: 'c' })),
      at(21 * MINUTE_MS, withdrawal(50_00, { withdrawalId: 'e' })),
    ])
    expect(steps.map((step) => step.late)).toEqual([false, false, false, false, false])
    expect(steps[3]?.observation).toMatchObject({ hit: false, value: 3, evidenceEventIds: ['ev:a', 'ev:b', 'ev:c'] })
    expect(steps[4]?.observation).toMatchObject({ hit: true, value: 5, evidenceEventIds: ['ev:a', 'ev:b', 'ev:c', 'ev:d', 'ev:e'] })
  })

  it('a request beyond grace is flagged late, still evaluated (it needs its decision) and stored', () => {
    const steps = runScenario(withdrawalVelocity, MT, [
      at(0, withdrawal(50_00, { withdrawalId: 'a' })),
      at(HOUR_MS, withdrawal(50_00, { withdrawalId: 'b' })),
      at(HOUR_MS - 5 * MINUTE_MS - 1, withdrawal(50_00, { withdrawalId: 'late' })),
      at(HOUR_MS + 1, withdrawal(50_00, { withdrawalId: 'c' })),
    ])
    expect(steps.map((step) => step.late)).toEqual([false, false, true, false])
    expect(steps[2]?.observation).toMatchObject({ hit: false, value: 2 })
    expect(steps[3]?.observation).toMatchObject({ hit: true, value: 4 })
  })

  it('keeps state bounded: retention of the longest window plus grace, and the request cap', () => {
    const steps = runScenario(withdrawalVelocity, MT, [...threePerDay(10)])
    const kept = (steps[steps.length - 1]?.state as { requests: Array<{ eventTimeMs: number }> }).requests
    expect(kept.length).toBeLessThanOrEqual(3 * 8)
    expect(Math.min(...kept.map((request) => request.eventTimeMs))).toBeGreaterThan(9 * DAY_MS + 3 * HOUR_MS - 7 * DAY_MS - 5 * MINUTE_MS)
    const capped = runScenario(withdrawalVelocity, { ...MT, maxTrackedRequests: 4 }, threePerDay(2))
    expect((capped[capped.length - 1]?.state as { requests: unknown[] }).requests).toHaveLength(4)
  })
})

describe('withdrawal_velocity: overrides', () => {
  const twoPerDay = (days: number) => Array.from({ length: days * 2 }, (_, index) => at(Math.floor(index / 2) * DAY_MS + ((index % 2) + 1) * HOUR_MS, withdrawal(50_00, { withdrawalId: `w${index}` })))

  it('UK: 2 a day and 7 a week', () => {
    const uk = paramsFor('withdrawal_velocity', 'UK', 'VERIFIED')
    expect(lastObservation(runScenario(withdrawalVelocity, uk, twoPerDay(4)))).toMatchObject({ hit: true, value: 8, threshold: 7, detail: '8 withdrawal requests in 7 days, limit 7' })
    expect(lastObservation(runScenario(withdrawalVelocity, MT, twoPerDay(4)))).toMatchObject({ hit: false })
  })

  it('VIP: 6 a day and 20 a week', () => {
    const vip = paramsFor('withdrawal_velocity', 'MT', 'VIP')
    const events = threePerDay(1).concat([4, 5].map((hour) => at(hour * HOUR_MS, withdrawal(50_00, { withdrawalId: `x${hour}` }))))
    expect(lastObservation(runScenario(withdrawalVelocity, vip, events))).toMatchObject({ hit: false, value: 5, threshold: 6 })
    expect(lastObservation(runScenario(withdrawalVelocity, MT, events))).toMatchObject({ hit: true, value: 5, threshold: 3 })
    expect(lastObservation(runScenario(withdrawalVelocity, vip, threePerDay(4)))).toMatchObject({ hit: false })
  })
})

describe('withdrawal_velocity end to end', () => {
  it('the 11th request of a week goes to review with the weekly reason, and raises an alert', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['withdrawal_velocity']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT', tier: 'VERIFIED' }))
    for (let index = 0; index < 11; index += 1) {
      const day = Math.floor(index / 3)
      pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: `w${index}`, eventTimeMs: day * DAY_MS + ((index % 3) + 1) * HOUR_MS }))
    }
    await pipeline.driver.run()
    const decisions = [...(await pipeline.decisions())].sort((a, b) => a.eventTimeMs - b.eventTimeMs)
    expect(decisions.map((decision) => decision.outcome)).toEqual([...Array(10).fill('APPROVE'), 'REVIEW'])
    expect(decisions[10]?.executions).toEqual([{ detectorId: 'withdrawal_velocity', detectorVersion: 1, status: 'HIT', value: 11, threshold: 10, detail: '11 withdrawal requests in 7 days, limit 10' }])
    const alerts = await alertsOf(pipeline)
    expect(alerts.map((alert) => [alert.detectorId, alert.severity, alert.value, alert.threshold])).toEqual([['withdrawal_velocity', 'MEDIUM', 11, 10]])
  })
})
