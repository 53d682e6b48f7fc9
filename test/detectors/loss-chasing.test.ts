import { describe, expect, it } from 'vitest'
import { bet as wireBet, deposit as wireDeposit, player } from '../../bench/events.js'
import { lossChasing, type LossChasingState } from '../../detectors/loss-chasing.js'
import type { InputEvent } from '../../schemas/domain.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, alertsOf, at, bet, deposit, lastObservation, paramsFor, runScenario, shippedRuleSetWith } from './scenario.js'

const MT = paramsFor('loss_chasing', 'MT', 'VERIFIED')

/** A losing settled bet: the stake is lost (win 0). */
const loss = (stakeMinor: number, id: string) => bet(stakeMinor, { betId: id, winMinor: 0 })

/**
 * Deposits `spacingMs` apart; after each but the last, a settled bet 10 minutes later with the
 * given net loss (a negative number is a win of that size).
 */
function chase(amounts: readonly number[], losses: readonly number[], spacingMs = HOUR_MS): InputEvent[] {
  return amounts.flatMap((amountMinor, index) => {
    const depositEvent = at(index * spacingMs, deposit(amountMinor, { depositId: `d${index}` }))
    const lost = losses[index]
    if (lost === undefined) return [depositEvent]
    const result = lost >= 0 ? loss(lost, `b${index}`) : bet(10_00, { betId: `b${index}`, winMinor: 10_00 - lost })
    return [depositEvent, at(index * spacingMs + 10 * MINUTE_MS, result)]
  })
}

describe('loss_chasing', () => {
  it('ships three rising deposits within 24 h, each after losing half of the previous (UK: 48 h)', () => {
    expect(MT).toEqual({ minRisingDeposits: 3, minLossPercentOfDeposit: 50, windowMs: DAY_MS, graceMs: 5 * MINUTE_MS, maxTrackedDeposits: 200 })
    expect(paramsFor('loss_chasing', 'UK', 'VERIFIED')).toMatchObject({ windowMs: 2 * DAY_MS })
  })

  it.each([
    { amounts: [50_00, 100_00], hit: false, value: 2 },
    { amounts: [50_00, 100_00, 200_00], hit: true, value: 3 },
    { amounts: [50_00, 100_00, 200_00, 400_00], hit: true, value: 4 },
  ])('a chain of $value deposits -> hit $hit', ({ amounts, hit, value }) => {
    const steps = runScenario(lossChasing, MT, chase(amounts, amounts.slice(0, -1)))
    const observation = lastObservation(steps)
    if (!hit) {
      expect(observation).toBeNull()
      return
    }
    const lastMs = (amounts.length - 1) * HOUR_MS
    expect(observation).toEqual({
      hit: true, value, threshold: 3,
      detail: `${value} rising deposits (${amounts.join(' < ')} minor units), each after losing at least 50 % of the previous, limit 3`,
      evidenceEventIds: amounts.map((_, index) => `ev:d${index}`), windowStartMs: 0, windowEndMs: lastMs,
    })
  })

  it.each([
    { lost: 49_99, hit: false, case: 'just under half' },
    { lost: 50_00, hit: true, case: 'exactly half' },
    { lost: 100_00, hit: true, case: 'all of it' },
  ])('losing $case of the first deposit -> hit $hit', ({ lost, hit }) => {
    const observation = lastObservation(runScenario(lossChasing, MT, chase([100_00, 200_00, 400_00], [lost, 200_00])))
    expect(observation?.hit ?? false).toBe(hit)
  })

  it('needs rising amounts, losses (wins break the chain), and all deposits within the window', () => {
    expect(lastObservation(runScenario(lossChasing, MT, chase([50_00, 100_00, 100_00], [50_00, 100_00])))).toBeNull()
    expect(lastObservation(runScenario(lossChasing, MT, chase([50_00, 100_00, 200_00], [-20_00, 100_00])))).toBeNull()
    expect(lastObservation(runScenario(lossChasing, MT, chase([50_00, 100_00, 200_00], [50_00, 100_00], 12 * HOUR_MS - 1)))?.hit).toBe(true)
    expect(lastObservation(runScenario(lossChasing, MT, chase([50_00, 100_00, 200_00], [50_00, 100_00], 12 * HOUR_MS)))).toBeNull()
    // only completed deposits count
    const failed = [...chase([50_00, 100_00], [50_00, 100_00]), at(2 * HOUR_MS, deposit(200_00, { depositId: 'failed', status: 'FAILED' }))]
    expect(lastObservation(runScenario(lossChasing, MT, failed))).toBeNull()
  })

  it('an out-of-order deposit within grace splits the losses exactly and completes the chain it belongs to', () => {
    const steps = runScenario(lossChasing, MT, [
      at(0, deposit(100_00, { depositId: 'd1' })),
      at(30 * MINUTE_MS, loss(60_00, 'b1')),
      at(118 * MINUTE_MS, loss(150_00, 'b2')),
      at(120 * MINUTE_MS, deposit(400_00, { depositId: 'd3' })),
      at(117 * MINUTE_MS, deposit(200_00, { depositId: 'd2' })),
    ])
    expect(steps.map((step) => step.late)).toEqual([false, false, false, false, false])
    // without d2, d3 follows d1 alone: no chain of three
    expect(steps[3]?.observation).toBeNull()
    expect(steps[4]?.observation).toMatchObject({ hit: true, value: 3, evidenceEventIds: ['ev:d1', 'ev:d2', 'ev:d3'], windowEndMs: 120 * MINUTE_MS })
    const deposits = (steps[4]?.state as LossChasingState).deposits
    expect(deposits.map((item) => [item.eventId, item.netAfterMinor])).toEqual([['ev:d1', -60_00], ['ev:d2', -150_00], ['ev:d3', 0]])
  })

  it('a late deposit is flagged and stored but raises nothing; the next deposit sees it', () => {
    const steps = runScenario(lossChasing, MT, [
      at(0, deposit(50_00, { depositId: 'd0' })),
      at(10 * MINUTE_MS, loss(50_00, 'b0')),
      at(2 * HOUR_MS, bet(1_00, { betId: 'moves-stream-time', winMinor: 1_00 })),
      at(HOUR_MS, deposit(100_00, { depositId: 'd1' })),
      at(HOUR_MS + 10 * MINUTE_MS, loss(100_00, 'b1')),
      at(3 * HOUR_MS, deposit(200_00, { depositId: 'd2' })),
    ])
    expect(steps.map((step) => step.late)).toEqual([false, false, false, true, true, false])
    expect(steps[3]?.observation).toBeNull()
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 3, evidenceEventIds: ['ev:d0', 'ev:d1', 'ev:d2'] })
  })

  it('keeps state bounded by the window and the deposit cap', () => {
    const many = Array.from({ length: 30 }, (_, index) => at(index * 2 * HOUR_MS, deposit(10_00, { depositId: `d${index}` })))
    const steps = runScenario(lossChasing, MT, many)
    // stream time 58 h: deposits after 58 h - 24 h - 5 min are kept, i.e. 34 h, 36 h ... 58 h
    expect((steps[steps.length - 1]?.state as LossChasingState).deposits.map((item) => item.eventTimeMs / HOUR_MS)).toEqual(Array.from({ length: 13 }, (_, index) => 34 + 2 * index))
    const capped = runScenario(lossChasing, { ...MT, maxTrackedDeposits: 4 }, many)
    expect((capped[capped.length - 1]?.state as LossChasingState).deposits).toHaveLength(4)
  })

  it('overrides change the outcome: the UK 48 h window and a tier needing only two deposits', () => {
    const slow = chase([50_00, 100_00, 200_00], [50_00, 100_00], 15 * HOUR_MS)
    expect(lastObservation(runScenario(lossChasing, MT, slow))).toBeNull()
    expect(lastObservation(runScenario(lossChasing, paramsFor('loss_chasing', 'UK', 'VERIFIED'), slow))).toMatchObject({ hit: true, value: 3 })
    const document = shippedRuleSetWith(['loss_chasing'])
    const custom = { ...document, overrides: [...(document.overrides ?? []), { match: { tier: 'NEW' }, detectors: { loss_chasing: { params: { minRisingDeposits: 2 } } } }] }
    const pair = chase([50_00, 100_00], [50_00])
    expect(lastObservation(runScenario(lossChasing, paramsFor('loss_chasing', 'MT', 'VERIFIED', custom), pair))).toBeNull()
    expect(lastObservation(runScenario(lossChasing, paramsFor('loss_chasing', 'MT', 'NEW', custom), pair))).toMatchObject({ hit: true, value: 2, threshold: 2 })
  })
})

describe('loss_chasing end to end', () => {
  it('raises an RG alert on the deposit that completes the chain', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['loss_chasing']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
    const amounts = [50_00, 100_00, 200_00]
    amounts.forEach((amountMinor, index) => {
      pipeline.send('deposits', wireDeposit({ playerId: 'p1', depositId: `d${index}`, eventTimeMs: (index + 1) * HOUR_MS, amountMinor }))
      pipeline.send('bets', wireBet({ playerId: 'p1', betId: `b${index}`, eventTimeMs: (index + 1) * HOUR_MS + MINUTE_MS, stakeMinor: amountMinor, winMinor: 0 }))
    })
    await pipeline.driver.run()
    expect((await alertsOf(pipeline)).map((alert) => [alert.alertId, alert.action, alert.severity, alert.value, alert.evidenceEventIds])).toEqual([
      ['loss_chasing@1:ev:d2', 'rg_intervention', 'MEDIUM', 3, ['ev:d0', 'ev:d1', 'ev:d2']],
    ])
  })
})
