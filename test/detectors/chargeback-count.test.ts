import { describe, expect, it } from 'vitest'
import * as wire from '../../bench/events.js'
import { chargebackCount, type ChargebackCountState } from '../../detectors/chargeback-count.js'
import type { RuleSetDocument } from '../../detectors/rule-set.js'
import type { Alert, DepositStatus } from '../../schemas/domain.js'
import { testPipeline, type TestPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, at, deposit, lastObservation, paramsFor, runScenario, withdrawal } from './scenario.js'

const document = (params: Record<string, unknown>): RuleSetDocument => ({
  version: 'test-1',
  detectors: { chargeback_count: { enabled: true, severity: 'high', action: 'hold_for_review', params } },
})
const BASE = { maxCount: 1, windowMs: 90 * DAY_MS, graceMs: HOUR_MS }
const paramsOf = (params: Record<string, unknown>) => paramsFor('chargeback_count', 'MT', 'VERIFIED', document(params), [chargebackCount])
const PARAMS = paramsOf(BASE)

/** A status change of deposit `depositId`, with its own event id. */
const statusOf = (depositId: string, status: DepositStatus, amountMinor = 100_00) => deposit(amountMinor, { depositId, status, eventId: `${status}:${depositId}` })
const chargeback = (depositId: string, amountMinor = 100_00) => statusOf(depositId, 'CHARGEBACK', amountMinor)

describe('chargeback_count: count threshold (more than 1 in 90 d)', () => {
  it.each([
    { chargebacks: 0, hit: false },
    { chargebacks: 1, hit: false },
    { chargebacks: 2, hit: true },
  ])('$chargebacks chargebacks then a withdrawal -> hit $hit', ({ chargebacks, hit }) => {
    const events = Array.from({ length: chargebacks }, (_, index) => at((index + 1) * DAY_MS, chargeback(`d${index}`)))
    const steps = runScenario(chargebackCount, PARAMS, [at(0, statusOf('d0', 'COMPLETED')), ...events, at(10 * DAY_MS, withdrawal(50_00))])
    expect(lastObservation(steps)).toMatchObject({ hit, value: chargebacks, threshold: 1, evidenceEventIds: events.map((event) => event.eventId) })
    expect(steps[chargebacks]?.observation?.hit ?? false).toBe(hit)
  })

  it('counts REVERSED too, and one deposit once whichever of its statuses comes first', () => {
    const steps = runScenario(chargebackCount, PARAMS, [
      at(DAY_MS, chargeback('d1')), at(2 * DAY_MS, statusOf('d1', 'REVERSED')), at(3 * DAY_MS, statusOf('d2', 'REVERSED')), at(4 * DAY_MS, withdrawal(50_00)),
    ])
    expect(steps.map((step) => step.observation?.hit ?? null)).toEqual([null, null, true, true])
    expect(lastObservation(steps)).toMatchObject({ value: 2, evidenceEventIds: ['CHARGEBACK:d1', 'REVERSED:d2'] })
  })

  it('ignores completed, failed and cancelled deposits', () => {
    const steps = runScenario(chargebackCount, paramsOf({ ...BASE, maxCount: 0 }), [
      at(0, statusOf('a', 'COMPLETED')), at(1, statusOf('b', 'FAILED')), at(2, statusOf('c', 'CANCELLED')), at(3, withdrawal(50_00)),
    ])
    expect(lastObservation(steps)).toMatchObject({ hit: false, value: 0, detail: '0 deposits charged back in 90 d (0 minor units), limit 0' })
  })

  it('counts (t - 90 d, t]: a chargeback exactly 90 days before the withdrawal is out', () => {
    const events = [at(0, chargeback('d1')), at(1, chargeback('d2'))]
    expect(lastObservation(runScenario(chargebackCount, PARAMS, [...events, at(90 * DAY_MS, withdrawal(50_00))]))).toMatchObject({ hit: false, value: 1 })
    expect(lastObservation(runScenario(chargebackCount, PARAMS, [...events, at(90 * DAY_MS - 1, withdrawal(50_00))]))).toMatchObject({ hit: true, value: 2 })
  })
})

describe('chargeback_count: amount threshold (more than 500.00 in 90 d, up to 5 chargebacks allowed)', () => {
  const byAmount = paramsOf({ ...BASE, maxCount: 5, maxAmountMinor: 500_00 })
  it.each([
    { secondMinor: 249_99, hit: false },
    { secondMinor: 250_00, hit: false },
    { secondMinor: 250_01, hit: true },
  ])('250.00 then $secondMinor charged back -> hit $hit', ({ secondMinor, hit }) => {
    const steps = runScenario(chargebackCount, byAmount, [at(0, chargeback('d1', 250_00)), at(HOUR_MS, chargeback('d2', secondMinor)), at(2 * HOUR_MS, withdrawal(50_00))])
    expect(steps[1]?.observation?.hit ?? false).toBe(hit)
    expect(lastObservation(steps)).toMatchObject(hit
      ? { hit, value: 250_00 + secondMinor, threshold: 500_00, detail: `${250_00 + secondMinor} minor units charged back in 90 d (2 deposits), limit 50000` }
      : { hit, value: 2, threshold: 5 })
  })
})

describe('chargeback_count: out of order and late (grace 1 h)', () => {
  it('an out-of-order chargeback within grace counts where it belongs', () => {
    const steps = runScenario(chargebackCount, PARAMS, [at(10 * HOUR_MS, chargeback('d2')), at(9.5 * HOUR_MS, chargeback('d1'))])
    expect(steps[1]).toMatchObject({ late: false, observation: { hit: true, value: 2, evidenceEventIds: ['CHARGEBACK:d1', 'CHARGEBACK:d2'] } })
  })

  it('a REVERSED arriving out of order before the CHARGEBACK of the same deposit replaces it (counted once, at the earlier time)', () => {
    const steps = runScenario(chargebackCount, PARAMS, [at(10 * HOUR_MS, chargeback('d1')), at(9.5 * HOUR_MS, statusOf('d1', 'REVERSED'))])
    expect((steps[1]?.state as ChargebackCountState).chargebacks).toEqual([{ eventId: 'REVERSED:d1', eventTimeMs: 9.5 * HOUR_MS, depositId: 'd1', amountMinor: 100_00 }])
    expect(steps[1]?.observation).toBeNull()
  })

  it('a chargeback behind stream time minus grace is late: no alert, but the withdrawal counts it', () => {
    const steps = runScenario(chargebackCount, PARAMS, [at(10 * HOUR_MS, chargeback('d2')), at(8 * HOUR_MS, chargeback('d1')), at(11 * HOUR_MS, withdrawal(50_00))])
    expect(steps[1]).toMatchObject({ late: true, observation: null })
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 2 })
  })
})

describe('chargeback_count: state stays bounded', () => {
  it('keeps at most maxTrackedChargebacks and forgets them after window + grace', () => {
    const steps = runScenario(chargebackCount, PARAMS, Array.from({ length: 120 }, (_, index) => at(index * MINUTE_MS, chargeback(`d${index}`))))
    expect((steps[119]?.state as ChargebackCountState).chargebacks).toHaveLength(100)
    const later = runScenario(chargebackCount, PARAMS, [at(91 * DAY_MS + 2 * HOUR_MS, withdrawal(50_00))], { state: steps[119]?.state })
    expect((later[0]?.state as ChargebackCountState).chargebacks).toEqual([])
  })
})

describe('chargeback_count: overrides', () => {
  const rules: RuleSetDocument = {
    ...document(BASE),
    overrides: [
      { match: { jurisdiction: 'CW' }, detectors: { chargeback_count: { params: { maxCount: 2 } } } },
      { match: { tier: 'NEW' }, detectors: { chargeback_count: { params: { maxCount: 0 } } } },
    ],
  }
  const two = [at(0, chargeback('d1')), at(1, chargeback('d2')), at(2, withdrawal(50_00))]
  const one = [at(0, chargeback('d1')), at(2, withdrawal(50_00))]

  it('a jurisdiction override (test rule set: CW allows 2) turns a hit into no hit', () => {
    expect(lastObservation(runScenario(chargebackCount, paramsFor('chargeback_count', 'MT', 'VERIFIED', rules, [chargebackCount]), two))?.hit).toBe(true)
    expect(lastObservation(runScenario(chargebackCount, paramsFor('chargeback_count', 'CW', 'VERIFIED', rules, [chargebackCount]), two))?.hit).toBe(false)
  })

  it('a tier override (test rule set: NEW allows none) turns no hit into a hit', () => {
    expect(lastObservation(runScenario(chargebackCount, paramsFor('chargeback_count', 'MT', 'VERIFIED', rules, [chargebackCount]), one))?.hit).toBe(false)
    expect(lastObservation(runScenario(chargebackCount, paramsFor('chargeback_count', 'MT', 'NEW', rules, [chargebackCount]), one))?.hit).toBe(true)
  })
})

async function alertsOf(pipeline: TestPipeline): Promise<Alert[]> {
  return Promise.all(pipeline.driver.output('alerts').map(async (message) => {
    const decoded = await pipeline.codec.decode('alerts', message.value)
    if (!decoded.ok) throw new Error(decoded.message)
    return decoded.value as Alert
  }))
}

describe('chargeback_count: end to end through the pipeline (shipped rule set: any chargeback in 90 d)', () => {
  it('alerts on the chargeback; the withdrawal is reviewed for a verified player and declined for a NEW one (shipped tier override)', async () => {
    const pipeline = await testPipeline()
    for (const [player, tier] of [['p-cb', 'VERIFIED'], ['p-cb-new', 'NEW']] as const) {
      pipeline.send('players', wire.player({ playerId: player, eventTimeMs: 0, jurisdiction: 'MT', country: 'MT', tier }))
      pipeline.send('deposits', wire.deposit({ playerId: player, depositId: `dep-${player}`, eventTimeMs: MINUTE_MS, amountMinor: 100_00 }))
      pipeline.send('deposits', wire.deposit({ playerId: player, depositId: `dep-${player}`, eventId: `cb-${player}`, status: 'CHARGEBACK', eventTimeMs: 5 * HOUR_MS, amountMinor: 100_00 }))
      pipeline.send('withdrawals', wire.withdrawal({ playerId: player, withdrawalId: `w-${player}`, eventTimeMs: 6 * HOUR_MS }))
    }
    await pipeline.driver.run()

    const alerts = (await alertsOf(pipeline)).filter((alert) => alert.detectorId === 'chargeback_count')
    expect(alerts.map((alert) => [alert.playerId, alert.eventTimeMs, alert.severity, alert.action, alert.evidenceEventIds]).sort()).toEqual([
      ['p-cb', 5 * HOUR_MS, 'HIGH', 'hold_for_review', ['cb-p-cb']], ['p-cb', 6 * HOUR_MS, 'HIGH', 'hold_for_review', ['cb-p-cb']],
      ['p-cb-new', 5 * HOUR_MS, 'CRITICAL', 'block_payout', ['cb-p-cb-new']], ['p-cb-new', 6 * HOUR_MS, 'CRITICAL', 'block_payout', ['cb-p-cb-new']],
    ])
    const decisions = await pipeline.decisions()
    expect(decisions.map((decision) => [decision.playerId, decision.outcome]).sort()).toEqual([['p-cb', 'REVIEW'], ['p-cb-new', 'DECLINE']])
    expect(decisions.find((decision) => decision.playerId === 'p-cb')?.executions.find((execution) => execution.detectorId === 'chargeback_count')).toMatchObject({
      status: 'HIT', value: 1, threshold: 0, detail: '1 deposits charged back in 90 d (10000 minor units), limit 0',
    })
  })
})
