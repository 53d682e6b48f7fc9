import { describe, expect, it } from 'vitest'
import { player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { unusualAmount } from '../../detectors/unusual-amount.js'
import type { RuleSetDocument } from '../../detectors/rule-set.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, alertsOf, at, lastObservation, paramsFor, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('unusual_amount', 'MT', 'VERIFIED')

/** Past withdrawal requests of these amounts, one a day, then the request under test a day later. */
function history(amounts: readonly number[], nextMinor: number, fields: Parameters<typeof withdrawal>[1] = {}) {
  return [
    ...amounts.map((amountMinor, index) => at(index * DAY_MS, withdrawal(amountMinor, { withdrawalId: `past${index}`, ...fields }))),
    at(amounts.length * DAY_MS, withdrawal(nextMinor, { withdrawalId: 'next', ...fields })),
  ]
}

// median 100.00, MAD 10.00: z = 0.6745 x (amount - 10000) / 1000, over 3.5 from 151.90
const USUAL = [100_00, 120_00, 90_00, 110_00, 100_00]

describe('unusual_amount: robust z-score', () => {
  it('ships minHistory 5 over the last 20, z above 3.5, fallback ratio 3, from EUR 100', () => {
    expect(MT).toMatchObject({ minHistory: 5, historySize: 20, zThreshold: 3.5, fallbackRatio: 3, minAmountMinor: 100_00 })
  })

  it.each([
    { amount: 130_00, z: 2.02, hit: false },
    { amount: 151_89, z: 3.5, hit: false }, // 3.49998: the threshold falls between 151.89 and 151.90
    { amount: 151_90, z: 3.5, hit: true }, // 3.50004
    { amount: 160_00, z: 4.05, hit: true },
  ])('history 100, 120, 90, 110, 100 then $amount -> z $z, hit $hit', ({ amount, z, hit }) => {
    const steps = runScenario(unusualAmount, MT, history(USUAL, amount))
    expect(steps.slice(0, -1).every((step) => step.observation === null)).toBe(true)
    expect(lastObservation(steps)).toMatchObject({
      hit, value: z, threshold: 3.5, windowStartMs: 0, windowEndMs: 5 * DAY_MS,
      evidenceEventIds: ['ev:past0', 'ev:past1', 'ev:past2', 'ev:past3', 'ev:past4', 'ev:next'],
      detail: `withdrawal of ${amount} scores robust z ${z} against the median 10000 of the last 5 EUR withdrawals (MAD 1000), hit above 3.5`,
    })
  })

  it('a withdrawal below the history never hits', () => {
    expect(lastObservation(runScenario(unusualAmount, MT, history(USUAL, 1_00)))).toMatchObject({ hit: false })
  })

  it.each([
    { past: 4, observed: false },
    { past: 5, observed: true },
  ])('$past past requests against minHistory 5 -> observation $observed', ({ past, observed }) => {
    const observation = lastObservation(runScenario(unusualAmount, MT, history(USUAL.slice(0, past), 1_000_00)))
    if (observed) expect(observation).toMatchObject({ hit: true })
    else expect(observation).toBeNull()
  })

  it('falls back to the mean absolute deviation when MAD is 0', () => {
    // median 100.00, MAD 0, mean absolute deviation 20.00: z = (amount - 10000) / 2506.628
    const skewed = [100_00, 100_00, 100_00, 100_00, 200_00]
    expect(lastObservation(runScenario(unusualAmount, MT, history(skewed, 180_00)))).toMatchObject({ hit: false, value: 3.19 })
    const observation = lastObservation(runScenario(unusualAmount, MT, history(skewed, 190_00)))
    expect(observation).toMatchObject({ hit: true, value: 3.59, threshold: 3.5 })
    expect(observation?.detail).toContain('(MAD 0, mean absolute deviation 2000)')
  })

  it.each([
    { amount: 150_00, hit: false },
    { amount: 150_01, hit: true },
  ])('with every past amount equal it compares the ratio: 50.00 x5 then $amount -> hit $hit', ({ amount, hit }) => {
    const observation = lastObservation(runScenario(unusualAmount, MT, history(Array(5).fill(50_00), amount)))
    expect(observation).toMatchObject({ hit, threshold: 3, value: Math.round((amount / 50_00) * 100) / 100 })
    expect(observation?.detail).toMatch(/times the median 5000 of the last 5 EUR withdrawals, all equal, hit above 3 times$/)
  })

  it('stays quiet under minAmountMinor however unusual', () => {
    expect(lastObservation(runScenario(unusualAmount, MT, history(Array(5).fill(10_00), 99_99)))).toMatchObject({ hit: false, value: 10 })
    expect(lastObservation(runScenario(unusualAmount, MT, history(Array(5).fill(10_00), 100_00)))).toMatchObject({ hit: true, value: 10 })
  })

  it('uses only the last historySize requests in the same currency', () => {
    // 20 large requests long ago, then 5 usual ones: with a history of 5 only the usual ones count
    const amounts = [...Array(20).fill(1_000_00), ...USUAL]
    expect(lastObservation(runScenario(unusualAmount, { ...MT, historySize: 5 }, history(amounts, 200_00)))).toMatchObject({ hit: true })
    expect(lastObservation(runScenario(unusualAmount, MT, history(amounts, 200_00)))).toMatchObject({ hit: false })
    const sterling = [...USUAL.map((amountMinor, index) => at(index * DAY_MS, withdrawal(amountMinor, { withdrawalId: `gbp${index}`, currency: 'GBP' }))), at(6 * DAY_MS, withdrawal(1_000_00))]
    expect(lastObservation(runScenario(unusualAmount, MT, sterling))).toBeNull()
  })

  it('forgets requests older than historyMaxAgeMs', () => {
    const params = { ...MT, historyMaxAgeMs: 4 * DAY_MS }
    expect(lastObservation(runScenario(unusualAmount, params, history(USUAL, 1_000_00)))).toBeNull()
    const steps = runScenario(unusualAmount, params, history(USUAL, 1_000_00))
    expect((steps[steps.length - 1]?.state as { withdrawals: unknown[] }).withdrawals).toHaveLength(4)
  })
})

describe('unusual_amount: event time', () => {
  it('is not windowed: an old request is never late, and is compared with the requests before it', () => {
    const events = [...history(USUAL, 100_00).slice(0, 5), at(10 * DAY_MS, withdrawal(100_00, { withdrawalId: 'now' })), at(4 * DAY_MS + HOUR_MS, withdrawal(1_000_00, { withdrawalId: 'old' }))]
    const steps = runScenario(unusualAmount, MT, events)
    expect(steps.map((step) => step.late)).toEqual([false, false, false, false, false, false, false])
    expect(lastObservation(steps)).toMatchObject({ hit: true, evidenceEventIds: ['ev:past0', 'ev:past1', 'ev:past2', 'ev:past3', 'ev:past4', 'ev:old'] })
    const stored = (steps[steps.length - 1]?.state as { withdrawals: Array<{ eventId: string }> }).withdrawals.map((item) => item.eventId)
    expect(stored).toEqual(['ev:past0', 'ev:past1', 'ev:past2', 'ev:past3', 'ev:past4', 'ev:old', 'ev:now'])
  })
})

describe('unusual_amount: overrides', () => {
  it('VIP tolerates up to z 5', () => {
    expect(lastObservation(runScenario(unusualAmount, MT, history(USUAL, 160_00)))?.hit).toBe(true)
    expect(lastObservation(runScenario(unusualAmount, paramsFor('unusual_amount', 'MT', 'VIP'), history(USUAL, 160_00)))?.hit).toBe(false)
  })

  it('a jurisdiction override (here a rule set that wants 3 past requests in CW) changes the outcome', () => {
    const document = shippedRuleSetWith(['unusual_amount'])
    const withCw: RuleSetDocument = { ...document, overrides: [...(document.overrides ?? []), { match: { jurisdiction: 'CW' }, detectors: { unusual_amount: { params: { minHistory: 3 } } } }] }
    const events = history(USUAL.slice(0, 3), 1_000_00)
    expect(lastObservation(runScenario(unusualAmount, paramsFor('unusual_amount', 'CW', 'VERIFIED', withCw), events))?.hit).toBe(true)
    expect(lastObservation(runScenario(unusualAmount, paramsFor('unusual_amount', 'MT', 'VERIFIED', withCw), events))).toBeNull()
  })
})

describe('unusual_amount end to end', () => {
  it('after five ordinary withdrawals a tenfold one goes to review', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['unusual_amount']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT', tier: 'VERIFIED' }))
    USUAL.forEach((amountMinor, index) => pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: `w${index}`, eventTimeMs: (index + 1) * DAY_MS, amountMinor })))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'big', eventTimeMs: 6 * DAY_MS, amountMinor: 1_000_00 }))
    await pipeline.driver.run()
    const decisions = [...(await pipeline.decisions())].sort((a, b) => a.eventTimeMs - b.eventTimeMs)
    expect(decisions.map((decision) => [decision.withdrawalId, decision.outcome, decision.executions.length])).toEqual([
      ['w0', 'APPROVE', 0], ['w1', 'APPROVE', 0], ['w2', 'APPROVE', 0], ['w3', 'APPROVE', 0], ['w4', 'APPROVE', 0], ['big', 'REVIEW', 1],
    ])
    expect(decisions[5]?.executions[0]).toMatchObject({ detectorId: 'unusual_amount', status: 'HIT', value: 60.71, threshold: 3.5 })
    expect((await alertsOf(pipeline)).map((alert) => [alert.detectorId, alert.severity])).toEqual([['unusual_amount', 'MEDIUM']])
  })
})
