import { describe, expect, it } from 'vitest'
import * as wire from '../../bench/events.js'
import { deviceCount, type DeviceCountState } from '../../detectors/device-count.js'
import type { RuleSetDocument } from '../../detectors/rule-set.js'
import type { Alert } from '../../schemas/domain.js'
import { testPipeline, type TestPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, at, lastObservation, login, paramsFor, runScenario, withdrawal } from './scenario.js'

const document = (params: Record<string, unknown>): RuleSetDocument => ({
  version: 'test-1',
  detectors: { device_count: { enabled: true, severity: 'medium', action: 'hold_for_review', params } },
})
const BASE = { maxDevices: 3, windowMs: 7 * DAY_MS, graceMs: HOUR_MS }
const paramsOf = (params: Record<string, unknown>) => paramsFor('device_count', 'MT', 'VERIFIED', document(params), [deviceCount])
const PARAMS = paramsOf(BASE)

const on = (device: string, eventId: string) => login({ eventId, deviceFingerprint: device })
const devices = (count: number, stepMs = MINUTE_MS) => Array.from({ length: count }, (_, index) => at(index * stepMs, on(`fp-${index}`, `d${index}`)))

describe('device_count: thresholds (more than 3 devices in 7 d)', () => {
  it.each([
    { count: 2, hit: false },
    { count: 3, hit: false },
    { count: 4, hit: true },
  ])('$count distinct devices then a withdrawal -> hit $hit', ({ count, hit }) => {
    const steps = runScenario(deviceCount, PARAMS, [...devices(count), at(HOUR_MS, withdrawal(50_00))])
    expect(lastObservation(steps)).toMatchObject({ hit, value: count, threshold: 3, detail: `${count} distinct devices in 7 d, limit 3` })
    expect(steps[count - 1]?.observation?.hit ?? false).toBe(hit)
  })

  it('the worked example: alerts when device D arrives, not for a known device, and devices age out', () => {
    const steps = runScenario(deviceCount, PARAMS, [
      at(0, on('A', 'a0')), at(DAY_MS, on('B', 'b1')), at(2 * DAY_MS, on('C', 'c2')), at(3 * DAY_MS, on('A', 'a3')), at(4 * DAY_MS, on('D', 'd4')),
      at(4 * DAY_MS + HOUR_MS, withdrawal(50_00, { withdrawalId: 'w1' })), at(8.5 * DAY_MS, withdrawal(50_00, { withdrawalId: 'w2' })),
    ])
    expect(steps.slice(0, 4).map((step) => step.observation)).toEqual([null, null, null, null])
    expect(steps[4]?.observation).toMatchObject({ hit: true, value: 4, evidenceEventIds: ['b1', 'c2', 'a3', 'd4'] })
    expect(steps[5]?.observation).toMatchObject({ hit: true, value: 4 })
    expect(steps[6]?.observation).toMatchObject({ hit: false, value: 3, evidenceEventIds: ['c2', 'a3', 'd4'] })
  })

  it('counts (t - 7 d, t]: a device last seen exactly 7 d before the withdrawal is out', () => {
    const events = devices(4, 1)
    expect(lastObservation(runScenario(deviceCount, PARAMS, [...events, at(7 * DAY_MS, withdrawal(50_00))]))).toMatchObject({ value: 3, hit: false })
    expect(lastObservation(runScenario(deviceCount, PARAMS, [...events, at(7 * DAY_MS - 1, withdrawal(50_00))]))).toMatchObject({ value: 4, hit: true })
  })
})

describe('device_count: out of order and late (grace 1 h)', () => {
  it('judges an out-of-order new device within grace also in the windows holding later devices', () => {
    const steps = runScenario(deviceCount, PARAMS, [at(10 * HOUR_MS, on('A', 'a')), at(10.5 * HOUR_MS, on('B', 'b')), at(10.75 * HOUR_MS, on('C', 'c')), at(10.25 * HOUR_MS, on('D', 'd'))])
    expect(steps[3]).toMatchObject({ late: false, observation: { hit: true, value: 4, windowEndMs: 10.75 * HOUR_MS } })
  })

  it('flags a device event behind stream time minus grace as late, raises nothing, and the withdrawal counts it', () => {
    const steps = runScenario(deviceCount, PARAMS, [
      at(10 * HOUR_MS, on('A', 'a')), at(11 * HOUR_MS, on('B', 'b')), at(12 * HOUR_MS, on('C', 'c')), at(10.5 * HOUR_MS, on('D', 'd')), at(12 * HOUR_MS + 1, withdrawal(50_00)),
    ])
    expect(steps[3]).toMatchObject({ late: true, observation: null })
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 4 })
  })
})

describe('device_count: state stays bounded', () => {
  it('one entry per device however many logins, at most maxTrackedDevices, none after window + grace', () => {
    const same = runScenario(deviceCount, PARAMS, Array.from({ length: 40 }, (_, index) => at(index * MINUTE_MS, on('A', `a${index}`))))
    expect((same[39]?.state as DeviceCountState).devices).toEqual([{ key: 'A', firstSeenMs: 0, firstEventId: 'a0', lastSeenMs: 39 * MINUTE_MS, lastEventId: 'a39' }])
    const many = runScenario(deviceCount, PARAMS, devices(100))
    expect((many[99]?.state as DeviceCountState).devices).toHaveLength(64)
    const later = runScenario(deviceCount, PARAMS, [at(10 * DAY_MS, on('Z', 'z'))], { state: many[99]?.state })
    expect((later[0]?.state as DeviceCountState).devices.map((device) => device.key)).toEqual(['Z'])
  })
})

describe('device_count: overrides', () => {
  it('shipped: NEW allows 3 devices, VERIFIED 5, VIP 8: four devices hit a new player only; six hit a verified player, not a VIP', () => {
    const four = [...devices(4), at(HOUR_MS, withdrawal(50_00))]
    const six = [...devices(6), at(HOUR_MS, withdrawal(50_00))]
    expect(lastObservation(runScenario(deviceCount, paramsFor('device_count', 'MT', 'NEW'), four))?.hit).toBe(true)
    expect(lastObservation(runScenario(deviceCount, paramsFor('device_count', 'MT', 'VERIFIED'), four))?.hit).toBe(false)
    expect(lastObservation(runScenario(deviceCount, paramsFor('device_count', 'MT', 'VERIFIED'), six))?.hit).toBe(true)
    expect(lastObservation(runScenario(deviceCount, paramsFor('device_count', 'MT', 'VIP'), six))?.hit).toBe(false)
  })

  it('a jurisdiction override (test rule set) changes the outcome', () => {
    const rules: RuleSetDocument = { ...document(BASE), overrides: [{ match: { jurisdiction: 'UK' }, detectors: { device_count: { params: { maxDevices: 2 } } } }] }
    const three = [...devices(3), at(HOUR_MS, withdrawal(50_00))]
    expect(lastObservation(runScenario(deviceCount, paramsFor('device_count', 'MT', 'VERIFIED', rules, [deviceCount]), three))?.hit).toBe(false)
    expect(lastObservation(runScenario(deviceCount, paramsFor('device_count', 'UK', 'VERIFIED', rules, [deviceCount]), three))?.hit).toBe(true)
  })
})

async function alertsOf(pipeline: TestPipeline): Promise<Alert[]> {
  return Promise.all(pipeline.driver.output('alerts').map(async (message) => {
    const decoded = await pipeline.codec.decode('alerts', message.value)
    if (!decoded.ok) throw new Error(decoded.message)
    return decoded.value as Alert
  }))
}

describe('device_count: end to end through the pipeline (shipped rule set: more than 5 devices in 7 d)', () => {
  it('alerts on the sixth device and holds the withdrawal for review', async () => {
    const pipeline = await testPipeline()
    const player = 'p-farm'
    pipeline.send('players', wire.player({ playerId: player, eventTimeMs: 0, jurisdiction: 'MT', country: 'MT' }))
    pipeline.send('deposits', wire.deposit({ playerId: player, eventTimeMs: MINUTE_MS }))
    for (let index = 0; index < 6; index += 1) pipeline.send('devices', wire.device({ playerId: player, eventTimeMs: (index + 1) * HOUR_MS, deviceFingerprint: `fp-${index}` }))
    pipeline.send('withdrawals', wire.withdrawal({ playerId: player, withdrawalId: 'w-farm', eventTimeMs: 8 * HOUR_MS }))
    await pipeline.driver.run()

    const alerts = (await alertsOf(pipeline)).filter((alert) => alert.detectorId === 'device_count')
    expect(alerts.map((alert) => [alert.eventTimeMs, alert.value, alert.threshold])).toEqual([[6 * HOUR_MS, 6, 5], [8 * HOUR_MS, 6, 5]])
    const [decision] = await pipeline.decisions()
    expect(decision?.outcome).toBe('REVIEW')
    expect(decision?.executions.find((execution) => execution.detectorId === 'device_count')).toMatchObject({ status: 'HIT', value: 6, threshold: 5, detail: '6 distinct devices in 7 d, limit 5' })
  })
})
