import { describe, expect, it } from 'vitest'
import { bet as wireBet, deposit as wireDeposit, player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { bonusMaxBet } from '../../detectors/bonus-max-bet.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, alertsOf, at, bet, deposit, lastObservation, paramsFor, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('bonus_max_bet', 'MT', 'VERIFIED')
const bonusDeposit = (fields: Parameters<typeof deposit>[1] = {}) => deposit(100_00, { depositId: 'd1', bonusAmountMinor: 100_00, wageringRequirementMultiplier: 30, ...fields })
const bonusBet = (stakeMinor: number, id: string, fields: Parameters<typeof bet>[1] = {}) => bet(stakeMinor, { betId: id, bonusFunds: true, ...fields })
const request = (id = 'w1') => withdrawal(100_00, { withdrawalId: id })

describe('bonus_max_bet: bets', () => {
  it('ships a 5.00 maximum bet (VIP 25.00), no breach tolerated at withdrawal', () => {
    expect(MT).toEqual({ maxBetMinor: 5_00, countBetsOn: 'SETTLED', bonusValidityMs: 30 * DAY_MS, maxBreachesAtWithdrawal: 0, graceMs: 5 * MINUTE_MS, maxTrackedBonuses: 20, maxTrackedBreaches: 100 })
    expect(paramsFor('bonus_max_bet', 'MT', 'VIP')).toMatchObject({ maxBetMinor: 25_00 })
  })

  it.each([
    { stakeMinor: 4_99, hit: false, case: 'below' },
    { stakeMinor: 5_00, hit: false, case: 'at' },
    { stakeMinor: 5_01, hit: true, case: 'above' },
  ])('a bonus-funds stake $case the maximum ($stakeMinor) -> alert $hit', ({ stakeMinor, hit }) => {
    const observation = lastObservation(runScenario(bonusMaxBet, MT, [at(0, bonusDeposit()), at(MINUTE_MS, bonusBet(stakeMinor, 'b1'))]))
    expect(observation).toEqual(hit
      ? {
          hit: true, value: stakeMinor, threshold: 5_00, detail: `bonus-funds bet of ${stakeMinor} minor units above the maximum bet of 500 (bonus from deposit d1)`,
          evidenceEventIds: ['ev:d1', 'ev:b1'], windowStartMs: 0, windowEndMs: 30 * DAY_MS,
        }
      : null)
  })

  it('ignores cash bets, the uncounted bet step, and bets outside an active bonus', () => {
    const observations = (events: ReturnType<typeof at>[]) => runScenario(bonusMaxBet, MT, [at(HOUR_MS, bonusDeposit()), ...events]).slice(1).map((step) => step.observation)
    expect(observations([at(2 * HOUR_MS, bonusBet(50_00, 'cash', { bonusFunds: false }))])).toEqual([null])
    expect(observations([at(2 * HOUR_MS, bonusBet(50_00, 'placed', { type: 'PLACED' }))])).toEqual([null])
    expect(observations([at(HOUR_MS + 30 * DAY_MS, bonusBet(50_00, 'expired'))])).toEqual([null])
    expect(observations([at(2 * HOUR_MS, deposit(100_00, { depositId: 'd1', eventId: 'rev-d1', status: 'REVERSED' })), at(3 * HOUR_MS, bonusBet(50_00, 'forfeited'))])).toEqual([null, null])
    expect(lastObservation(runScenario(bonusMaxBet, MT, [at(0, bonusBet(50_00, 'no-bonus'))]))).toBeNull()
  })
})

describe('bonus_max_bet: at withdrawal', () => {
  it.each([
    { breaches: 0, maxBreachesAtWithdrawal: 0, hit: false },
    { breaches: 1, maxBreachesAtWithdrawal: 0, hit: true },
    { breaches: 1, maxBreachesAtWithdrawal: 1, hit: false },
    { breaches: 2, maxBreachesAtWithdrawal: 1, hit: true },
  ])('$breaches breach(es) against a limit of $maxBreachesAtWithdrawal -> hit $hit', ({ breaches, maxBreachesAtWithdrawal, hit }) => {
    const bets = Array.from({ length: breaches }, (_, index) => at((index + 1) * MINUTE_MS, bonusBet(10_00, `b${index}`)))
    const observation = lastObservation(runScenario(bonusMaxBet, { ...MT, maxBreachesAtWithdrawal }, [at(0, bonusDeposit()), ...bets, at(HOUR_MS, request())]))
    expect(observation).toMatchObject({ hit, value: breaches, threshold: maxBreachesAtWithdrawal, windowStartMs: 0, windowEndMs: HOUR_MS })
    expect(observation?.evidenceEventIds).toEqual([...bets.map((event) => event.eventId), 'ev:w1'])
  })

  it('breaches under an expired bonus no longer count', () => {
    const steps = runScenario(bonusMaxBet, MT, [at(0, bonusDeposit()), at(MINUTE_MS, bonusBet(10_00, 'b1')), at(31 * DAY_MS, request())])
    expect(lastObservation(steps)).toMatchObject({ hit: false, value: 0, detail: 'no active bonus' })
  })
})

describe('bonus_max_bet: event time', () => {
  it('a bet seen before its bonus deposit event (within grace) is alerted when the deposit arrives', () => {
    const steps = runScenario(bonusMaxBet, MT, [at(2 * MINUTE_MS, bonusBet(20_00, 'b1')), at(0, bonusDeposit())])
    expect(steps.map((step) => step.late)).toEqual([false, false])
    expect(steps[0]?.observation).toBeNull()
    expect(steps[1]?.observation).toMatchObject({ hit: true, value: 20_00, threshold: 5_00, evidenceEventIds: ['ev:b1', 'ev:d1'] })
  })

  it('a late bet is flagged and raises no alert, but counts at the next withdrawal', () => {
    const steps = runScenario(bonusMaxBet, MT, [
      at(0, bonusDeposit()),
      at(HOUR_MS, bet(1_00, { betId: 'moves-stream-time' })),
      at(HOUR_MS - 5 * MINUTE_MS - 1, bonusBet(20_00, 'late')),
      at(HOUR_MS - 5 * MINUTE_MS, bonusBet(20_00, 'in-grace')),
      at(2 * HOUR_MS, request()),
    ])
    expect(steps.map((step) => step.late)).toEqual([false, false, true, false, false])
    expect(steps.map((step) => step.observation?.hit ?? null)).toEqual([null, null, null, true, true])
    expect(lastObservation(steps)).toMatchObject({ value: 2, evidenceEventIds: ['ev:late', 'ev:in-grace', 'ev:w1'] })
  })
})

describe('bonus_max_bet: overrides', () => {
  it('VIP (25.00) lets a 10.00 bonus bet pass; a jurisdiction override lowering the maximum catches a 4.00 one', () => {
    const ten = [at(0, bonusDeposit()), at(MINUTE_MS, bonusBet(10_00, 'b1'))]
    expect(lastObservation(runScenario(bonusMaxBet, MT, ten))?.hit).toBe(true)
    expect(lastObservation(runScenario(bonusMaxBet, paramsFor('bonus_max_bet', 'MT', 'VIP'), ten))).toBeNull()
    const document = shippedRuleSetWith(['bonus_max_bet'])
    const stricterUk = { ...document, overrides: [...(document.overrides ?? []), { match: { jurisdiction: 'UK' }, detectors: { bonus_max_bet: { params: { maxBetMinor: 2_00 } } } }] }
    const four = [at(0, bonusDeposit()), at(MINUTE_MS, bonusBet(4_00, 'b1'))]
    expect(lastObservation(runScenario(bonusMaxBet, paramsFor('bonus_max_bet', 'MT', 'VERIFIED', stricterUk), four))).toBeNull()
    expect(lastObservation(runScenario(bonusMaxBet, paramsFor('bonus_max_bet', 'UK', 'VERIFIED', stricterUk), four))).toMatchObject({ hit: true, threshold: 2_00 })
  })
})

describe('bonus_max_bet end to end', () => {
  it('alerts on the oversized bonus bet and holds the withdrawal that follows', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['bonus_max_bet']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
    pipeline.send('deposits', wireDeposit({ playerId: 'p1', depositId: 'd1', eventTimeMs: HOUR_MS, bonusAmountMinor: 100_00, wageringRequirementMultiplier: 30 }))
    pipeline.send('bets', wireBet({ playerId: 'p1', betId: 'small', eventTimeMs: 2 * HOUR_MS, stakeMinor: 2_00, bonusFunds: true }))
    pipeline.send('bets', wireBet({ playerId: 'p1', betId: 'big', eventTimeMs: 3 * HOUR_MS, stakeMinor: 40_00, bonusFunds: true }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: 4 * HOUR_MS }))
    await pipeline.driver.run()
    const [decision] = await pipeline.decisions()
    expect(decision).toMatchObject({ withdrawalId: 'w1', outcome: 'REVIEW', executions: [{ detectorId: 'bonus_max_bet', status: 'HIT', value: 1, threshold: 0 }] })
    expect((await alertsOf(pipeline)).map((alert) => [alert.alertId, alert.value, alert.evidenceEventIds])).toEqual([
      ['bonus_max_bet@1:ev:big', 40_00, ['ev:d1', 'ev:big']],
      ['bonus_max_bet@1:ev:w1', 1, ['ev:big', 'ev:w1']],
    ])
  })
})
