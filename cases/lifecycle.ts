/**
 * The case lifecycle: which officer action is allowed in which state, and for which role.
 *
 *   OPEN ──claim/assign──► IN_REVIEW ──unclaim──► OPEN
 *   OPEN, IN_REVIEW ──escalate──► ESCALATED (to the MLRO roles; assignee cleared)
 *   ESCALATED ──claim (MLRO)/assign/unclaim──► ESCALATED (assignee set or cleared)
 *   OPEN, IN_REVIEW ──close──► CLOSED as DISMISSED or RESTRICTED
 *   ESCALATED ──close (MLRO)──► CLOSED as DISMISSED, RESTRICTED or STR_FILED
 *
 * Only the MLRO decides to file an STR (the nominated officer's duty), so STR_FILED needs an
 * escalated case. Comments are allowed in every state, a closed case included (notes such as
 * "regulator acknowledged the STR"); nothing else changes a closed case.
 *
 * Example:
 *   allowedActions({ status: 'IN_REVIEW', assigneeId: 'anna' } as Case, { id: 'ben', role: 'aml_officer' })
 *   // ['unclaim', 'assign', 'comment', 'addEvidence', 'tickChecklist', 'escalate', 'close']
 *   assertAllowed(caseRecord, 'claim', actor, policy)   // throws RISK_ERR_CASE_TRANSITION listing those
 */
import { RiskError } from '../core/errors.js'
import type { CasePolicy } from './policy.js'
import type { Actor, Case, CloseResolution } from './types.js'

export const CASE_ACTIONS = ['claim', 'unclaim', 'assign', 'comment', 'addEvidence', 'tickChecklist', 'escalate', 'close'] as const
export type CaseAction = (typeof CASE_ACTIONS)[number]

type CaseState = Pick<Case, 'status' | 'assigneeId' | 'caseId'>

export function isMlro(policy: CasePolicy, actor: Actor): boolean {
  return policy.mlroRoles.includes(actor.role)
}

/** Actions the state allows, before roles are considered. */
function actionsOfState(state: CaseState): CaseAction[] {
  switch (state.status) {
    case 'OPEN': return ['claim', 'assign', 'comment', 'addEvidence', 'tickChecklist', 'escalate', 'close']
    case 'IN_REVIEW': return ['unclaim', 'assign', 'comment', 'addEvidence', 'tickChecklist', 'escalate', 'close']
    case 'ESCALATED': return [state.assigneeId === null ? 'claim' : 'unclaim', 'assign', 'comment', 'addEvidence', 'tickChecklist', 'close']
    case 'CLOSED': return ['comment']
  }
}

/** Whether the role may do an action the state allows (escalated cases are the MLRO's to take and close). */
function roleAllows(state: CaseState, action: CaseAction, actor: Actor, policy: CasePolicy): boolean {
  if (state.status !== 'ESCALATED') return true
  if (action === 'claim' || action === 'close') return isMlro(policy, actor)
  return true
}

/** What this actor may do with the case now, in CASE_ACTIONS order. */
export function allowedActions(state: CaseState, actor: Actor, policy: CasePolicy): CaseAction[] {
  return actionsOfState(state).filter((action) => roleAllows(state, action, actor, policy))
}

/** Resolutions allowed from the case's status. */
export function allowedResolutions(state: Pick<Case, 'status'>): CloseResolution[] {
  if (state.status === 'ESCALATED') return ['DISMISSED', 'RESTRICTED', 'STR_FILED']
  if (state.status === 'OPEN' || state.status === 'IN_REVIEW') return ['DISMISSED', 'RESTRICTED']
  return []
}

/**
 * Throws RISK_ERR_CASE_TRANSITION when the state does not allow the action (listing what it
 * allows), RISK_ERR_FORBIDDEN when it does but not for this role.
 */
export function assertAllowed(state: CaseState, action: CaseAction, actor: Actor, policy: CasePolicy): void {
  const context = { caseId: state.caseId, status: state.status, action, actorId: actor.id, actorRole: actor.role }
  if (!actionsOfState(state).includes(action)) {
    const allowed = allowedActions(state, actor, policy)
    const holder = state.assigneeId === null ? '' : ` (assigned to ${state.assigneeId})`
    throw new RiskError('RISK_ERR_CASE_TRANSITION', `cannot ${action} case ${state.caseId} in status ${state.status}${holder}; allowed now: ${allowed.join(', ') || 'nothing'}`, context)
  }
  if (!roleAllows(state, action, actor, policy)) {
    throw new RiskError('RISK_ERR_FORBIDDEN', `only the roles ${policy.mlroRoles.join(', ')} may ${action} an escalated case; ${actor.role} may: ${allowedActions(state, actor, policy).join(', ')}`, context)
  }
}
