import { describe, expect, it } from 'vitest'
import { bet as wireBet, deposit as wireDeposit, player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { bonusWageringUnmet } from '../../detectors/bonus-wagering-unmet.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, alertsOf, at, bet, deposit, lastObservation, paramsFor, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('bonus_wagering_unmet', 'MT', 'VERIFIED')
/** A 100.00 deposit with a 50.00 bonus to wager 35 times: requirement 1,750.00. */
const bonusDeposit = (fields: Parameters<typeof deposit>[1] = {}) => deposit(100_00, { depositId: 'd1', bonusAmountMinor: 50_00, wageringRequirementMultiplier: 35, ...fields })
const slot = (stakeMinor: number, id: string, fields: Parameters<typeof bet>[1] = {}) => bet(stakeMinor, { betId: id, ...fields })
const request = (id = 'w1') => withdrawal(100_00, { withdrawalId: id })

describe('bonus_wagering_unmet', () => {
  it('ships bonus x multiplier, 30 days, slots 100 % / live tables 10 % / poker 0 %, counted on settlement', () => {
    expect(MT).toEqual({
      requirementBase: 'bonus', bonusValidityMs: 30 * DAY_MS, contributionPercentByGameType: { SLOT: 100, LIVE_TABLE: 10, POKER: 0, SPORTS: 100, OTHER: 100 },
      countBetsOn: 'SETTLED', graceMs: 5 * MINUTE_MS, maxTrackedBonuses: 20,
    })
  })

  it.each([
    { wageredMinor: 1_749_99, hit: true, case: 'one minor unit short' },
    { wageredMinor: 1_750_00, hit: false, case: 'exactly met' },
    { wageredMinor: 1_750_01, hit: false, case: 'exceeded' },
  ])('$case ($wageredMinor of 175000) -> hit $hit', ({ wageredMinor, hit }) => {
    const steps = runScenario(bonusWageringUnmet, MT, [at(0, bonusDeposit()), at(10 * MINUTE_MS, slot(wageredMinor, 'b1')), at(HOUR_MS, request())])
    expect(steps.slice(0, 2).map((step) => step.observation)).toEqual([null, null])
    expect(lastObservation(steps)).toEqual(hit
      ? {
          hit: true, value: wageredMinor, threshold: 1_750_00, detail: `bonus of 5000 minor units (deposit d1) wagered ${wageredMinor} of 175000 required`,
          evidenceEventIds: ['ev:d1', 'ev:w1'], windowStartMs: 0, windowEndMs: HOUR_MS,
        }
      : { hit: false, value: null, threshold: null, detail: 'no active bonus with its wagering requirement unmet', evidenceEventIds: ['ev:w1'], windowStartMs: null, windowEndMs: null })
  })

  it('weights stakes by game family and counts each bet once (on settlement)', () => {
    const steps = runScenario(bonusWageringUnmet, MT, [
      at(0, bonusDeposit()),
      at(MINUTE_MS, slot(1_000_00, 'slot-1')),
      at(2 * MINUTE_MS, slot(5_000_00, 'live-1', { gameType: 'LIVE_TABLE' })),
      at(3 * MINUTE_MS, slot(9_000_00, 'poker-1', { gameType: 'POKER' })),
      at(4 * MINUTE_MS, slot(9_000_00, 'placed-1', { type: 'PLACED' })),
      at(HOUR_MS, request()),
    ])
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 1_500_00, threshold: 1_750_00 })
    const placedCounts = runScenario(bonusWageringUnmet, { ...MT, countBetsOn: 'PLACED' }, [at(0, bonusDeposit()), at(MINUTE_MS, slot(2_000_00, 'b1', { type: 'PLACED' })), at(HOUR_MS, request())])
    expect(lastObservation(placedCounts)?.hit).toBe(false)
  })

  it('counts only bets made during the bonus, in its currency; an expired or forfeited bonus no longer holds the withdrawal', () => {
    const wagered = (events: ReturnType<typeof at>[]) => lastObservation(runScenario(bonusWageringUnmet, MT, [at(HOUR_MS, bonusDeposit()), ...events]))
    expect(wagered([at(HOUR_MS - 1, slot(2_000_00, 'before')), at(2 * HOUR_MS, request())])).toMatchObject({ hit: true, value: 0 })
    expect(wagered([at(2 * HOUR_MS, slot(2_000_00, 'gbp', { currency: 'GBP' })), at(3 * HOUR_MS, request())])).toMatchObject({ hit: true, value: 0 })
    expect(wagered([at(HOUR_MS + 30 * DAY_MS - 1, request())])).toMatchObject({ hit: true })
    expect(wagered([at(HOUR_MS + 30 * DAY_MS, request())])).toMatchObject({ hit: false })
    expect(wagered([at(2 * HOUR_MS, deposit(100_00, { depositId: 'd1', eventId: 'cb-d1', status: 'CHARGEBACK' })), at(3 * HOUR_MS, request())])).toMatchObject({ hit: false })
  })

  it('requirementBase deposit_plus_bonus applies the multiplier to both', () => {
    const steps = runScenario(bonusWageringUnmet, { ...MT, requirementBase: 'deposit_plus_bonus' }, [at(0, bonusDeposit()), at(MINUTE_MS, slot(2_000_00, 'b1')), at(HOUR_MS, request())])
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 2_000_00, threshold: 5_250_00 })
  })

  it('a deposit event arriving after bets made under its bonus (within grace) still counts them', () => {
    const steps = runScenario(bonusWageringUnmet, MT, [at(2 * MINUTE_MS, slot(1_750_00, 'b1')), at(0, bonusDeposit()), at(HOUR_MS, request())])
    expect(steps.map((step) => step.late)).toEqual([false, false, false])
    expect(lastObservation(steps)?.hit).toBe(false)
  })

  it('late deposits and bets (beyond grace) are flagged and still applied; the withdrawal is still evaluated', () => {
    const steps = runScenario(bonusWageringUnmet, MT, [
      at(HOUR_MS, slot(1_00, 'other')),
      at(HOUR_MS - 5 * MINUTE_MS - 1, bonusDeposit()),
      at(HOUR_MS - 4 * MINUTE_MS, slot(1_000_00, 'b1')),
      at(10 * MINUTE_MS, slot(9_000_00, 'late-before-grant')),
      at(2 * HOUR_MS, request()),
    ])
    expect(steps.map((step) => step.late)).toEqual([false, true, false, true, false])
    // the late bet predates the bonus, so it does not count; the in-grace one and the first (after the grant) do
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 1_001_00, threshold: 1_750_00 })
  })

  it('overrides change the outcome: a jurisdiction counting live tables fully, a tier with a shorter validity', () => {
    const document = shippedRuleSetWith(['bonus_wagering_unmet'])
    const custom = {
      ...document,
      overrides: [
        ...(document.overrides ?? []),
        { match: { jurisdiction: 'CW' }, detectors: { bonus_wagering_unmet: { params: { contributionPercentByGameType: { SLOT: 100, LIVE_TABLE: 100, POKER: 0, SPORTS: 100, OTHER: 100 } } } } },
        { match: { tier: 'VIP' }, detectors: { bonus_wagering_unmet: { params: { bonusValidityMs: 7 * DAY_MS } } } },
      ],
    }
    const live = [at(0, bonusDeposit()), at(MINUTE_MS, slot(2_000_00, 'live', { gameType: 'LIVE_TABLE' })), at(HOUR_MS, request())]
    expect(lastObservation(runScenario(bonusWageringUnmet, paramsFor('bonus_wagering_unmet', 'MT', 'VERIFIED', custom), live))?.hit).toBe(true)
    expect(lastObservation(runScenario(bonusWageringUnmet, paramsFor('bonus_wagering_unmet', 'CW', 'VERIFIED', custom), live))?.hit).toBe(false)
    const eightDays = [at(0, bonusDeposit()), at(8 * DAY_MS, request())]
    expect(lastObservation(runScenario(bonusWageringUnmet, paramsFor('bonus_wagering_unmet', 'MT', 'VERIFIED', custom), eightDays))?.hit).toBe(true)
    expect(lastObservation(runScenario(bonusWageringUnmet, paramsFor('bonus_wagering_unmet', 'MT', 'VIP', custom), eightDays))?.hit).toBe(false)
  })

  it('keeps state bounded: expired bonuses dropped, recent bets only within grace', () => {
    const steps = runScenario(bonusWageringUnmet, MT, [at(0, bonusDeposit()), ...Array.from({ length: 50 }, (_, index) => at(DAY_MS * (index + 1), slot(1_00, `b${index}`)))])
    const state = steps[steps.length - 1]?.state as { bonuses: unknown[]; recentBets: unknown[] }
    expect(state.bonuses).toHaveLength(0)
    expect(state.recentBets).toHaveLength(1)
  })
})

describe('bonus_wagering_unmet end to end', () => {
  it('holds a withdrawal taken before the bonus is wagered, and approves once it is', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['bonus_wagering_unmet']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT' }))
    pipeline.send('deposits', wireDeposit({ playerId: 'p1', depositId: 'd1', eventTimeMs: HOUR_MS, amountMinor: 100_00, bonusAmountMinor: 50_00, wageringRequirementMultiplier: 35 }))
    pipeline.send('bets', wireBet({ playerId: 'p1', betId: 'b1', eventTimeMs: 2 * HOUR_MS, stakeMinor: 1_000_00 }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: 3 * HOUR_MS }))
    pipeline.send('bets', wireBet({ playerId: 'p1', betId: 'b2', eventTimeMs: 4 * HOUR_MS, stakeMinor: 750_00 }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w2', eventTimeMs: 5 * HOUR_MS }))
    await pipeline.driver.run()
    const decisions = Object.fromEntries((await pipeline.decisions()).map((decision) => [decision.withdrawalId, decision]))
    expect(decisions.w1).toMatchObject({ outcome: 'REVIEW', actions: ['hold_for_review'], executions: [{ detectorId: 'bonus_wagering_unmet', status: 'HIT', value: 1_000_00, threshold: 1_750_00 }] })
    expect(decisions.w2).toMatchObject({ outcome: 'APPROVE', executions: [{ detectorId: 'bonus_wagering_unmet', status: 'NO_HIT' }] })
    expect((await alertsOf(pipeline)).map((alert) => [alert.alertId, alert.severity, alert.evidenceEventIds])).toEqual([['bonus_wagering_unmet@1:ev:w1', 'LOW', ['ev:d1', 'ev:w1']]])
  })
})
