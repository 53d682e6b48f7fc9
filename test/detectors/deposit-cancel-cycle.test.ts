import { describe, expect, it } from 'vitest'
import * as wire from '../../bench/events.js'
import { depositCancelCycle, type DepositCancelCycleState } from '../../detectors/deposit-cancel-cycle.js'
import type { RuleSetDocument } from '../../detectors/rule-set.js'
import type { Alert } from '../../schemas/domain.js'
import { testPipeline, type TestPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, at, deposit, lastObservation, paramsFor, runScenario, withdrawal } from './scenario.js'

const document = (params: Record<string, unknown>): RuleSetDocument => ({
  version: 'test-1',
  detectors: { deposit_cancel_cycle: { enabled: true, severity: 'medium', action: 'hold_for_review', params } },
})
const BASE = { maxCancellations: 2, windowMs: 7 * DAY_MS, graceMs: HOUR_MS }
const paramsOf = (params: Record<string, unknown>) => paramsFor('deposit_cancel_cycle', 'MT', 'VERIFIED', document(params), [depositCancelCycle])
const PARAMS = paramsOf(BASE)

const cancelledDeposit = (depositId: string) => deposit(100_00, { depositId, status: 'CANCELLED', eventId: `dc:${depositId}` })
const requested = (withdrawalId: string) => withdrawal(50_00, { withdrawalId, eventId: `wr:${withdrawalId}` })
const cancelledWithdrawal = (withdrawalId: string) => withdrawal(50_00, { withdrawalId, type: 'CANCELLED', eventId: `wc:${withdrawalId}` })

describe('deposit_cancel_cycle: thresholds (more than 2 cancellations in 7 d)', () => {
  it.each([
    { cancellations: 1, hit: false },
    { cancellations: 2, hit: false },
    { cancellations: 3, hit: true },
  ])('$cancellations cancelled deposits then a withdrawal request -> hit $hit', ({ cancellations, hit }) => {
    const events = Array.from({ length: cancellations }, (_, index) => at(index * HOUR_MS, cancelledDeposit(`d${index}`)))
    const steps = runScenario(depositCancelCycle, PARAMS, [...events, at(DAY_MS, requested('w9'))])
    expect(lastObservation(steps)).toMatchObject({ hit, value: cancellations, threshold: 2, evidenceEventIds: events.map((event) => event.eventId) })
    expect(steps[cancellations - 1]?.observation?.hit ?? false).toBe(hit)
  })

  it('the worked example: deposits and withdrawals cancelled count together, and age out', () => {
    const steps = runScenario(depositCancelCycle, PARAMS, [
      at(0, cancelledDeposit('d1')), at(DAY_MS, requested('w1')), at(DAY_MS + HOUR_MS, cancelledWithdrawal('w1')), at(2 * DAY_MS, cancelledDeposit('d2')),
      at(3 * DAY_MS, requested('w2')), at(7.5 * DAY_MS, requested('w3')),
    ])
    expect(steps.map((step) => step.observation?.hit ?? null)).toEqual([null, false, null, true, true, false])
    expect(steps[3]?.observation).toMatchObject({ value: 3, evidenceEventIds: ['dc:d1', 'wc:w1', 'dc:d2'], detail: '3 cancellations in 7 d (2 deposits, 1 withdrawals), limit 2' })
    expect(lastObservation(steps)).toMatchObject({ value: 2, evidenceEventIds: ['wc:w1', 'dc:d2'] })
  })

  it('counts each deposit or withdrawal once, and only the configured kinds', () => {
    const events = [at(0, cancelledDeposit('d1')), at(1, deposit(100_00, { depositId: 'd1', status: 'CANCELLED', eventId: 'dc:d1:again' })), at(2, cancelledWithdrawal('w1')), at(3, deposit(100_00, { depositId: 'd2', status: 'FAILED', eventId: 'df:d2' })), at(4, requested('w2'))]
    expect(lastObservation(runScenario(depositCancelCycle, PARAMS, events))).toMatchObject({ value: 2, evidenceEventIds: ['dc:d1', 'wc:w1'] })
    const depositsOnly = paramsOf({ ...BASE, countWithdrawalCancellations: false, depositStatuses: ['CANCELLED', 'FAILED'] })
    expect(lastObservation(runScenario(depositCancelCycle, depositsOnly, events))).toMatchObject({ value: 2, evidenceEventIds: ['dc:d1', 'df:d2'] })
  })

  it('counts (t - 7 d, t]: a cancellation exactly 7 days before the request is out', () => {
    const events = [at(0, cancelledDeposit('d1')), at(1, cancelledDeposit('d2')), at(2, cancelledDeposit('d3'))]
    expect(lastObservation(runScenario(depositCancelCycle, PARAMS, [...events, at(7 * DAY_MS, requested('w'))]))).toMatchObject({ hit: false, value: 2 })
    expect(lastObservation(runScenario(depositCancelCycle, PARAMS, [...events, at(7 * DAY_MS - 1, requested('w'))]))).toMatchObject({ hit: true, value: 3 })
  })
})

describe('deposit_cancel_cycle: out of order and late (grace 1 h)', () => {
  it('an out-of-order cancellation within grace counts where it belongs', () => {
    const steps = runScenario(depositCancelCycle, PARAMS, [at(10 * HOUR_MS, cancelledDeposit('d1')), at(11 * HOUR_MS, cancelledDeposit('d3')), at(10.5 * HOUR_MS, cancelledDeposit('d2'))])
    expect(steps[2]).toMatchObject({ late: false, observation: { hit: true, value: 3, evidenceEventIds: ['dc:d1', 'dc:d2', 'dc:d3'] } })
  })

  it('a cancellation behind stream time minus grace is late: no alert, but the next request counts it', () => {
    const steps = runScenario(depositCancelCycle, PARAMS, [at(10 * HOUR_MS, cancelledDeposit('d1')), at(12 * HOUR_MS, cancelledDeposit('d3')), at(10.5 * HOUR_MS, cancelledDeposit('d2')), at(13 * HOUR_MS, requested('w'))])
    expect(steps[2]).toMatchObject({ late: true, observation: null })
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 3 })
  })
})

describe('deposit_cancel_cycle: state stays bounded', () => {
  it('keeps at most maxTrackedCancellations and forgets them after window + grace', () => {
    const steps = runScenario(depositCancelCycle, PARAMS, Array.from({ length: 120 }, (_, index) => at(index * MINUTE_MS, cancelledDeposit(`d${index}`))))
    expect((steps[119]?.state as DepositCancelCycleState).cancellations).toHaveLength(100)
    const later = runScenario(depositCancelCycle, PARAMS, [at(8 * DAY_MS + 2 * HOUR_MS, requested('w'))], { state: steps[119]?.state })
    expect((later[0]?.state as DepositCancelCycleState).cancellations).toEqual([])
  })
})

describe('deposit_cancel_cycle: shipped rule set overrides', () => {
  const two = [at(0, cancelledDeposit('d1')), at(HOUR_MS, cancelledWithdrawal('w1')), at(2 * HOUR_MS, requested('w2'))]
  const three = [at(0, cancelledDeposit('d1')), at(HOUR_MS, cancelledWithdrawal('w1')), at(90 * MINUTE_MS, cancelledDeposit('d2')), at(2 * HOUR_MS, requested('w2'))]

  it('UK allows one (reverse withdrawals are banned there): two cancellations hit in the UK, not in Malta', () => {
    expect(lastObservation(runScenario(depositCancelCycle, paramsFor('deposit_cancel_cycle', 'MT', 'VERIFIED'), two))?.hit).toBe(false)
    expect(lastObservation(runScenario(depositCancelCycle, paramsFor('deposit_cancel_cycle', 'UK', 'VERIFIED'), two))?.hit).toBe(true)
  })

  it('NEW allows two: three cancellations hit a new player, not a verified one (limit 3)', () => {
    expect(lastObservation(runScenario(depositCancelCycle, paramsFor('deposit_cancel_cycle', 'MT', 'VERIFIED'), three))?.hit).toBe(false)
    expect(lastObservation(runScenario(depositCancelCycle, paramsFor('deposit_cancel_cycle', 'MT', 'NEW'), three))?.hit).toBe(true)
  })
})

async function alertsOf(pipeline: TestPipeline): Promise<Alert[]> {
  return Promise.all(pipeline.driver.output('alerts').map(async (message) => {
    const decoded = await pipeline.codec.decode('alerts', message.value)
    if (!decoded.ok) throw new Error(decoded.message)
    return decoded.value as Alert
  }))
}

describe('deposit_cancel_cycle: end to end through the pipeline (shipped rule set)', () => {
  it('a UK player reversing two withdrawals gets an RG intervention at the third request (REVIEW)', async () => {
    const pipeline = await testPipeline()
    const player = 'p-rev'
    pipeline.send('players', wire.player({ playerId: player, eventTimeMs: 0, jurisdiction: 'UK', country: 'GB' }))
    pipeline.send('deposits', wire.deposit({ playerId: player, eventTimeMs: MINUTE_MS }))
    for (const [index, withdrawalId] of ['r1', 'r2'].entries()) {
      pipeline.send('withdrawals', wire.withdrawal({ playerId: player, withdrawalId, eventId: `req:${withdrawalId}`, eventTimeMs: (index + 1) * HOUR_MS }))
      pipeline.send('withdrawals', wire.withdrawal({ playerId: player, withdrawalId, eventId: `cancel:${withdrawalId}`, type: 'CANCELLED', eventTimeMs: (index + 1) * HOUR_MS + 10 * MINUTE_MS }))
    }
    pipeline.send('withdrawals', wire.withdrawal({ playerId: player, withdrawalId: 'r3', eventTimeMs: 4 * HOUR_MS }))
    await pipeline.driver.run()

    const alerts = (await alertsOf(pipeline)).filter((alert) => alert.detectorId === 'deposit_cancel_cycle')
    expect(alerts.map((alert) => [alert.eventTimeMs, alert.value, alert.threshold, alert.action])).toEqual([
      [2 * HOUR_MS + 10 * MINUTE_MS, 2, 1, 'rg_intervention'], [4 * HOUR_MS, 2, 1, 'rg_intervention'],
    ])
    const decisions = (await pipeline.decisions()).sort((a, b) => a.eventTimeMs - b.eventTimeMs)
    expect(decisions.map((decision) => decision.executions.find((execution) => execution.detectorId === 'deposit_cancel_cycle')?.status)).toEqual(['NO_HIT', 'NO_HIT', 'HIT'])
    expect(decisions[2]?.outcome).toBe('REVIEW')
    expect(decisions[2]?.actions).toContain('rg_intervention')
  })
})
