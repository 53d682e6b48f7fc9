/**
 * The withdrawal state machine. A withdrawal's state is never stored as a status column: the
 * engine keeps the withdrawal's transitions (an event log) in the player's state and emits each
 * one to `risk.withdrawal-events.v1`; the current state is the last transition's `to`.
 *
 *   (none) ──request──► PENDING ──score──► RISK_SCORING ──decide──► APPROVED | AWAITING_REVIEW | DECLINED
 *   AWAITING_REVIEW ──review──► APPROVED | DECLINED
 *   APPROVED ──dispatch──► DISPATCHED ──settle──► SETTLED
 *                                     └──fail────► FAILED ──retry (another rail)──► APPROVED
 *   PENDING | RISK_SCORING | AWAITING_REVIEW | APPROVED ──cancel──► CANCELLED   (before dispatch only)
 *
 * Every other (state, trigger) pair is refused with the triggers the state allows, so a payout
 * event for a withdrawal still under review, or a cancellation after dispatch, is dead-lettered
 * with RISK_ERR_WITHDRAWAL_TRANSITION instead of silently moving money's state.
 *
 * Example:
 *   next('AWAITING_REVIEW', { trigger: 'review', outcome: 'APPROVE' })  // { ok: true, to: 'APPROVED' }
 *   next('DISPATCHED', { trigger: 'cancel' })                            // { ok: false, allowed: ['settle', 'fail'] }
 */
import type { Outcome } from './decide.js'

export const WITHDRAWAL_STATES = ['PENDING', 'RISK_SCORING', 'APPROVED', 'AWAITING_REVIEW', 'DECLINED', 'DISPATCHED', 'SETTLED', 'FAILED', 'CANCELLED'] as const
export type WithdrawalState = (typeof WITHDRAWAL_STATES)[number]

/** States a withdrawal does not leave; it is forgotten after the retention period. */
export const TERMINAL_STATES: ReadonlySet<WithdrawalState> = new Set(['DECLINED', 'SETTLED', 'CANCELLED'])

export type Trigger =
  | { readonly trigger: 'request' }
  | { readonly trigger: 'score' }
  | { readonly trigger: 'decide'; readonly outcome: Outcome }
  | { readonly trigger: 'review'; readonly outcome: 'APPROVE' | 'DECLINE' }
  | { readonly trigger: 'dispatch' }
  | { readonly trigger: 'settle' }
  | { readonly trigger: 'fail' }
  | { readonly trigger: 'retry' }
  | { readonly trigger: 'cancel' }

export type TriggerName = Trigger['trigger']

const OUTCOME_STATE: Readonly<Record<Outcome, WithdrawalState>> = { APPROVE: 'APPROVED', REVIEW: 'AWAITING_REVIEW', DECLINE: 'DECLINED' }

/** The triggers each state accepts; `null` is "no withdrawal yet". */
const ALLOWED: ReadonlyMap<WithdrawalState | null, readonly TriggerName[]> = new Map<WithdrawalState | null, readonly TriggerName[]>([
  [null, ['request']],
  ['PENDING', ['score', 'cancel']],
  ['RISK_SCORING', ['decide', 'cancel']],
  ['AWAITING_REVIEW', ['review', 'cancel']],
  ['APPROVED', ['dispatch', 'cancel']],
  ['DISPATCHED', ['settle', 'fail']],
  ['FAILED', ['retry']],
  ['DECLINED', []],
  ['SETTLED', []],
  ['CANCELLED', []],
])

export type TransitionResult =
  | { readonly ok: true; readonly to: WithdrawalState }
  | { readonly ok: false; readonly allowed: readonly TriggerName[] }

/** The state `trigger` moves a withdrawal in `from` to, or the triggers `from` allows. */
export function next(from: WithdrawalState | null, trigger: Trigger): TransitionResult {
  const allowed = ALLOWED.get(from) ?? []
  if (!allowed.includes(trigger.trigger)) return { ok: false, allowed }
  switch (trigger.trigger) {
    case 'request': return { ok: true, to: 'PENDING' }
    case 'score': return { ok: true, to: 'RISK_SCORING' }
    case 'decide': return { ok: true, to: OUTCOME_STATE[trigger.outcome] }
    case 'review': return { ok: true, to: OUTCOME_STATE[trigger.outcome] }
    case 'dispatch': return { ok: true, to: 'DISPATCHED' }
    case 'settle': return { ok: true, to: 'SETTLED' }
    case 'fail': return { ok: true, to: 'FAILED' }
    case 'retry': return { ok: true, to: 'APPROVED' }
    case 'cancel': return { ok: true, to: 'CANCELLED' }
  }
}

/** Every trigger name, for tables that walk the whole machine (tests, docs). */
export const TRIGGER_NAMES: readonly TriggerName[] = ['request', 'score', 'decide', 'review', 'dispatch', 'settle', 'fail', 'retry', 'cancel']

/** One entry of a withdrawal's event log, as kept in the player's state. */
export interface TransitionEntry {
  readonly sequence: number
  readonly from: WithdrawalState | null
  readonly to: WithdrawalState
  readonly causeType: string
  readonly causeId: string
  readonly eventTimeMs: number
  readonly attempt: number
  readonly detail: string | null
}

/** What the engine remembers of one withdrawal: its request and its event log. */
export interface WithdrawalRecord {
  readonly withdrawalId: string
  readonly amountMinor: number
  readonly currency: string
  readonly method: string
  readonly instrumentToken: string
  readonly jurisdiction: string
  readonly tier: string
  readonly requestedAtMs: number
  /** Decisions made so far (the next revision is this + 1). */
  readonly revisions: number
  /** The payout attempt in force: 0 before the first approval, 1 after it, +1 per retry. */
  readonly attempt: number
  readonly log: readonly TransitionEntry[]
}

/** The current state: the last transition's target. */
export function stateOf(record: WithdrawalRecord | undefined): WithdrawalState | null {
  if (record === undefined || record.log.length === 0) return null
  return (record.log[record.log.length - 1] as TransitionEntry).to
}

/** Whether an input event with this id already moved the withdrawal (a redelivered event). */
export function alreadyApplied(record: WithdrawalRecord, causeId: string): boolean {
  return record.log.some((entry) => entry.causeId === causeId)
}

/** When the withdrawal last moved, in event time. */
export function lastMovedAtMs(record: WithdrawalRecord): number {
  return record.log.length === 0 ? record.requestedAtMs : (record.log[record.log.length - 1] as TransitionEntry).eventTimeMs
}
