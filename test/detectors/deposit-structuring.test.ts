import { describe, expect, it } from 'vitest'
import { deposit as wireDeposit, player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { depositStructuring } from '../../detectors/deposit-structuring.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, alertsOf, at, bet, deposit, lastObservation, paramsFor, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('deposit_structuring', 'MT', 'VERIFIED')

/** Deposits of these amounts, ten minutes apart, each with its own id. */
const deposits = (amounts: readonly number[], fields: Parameters<typeof deposit>[1] = {}) =>
  amounts.map((amountMinor, index) => at(index * 10 * MINUTE_MS, deposit(amountMinor, { depositId: `d${index}`, ...fields })))

describe('deposit_structuring: deposits just under the threshold', () => {
  it('ships MT as EUR 2,000 with a 10% band, two in 24 h', () => {
    expect(MT).toMatchObject({ reportingThresholdMinor: 2_000_00, currency: 'EUR', nearBelowRatio: 0.1, minNearBelowCount: 2, minSumDepositCount: 2, windowMs: DAY_MS, graceMs: 5 * MINUTE_MS })
  })

  it.each([
    { case: 'just below the band', amounts: [1_799_99, 1_799_99], hit: false },
    { case: 'at the bottom of the band', amounts: [1_800_00, 1_800_00], hit: true },
    { case: 'at the top of the band', amounts: [1_999_99, 1_999_99], hit: true },
    { case: 'at the threshold (reported, not avoided)', amounts: [2_000_00, 2_000_00], hit: false },
    { case: 'one in the band, one under it', amounts: [1_900_00, 1_000_00], hit: false },
  ])('$case: $amounts -> hit $hit', ({ amounts, hit }) => {
    const steps = runScenario(depositStructuring, MT, deposits(amounts))
    expect(steps[0]?.observation).toBeNull()
    const observation = lastObservation(steps)
    if (hit) {
      expect(observation).toMatchObject({ hit: true, value: 2, threshold: 2, evidenceEventIds: ['ev:d0', 'ev:d1'], windowStartMs: 10 * MINUTE_MS - DAY_MS, windowEndMs: 10 * MINUTE_MS })
      expect(observation?.detail).toBe(`2 deposits just under the threshold in 24 h (band [180000, 200000) EUR minor units), hit at 2; 2 deposits sum to ${amounts[0]! + amounts[1]!}`)
    } else {
      expect(observation).toBeNull()
    }
  })

  it.each([
    { count: 1, hit: false },
    { count: 2, hit: true },
    { count: 3, hit: true },
  ])('$count near-threshold deposits against minNearBelowCount 2 -> hit $hit', ({ count, hit }) => {
    const observation = lastObservation(runScenario(depositStructuring, MT, deposits(Array(count).fill(1_950_00))))
    expect(observation?.hit ?? false).toBe(hit)
    if (hit) expect(observation?.value).toBe(count)
  })

  it('the window is (t - 24 h, t]: a deposit exactly 24 h earlier does not count', () => {
    const pair = (gapMs: number) => [at(0, deposit(1_900_00, { depositId: 'a' })), at(gapMs, deposit(1_900_00, { depositId: 'b' }))]
    expect(lastObservation(runScenario(depositStructuring, MT, pair(DAY_MS - 1)))?.hit).toBe(true)
    expect(lastObservation(runScenario(depositStructuring, MT, pair(DAY_MS)))).toBeNull()
  })

  it('counts only completed deposits in the rule currency, and one deposit once', () => {
    expect(lastObservation(runScenario(depositStructuring, MT, [...deposits([1_900_00]), at(HOUR_MS, deposit(1_900_00, { depositId: 'failed', status: 'FAILED' }))]))).toBeNull()
    expect(lastObservation(runScenario(depositStructuring, MT, [...deposits([1_900_00]), at(HOUR_MS, deposit(1_900_00, { depositId: 'gbp', currency: 'GBP' }))]))).toBeNull()
    // the same deposit reported completed twice (a new eventId, the same depositId)
    expect(lastObservation(runScenario(depositStructuring, MT, [...deposits([1_900_00]), at(HOUR_MS, deposit(1_900_00, { depositId: 'd0', eventId: 'again' }))]))).toBeNull()
  })
})

describe('deposit_structuring: split deposits summing to just under the threshold', () => {
  it.each([
    { amounts: [700_00, 650_00, 449_99], hit: false, note: 'sum 1799.99, under the band' },
    { amounts: [700_00, 650_00, 450_00], hit: true, note: 'sum 1800.00, bottom of the band' },
    { amounts: [1_000_00, 999_99], hit: true, note: 'sum 1999.99, top of the band' },
    { amounts: [1_000_00, 1_000_00], hit: false, note: 'sum 2000.00, at the threshold' },
  ])('$note -> hit $hit', ({ amounts, hit }) => {
    const observation = lastObservation(runScenario(depositStructuring, MT, deposits(amounts)))
    const sum = amounts.reduce((total, amount) => total + amount, 0)
    if (hit) {
      expect(observation).toMatchObject({ hit: true, value: sum, threshold: 2_000_00, evidenceEventIds: amounts.map((_, index) => `ev:d${index}`) })
      expect(observation?.detail).toBe(`${amounts.length} deposits in 24 h sum to ${sum}, just under the threshold: band [180000, 200000) EUR minor units`)
    } else {
      expect(observation).toBeNull()
    }
  })

  it('one deposit in the band is not a split (minSumDepositCount 2)', () => {
    expect(lastObservation(runScenario(depositStructuring, MT, deposits([1_950_00])))).toBeNull()
    expect(lastObservation(runScenario(depositStructuring, { ...MT, minSumDepositCount: 3 }, deposits([1_000_00, 950_00])))).toBeNull()
  })
})

describe('deposit_structuring: at withdrawal', () => {
  it('reports hit or no hit for the window ending at the request, nothing when no deposit is in it', () => {
    const structured = runScenario(depositStructuring, MT, [...deposits([1_900_00, 1_900_00]), at(HOUR_MS, withdrawal(3_000_00))])
    expect(lastObservation(structured)).toMatchObject({ hit: true, value: 2, threshold: 2, windowEndMs: HOUR_MS })
    const plain = runScenario(depositStructuring, MT, [...deposits([500_00]), at(HOUR_MS, withdrawal(400_00))])
    expect(lastObservation(plain)).toMatchObject({ hit: false, value: 0, threshold: 2, evidenceEventIds: ['ev:d0'] })
    expect(lastObservation(runScenario(depositStructuring, MT, [at(HOUR_MS, withdrawal(400_00))]))).toBeNull()
    expect(lastObservation(runScenario(depositStructuring, MT, [...deposits([1_900_00, 1_900_00]), at(DAY_MS + 10 * MINUTE_MS, withdrawal(400_00))]))).toBeNull()
    expect(lastObservation(runScenario(depositStructuring, MT, [...deposits([1_900_00, 1_900_00]), at(HOUR_MS, withdrawal(400_00, { type: 'CANCELLED' }))]))).toBeNull()
  })
})

describe('deposit_structuring: event time', () => {
  const three = { ...MT, minNearBelowCount: 3 }

  it('an out-of-order deposit within grace completes a pattern in a window that ended at a later deposit', () => {
    const steps = runScenario(depositStructuring, three, [
      at(0, deposit(1_900_00, { depositId: 'a' })),
      at(12 * MINUTE_MS, deposit(1_900_00, { depositId: 'c' })),
      at(10 * MINUTE_MS, deposit(1_900_00, { depositId: 'b' })),
    ])
    expect(steps.map((step) => step.late)).toEqual([false, false, false])
    expect(steps[2]?.observation).toMatchObject({ hit: true, value: 3, evidenceEventIds: ['ev:a', 'ev:b', 'ev:c'], windowEndMs: 12 * MINUTE_MS })
  })

  it('a deposit beyond grace is late: stored for later windows, but no alert for the closed one', () => {
    const steps = runScenario(depositStructuring, MT, [
      at(0, deposit(1_900_00, { depositId: 'a' })),
      at(HOUR_MS, bet(1_00)), // another topic moves stream time on
      at(HOUR_MS - 5 * MINUTE_MS - 1, deposit(1_900_00, { depositId: 'late' })),
      at(HOUR_MS + MINUTE_MS, withdrawal(3_000_00)),
    ])
    expect(steps[2]).toMatchObject({ late: true, observation: null })
    expect(steps[3]?.observation).toMatchObject({ hit: true, value: 2, evidenceEventIds: ['ev:a', 'ev:late'] })
    // just inside grace it is not late and raises the alert
    const inGrace = runScenario(depositStructuring, MT, [at(0, deposit(1_900_00, { depositId: 'a' })), at(HOUR_MS, bet(1_00)), at(HOUR_MS - 5 * MINUTE_MS, deposit(1_900_00, { depositId: 'b' }))])
    expect(inGrace[2]).toMatchObject({ late: false, observation: { hit: true, value: 2 } })
  })

  it('keeps state bounded: window plus grace behind stream time, and the deposit cap', () => {
    const many = Array.from({ length: 60 }, (_, index) => at(index * HOUR_MS, deposit(100_00, { depositId: `d${index}` })))
    const steps = runScenario(depositStructuring, MT, many)
    const kept = (steps[steps.length - 1]?.state as { deposits: Array<{ eventTimeMs: number }> }).deposits
    expect(kept.map((item) => item.eventTimeMs)).toEqual(Array.from({ length: 25 }, (_, index) => (35 + index) * HOUR_MS))
    const capped = runScenario(depositStructuring, { ...MT, maxTrackedDeposits: 5 }, many)
    expect((capped[capped.length - 1]?.state as { deposits: unknown[] }).deposits).toHaveLength(5)
  })
})

describe('deposit_structuring: overrides', () => {
  it('UK counts sterling under GBP 1,700; the EUR rule does not see it', () => {
    const uk = paramsFor('deposit_structuring', 'UK', 'VERIFIED')
    expect(uk).toMatchObject({ currency: 'GBP', reportingThresholdMinor: 1_700_00 })
    const sterling = deposits([1_600_00, 1_650_00], { currency: 'GBP' })
    expect(lastObservation(runScenario(depositStructuring, uk, sterling))).toMatchObject({ hit: true, value: 2 })
    expect(lastObservation(runScenario(depositStructuring, MT, sterling))).toBeNull()
  })

  it('VIP needs three near-threshold deposits', () => {
    const vip = paramsFor('deposit_structuring', 'MT', 'VIP')
    expect(lastObservation(runScenario(depositStructuring, vip, deposits([1_900_00, 1_900_00])))).toBeNull()
    expect(lastObservation(runScenario(depositStructuring, vip, deposits([1_900_00, 1_900_00, 1_900_00])))).toMatchObject({ hit: true, value: 3, threshold: 3 })
  })
})

describe('deposit_structuring end to end', () => {
  it('alerts on the second near-threshold deposit and sends the withdrawal that follows to review', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['deposit_structuring']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT', tier: 'VERIFIED' }))
    pipeline.send('deposits', wireDeposit({ playerId: 'p1', depositId: 'd1', eventTimeMs: HOUR_MS, amountMinor: 1_950_00 }))
    pipeline.send('deposits', wireDeposit({ playerId: 'p1', depositId: 'd2', eventTimeMs: 2 * HOUR_MS, amountMinor: 1_900_00 }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: 3 * HOUR_MS, amountMinor: 3_500_00 }))
    await pipeline.driver.run()
    const [decision] = await pipeline.decisions()
    expect(decision).toMatchObject({ withdrawalId: 'w1', outcome: 'REVIEW', actions: ['hold_for_review'] })
    expect(decision?.executions).toEqual([{ detectorId: 'deposit_structuring', detectorVersion: 1, status: 'HIT', value: 2, threshold: 2, detail: expect.stringMatching(/^2 deposits just under the threshold in 24 h/) as unknown as string }])
    const alerts = await alertsOf(pipeline)
    expect(alerts.map((alert) => [alert.alertId, alert.severity, alert.evidenceEventIds])).toEqual([
      ['deposit_structuring@1:ev:d2', 'HIGH', ['ev:d1', 'ev:d2']],
      ['deposit_structuring@1:ev:w1', 'HIGH', ['ev:d1', 'ev:d2']],
    ])
  })
})
