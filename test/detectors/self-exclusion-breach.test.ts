import { describe, expect, it } from 'vitest'
import { bet as wireBet, deposit as wireDeposit, player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { selfExclusionBreach } from '../../detectors/self-exclusion-breach.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, alertsOf, at, bet, deposit, lastObservation, paramsFor, playerChange, profile, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('self_exclusion_breach', 'MT', 'VERIFIED')
const START_MS = Date.UTC(2026, 0, 5)
const UNTIL_MS = START_MS + 30 * DAY_MS
const exclude = (untilMs: number | null, eventId = 'se-1') => playerChange({ eventId, type: 'SELF_EXCLUSION_CHANGED', selfExcludedUntilMs: untilMs })
const request = (id = 'w1') => withdrawal(50_00, { withdrawalId: id })

describe('self_exclusion_breach', () => {
  it('ships one bet alert per hour at most', () => {
    expect(MT).toEqual({ betAlertIntervalMs: HOUR_MS })
  })

  it('a deposit during the exclusion is a hit with the time remaining as value', () => {
    const steps = runScenario(selfExclusionBreach, MT, [at(START_MS, exclude(UNTIL_MS)), at(START_MS + 10 * DAY_MS, deposit(20_00, { depositId: 'd1' }))])
    expect(steps[0]?.observation).toBeNull()
    expect(steps[1]?.observation).toEqual({
      hit: true, value: 20 * DAY_MS, threshold: 0, detail: 'deposit completed while self-excluded until 2026-02-04T00:00:00.000Z',
      evidenceEventIds: ['se-1', 'ev:d1'], windowStartMs: START_MS, windowEndMs: UNTIL_MS,
    })
  })

  it.each([
    { offsetMs: -1, hit: true, value: 1, case: 'a millisecond before the end' },
    { offsetMs: 0, hit: false, value: 0, case: 'at the end' },
    { offsetMs: 1, hit: false, value: 0, case: 'after the end' },
  ])('a withdrawal $case -> hit $hit', ({ offsetMs, hit, value }) => {
    const observation = lastObservation(runScenario(selfExclusionBreach, MT, [at(START_MS, exclude(UNTIL_MS)), at(UNTIL_MS + offsetMs, request())]))
    expect(observation).toMatchObject({ hit, value, threshold: 0 })
    if (!hit) expect(observation).toMatchObject({ detail: 'not self-excluded at the request time', evidenceEventIds: ['ev:w1'] })
  })

  it('judges each event against the exclusion in force at its own time', () => {
    const steps = runScenario(selfExclusionBreach, MT, [
      at(START_MS, exclude(UNTIL_MS)),
      // placed before the exclusion, delivered after it: not a breach
      at(START_MS - MINUTE_MS, deposit(20_00, { depositId: 'before' })),
      at(START_MS + 5 * DAY_MS, exclude(null, 'se-lifted')),
      at(START_MS + 2 * DAY_MS, deposit(20_00, { depositId: 'during' })),
      at(START_MS + 6 * DAY_MS, deposit(20_00, { depositId: 'after-lift' })),
    ])
    expect(steps.map((step) => step.observation?.hit ?? null)).toEqual([null, null, null, true, null])
  })

  it('without an exclusion change of its own, falls back to the profile', () => {
    const options = { profile: profile({ selfExcludedUntilMs: UNTIL_MS }) }
    expect(lastObservation(runScenario(selfExclusionBreach, MT, [at(START_MS, request())], options))).toMatchObject({ hit: true, windowStartMs: null, evidenceEventIds: ['ev:w1'] })
  })

  it('a chargeback or reversal is not the player acting; a cancelled withdrawal is not evaluated', () => {
    const steps = runScenario(selfExclusionBreach, MT, [
      at(START_MS, exclude(UNTIL_MS)),
      at(START_MS + 1, deposit(20_00, { depositId: 'd0', status: 'CHARGEBACK' })),
      at(START_MS + 2, deposit(20_00, { depositId: 'd0', eventId: 'rev', status: 'REVERSED' })),
      at(START_MS + 3, withdrawal(20_00, { withdrawalId: 'w0', type: 'CANCELLED' })),
      at(START_MS + 4, deposit(20_00, { depositId: 'd1', status: 'FAILED' })),
    ])
    expect(steps.map((step) => step.observation?.hit ?? null)).toEqual([null, null, null, null, true])
  })

  it('bets alert at most once per betAlertIntervalMs', () => {
    const steps = runScenario(selfExclusionBreach, MT, [
      at(START_MS, exclude(UNTIL_MS)),
      at(START_MS + HOUR_MS, bet(1_00, { betId: 'b1' })),
      at(START_MS + 90 * MINUTE_MS, bet(1_00, { betId: 'b2' })),
      at(START_MS + 2 * HOUR_MS - 1, bet(1_00, { betId: 'b3' })),
      at(START_MS + 2 * HOUR_MS, bet(1_00, { betId: 'b4' })),
    ])
    expect(steps.map((step) => step.observation?.hit ?? null)).toEqual([null, true, null, null, true])
    expect(steps[1]?.observation?.detail).toBe('bet settled while self-excluded until 2026-02-04T00:00:00.000Z')
  })

  it('overrides change the outcome: every bet alerts in a jurisdiction with interval 0, a tier with a 4 h interval stays quiet', () => {
    const document = shippedRuleSetWith(['self_exclusion_breach'])
    const custom = {
      ...document,
      overrides: [
        ...(document.overrides ?? []),
        { match: { jurisdiction: 'UK' }, detectors: { self_exclusion_breach: { params: { betAlertIntervalMs: 0 } } } },
        { match: { tier: 'VIP' }, detectors: { self_exclusion_breach: { params: { betAlertIntervalMs: 4 * HOUR_MS } } } },
      ],
    }
    const bets = [at(START_MS, exclude(UNTIL_MS)), at(START_MS + MINUTE_MS, bet(1_00, { betId: 'b1' })), at(START_MS + 2 * MINUTE_MS, bet(1_00, { betId: 'b2' })), at(START_MS + 3 * HOUR_MS, bet(1_00, { betId: 'b3' }))]
    const hits = (jurisdiction: string, tier: string) => runScenario(selfExclusionBreach, paramsFor('self_exclusion_breach', jurisdiction, tier, custom), bets).map((step) => step.observation?.hit ?? null)
    expect(hits('MT', 'VERIFIED')).toEqual([null, true, null, true])
    expect(hits('UK', 'VERIFIED')).toEqual([null, true, true, true])
    expect(hits('MT', 'VIP')).toEqual([null, true, null, null])
  })
})

describe('self_exclusion_breach end to end', () => {
  it('alerts on the deposit and declines the withdrawal of a self-excluded player', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['self_exclusion_breach']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: START_MS, jurisdiction: 'MT' }))
    pipeline.send('players', player({ playerId: 'p1', eventId: 'se-1', eventTimeMs: START_MS + HOUR_MS, type: 'SELF_EXCLUSION_CHANGED', selfExcludedUntilMs: UNTIL_MS }))
    pipeline.send('deposits', wireDeposit({ playerId: 'p1', depositId: 'd1', eventTimeMs: START_MS + 2 * HOUR_MS }))
    pipeline.send('bets', wireBet({ playerId: 'p1', betId: 'b1', eventTimeMs: START_MS + 3 * HOUR_MS }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: START_MS + 4 * HOUR_MS }))
    await pipeline.driver.run()
    const [decision] = await pipeline.decisions()
    expect(decision).toMatchObject({ withdrawalId: 'w1', outcome: 'DECLINE', actions: ['block_payout'], executions: [{ detectorId: 'self_exclusion_breach', status: 'HIT', threshold: 0 }] })
    expect((await alertsOf(pipeline)).map((alert) => [alert.alertId, alert.severity, alert.action])).toEqual([
      ['self_exclusion_breach@1:ev:d1', 'CRITICAL', 'block_payout'],
      ['self_exclusion_breach@1:ev:b1', 'CRITICAL', 'block_payout'],
      ['self_exclusion_breach@1:ev:w1', 'CRITICAL', 'block_payout'],
    ])
  })
})
