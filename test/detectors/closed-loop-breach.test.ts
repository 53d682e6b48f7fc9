import { describe, expect, it } from 'vitest'
import { deposit as wireDeposit, player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { closedLoopBreach } from '../../detectors/closed-loop-breach.js'
import type { RuleSetDocument } from '../../detectors/rule-set.js'
import type { PaymentMethod } from '../../schemas/domain.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, alertsOf, at, deposit, lastObservation, paramsFor, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('closed_loop_breach', 'MT', 'VERIFIED')

const instrument = (token: string) => ({ token, cardBin: null, walletAddress: null, holderName: null })
const depositWith = (token: string, method: PaymentMethod, fields: Parameters<typeof deposit>[1] = {}) => deposit(100_00, { depositId: `d-${token}`, method, instrument: instrument(token), ...fields })
const withdrawalTo = (token: string, method: PaymentMethod, withdrawalId = `w-${token}`) => withdrawal(50_00, { withdrawalId, method, instrument: instrument(token) })

describe('closed_loop_breach', () => {
  it('ships PREPAID as non-payable with BANK_TRANSFER as the way back', () => {
    expect(MT).toMatchObject({ nonPayableDepositMethods: ['PREPAID'], fallbackWithdrawalMethods: ['BANK_TRANSFER'], instrumentMemoryMs: 365 * DAY_MS, maxInstruments: 50 })
  })

  const known = [at(0, depositWith('card:A', 'CARD')), at(HOUR_MS, depositWith('wallet:W', 'EWALLET'))]

  it.each([
    { token: 'card:A', method: 'CARD' as const, hit: false },
    { token: 'wallet:W', method: 'EWALLET' as const, hit: false },
    { token: 'card:B', method: 'CARD' as const, hit: true },
  ])('deposits with card:A and wallet:W, withdrawal to $token -> hit $hit', ({ token, method, hit }) => {
    const observation = lastObservation(runScenario(closedLoopBreach, MT, [...known, at(2 * HOUR_MS, withdrawalTo(token, method))]))
    expect(observation).toMatchObject({ hit, value: hit ? 1 : 0, threshold: null, windowEndMs: 2 * HOUR_MS, evidenceEventIds: ['ev:d-card:A', 'ev:d-wallet:W', `ev:w-${token}`] })
    if (hit) expect(observation?.detail).toBe('withdrawal to CARD card:B, never used for a deposit (2 deposit instruments known: CARD, EWALLET)')
  })

  it('gives no observation while no deposit is known (history unknown, not "never deposited")', () => {
    expect(lastObservation(runScenario(closedLoopBreach, MT, [at(HOUR_MS, withdrawalTo('card:B', 'CARD'))]))).toBeNull()
    expect(lastObservation(runScenario(closedLoopBreach, MT, [at(0, depositWith('card:A', 'CARD', { status: 'FAILED' })), at(HOUR_MS, withdrawalTo('card:A', 'CARD'))]))).toBeNull()
  })

  it('counts only completed deposits', () => {
    const events = [at(0, depositWith('card:A', 'CARD')), at(HOUR_MS, depositWith('card:B', 'CARD', { status: 'FAILED' })), at(2 * HOUR_MS, withdrawalTo('card:B', 'CARD'))]
    expect(lastObservation(runScenario(closedLoopBreach, MT, events))?.hit).toBe(true)
  })

  it('lets a non-payable deposit method come back by the fallback method only', () => {
    const voucher = [at(0, depositWith('voucher:V', 'PREPAID'))]
    expect(lastObservation(runScenario(closedLoopBreach, MT, [...voucher, at(HOUR_MS, withdrawalTo('iban:X', 'BANK_TRANSFER'))]))).toMatchObject({ hit: false, detail: 'withdrawal by BANK_TRANSFER: the player deposited only by PREPAID, which cannot receive payouts' })
    expect(lastObservation(runScenario(closedLoopBreach, MT, [...voucher, at(HOUR_MS, withdrawalTo('wallet:W', 'EWALLET'))]))?.hit).toBe(true)
    // once a payable instrument was used, the bank account is a breach
    expect(lastObservation(runScenario(closedLoopBreach, MT, [...voucher, at(1, depositWith('card:A', 'CARD')), at(HOUR_MS, withdrawalTo('iban:X', 'BANK_TRANSFER'))]))?.hit).toBe(true)
  })

  it('an instrument counts from its first deposit in event time, whatever the arrival order', () => {
    // the request to card:B precedes card:B's first deposit in event time: breach
    const before = runScenario(closedLoopBreach, MT, [at(0, depositWith('card:A', 'CARD')), at(2 * HOUR_MS, depositWith('card:B', 'CARD')), at(HOUR_MS, withdrawalTo('card:B', 'CARD'))])
    expect(lastObservation(before)?.hit).toBe(true)
    // a deposit arriving late still teaches the instrument for later requests, and nothing is ever late here
    const lateDeposit = runScenario(closedLoopBreach, MT, [at(0, depositWith('card:A', 'CARD')), at(10 * HOUR_MS, withdrawalTo('card:A', 'CARD', 'w1')), at(HOUR_MS, depositWith('card:B', 'CARD')), at(11 * HOUR_MS, withdrawalTo('card:B', 'CARD', 'w2'))])
    expect(lateDeposit.map((step) => step.late)).toEqual([false, false, false, false])
    expect(lastObservation(lateDeposit)?.hit).toBe(false)
  })

  it('forgets instruments unused for instrumentMemoryMs and keeps at most maxInstruments', () => {
    const params = { ...MT, instrumentMemoryMs: 30 * DAY_MS }
    const events = [at(0, depositWith('card:A', 'CARD')), at(20 * DAY_MS, depositWith('card:C', 'CARD')), at(31 * DAY_MS, withdrawalTo('card:A', 'CARD'))]
    expect(lastObservation(runScenario(closedLoopBreach, params, events))?.hit).toBe(true)
    expect(lastObservation(runScenario(closedLoopBreach, MT, events))?.hit).toBe(false)
    const many = Array.from({ length: 10 }, (_, index) => at(index * HOUR_MS, depositWith(`card:${index}`, 'CARD')))
    const steps = runScenario(closedLoopBreach, { ...MT, maxInstruments: 3 }, [...many, at(11 * HOUR_MS, withdrawalTo('card:0', 'CARD'))])
    expect((steps[steps.length - 2]?.state as { instruments: Array<{ token: string }> }).instruments.map((item) => item.token)).toEqual(['card:7', 'card:8', 'card:9'])
    expect(lastObservation(steps)?.hit).toBe(true)
  })

  it('overrides change the outcome: a jurisdiction without the fallback, a tier with more non-payable methods', () => {
    const document = shippedRuleSetWith(['closed_loop_breach'])
    const strict: RuleSetDocument = {
      ...document,
      overrides: [
        ...(document.overrides ?? []),
        { match: { jurisdiction: 'CW' }, detectors: { closed_loop_breach: { params: { fallbackWithdrawalMethods: [] } } } },
        { match: { tier: 'VIP' }, detectors: { closed_loop_breach: { params: { nonPayableDepositMethods: ['PREPAID', 'CRYPTO'] } } } },
      ],
    }
    const voucherThenBank = [at(0, depositWith('voucher:V', 'PREPAID')), at(HOUR_MS, withdrawalTo('iban:X', 'BANK_TRANSFER'))]
    expect(lastObservation(runScenario(closedLoopBreach, paramsFor('closed_loop_breach', 'CW', 'VERIFIED', strict), voucherThenBank))?.hit).toBe(true)
    expect(lastObservation(runScenario(closedLoopBreach, paramsFor('closed_loop_breach', 'MT', 'VERIFIED', strict), voucherThenBank))?.hit).toBe(false)
    const cryptoThenBank = [at(0, depositWith('btc:1', 'CRYPTO')), at(HOUR_MS, withdrawalTo('iban:X', 'BANK_TRANSFER'))]
    expect(lastObservation(runScenario(closedLoopBreach, paramsFor('closed_loop_breach', 'MT', 'VIP', strict), cryptoThenBank))?.hit).toBe(false)
    expect(lastObservation(runScenario(closedLoopBreach, paramsFor('closed_loop_breach', 'MT', 'VERIFIED', strict), cryptoThenBank))?.hit).toBe(true)
  })
})

describe('closed_loop_breach end to end', () => {
  it('a withdrawal to a new card goes to review; the shipped UK rule raises the alert as HIGH', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['closed_loop_breach']) })
    for (const [playerId, jurisdiction] of [['mt-player', 'MT'], ['uk-player', 'UK']] as const) {
      pipeline.send('players', player({ playerId, eventTimeMs: 0, jurisdiction, tier: 'VERIFIED' }))
      pipeline.send('deposits', wireDeposit({ playerId, depositId: `d-${playerId}`, eventTimeMs: HOUR_MS, instrument: instrument(`card:${playerId}`) }))
      pipeline.send('withdrawals', wireWithdrawal({ playerId, withdrawalId: `same-${playerId}`, eventTimeMs: 2 * HOUR_MS, instrument: instrument(`card:${playerId}`) }))
      pipeline.send('withdrawals', wireWithdrawal({ playerId, withdrawalId: `other-${playerId}`, eventTimeMs: 3 * HOUR_MS, instrument: instrument('card:someone-else') }))
    }
    await pipeline.driver.run()
    const outcomes = Object.fromEntries((await pipeline.decisions()).map((decision) => [decision.withdrawalId, [decision.outcome, decision.executions.map((execution) => execution.status)]]))
    expect(outcomes).toEqual({
      'same-mt-player': ['APPROVE', ['NO_HIT']], 'other-mt-player': ['REVIEW', ['HIT']],
      'same-uk-player': ['APPROVE', ['NO_HIT']], 'other-uk-player': ['REVIEW', ['HIT']],
    })
    const severities = Object.fromEntries((await alertsOf(pipeline)).map((alert) => [alert.playerId, alert.severity]))
    expect(severities).toEqual({ 'mt-player': 'MEDIUM', 'uk-player': 'HIGH' })
  })
})
