/**
 * A withdrawal's life through the real pipeline (codec, partition tasks, detectors, default rule
 * set) on the in-memory driver: review verdicts make decision revision 2, payout events move the
 * state machine and produce their commands, refused moves are dead-lettered with the state they
 * met, redeliveries change nothing, and the model service's score lands in the decision.
 */
import { describe, expect, it } from 'vitest'
import { bet, deposit, player, withdrawal } from '../../bench/events.js'
import type { ScoredWithdrawal } from '../../pipelines/processor.js'
import type { Decision, LedgerCommand, PayoutCommand, PayoutEvent, ReviewVerdict, WithdrawalTransition } from '../../schemas/generated/types.js'
import { testPipeline, type TestPipeline } from '../support/pipeline.js'

const T0 = Date.UTC(2026, 10, 26, 9)
const MINUTE = 60_000

const review = (fields: Partial<ReviewVerdict> & { playerId: string; withdrawalId: string; eventTimeMs: number }): ReviewVerdict => ({
  eventId: `rv:${fields.withdrawalId}:${fields.eventTimeMs}`, verdict: 'APPROVE', reviewerId: 'officer-alice', caseId: 'case-1', reasonCode: 'DOCUMENTS_VERIFIED', note: null, ...fields,
})
const payout = (fields: Partial<PayoutEvent> & { playerId: string; withdrawalId: string; eventTimeMs: number; type: PayoutEvent['type'] }): PayoutEvent => ({
  eventId: `po:${fields.withdrawalId}:${fields.type}:${fields.eventTimeMs}`, attempt: 1, rail: null, pspReference: null, failureReason: null, ...fields,
})

async function run(pipeline: TestPipeline): Promise<{ decisions: Decision[]; transitions: WithdrawalTransition[]; payouts: PayoutCommand[]; ledger: LedgerCommand[] }> {
  await pipeline.driver.run()
  return {
    decisions: await pipeline.decisions(),
    transitions: await pipeline.outputs<WithdrawalTransition>('withdrawalEvents'),
    payouts: await pipeline.outputs<PayoutCommand>('payoutCommands'),
    ledger: await pipeline.outputs<LedgerCommand>('ledgerCommands'),
  }
}

const path = (transitions: readonly WithdrawalTransition[], withdrawalId: string): string[] =>
  transitions.filter((transition) => transition.withdrawalId === withdrawalId).sort((a, b) => a.sequence - b.sequence).map((transition) => `${transition.fromState}->${transition.toState}`)

describe('withdrawal lifecycle through the pipeline', () => {
  it('review -> revision 2 -> pay; dispatch, fail (reverse), retry on another rail, settle', async () => {
    const pipeline = await testPipeline()
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: T0, kycStatus: 'PENDING' }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: T0 + MINUTE, amountMinor: 120_00 }))
    pipeline.send('reviews', review({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: T0 + 60 * MINUTE }))
    pipeline.send('payouts', payout({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: T0 + 61 * MINUTE, type: 'DISPATCHED', rail: 'CARD_OCT' }))
    pipeline.send('payouts', payout({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: T0 + 62 * MINUTE, type: 'FAILED', failureReason: 'card expired' }))
    pipeline.send('payouts', payout({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: T0 + 63 * MINUTE, type: 'RETRY_REQUESTED', rail: 'SEPA_INSTANT' }))
    pipeline.send('payouts', payout({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: T0 + 64 * MINUTE, type: 'DISPATCHED', attempt: 2, rail: 'SEPA_INSTANT' }))
    pipeline.send('payouts', payout({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: T0 + 65 * MINUTE, type: 'SETTLED', attempt: 2 }))
    const { decisions, transitions, payouts, ledger } = await run(pipeline)

    expect(decisions.map((decision) => [decision.decisionId, decision.revision, decision.outcome])).toEqual([['w1:1', 1, 'REVIEW'], ['w1:2', 2, 'APPROVE']])
    const [first, second] = decisions as [Decision, Decision]
    expect(first).toMatchObject({ hardStop: 'KYC_INCOMPLETE_WITHDRAWAL', compositeScore: null, review: null, playerReasonCode: 'PENDING_STANDARD_CHECKS' })
    expect(second).toMatchObject({ executions: [], compositeScore: null, review: { reviewerId: 'officer-alice', caseId: 'case-1', reasonCode: 'DOCUMENTS_VERIFIED' }, playerReasonCode: 'APPROVED', amountMinor: 120_00 })
    expect(second.reasons[0]?.code).toBe('REVIEWER_APPROVED')

    expect(path(transitions, 'w1')).toEqual([
      'NONE->PENDING', 'PENDING->RISK_SCORING', 'RISK_SCORING->AWAITING_REVIEW', 'AWAITING_REVIEW->APPROVED',
      'APPROVED->DISPATCHED', 'DISPATCHED->FAILED', 'FAILED->APPROVED', 'APPROVED->DISPATCHED', 'DISPATCHED->SETTLED',
    ])
    expect(transitions.map((transition) => transition.transitionId)).toEqual(Array.from({ length: 9 }, (_, index) => `w1:${index + 1}`))
    expect(payouts.map((command) => [command.idempotencyKey, command.rail, command.decisionId])).toEqual([['wd:w1:PAY:1', null, 'w1:2'], ['wd:w1:PAY:2', 'SEPA_INSTANT', 'w1:2']])
    expect(ledger.map((command) => command.idempotencyKey)).toEqual(['wd:w1:HOLD:1', 'wd:w1:REVERSE:1'])
    expect(await pipeline.deadLetters()).toEqual([])
  })

  it('declines on review and releases the hold; a cancellation releases an approval before dispatch', async () => {
    const pipeline = await testPipeline()
    pipeline.send('players', player({ playerId: 'p2', eventTimeMs: T0, kycStatus: 'PENDING' }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p2', withdrawalId: 'w2', eventTimeMs: T0 + MINUTE }))
    pipeline.send('reviews', review({ playerId: 'p2', withdrawalId: 'w2', eventTimeMs: T0 + 5 * MINUTE, verdict: 'DECLINE', reasonCode: 'SOURCE_OF_FUNDS_UNEXPLAINED' }))
    pipeline.send('players', player({ playerId: 'p3', eventTimeMs: T0 }))
    pipeline.send('deposits', deposit({ playerId: 'p3', eventTimeMs: T0 + MINUTE, amountMinor: 50_00 }))
    pipeline.send('bets', bet({ playerId: 'p3', eventTimeMs: T0 + 2 * MINUTE, stakeMinor: 60_00, winMinor: 70_00 }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p3', withdrawalId: 'w3', eventTimeMs: T0 + 30 * MINUTE, amountMinor: 40_00 }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p3', withdrawalId: 'w3', eventTimeMs: T0 + 31 * MINUTE, amountMinor: 40_00, type: 'CANCELLED', eventId: 'cancel-w3' }))
    const { decisions, transitions, ledger } = await run(pipeline)
    expect(decisions.filter((decision) => decision.withdrawalId === 'w2').map((decision) => decision.outcome)).toEqual(['REVIEW', 'DECLINE'])
    expect(path(transitions, 'w2').slice(-1)).toEqual(['AWAITING_REVIEW->DECLINED'])
    expect(decisions.find((decision) => decision.withdrawalId === 'w3')?.outcome).toBe('APPROVE')
    expect(path(transitions, 'w3').slice(-1)).toEqual(['APPROVED->CANCELLED'])
    expect(ledger.map((command) => command.idempotencyKey).sort()).toEqual(['wd:w2:HOLD:1', 'wd:w2:RELEASE:1', 'wd:w3:RELEASE:1'])
  })

  it('dead-letters refused moves with the state they met, and ignores redelivered causes', async () => {
    const pipeline = await testPipeline()
    pipeline.send('players', player({ playerId: 'p4', eventTimeMs: T0 }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p4', withdrawalId: 'w4', eventTimeMs: T0 + MINUTE }))
    const dispatched = payout({ playerId: 'p4', withdrawalId: 'w4', eventTimeMs: T0 + 2 * MINUTE, type: 'DISPATCHED' })
    pipeline.send('payouts', dispatched)
    pipeline.send('payouts', dispatched) // redelivered: no second transition, no dead letter
    // The engine's side inputs (payout events, reviews) do not hold the event-time merge back
    // (partition-task.ts): the payout service's report is in before the player's late cancellation.
    await pipeline.driver.run()
    pipeline.send('withdrawals', withdrawal({ playerId: 'p4', withdrawalId: 'w4', eventTimeMs: T0 + 3 * MINUTE, type: 'CANCELLED', eventId: 'late-cancel' }))
    pipeline.send('reviews', review({ playerId: 'p4', withdrawalId: 'w4', eventTimeMs: T0 + 4 * MINUTE }))
    pipeline.send('reviews', review({ playerId: 'p4', withdrawalId: 'w-unknown', eventTimeMs: T0 + 5 * MINUTE }))
    pipeline.send('payouts', payout({ playerId: 'p4', withdrawalId: 'w4', eventTimeMs: T0 + 6 * MINUTE, type: 'SETTLED', attempt: 2 }))
    const { decisions, transitions } = await run(pipeline)
    expect(decisions).toHaveLength(1)
    expect(path(transitions, 'w4')).toEqual(['NONE->PENDING', 'PENDING->RISK_SCORING', 'RISK_SCORING->APPROVED', 'APPROVED->DISPATCHED'])
    const deadLetters = await pipeline.deadLetters()
    expect(deadLetters.map((deadLetter) => deadLetter.reason)).toEqual(Array(4).fill('RISK_ERR_WITHDRAWAL_TRANSITION'))
    expect(deadLetters.map((deadLetter) => deadLetter.message)).toEqual([
      'withdrawal w4 is DISPATCHED: cancel is not allowed; DISPATCHED allows settle, fail',
      'withdrawal w4 is DISPATCHED: review is not allowed; DISPATCHED allows settle, fail',
      expect.stringContaining('withdrawal w-unknown is not known'),
      'withdrawal w4: payout event SETTLED is for attempt 2, but attempt 1 is in force (state DISPATCHED)',
    ])
  })

  it('records the champion score, its cut-off and the shadows; a failing model sends the withdrawal to review', async () => {
    let calls = 0
    const scorer = {
      scoreOne: async (features: Float32Array): Promise<ScoredWithdrawal> => {
        calls += 1
        if (calls === 2) throw new Error('session released')
        return {
          champion: { modelId: 'burst', modelVersion: '1.0.0', score: 0.2, cutoff: 0.6, contributions: [{ feature: 'withdrawal_amount_minor', contribution: features[0] === 5000 ? -0.4 : 0 }] },
          shadows: [{ modelId: 'burst', modelVersion: '2.0.0', score: 0.7, cutoff: 0.55, contributions: [] }],
        }
      },
    }
    const pipeline = await testPipeline({ scorer })
    pipeline.send('players', player({ playerId: 'p5', eventTimeMs: T0 }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p5', withdrawalId: 'w5', eventTimeMs: T0 + MINUTE, amountMinor: 50_00 }))
    pipeline.send('withdrawals', withdrawal({ playerId: 'p5', withdrawalId: 'w6', eventTimeMs: T0 + 2 * MINUTE, amountMinor: 50_00 }))
    const { decisions } = await run(pipeline)
    const [scored, failed] = decisions as [Decision, Decision]
    expect(scored.model).toEqual({ modelId: 'burst', modelVersion: '1.0.0', score: 0.2, cutoff: 0.6, contributions: [{ feature: 'withdrawal_amount_minor', contribution: -0.4 }] })
    expect(scored.shadows).toEqual([{ modelId: 'burst', modelVersion: '2.0.0', score: 0.7, cutoff: 0.55, contributions: [] }])
    expect(scored.outcome).toBe('APPROVE')
    expect(failed.model).toBeNull()
    expect(failed.outcome).toBe('REVIEW')
    expect(failed.reasons.map((reason) => reason.code)).toContain('MODEL_ERROR')
  })
})
