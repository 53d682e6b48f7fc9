import { describe, expect, it } from 'vitest'
import { deposit as wireDeposit, player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { rareMethod } from '../../detectors/rare-method.js'
import type { RuleSetDocument } from '../../detectors/rule-set.js'
import type { PaymentMethod } from '../../schemas/domain.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, alertsOf, at, deposit, lastObservation, paramsFor, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('rare_method', 'MT', 'VERIFIED')

/** Completed deposits by these methods, an hour apart, then a withdrawal by `method`. */
function payments(methods: readonly PaymentMethod[], method: PaymentMethod) {
  return [
    ...methods.map((past, index) => at(index * HOUR_MS, deposit(100_00, { depositId: `d${index}`, method: past }))),
    at(methods.length * HOUR_MS, withdrawal(50_00, { withdrawalId: 'next', method })),
  ]
}
const cards = (count: number): PaymentMethod[] => Array(count).fill('CARD')

describe('rare_method', () => {
  it('ships minHistory 5 over the last 50 payments, rare below a 10% share', () => {
    expect(MT).toMatchObject({ minHistory: 5, historySize: 50, minShare: 0.1, historyMaxAgeMs: 365 * DAY_MS })
  })

  it.each([
    { history: [...cards(19), 'EWALLET'] as PaymentMethod[], share: 0.05, hit: true },
    { history: [...cards(9), 'EWALLET'] as PaymentMethod[], share: 0.1, hit: false },
    { history: [...cards(8), 'EWALLET', 'EWALLET'] as PaymentMethod[], share: 0.2, hit: false },
    { history: cards(10), share: 0, hit: true },
  ])('withdrawal by EWALLET with a share of $share -> hit $hit', ({ history, share, hit }) => {
    const steps = runScenario(rareMethod, MT, payments(history, 'EWALLET'))
    expect(steps.slice(0, -1).every((step) => step.observation === null)).toBe(true)
    const observation = lastObservation(steps)
    const used = history.filter((method) => method === 'EWALLET').length
    expect(observation).toMatchObject({ hit, value: share, threshold: 0.1, windowStartMs: 0, windowEndMs: history.length * HOUR_MS })
    expect(observation?.detail).toBe(`withdrawal by EWALLET: ${used} of the last ${history.length} payments used it (share ${share}), rare below 0.1`)
    expect(observation?.evidenceEventIds).toHaveLength((hit ? history.length : used) + 1)
  })

  it.each([
    { past: 4, observed: false },
    { past: 5, observed: true },
  ])('$past past payments against minHistory 5 -> observation $observed', ({ past, observed }) => {
    const observation = lastObservation(runScenario(rareMethod, MT, payments(cards(past), 'CRYPTO')))
    if (observed) expect(observation).toMatchObject({ hit: true, value: 0 })
    else expect(observation).toBeNull()
  })

  it('counts completed deposits and withdrawal requests, not failed deposits or cancellations', () => {
    const events = [
      ...payments(cards(4), 'CARD').slice(0, 4),
      at(5 * HOUR_MS, withdrawal(50_00, { withdrawalId: 'w-crypto', method: 'CRYPTO' })),
      at(6 * HOUR_MS, deposit(100_00, { depositId: 'failed', method: 'CRYPTO', status: 'FAILED' })),
      at(7 * HOUR_MS, withdrawal(50_00, { withdrawalId: 'w-crypto', method: 'CRYPTO', type: 'CANCELLED', eventId: 'cancel' })),
      at(8 * HOUR_MS, withdrawal(50_00, { withdrawalId: 'next', method: 'CRYPTO' })),
    ]
    const steps = runScenario(rareMethod, MT, events)
    expect(steps[4]?.observation).toBeNull() // only 4 past payments then
    expect(lastObservation(steps)).toMatchObject({ hit: false, value: 0.2, detail: 'withdrawal by CRYPTO: 1 of the last 5 payments used it (share 0.2), rare below 0.1' })
  })

  it('uses the last historySize payments within historyMaxAgeMs', () => {
    const history: PaymentMethod[] = ['EWALLET', 'EWALLET', ...cards(10)]
    expect(lastObservation(runScenario(rareMethod, MT, payments(history, 'EWALLET')))).toMatchObject({ hit: false, value: 0.167 })
    expect(lastObservation(runScenario(rareMethod, { ...MT, historySize: 10 }, payments(history, 'EWALLET')))).toMatchObject({ hit: true, value: 0 })
    expect(lastObservation(runScenario(rareMethod, { ...MT, historyMaxAgeMs: 10 * HOUR_MS }, payments(history, 'EWALLET')))).toMatchObject({ hit: true, value: 0 })
    const steps = runScenario(rareMethod, { ...MT, historySize: 10 }, payments(history, 'EWALLET'))
    expect((steps[steps.length - 1]?.state as { payments: unknown[] }).payments).toHaveLength(10)
  })

  it('is not windowed: an out-of-order request is compared with the payments before it, never late', () => {
    const events = [...payments(cards(5), 'CARD').slice(0, 5), at(10 * HOUR_MS, deposit(100_00, { depositId: 'later', method: 'CRYPTO' })), at(6 * HOUR_MS, withdrawal(50_00, { withdrawalId: 'early', method: 'CRYPTO' }))]
    const steps = runScenario(rareMethod, MT, events)
    expect(steps.every((step) => !step.late)).toBe(true)
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 0 })
  })

  it('a jurisdiction override (a rule set asking 20% in UK) changes the outcome', () => {
    const document = shippedRuleSetWith(['rare_method'])
    const withUk: RuleSetDocument = { ...document, overrides: [...(document.overrides ?? []), { match: { jurisdiction: 'UK' }, detectors: { rare_method: { params: { minShare: 0.2 } } } }] }
    const events = payments([...cards(9), 'EWALLET'], 'EWALLET')
    expect(lastObservation(runScenario(rareMethod, paramsFor('rare_method', 'UK', 'VERIFIED', withUk), events))?.hit).toBe(true)
    expect(lastObservation(runScenario(rareMethod, paramsFor('rare_method', 'MT', 'VERIFIED', withUk), events))?.hit).toBe(false)
  })
})

describe('rare_method end to end', () => {
  it('an alert only for a verified player, but step-up MFA (review) for a NEW one, as shipped', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['rare_method']) })
    for (const tier of ['VERIFIED', 'NEW'] as const) {
      const playerId = `p-${tier}`
      pipeline.send('players', player({ playerId, eventTimeMs: 0, jurisdiction: 'MT', tier }))
      for (let index = 0; index < 6; index += 1) pipeline.send('deposits', wireDeposit({ playerId, depositId: `d${index}`, eventTimeMs: (index + 1) * HOUR_MS }))
      pipeline.send('withdrawals', wireWithdrawal({ playerId, withdrawalId: `w-${tier}`, eventTimeMs: 8 * HOUR_MS, method: 'CRYPTO', instrument: { token: 'btc:1', cardBin: null, walletAddress: 'btc:1', holderName: null } }))
    }
    await pipeline.driver.run()
    const decisions = Object.fromEntries((await pipeline.decisions()).map((decision) => [decision.withdrawalId, [decision.outcome, decision.actions]]))
    expect(decisions).toEqual({ 'w-VERIFIED': ['APPROVE', ['alert_only']], 'w-NEW': ['REVIEW', ['step_up_mfa']] })
    const alerts = (await alertsOf(pipeline)).map((alert) => [alert.playerId, alert.severity, alert.action, alert.value, alert.threshold]).sort()
    expect(alerts).toEqual([['p-NEW', 'MEDIUM', 'step_up_mfa', 0, 0.1], ['p-VERIFIED', 'LOW', 'alert_only', 0, 0.1]])
  })
})
