import { describe, expect, it } from 'vitest'
import { player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { eddThreshold, type EddThresholdState } from '../../detectors/edd-threshold.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, at, lastObservation, paramsFor, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('edd_threshold', 'MT', 'VERIFIED')
const request = (id: string, amountMinor: number, fields: Parameters<typeof withdrawal>[1] = {}) => withdrawal(amountMinor, { withdrawalId: id, ...fields })
const requestsOf = (state: unknown) => (state as EddThresholdState).requests

describe('edd_threshold', () => {
  it('ships 10,000.00 in 30 days (UK 5,000.00)', () => {
    expect(MT).toEqual({ thresholdMinor: 10_000_00, windowMs: 30 * DAY_MS, graceMs: 5 * MINUTE_MS, maxTrackedWithdrawals: 100 })
    expect(paramsFor('edd_threshold', 'UK', 'VERIFIED')).toMatchObject({ thresholdMinor: 5_000_00 })
  })

  it.each([
    { last: 0, sum: 9_999_99, hit: false, case: 'one minor unit below' },
    { last: 1, sum: 10_000_00, hit: true, case: 'at the threshold' },
    { last: 2, sum: 10_000_01, hit: true, case: 'above it' },
  ])('$case: cumulative $sum -> hit $hit', ({ last, sum, hit }) => {
    const steps = runScenario(eddThreshold, MT, [
      at(DAY_MS, request('w1', 4_000_00)),
      at(10 * DAY_MS, request('w2', 5_999_99)),
      ...(last > 0 ? [at(12 * DAY_MS, request('w3', last))] : []),
    ])
    expect(steps[0]?.observation).toMatchObject({ hit: false, value: 4_000_00 })
    const evidence = last > 0 ? ['ev:w1', 'ev:w2', 'ev:w3'] : ['ev:w1', 'ev:w2']
    const endMs = last > 0 ? 12 * DAY_MS : 10 * DAY_MS
    expect(lastObservation(steps)).toEqual({
      hit, value: sum, threshold: 10_000_00, detail: `${sum} minor units (EUR) requested in 30 days, EDD threshold 1000000`,
      evidenceEventIds: evidence, windowStartMs: endMs - 30 * DAY_MS, windowEndMs: endMs,
    })
  })

  it('the window is (t - 30 days, t]; cancelled requests and other currencies do not count', () => {
    const boundary = (gapMs: number) => lastObservation(runScenario(eddThreshold, MT, [at(0, request('w1', 6_000_00)), at(gapMs, request('w2', 4_000_00))]))
    expect(boundary(30 * DAY_MS - 1)).toMatchObject({ hit: true, value: 10_000_00 })
    expect(boundary(30 * DAY_MS)).toMatchObject({ hit: false, value: 4_000_00 })
    const steps = runScenario(eddThreshold, MT, [
      at(0, request('w1', 6_000_00)),
      at(HOUR_MS, request('w1', 6_000_00, { eventId: 'cancel-w1', type: 'CANCELLED' })),
      at(2 * HOUR_MS, request('w2', 5_000_00, { currency: 'GBP' })),
      at(3 * HOUR_MS, request('w3', 4_000_00)),
    ])
    expect(steps[1]?.observation).toBeNull()
    expect(steps[2]?.observation).toMatchObject({ hit: false, value: 5_000_00, detail: expect.stringContaining('(GBP)') as unknown as string })
    expect(steps[3]?.observation).toMatchObject({ hit: false, value: 4_000_00, evidenceEventIds: ['ev:w3'] })
  })

  it('an out-of-order request within grace is judged with the requests already seen after it', () => {
    const steps = runScenario(eddThreshold, MT, [at(10 * MINUTE_MS, request('w1', 6_000_00)), at(6 * MINUTE_MS, request('w0', 4_000_00))])
    expect(steps.map((step) => step.late)).toEqual([false, false])
    expect(steps[1]?.observation).toMatchObject({ hit: true, value: 10_000_00, evidenceEventIds: ['ev:w0', 'ev:w1'], windowEndMs: 10 * MINUTE_MS })
  })

  it('a late request is flagged, stored, and judged on the window still open at stream time, not on its closed one', () => {
    const streamMs = 30 * DAY_MS + HOUR_MS
    const steps = runScenario(eddThreshold, MT, [
      at(0, request('a', 6_000_00)),
      at(streamMs, request('b', 100_00)),
      // Its own window (day -1, day 29] would hold `a` and reach 10,000.00: that window closed.
      at(29 * DAY_MS, request('late', 4_000_00)),
      at(streamMs + MINUTE_MS, request('c', 100_00)),
    ])
    expect(steps.map((step) => step.late)).toEqual([false, false, true, false])
    expect(steps[2]?.observation).toMatchObject({ hit: false, value: 4_100_00, evidenceEventIds: ['ev:late', 'ev:b'], windowEndMs: streamMs })
    expect(steps[3]?.observation).toMatchObject({ value: 4_200_00, evidenceEventIds: ['ev:late', 'ev:b', 'ev:c'] })
    // just inside grace it is not late, and is judged together with the request after it
    const inGrace = runScenario(eddThreshold, MT, [at(HOUR_MS, request('b', 100_00)), at(HOUR_MS - 5 * MINUTE_MS, request('x', 100_00))])
    expect(inGrace[1]).toMatchObject({ late: false, observation: { windowEndMs: HOUR_MS, value: 200_00, evidenceEventIds: ['ev:x', 'ev:b'] } })
  })

  it('keeps state bounded: retention of window + grace, and the cap merges the oldest without losing the sum', () => {
    const many = Array.from({ length: 40 }, (_, index) => at(index * DAY_MS, request(`w${index}`, 100_00)))
    const steps = runScenario(eddThreshold, MT, many)
    // day 39 is stream time: days 9..39 are within 30 days + 5 minutes of grace
    expect(requestsOf(steps[steps.length - 1]?.state).map((item) => item.eventTimeMs / DAY_MS)).toEqual(Array.from({ length: 31 }, (_, index) => index + 9))
    const capped = runScenario(eddThreshold, { ...MT, maxTrackedWithdrawals: 3 }, many.slice(0, 6))
    expect(requestsOf(capped[5]?.state)).toHaveLength(3)
    expect(requestsOf(capped[5]?.state).reduce((sum, item) => sum + item.amountMinor, 0)).toBe(600_00)
    expect(capped[5]?.observation?.value).toBe(600_00)
  })

  it('overrides: the UK threshold (5,000.00) and a tier override change the outcome', () => {
    const scenario = [at(0, request('w1', 3_000_00)), at(DAY_MS, request('w2', 2_000_00))]
    expect(lastObservation(runScenario(eddThreshold, MT, scenario))?.hit).toBe(false)
    expect(lastObservation(runScenario(eddThreshold, paramsFor('edd_threshold', 'UK', 'VERIFIED'), scenario))).toMatchObject({ hit: true, value: 5_000_00, threshold: 5_000_00 })
    const document = shippedRuleSetWith(['edd_threshold'])
    const newAccounts = { ...document, overrides: [...(document.overrides ?? []), { match: { tier: 'NEW' }, detectors: { edd_threshold: { params: { thresholdMinor: 2_000_00 } } } }] }
    expect(lastObservation(runScenario(eddThreshold, paramsFor('edd_threshold', 'MT', 'NEW', newAccounts), scenario))).toMatchObject({ hit: true, threshold: 2_000_00 })
  })
})

describe('edd_threshold end to end', () => {
  // Events stay within a day of each other: the pipeline dead-letters an event more than
  // maxFutureSkewMs (1 day) ahead of stream time.
  it('asks a UK player for documents when the month total reaches 5,000.00', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['edd_threshold']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'UK' }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: HOUR_MS, amountMinor: 2_500_00, currency: 'GBP' }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w2', eventTimeMs: 20 * HOUR_MS, amountMinor: 2_500_00, currency: 'GBP' }))
    await pipeline.driver.run()
    const decisions = Object.fromEntries((await pipeline.decisions()).map((decision) => [decision.withdrawalId, decision]))
    expect(decisions.w1).toMatchObject({ outcome: 'APPROVE', executions: [{ detectorId: 'edd_threshold', status: 'NO_HIT', value: 2_500_00, threshold: 5_000_00 }] })
    expect(decisions.w2).toMatchObject({ outcome: 'REVIEW', actions: ['step_up_kyc'], executions: [{ detectorId: 'edd_threshold', status: 'HIT', value: 5_000_00, threshold: 5_000_00 }] })
    expect(pipeline.driver.output('alerts')).toHaveLength(1)
  })
})
