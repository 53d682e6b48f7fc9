import { describe, expect, it } from 'vitest'
import { player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { kycIncompleteWithdrawal } from '../../detectors/kyc-incomplete-withdrawal.js'
import { DetectorRegistry } from '../../detectors/index.js'
import { RuleSet } from '../../detectors/rule-set.js'
import { DEFAULT_RULE_SET_PATH, testPipeline } from '../support/pipeline.js'
import { HOUR_MS, alertsOf, at, lastObservation, paramsFor, profile, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('kyc_incomplete_withdrawal', 'MT', 'VERIFIED')
const request = (id: string) => withdrawal(100_00, { withdrawalId: id })

describe('kyc_incomplete_withdrawal', () => {
  it('ships without a KYC level requirement', () => {
    expect(MT).toEqual({ minKycLevel: null })
  })

  it.each([
    { kycStatus: 'NONE', hit: true },
    { kycStatus: 'PENDING', hit: true },
    { kycStatus: 'REJECTED', hit: true },
    { kycStatus: 'VERIFIED', hit: false },
  ])('KYC $kycStatus -> hit $hit', ({ kycStatus, hit }) => {
    const observation = lastObservation(runScenario(kycIncompleteWithdrawal, MT, [at(HOUR_MS, request('w1'))], { profile: profile({ kycStatus }) }))
    expect(observation).toMatchObject({ hit, value: 1, threshold: null, evidenceEventIds: ['ev:w1'] })
    expect(observation?.detail).toBe(hit ? `KYC ${kycStatus} (not VERIFIED) at the first withdrawal request` : 'KYC VERIFIED at the first withdrawal request')
  })

  it('numbers the requests, so the first one is recognisable (value 1), and ignores cancellations', () => {
    const steps = runScenario(kycIncompleteWithdrawal, MT, [
      at(HOUR_MS, request('w1')),
      at(2 * HOUR_MS, withdrawal(100_00, { withdrawalId: 'w1', eventId: 'cancel-w1', type: 'CANCELLED' })),
      at(3 * HOUR_MS, request('w2')),
    ], { profile: profile({ kycStatus: 'PENDING' }) })
    expect(steps.map((step) => step.observation?.value ?? null)).toEqual([1, null, 2])
    expect(steps[2]?.observation?.detail).toBe('KYC PENDING (not VERIFIED) at withdrawal request 2')
  })

  it.each([
    { kycLevel: 1, hit: true, case: 'below' },
    { kycLevel: 2, hit: false, case: 'at' },
    { kycLevel: 3, hit: false, case: 'above' },
    { kycLevel: null, hit: true, case: 'unknown' },
  ])('with minKycLevel 2, a VERIFIED player $case the level ($kycLevel) -> hit $hit', ({ kycLevel, hit }) => {
    const observation = lastObservation(runScenario(kycIncompleteWithdrawal, { minKycLevel: 2 }, [at(0, request('w1'))], { profile: profile({ kycLevel }) }))
    expect(observation?.hit).toBe(hit)
    if (hit) expect(observation?.detail).toBe(`KYC level ${kycLevel ?? 'none'}, required 2 at the first withdrawal request`)
  })

  it('the shipped rule set blocks in the UK and asks for documents elsewhere, including for players pitboss never saw register (jurisdiction UNKNOWN)', () => {
    const ruleSet = RuleSet.load(DEFAULT_RULE_SET_PATH, new DetectorRegistry())
    const rule = (jurisdiction: string) => ruleSet.rulesFor(jurisdiction, 'NEW').get('kyc_incomplete_withdrawal')
    expect(rule('MT')).toMatchObject({ enabled: true, action: 'step_up_kyc', severity: 'high' })
    expect(rule('CW')).toMatchObject({ enabled: true, action: 'step_up_kyc' })
    expect(rule('UK')).toMatchObject({ enabled: true, action: 'block_payout', severity: 'critical' })
    // an unknown player is not a verified one: the check stays on
    expect(rule('UNKNOWN')).toMatchObject({ enabled: true, action: 'step_up_kyc' })
  })

  it('a tier override can require a KYC level (here VIP: level 2), turning a pass into a hit', () => {
    const document = shippedRuleSetWith(['kyc_incomplete_withdrawal'])
    const withVip = { ...document, overrides: [...(document.overrides ?? []), { match: { tier: 'VIP' }, detectors: { kyc_incomplete_withdrawal: { params: { minKycLevel: 2 } } } }] }
    const vip = paramsFor('kyc_incomplete_withdrawal', 'MT', 'VIP', withVip)
    const verified = paramsFor('kyc_incomplete_withdrawal', 'MT', 'VERIFIED', withVip)
    const scenario = [at(0, request('w1'))]
    const options = { profile: profile({ tier: 'VIP', kycLevel: 1 }) }
    expect(lastObservation(runScenario(kycIncompleteWithdrawal, verified, scenario, options))?.hit).toBe(false)
    expect(lastObservation(runScenario(kycIncompleteWithdrawal, vip, scenario, options))?.hit).toBe(true)
  })
})

describe('kyc_incomplete_withdrawal end to end', () => {
  it('holds an MT withdrawal for documents and declines a UK one while KYC is pending; approves after verification', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['kyc_incomplete_withdrawal']) })
    pipeline.send('players', player({ playerId: 'mt', eventTimeMs: 0, jurisdiction: 'MT', kycStatus: 'PENDING' }))
    pipeline.send('players', player({ playerId: 'uk', eventTimeMs: 0, jurisdiction: 'UK', kycStatus: 'PENDING' }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'mt', withdrawalId: 'mt-1', eventTimeMs: HOUR_MS }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'uk', withdrawalId: 'uk-1', eventTimeMs: HOUR_MS }))
    pipeline.send('players', player({ playerId: 'mt', eventTimeMs: 2 * HOUR_MS, type: 'KYC_CHANGED', kycStatus: 'VERIFIED' }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'mt', withdrawalId: 'mt-2', eventTimeMs: 3 * HOUR_MS }))
    await pipeline.driver.run()
    const decisions = Object.fromEntries((await pipeline.decisions()).map((decision) => [decision.withdrawalId, decision]))
    expect(decisions['mt-1']).toMatchObject({ outcome: 'REVIEW', actions: ['step_up_kyc'], reasons: [{ code: 'KYC_INCOMPLETE_WITHDRAWAL', detail: 'KYC PENDING (not VERIFIED) at the first withdrawal request' }] })
    expect(decisions['mt-1']?.executions).toEqual([{ detectorId: 'kyc_incomplete_withdrawal', detectorVersion: 1, status: 'HIT', value: 1, threshold: null, detail: 'KYC PENDING (not VERIFIED) at the first withdrawal request' }])
    expect(decisions['uk-1']).toMatchObject({ outcome: 'DECLINE', actions: ['block_payout'], playerReasonCode: 'UNABLE_TO_PROCESS' })
    expect(decisions['mt-2']).toMatchObject({ outcome: 'APPROVE', executions: [{ detectorId: 'kyc_incomplete_withdrawal', status: 'NO_HIT', value: 2 }] })
    expect((await alertsOf(pipeline)).map((alert) => [alert.alertId, alert.severity])).toEqual(
      expect.arrayContaining([['kyc_incomplete_withdrawal@1:ev:mt-1', 'HIGH'], ['kyc_incomplete_withdrawal@1:ev:uk-1', 'CRITICAL']]),
    )
  })
})
