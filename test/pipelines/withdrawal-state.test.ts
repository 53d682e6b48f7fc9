import { describe, expect, it } from 'vitest'
import { next, TRIGGER_NAMES, WITHDRAWAL_STATES, type Trigger, type TriggerName, type WithdrawalState } from '../../pipelines/withdrawal-state.js'

/** The machine as the issue draws it: every allowed edge, with its target. */
const EDGES: ReadonlyArray<readonly [WithdrawalState | null, Trigger, WithdrawalState]> = [
  [null, { trigger: 'request' }, 'PENDING'],
  ['PENDING', { trigger: 'score' }, 'RISK_SCORING'],
  ['PENDING', { trigger: 'cancel' }, 'CANCELLED'],
  ['RISK_SCORING', { trigger: 'decide', outcome: 'APPROVE' }, 'APPROVED'],
  ['RISK_SCORING', { trigger: 'decide', outcome: 'REVIEW' }, 'AWAITING_REVIEW'],
  ['RISK_SCORING', { trigger: 'decide', outcome: 'DECLINE' }, 'DECLINED'],
  ['RISK_SCORING', { trigger: 'cancel' }, 'CANCELLED'],
  ['AWAITING_REVIEW', { trigger: 'review', outcome: 'APPROVE' }, 'APPROVED'],
  ['AWAITING_REVIEW', { trigger: 'review', outcome: 'DECLINE' }, 'DECLINED'],
  ['AWAITING_REVIEW', { trigger: 'cancel' }, 'CANCELLED'],
  ['APPROVED', { trigger: 'dispatch' }, 'DISPATCHED'],
  ['APPROVED', { trigger: 'cancel' }, 'CANCELLED'],
  ['DISPATCHED', { trigger: 'settle' }, 'SETTLED'],
  ['DISPATCHED', { trigger: 'fail' }, 'FAILED'],
  ['FAILED', { trigger: 'retry' }, 'APPROVED'],
]

const sample = (name: TriggerName): Trigger =>
  name === 'decide' ? { trigger: 'decide', outcome: 'APPROVE' } : name === 'review' ? { trigger: 'review', outcome: 'APPROVE' } : ({ trigger: name } as Trigger)

describe('withdrawal state machine', () => {
  it.each(EDGES.map(([from, trigger, to]) => ({ from, trigger, to, name: `${String(from)} --${trigger.trigger}${'outcome' in trigger ? `(${trigger.outcome})` : ''}--> ${to}` })))('allows $name', ({ from, trigger, to }) => {
    expect(next(from, trigger)).toEqual({ ok: true, to })
  })

  const allowed = new Set(EDGES.map(([from, trigger]) => `${String(from)}|${trigger.trigger}`))
  const invalid = ([null, ...WITHDRAWAL_STATES] as Array<WithdrawalState | null>).flatMap((from) =>
    TRIGGER_NAMES.filter((name) => !allowed.has(`${String(from)}|${name}`)).map((name) => ({ from, name })))

  it('refuses every other (state, trigger) pair, naming what the state allows', () => {
    expect(invalid.length).toBe(10 * TRIGGER_NAMES.length - allowed.size) // (no withdrawal + 9 states) x 9 triggers, less the 12 allowed pairs
    for (const { from, name } of invalid) {
      const result = next(from, sample(name))
      expect(result.ok, `${String(from)} ${name}`).toBe(false)
      if (!result.ok) {
        const expected = [...new Set(EDGES.filter(([edgeFrom]) => edgeFrom === from).map(([, trigger]) => trigger.trigger))]
        expect([...result.allowed].sort()).toEqual(expected.sort())
      }
    }
  })

  it('lets nothing leave a final state', () => {
    for (const from of ['DECLINED', 'SETTLED', 'CANCELLED'] as const) {
      for (const name of TRIGGER_NAMES) expect(next(from, sample(name))).toEqual({ ok: false, allowed: [] })
    }
  })

  it('refuses a cancellation after dispatch', () => {
    expect(next('DISPATCHED', { trigger: 'cancel' })).toEqual({ ok: false, allowed: ['settle', 'fail'] })
    expect(next('FAILED', { trigger: 'cancel' })).toEqual({ ok: false, allowed: ['retry'] })
  })
})
