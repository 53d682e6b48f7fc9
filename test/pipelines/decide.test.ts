import { describe, expect, it } from 'vitest'
import { DEFAULT_DECISION_POLICY, type DecisionPolicy } from '../../detectors/rule-set.js'
import { decide, type DetectorExecution, type ModelSignal } from '../../pipelines/decide.js'

const T0 = Date.UTC(2026, 10, 26, 12)
const policy: DecisionPolicy = { ...DEFAULT_DECISION_POLICY, hardStops: ['sanctions_confirmed_match', 'self_exclusion_breach', 'kyc_incomplete_withdrawal'] }

const hit = (detectorId: string, action: DetectorExecution['action'], severity: DetectorExecution['severity'] = 'medium'): DetectorExecution =>
  ({ detectorId, detectorVersion: 1, status: 'HIT', value: 4, threshold: 3, detail: `${detectorId} fired`, action, severity })
const noHit = (detectorId: string): DetectorExecution => ({ detectorId, detectorVersion: 1, status: 'NO_HIT', value: 1, threshold: 3, detail: null, action: null, severity: null })
const model = (score: number, cutoff = 0.6): ModelSignal => ({ modelId: 'm', modelVersion: '1', score, cutoff, contributions: [{ feature: 'withdrawals_24h_count', contribution: 1.2 }] })
const base = { policy, model: null, cluster: null, amountMinor: 100_00, requestedAtMs: T0 }

describe('decide()', () => {
  it('approves with no signals, without revealing anything to the player', () => {
    const verdict = decide({ ...base, executions: [noHit('withdrawal_velocity')] })
    expect(verdict).toMatchObject({ outcome: 'APPROVE', playerReasonCode: 'APPROVED', compositeScore: 0, hardStop: null, notBeforeMs: null })
    expect(verdict.reasons).toEqual([{ code: 'NO_RISK_SIGNALS', detectorId: null, detail: 'no detector hit' }])
  })

  it('short-circuits on a hard stop by its rule action, ignoring the model and every soft signal', () => {
    const verdict = decide({ ...base, model: model(0.01), executions: [hit('withdrawal_velocity', 'alert_only'), hit('sanctions_confirmed_match', 'block_payout', 'critical')] })
    expect(verdict).toMatchObject({ outcome: 'DECLINE', hardStop: 'SANCTIONS_CONFIRMED_MATCH', compositeScore: null, playerReasonCode: 'UNABLE_TO_PROCESS' })
    expect(verdict.reasons.map((reason) => reason.detectorId)).toEqual(['sanctions_confirmed_match'])
  })

  it('lets the rule set make a hard stop a REVIEW (first withdrawal before full KYC, action step_up_kyc)', () => {
    const verdict = decide({ ...base, executions: [hit('kyc_incomplete_withdrawal', 'step_up_kyc', 'high')] })
    expect(verdict).toMatchObject({ outcome: 'REVIEW', hardStop: 'KYC_INCOMPLETE_WITHDRAWAL', actions: ['step_up_kyc'], playerReasonCode: 'PENDING_STANDARD_CHECKS' })
  })

  it('keeps a rule action as a floor: hold_for_review reviews even with a tiny composite', () => {
    const verdict = decide({ ...base, executions: [hit('withdrawal_velocity', 'hold_for_review', 'low')] })
    expect(verdict.outcome).toBe('REVIEW')
    expect(verdict.compositeScore).toBe(0.1)
  })

  it('combines soft hits as a noisy-OR: two medium alert-only hits stay below review, three high ones reach it', () => {
    const two = decide({ ...base, executions: [hit('a', 'alert_only'), hit('b', 'alert_only')] })
    expect(two.compositeScore).toBe(0.4375) // 1 - 0.75²
    expect(two.outcome).toBe('APPROVE')
    const three = decide({ ...base, executions: [hit('a', 'alert_only', 'high'), hit('b', 'alert_only', 'high'), hit('c', 'alert_only', 'high')] })
    expect(three.compositeScore).toBe(0.833625) // 1 - 0.55³
    expect(three.outcome).toBe('REVIEW')
    expect(three.reasons[0]?.code).toBe('COMPOSITE_SCORE')
  })

  it('weighs the model against its calibrated cut-off: at the cut-off it alone reaches review', () => {
    expect(decide({ ...base, executions: [], model: model(0.3) })).toMatchObject({ outcome: 'APPROVE', compositeScore: 0.25 })
    const atCutoff = decide({ ...base, executions: [], model: model(0.6) })
    expect(atCutoff).toMatchObject({ outcome: 'REVIEW', compositeScore: 0.5 })
    expect(atCutoff.reasons.map((reason) => reason.code)).toEqual(['COMPOSITE_SCORE', 'MODEL_SCORE_HIGH'])
    expect(atCutoff.reasons[1]?.detail).toContain('withdrawals_24h_count +1.200')
  })

  it('declines when model, hits and cluster together pass declineAt', () => {
    const verdict = decide({
      ...base, model: model(0.9), executions: [hit('a', 'alert_only', 'critical'), hit('b', 'alert_only', 'high')],
      cluster: { clusterId: 'cmp:p1', size: 6, risk: 0.9, typologies: ['multi_account_farm'] },
    })
    expect(verdict.outcome).toBe('DECLINE')
    expect(verdict.compositeScore).toBeGreaterThanOrEqual(policy.declineAt)
    expect(verdict.reasons.map((reason) => reason.code)).toContain('CLUSTER_RISK')
  })

  it('sends a detector error or a model failure to REVIEW and says so', () => {
    const failed: DetectorExecution = { detectorId: 'pass_through', detectorVersion: 1, status: 'ERROR', value: null, threshold: null, detail: 'boom', action: null, severity: null }
    expect(decide({ ...base, executions: [failed] })).toMatchObject({ outcome: 'REVIEW', reasons: [{ code: 'DETECTOR_ERROR', detectorId: 'pass_through', detail: 'boom' }] })
    expect(decide({ ...base, executions: [], modelError: 'session closed' })).toMatchObject({ outcome: 'REVIEW', reasons: [{ code: 'MODEL_ERROR', detectorId: null, detail: 'session closed' }] })
  })

  it('adds a cooling-off hold to a large approval, at the threshold and not below', () => {
    const { minAmountMinor, holdMs } = policy.coolingOff
    expect(decide({ ...base, executions: [], amountMinor: minAmountMinor - 1 })).toMatchObject({ outcome: 'APPROVE', notBeforeMs: null, actions: [] })
    expect(decide({ ...base, executions: [], amountMinor: minAmountMinor })).toMatchObject({ outcome: 'APPROVE', notBeforeMs: T0 + holdMs, actions: ['cooling_off_hold'] })
    expect(decide({ ...base, executions: [hit('a', 'hold_for_review')], amountMinor: minAmountMinor })).toMatchObject({ outcome: 'REVIEW', notBeforeMs: null })
  })

  it('gives the same verdict for the same inputs', () => {
    const inputs = { ...base, model: model(0.5), executions: [hit('a', 'alert_only', 'high'), noHit('b')] }
    expect(JSON.stringify(decide(inputs))).toBe(JSON.stringify(decide(inputs)))
  })
})
