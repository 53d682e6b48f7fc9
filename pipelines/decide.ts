/**
 * decide(): turns everything known about a withdrawal into one outcome, APPROVE, REVIEW or
 * DECLINE, with its reasons. Pure and synchronous: the same inputs give the same verdict.
 *
 * 1. Hard stops short-circuit. A hit of a detector the policy lists in `hardStops` (confirmed
 *    sanctions match, self-exclusion breach, first withdrawal without full KYC, under-age)
 *    decides by its rule's action alone — DECLINE or REVIEW as the rule set says — and nothing
 *    else is weighed (the model is not even scored; `hardStop` names the stop).
 * 2. Otherwise every rule's action sets a floor (a rule that says "hold for review" holds), and
 *    the soft signals combine into a composite score in [0, 1], a noisy-OR of one term per soft
 *    hit (its severity's weight), the model (`modelWeight × min(1, score / cutoff)`: a score at
 *    the model's calibrated cut-off weighs `modelWeight`) and the player's cluster
 *    (`clusterWeight × cluster risk`). The composite at or above `declineAt` declines, at or
 *    above `reviewAt` reviews. The outcome is the highest of floor and composite
 *    (DECLINE > REVIEW > APPROVE): outcome priority decides conflicts.
 * 3. A detector that errored, or a model that failed to score, sends the withdrawal to REVIEW at least: with real money, "we could
 *    not check" is not "it is fine".
 * 4. Actions beside the outcome: the rules' actions (step-up KYC, MFA, RG intervention...) and a
 *    cooling-off hold when an approval is large (`coolingOff.minAmountMinor`): the payout command
 *    then carries notBeforeMs = request time + `coolingOff.holdMs`.
 *
 * Thresholds, weights and hard stops come from the rule set's decision policy, per jurisdiction
 * and tier (detectors/rule-set.ts). Player-facing reason codes never reveal an investigation
 * (no tipping-off): a REVIEW reads as routine checks, a DECLINE as unable to process.
 *
 * Example:
 *   decide({ executions, policy: ruleSet.policyFor('MT', 'NEW'), model: null, cluster: null,
 *            amountMinor: 25_000, requestedAtMs })
 *   // { outcome: 'REVIEW', compositeScore: 0.45, hardStop: null, reasons: [...], ... }
 */
import type { Action, DecisionPolicy, Severity } from '../detectors/rule-set.js'

export const OUTCOMES = ['APPROVE', 'REVIEW', 'DECLINE'] as const
export type Outcome = (typeof OUTCOMES)[number]

const OUTCOME_PRIORITY: Readonly<Record<Outcome, number>> = { APPROVE: 0, REVIEW: 1, DECLINE: 2 }

export const ACTION_OUTCOME: Readonly<Record<Action, Outcome>> = {
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

/** The action decide() adds to a large approval. */
export const COOLING_OFF_ACTION = 'cooling_off_hold'

export interface DetectorExecution {
  readonly detectorId: string
  readonly detectorVersion: number
  readonly status: 'HIT' | 'NO_HIT' | 'ERROR'
  readonly value: number | null
  readonly threshold: number | null
  readonly detail: string | null
  /** The rule's action and severity when the status is HIT. */
  readonly action: Action | null
  readonly severity: Severity | null
}

/** The champion model's score, as the model service returns it. */
export interface ModelSignal {
  readonly modelId: string
  readonly modelVersion: string
  readonly score: number
  /** The calibrated cut-off from the model's manifest. */
  readonly cutoff: number
  readonly contributions: ReadonlyArray<{ readonly feature: string; readonly contribution: number }>
}

/** The player's cluster in the link graph (risk.clusters.v1). */
export interface ClusterSignal {
  readonly clusterId: string
  readonly size: number
  /** In [0, 1]. */
  readonly risk: number
  readonly typologies: readonly string[]
}

export interface DecisionInputs {
  readonly executions: readonly DetectorExecution[]
  readonly policy: DecisionPolicy
  readonly model: ModelSignal | null
  /** Why the model could not score, when it was asked to and failed: the withdrawal goes to REVIEW at least. */
  readonly modelError?: string | null
  readonly cluster: ClusterSignal | null
  readonly amountMinor: number
  readonly requestedAtMs: number
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
  /** Null when a hard stop decided. */
  readonly compositeScore: number | null
  readonly hardStop: string | null
  /** Earliest payout time for a cooling-off hold; null otherwise. */
  readonly notBeforeMs: number | null
}

const higher = (a: Outcome, b: Outcome): Outcome => (OUTCOME_PRIORITY[b] > OUTCOME_PRIORITY[a] ? b : a)
/** Six decimals: enough to compare with thresholds, and a stable text in the record. */
const round = (value: number): number => Math.round(value * 1e6) / 1e6

/** The hard-stop hits among the executions, in execution order; empty when none. */
export function hardStopHits(executions: readonly DetectorExecution[], policy: DecisionPolicy): DetectorExecution[] {
  return executions.filter((execution) => execution.status === 'HIT' && execution.action !== null && policy.hardStops.includes(execution.detectorId))
}

export function decide(inputs: DecisionInputs): Verdict {
  const { executions, policy } = inputs
  const reasons: Reason[] = []
  const actions = new Set<string>()
  const hitReason = (execution: DetectorExecution): Reason => ({ code: execution.detectorId.toUpperCase(), detectorId: execution.detectorId, detail: execution.detail ?? '' })

  const hard = hardStopHits(executions, policy)
  if (hard.length > 0) {
    let outcome: Outcome = 'REVIEW'
    for (const execution of hard) {
      outcome = higher(outcome, ACTION_OUTCOME[execution.action as Action])
      actions.add(execution.action as Action)
      reasons.push(hitReason(execution))
    }
    const hardStop = (hard[0] as DetectorExecution).detectorId.toUpperCase()
    return { outcome, reasons, actions: [...actions].sort(), playerReasonCode: PLAYER_REASON_CODES[outcome], compositeScore: null, hardStop, notBeforeMs: null }
  }

  let floor: Outcome = 'APPROVE'
  let keep = 1 // Π(1 - term)
  for (const execution of executions) {
    if (execution.status === 'ERROR') {
      floor = higher(floor, 'REVIEW')
      reasons.push({ code: 'DETECTOR_ERROR', detectorId: execution.detectorId, detail: execution.detail ?? 'detector failed' })
    } else if (execution.status === 'HIT' && execution.action !== null) {
      floor = higher(floor, ACTION_OUTCOME[execution.action])
      actions.add(execution.action)
      keep *= 1 - policy.severityWeights[execution.severity ?? 'high']
      reasons.push(hitReason(execution))
    }
  }
  if (inputs.modelError !== undefined && inputs.modelError !== null) {
    floor = higher(floor, 'REVIEW')
    reasons.push({ code: 'MODEL_ERROR', detectorId: null, detail: inputs.modelError })
  }
  const model = inputs.model
  if (model !== null) {
    const ratio = model.cutoff > 0 ? Math.min(1, model.score / model.cutoff) : 1
    keep *= 1 - policy.modelWeight * ratio
    if (model.score >= model.cutoff) {
      const top = model.contributions.slice(0, 3).map((entry) => `${entry.feature} ${entry.contribution >= 0 ? '+' : ''}${entry.contribution.toFixed(3)}`).join(', ')
      reasons.push({ code: 'MODEL_SCORE_HIGH', detectorId: null, detail: `${model.modelId}@${model.modelVersion} scored ${model.score.toFixed(4)}, cut-off ${model.cutoff.toFixed(4)}${top === '' ? '' : `; top contributions: ${top}`}` })
    }
  }
  const cluster = inputs.cluster
  if (cluster !== null && cluster.risk > 0) {
    keep *= 1 - policy.clusterWeight * Math.min(1, cluster.risk)
    if (policy.clusterWeight * cluster.risk >= policy.reviewAt / 2) {
      reasons.push({ code: 'CLUSTER_RISK', detectorId: null, detail: `cluster ${cluster.clusterId} of ${cluster.size} players, risk ${cluster.risk.toFixed(3)}${cluster.typologies.length === 0 ? '' : `, ${cluster.typologies.join(', ')}`}` })
    }
  }
  const compositeScore = round(1 - keep)
  const byScore: Outcome = compositeScore >= policy.declineAt ? 'DECLINE' : compositeScore >= policy.reviewAt ? 'REVIEW' : 'APPROVE'
  if (OUTCOME_PRIORITY[byScore] > OUTCOME_PRIORITY[floor]) {
    reasons.unshift({ code: 'COMPOSITE_SCORE', detectorId: null, detail: `composite risk ${compositeScore} is at or above the ${byScore === 'DECLINE' ? `decline threshold ${policy.declineAt}` : `review threshold ${policy.reviewAt}`}` })
  }
  const outcome = higher(floor, byScore)
  let notBeforeMs: number | null = null
  if (outcome === 'APPROVE' && inputs.amountMinor >= policy.coolingOff.minAmountMinor && policy.coolingOff.holdMs > 0) {
    notBeforeMs = inputs.requestedAtMs + policy.coolingOff.holdMs
    actions.add(COOLING_OFF_ACTION)
    reasons.push({ code: 'COOLING_OFF', detectorId: null, detail: `amount ${inputs.amountMinor} at or above ${policy.coolingOff.minAmountMinor}: paid no earlier than ${new Date(notBeforeMs).toISOString()}` })
  }
  if (reasons.length === 0) reasons.push({ code: 'NO_RISK_SIGNALS', detectorId: null, detail: 'no detector hit' })
  return { outcome, reasons, actions: [...actions].sort(), playerReasonCode: PLAYER_REASON_CODES[outcome], compositeScore, hardStop: null, notBeforeMs }
}
