/**
 * decide(): turns a withdrawal's detector executions into one outcome.
 *
 * Each hit carries the action its rule set gives it; the action maps to an outcome and the
 * outcome with the highest priority wins (DECLINE > REVIEW > APPROVE). A detector that errored
 * sends the withdrawal to REVIEW: with real money, "we could not check" is not "it is fine".
 *
 * Player-facing reason codes never reveal an investigation (no tipping-off): a REVIEW reads as
 * routine checks, a DECLINE as unable to process.
 *
 * The composite model score, cluster risk, screening and KYC hard stops join this function in
 * the decision-engine issue; the shape of the record already has their places.
 */
import type { Action } from '../detectors/rule-set.js'

export const OUTCOMES = ['APPROVE', 'REVIEW', 'DECLINE'] as const
export type Outcome = (typeof OUTCOMES)[number]

const OUTCOME_PRIORITY: Readonly<Record<Outcome, number>> = { APPROVE: 0, REVIEW: 1, DECLINE: 2 }

const ACTION_OUTCOME: Readonly<Record<Action, Outcome>> = {
  block_payout: 'DECLINE',
  hold_for_review: 'REVIEW',
  step_up_kyc: 'REVIEW',
  step_up_mfa: 'REVIEW',
  rg_intervention: 'REVIEW',
  continue_with_lower_limits: 'APPROVE',
  alert_only: 'APPROVE',
}

export const PLAYER_REASON_CODES: Readonly<Record<Outcome, string>> = {
  APPROVE: 'APPROVED',
  REVIEW: 'PENDING_STANDARD_CHECKS',
  DECLINE: 'UNABLE_TO_PROCESS',
}

export interface DetectorExecution {
  readonly detectorId: string
  readonly detectorVersion: number
  readonly status: 'HIT' | 'NO_HIT' | 'ERROR'
  readonly value: number | null
  readonly threshold: number | null
  readonly detail: string | null
  /** The rule's action when the status is HIT. */
  readonly action: Action | null
}

export interface Reason {
  readonly code: string
  readonly detectorId: string | null
  readonly detail: string
}

export interface Verdict {
  readonly outcome: Outcome
  readonly reasons: readonly Reason[]
  readonly actions: readonly string[]
  readonly playerReasonCode: string
}

export function decide(executions: readonly DetectorExecution[]): Verdict {
  let outcome: Outcome = 'APPROVE'
  const reasons: Reason[] = []
  const actions = new Set<string>()
  const raise = (next: Outcome): void => {
    if (OUTCOME_PRIORITY[next] > OUTCOME_PRIORITY[outcome]) outcome = next
  }
  for (const execution of executions) {
    if (execution.status === 'ERROR') {
      raise('REVIEW')
      reasons.push({ code: 'DETECTOR_ERROR', detectorId: execution.detectorId, detail: execution.detail ?? 'detector failed' })
    } else if (execution.status === 'HIT' && execution.action !== null) {
      raise(ACTION_OUTCOME[execution.action])
      actions.add(execution.action)
      reasons.push({ code: execution.detectorId.toUpperCase(), detectorId: execution.detectorId, detail: execution.detail ?? '' })
    }
  }
  if (reasons.length === 0) reasons.push({ code: 'NO_RISK_SIGNALS', detectorId: null, detail: 'no detector hit' })
  return { outcome, reasons, actions: [...actions].sort(), playerReasonCode: PLAYER_REASON_CODES[outcome] }
}
