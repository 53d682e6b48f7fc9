import { describe, expect, it } from 'vitest'
import * as wire from '../../bench/events.js'
import { newDeviceWithdrawal, type NewDeviceWithdrawalState } from '../../detectors/new-device-withdrawal.js'
import type { RuleSetDocument } from '../../detectors/rule-set.js'
import type { Alert } from '../../schemas/domain.js'
import { testPipeline, type TestPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, at, lastObservation, login, paramsFor, runScenario, withdrawal } from './scenario.js'

const document = (params: Record<string, unknown>): RuleSetDocument => ({
  version: 'test-1',
  detectors: { new_device_withdrawal: { enabled: true, severity: 'medium', action: 'step_up_mfa', params } },
})
const BASE = { withinMs: DAY_MS, deviceMemoryMs: 90 * DAY_MS, graceMs: HOUR_MS }
const paramsOf = (params: Record<string, unknown>) => paramsFor('new_device_withdrawal', 'MT', 'VERIFIED', document(params), [newDeviceWithdrawal])
const PARAMS = paramsOf(BASE)

const on = (device: string, eventId: string) => login({ eventId, deviceFingerprint: device })
const DAY_10_NOON = 10 * DAY_MS + 12 * HOUR_MS
/** The player's established device A, seen from day 0. */
const established = [at(0, on('fp-a', 'a0')), at(5 * DAY_MS, on('fp-a', 'a5'))]

describe('new_device_withdrawal: the worked example and the threshold (within 24 h)', () => {
  it('hits 40 min after device B first logs in, not 25 h after', () => {
    const steps = runScenario(newDeviceWithdrawal, PARAMS, [
      ...established, at(DAY_10_NOON, on('fp-b', 'b0')), at(DAY_10_NOON + 40 * MINUTE_MS, withdrawal(50_00, { withdrawalId: 'w1' })), at(DAY_10_NOON + 25 * HOUR_MS, withdrawal(50_00, { withdrawalId: 'w2' })),
    ])
    expect(steps.slice(0, 3).map((step) => step.observation)).toEqual([null, null, null])
    expect(steps[3]?.observation).toEqual({
      hit: true, value: 40 * MINUTE_MS, threshold: DAY_MS, detail: 'withdrawal 40 min after the first login from new device fp-b (1 new, 2 known), limit 24 h',
      evidenceEventIds: ['b0'], windowStartMs: DAY_10_NOON + 40 * MINUTE_MS - DAY_MS, windowEndMs: DAY_10_NOON + 40 * MINUTE_MS,
    })
    expect(lastObservation(steps)).toMatchObject({ hit: false, value: null, detail: 'no new device in the 24 h before the withdrawal (2 known)' })
  })

  it.each([
    { elapsedMs: DAY_MS - 1, hit: true },
    { elapsedMs: DAY_MS, hit: false },
    { elapsedMs: DAY_MS + 1, hit: false },
  ])('withdrawal $elapsedMs ms after the new device first logged in -> hit $hit', ({ elapsedMs, hit }) => {
    const steps = runScenario(newDeviceWithdrawal, PARAMS, [...established, at(DAY_10_NOON, on('fp-b', 'b0')), at(DAY_10_NOON + elapsedMs, withdrawal(50_00))])
    expect(lastObservation(steps)).toMatchObject({ hit, threshold: DAY_MS })
  })

  it('a device seen before is not new, however recent its last login', () => {
    const steps = runScenario(newDeviceWithdrawal, PARAMS, [...established, at(DAY_10_NOON, on('fp-a', 'a10')), at(DAY_10_NOON + MINUTE_MS, withdrawal(50_00))])
    expect(lastObservation(steps)?.hit).toBe(false)
  })

  it("ignores the player's very first device unless ignoreFirstDevice is false", () => {
    const fresh = [at(0, on('fp-a', 'a0')), at(10 * MINUTE_MS, withdrawal(50_00))]
    expect(lastObservation(runScenario(newDeviceWithdrawal, PARAMS, fresh))?.hit).toBe(false)
    expect(lastObservation(runScenario(newDeviceWithdrawal, paramsOf({ ...BASE, ignoreFirstDevice: false }), fresh))).toMatchObject({ hit: true, value: 10 * MINUTE_MS })
  })

  it('forgets a device unseen for deviceMemoryMs: coming back, it is new again', () => {
    const steps = runScenario(newDeviceWithdrawal, PARAMS, [
      at(0, on('fp-b', 'b0')), at(DAY_MS, on('fp-a', 'a1')), at(95 * DAY_MS, on('fp-a', 'a95')), at(95 * DAY_MS + HOUR_MS, on('fp-b', 'b95')), at(95 * DAY_MS + 2 * HOUR_MS, withdrawal(50_00)),
    ])
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: HOUR_MS, evidenceEventIds: ['b95'] })
  })
})

describe('new_device_withdrawal: out of order and late (grace 1 h)', () => {
  it('an out-of-order first login within grace moves the first sighting earlier', () => {
    const steps = runScenario(newDeviceWithdrawal, PARAMS, [...established, at(DAY_10_NOON + 30 * MINUTE_MS, on('fp-b', 'b30')), at(DAY_10_NOON, on('fp-b', 'b0')), at(DAY_10_NOON + 40 * MINUTE_MS, withdrawal(50_00))])
    expect(steps[3]).toMatchObject({ late: false, observation: null })
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 40 * MINUTE_MS, evidenceEventIds: ['b0'] })
  })

  it('a login behind stream time minus grace is flagged late and still recorded', () => {
    const steps = runScenario(newDeviceWithdrawal, PARAMS, [...established, at(DAY_10_NOON + 2 * HOUR_MS, on('fp-a', 'a10')), at(DAY_10_NOON, on('fp-b', 'b0')), at(DAY_10_NOON + 3 * HOUR_MS, withdrawal(50_00))])
    expect(steps[3]).toMatchObject({ late: true, observation: null })
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 3 * HOUR_MS })
  })

  it('a device first seen after the withdrawal (arriving out of order) does not count for it', () => {
    const steps = runScenario(newDeviceWithdrawal, PARAMS, [...established, at(DAY_10_NOON + 10 * MINUTE_MS, on('fp-b', 'b0')), at(DAY_10_NOON, withdrawal(50_00))])
    expect(lastObservation(steps)?.hit).toBe(false)
  })
})

describe('new_device_withdrawal: state stays bounded', () => {
  it('keeps one entry per device and at most maxTrackedDevices, the most recently seen', () => {
    const steps = runScenario(newDeviceWithdrawal, PARAMS, [
      ...Array.from({ length: 60 }, (_, index) => at(index * MINUTE_MS, on(`fp-${index}`, `e${index}`))),
      at(HOUR_MS, on('fp-59', 'again')),
    ])
    const devices = (steps[60]?.state as NewDeviceWithdrawalState).devices
    expect(devices.map((device) => device.key)).toEqual(Array.from({ length: 50 }, (_, index) => `fp-${index + 10}`))
    expect(devices[49]).toMatchObject({ firstEventId: 'e59', lastEventId: 'again' })
  })
})

describe('new_device_withdrawal: overrides', () => {
  const rules: RuleSetDocument = {
    ...document(BASE),
    overrides: [
      { match: { jurisdiction: 'UK' }, detectors: { new_device_withdrawal: { params: { withinMs: 3 * DAY_MS } } } },
      { match: { tier: 'NEW' }, detectors: { new_device_withdrawal: { params: { ignoreFirstDevice: false } } } },
    ],
  }
  const twoDaysAfter = [...established, at(DAY_10_NOON, on('fp-b', 'b0')), at(DAY_10_NOON + 2 * DAY_MS, withdrawal(50_00))]

  it('a jurisdiction override (UK looks back 3 days) turns a 2-day-old device into a hit', () => {
    expect(lastObservation(runScenario(newDeviceWithdrawal, paramsFor('new_device_withdrawal', 'MT', 'VERIFIED', rules, [newDeviceWithdrawal]), twoDaysAfter))?.hit).toBe(false)
    expect(lastObservation(runScenario(newDeviceWithdrawal, paramsFor('new_device_withdrawal', 'UK', 'VERIFIED', rules, [newDeviceWithdrawal]), twoDaysAfter))?.hit).toBe(true)
  })

  it("a tier override (NEW players: the first device counts) turns a fresh account's withdrawal into a hit", () => {
    const fresh = [at(0, on('fp-a', 'a0')), at(10 * MINUTE_MS, withdrawal(50_00))]
    expect(lastObservation(runScenario(newDeviceWithdrawal, paramsFor('new_device_withdrawal', 'MT', 'VERIFIED', rules, [newDeviceWithdrawal]), fresh))?.hit).toBe(false)
    expect(lastObservation(runScenario(newDeviceWithdrawal, paramsFor('new_device_withdrawal', 'MT', 'NEW', rules, [newDeviceWithdrawal]), fresh))?.hit).toBe(true)
  })
})

async function alertsOf(pipeline: TestPipeline): Promise<Alert[]> {
  return Promise.all(pipeline.driver.output('alerts').map(async (message) => {
    const decoded = await pipeline.codec.decode('alerts', message.value)
    if (!decoded.ok) throw new Error(decoded.message)
    return decoded.value as Alert
  }))
}

describe('new_device_withdrawal: end to end through the pipeline (shipped rule set)', () => {
  it('asks for MFA (REVIEW) when a verified player withdraws from a new device; a VIP is held for review with a HIGH alert', async () => {
    const pipeline = await testPipeline()
    for (const [player, tier] of [['p-nd', 'VERIFIED'], ['p-nd-vip', 'VIP']] as const) {
      pipeline.send('players', wire.player({ playerId: player, eventTimeMs: 0, jurisdiction: 'MT', country: 'MT', tier }))
      pipeline.send('deposits', wire.deposit({ playerId: player, eventTimeMs: MINUTE_MS }))
      pipeline.send('devices', wire.device({ playerId: player, eventTimeMs: HOUR_MS, deviceFingerprint: 'fp-home' }))
      // (the pipeline refuses events more than a day ahead of stream time, so the story fits in a day)
      pipeline.send('devices', wire.device({ playerId: player, eventTimeMs: 20 * HOUR_MS, deviceFingerprint: 'fp-other' }))
      pipeline.send('withdrawals', wire.withdrawal({ playerId: player, withdrawalId: `w-${player}`, eventTimeMs: 20 * HOUR_MS + 30 * MINUTE_MS }))
    }
    await pipeline.driver.run()

    const alerts = (await alertsOf(pipeline)).filter((alert) => alert.detectorId === 'new_device_withdrawal')
    expect(alerts.map((alert) => [alert.playerId, alert.severity, alert.action, alert.value, alert.evidenceEventIds]).sort()).toEqual([
      ['p-nd', 'MEDIUM', 'step_up_mfa', 30 * MINUTE_MS, [`dv:p-nd:${20 * HOUR_MS}`]],
      ['p-nd-vip', 'HIGH', 'hold_for_review', 30 * MINUTE_MS, [`dv:p-nd-vip:${20 * HOUR_MS}`]],
    ])
    const decisions = await pipeline.decisions()
    expect(decisions.map((decision) => [decision.playerId, decision.outcome, decision.actions.includes('step_up_mfa')]).sort()).toEqual([['p-nd', 'REVIEW', true], ['p-nd-vip', 'REVIEW', false]])
  })
})
