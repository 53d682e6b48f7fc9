import { describe, expect, it } from 'vitest'
import * as wire from '../../bench/events.js'
import { anonymisingNetwork, type AnonymisingNetworkState } from '../../detectors/anonymising-network.js'
import type { RuleSetDocument } from '../../detectors/rule-set.js'
import type { Alert } from '../../schemas/domain.js'
import { testPipeline, type TestPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, at, lastObservation, login, paramsFor, runScenario, withdrawal } from './scenario.js'

const document = (params: Record<string, unknown>): RuleSetDocument => ({
  version: 'test-1',
  detectors: { anonymising_network: { enabled: true, severity: 'medium', action: 'hold_for_review', params } },
})
/** More than 1 flagged login in 6 h; AS64511 is high risk. */
const BASE = { maxFlaggedLogins: 1, lookbackMs: 6 * HOUR_MS, graceMs: HOUR_MS, highRiskAsns: [64511] }
const paramsOf = (params: Record<string, unknown>) => paramsFor('anonymising_network', 'MT', 'VERIFIED', document(params), [anonymisingNetwork])
const PARAMS = paramsOf(BASE)

const tor = (eventId: string) => login({ eventId, isTor: true })
const clean = (eventId: string) => login({ eventId })

describe('anonymising_network: what counts', () => {
  it.each([
    ['Tor', { isTor: true }, 'tor'],
    ['VPN', { isVpn: true }, 'vpn'],
    ['proxy', { isProxy: true }, 'proxy'],
    ['a high-risk ASN', { asn: 64511 }, 'asn 64511'],
  ])('%s counts, with its reason in the detail', (_name, fields, reason) => {
    const any = paramsOf({ ...BASE, maxFlaggedLogins: 0 })
    const steps = runScenario(anonymisingNetwork, any, [at(0, login({ eventId: 'x', ...fields })), at(MINUTE_MS, withdrawal(50_00))])
    expect(steps[0]?.observation).toMatchObject({ hit: true, value: 1, evidenceEventIds: ['x'] })
    expect(lastObservation(steps)?.detail).toBe(`1 logins through an anonymising network in 6 h (${reason}), limit 0`)
  })

  it.each([
    ['flagTor', { isTor: true }],
    ['flagVpn', { isVpn: true }],
    ['flagProxy', { isProxy: true }],
  ])('with %s false that signal alone does not count', (flag, fields) => {
    const off = paramsOf({ ...BASE, maxFlaggedLogins: 0, [flag]: false })
    const steps = runScenario(anonymisingNetwork, off, [at(0, login({ eventId: 'x', ...fields })), at(1, login({ eventId: 'y', ...fields, asn: 64511 }))])
    expect(steps[0]?.observation).toBeNull()
    expect(steps[1]?.observation).toMatchObject({ hit: true, value: 1, evidenceEventIds: ['y'], detail: '1 logins through an anonymising network in 6 h (asn 64511), limit 0' })
  })

  it('a clean login or an ASN off the list does not count; a switched-off flag does not either', () => {
    const any = paramsOf({ ...BASE, maxFlaggedLogins: 0, flagVpn: false })
    const steps = runScenario(anonymisingNetwork, any, [at(0, clean('a')), at(1, login({ eventId: 'b', asn: 64512 })), at(2, login({ eventId: 'c', isVpn: true })), at(3, withdrawal(50_00))])
    expect(steps.slice(0, 3).map((step) => step.observation)).toEqual([null, null, null])
    expect(lastObservation(steps)).toMatchObject({ hit: false, value: 0 })
    expect((steps[2]?.state as AnonymisingNetworkState).flagged).toEqual([])
  })
})

describe('anonymising_network: thresholds (more than 1 flagged login in 6 h)', () => {
  it.each([
    { flagged: 0, hit: false },
    { flagged: 1, hit: false },
    { flagged: 2, hit: true },
  ])('$flagged flagged logins then a withdrawal -> hit $hit', ({ flagged, hit }) => {
    const logins = Array.from({ length: flagged }, (_, index) => at(index * MINUTE_MS, tor(`t${index}`)))
    const steps = runScenario(anonymisingNetwork, PARAMS, [at(0, clean('c')), ...logins, at(HOUR_MS, withdrawal(50_00))])
    expect(lastObservation(steps)).toMatchObject({ hit, value: flagged, threshold: 1, evidenceEventIds: logins.map((event) => event.eventId) })
    expect(steps[flagged]?.observation?.hit ?? false).toBe(hit)
  })

  it('looks back (t - 6 h, t] from the withdrawal: a Tor login exactly 6 h earlier is out', () => {
    const events = [at(0, tor('t0')), at(1, tor('t1'))]
    expect(lastObservation(runScenario(anonymisingNetwork, PARAMS, [...events, at(6 * HOUR_MS, withdrawal(50_00))]))).toMatchObject({ hit: false, value: 1 })
    expect(lastObservation(runScenario(anonymisingNetwork, PARAMS, [...events, at(6 * HOUR_MS - 1, withdrawal(50_00))]))).toMatchObject({ hit: true, value: 2 })
  })
})

describe('anonymising_network: out of order and late (grace 1 h)', () => {
  it('counts an out-of-order flagged login within grace in the window it belongs to', () => {
    const steps = runScenario(anonymisingNetwork, PARAMS, [at(10 * HOUR_MS, tor('t1')), at(10 * HOUR_MS + 30 * MINUTE_MS, clean('c')), at(10 * HOUR_MS - 20 * MINUTE_MS, tor('t0'))])
    expect(steps[2]).toMatchObject({ late: false, observation: { hit: true, value: 2, evidenceEventIds: ['t0', 't1'] } })
  })

  it('flags a login behind stream time minus grace as late, raises nothing, and the withdrawal counts it', () => {
    const steps = runScenario(anonymisingNetwork, PARAMS, [at(10 * HOUR_MS, tor('t1')), at(12 * HOUR_MS, clean('c')), at(10 * HOUR_MS + 30 * MINUTE_MS, tor('t0')), at(12 * HOUR_MS + 1, withdrawal(50_00))])
    expect(steps[2]).toMatchObject({ late: true, observation: null })
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 2, evidenceEventIds: ['t1', 't0'] })
  })
})

describe('anonymising_network: state stays bounded', () => {
  it('keeps only flagged logins, at most maxTrackedLogins, for lookback + grace', () => {
    const steps = runScenario(anonymisingNetwork, PARAMS, Array.from({ length: 120 }, (_, index) => at(index * MINUTE_MS, tor(`t${index}`))))
    expect((steps[119]?.state as AnonymisingNetworkState).flagged).toHaveLength(100)
    const later = runScenario(anonymisingNetwork, PARAMS, [at(DAY_MS, clean('c'))], { state: steps[119]?.state })
    expect((later[0]?.state as AnonymisingNetworkState).flagged).toEqual([])
  })
})

describe('anonymising_network: overrides', () => {
  const vpnThenWithdrawal = [at(0, login({ eventId: 'v', isVpn: true })), at(HOUR_MS, withdrawal(50_00))]

  it('shipped: CW counts Tor and hosting ASNs but not consumer VPNs, so a VPN login hits in Malta and not in Curacao', () => {
    expect(lastObservation(runScenario(anonymisingNetwork, paramsFor('anonymising_network', 'MT', 'VERIFIED'), vpnThenWithdrawal))?.hit).toBe(true)
    expect(lastObservation(runScenario(anonymisingNetwork, paramsFor('anonymising_network', 'CW', 'VERIFIED'), vpnThenWithdrawal))?.hit).toBe(false)
    expect(lastObservation(runScenario(anonymisingNetwork, paramsFor('anonymising_network', 'CW', 'VERIFIED'), [at(0, tor('t')), at(HOUR_MS, withdrawal(50_00))]))?.hit).toBe(true)
  })

  it('shipped: logins from the listed hosting ASNs count by default', () => {
    expect(paramsFor('anonymising_network', 'MT', 'VERIFIED').highRiskAsns).toContain(14061)
    const steps = runScenario(anonymisingNetwork, paramsFor('anonymising_network', 'MT', 'VERIFIED'), [at(0, login({ eventId: 'do', asn: 14061 }))])
    expect(steps[0]?.observation).toMatchObject({ hit: true, detail: '1 logins through an anonymising network in 6 h (asn 14061), limit 0' })
  })

  it('a tier override (test rule set: VIP may have one VPN login) changes the outcome', () => {
    const rules: RuleSetDocument = { ...document({ ...BASE, maxFlaggedLogins: 0 }), overrides: [{ match: { tier: 'VIP' }, detectors: { anonymising_network: { params: { maxFlaggedLogins: 1 } } } }] }
    expect(lastObservation(runScenario(anonymisingNetwork, paramsFor('anonymising_network', 'MT', 'VERIFIED', rules, [anonymisingNetwork]), vpnThenWithdrawal))?.hit).toBe(true)
    expect(lastObservation(runScenario(anonymisingNetwork, paramsFor('anonymising_network', 'MT', 'VIP', rules, [anonymisingNetwork]), vpnThenWithdrawal))?.hit).toBe(false)
  })
})

async function alertsOf(pipeline: TestPipeline): Promise<Alert[]> {
  return Promise.all(pipeline.driver.output('alerts').map(async (message) => {
    const decoded = await pipeline.codec.decode('alerts', message.value)
    if (!decoded.ok) throw new Error(decoded.message)
    return decoded.value as Alert
  }))
}

describe('anonymising_network: end to end through the pipeline (shipped rule set)', () => {
  it('alerts on a Tor login and holds the withdrawal an hour later for review; a UK player gets a HIGH alert', async () => {
    const pipeline = await testPipeline()
    for (const [player, jurisdiction] of [['p-tor-mt', 'MT'], ['p-tor-uk', 'UK']] as const) {
      pipeline.send('players', wire.player({ playerId: player, eventTimeMs: 0, jurisdiction, country: 'MT' }))
      pipeline.send('deposits', wire.deposit({ playerId: player, eventTimeMs: MINUTE_MS }))
      pipeline.send('devices', wire.device({ playerId: player, eventTimeMs: HOUR_MS, isTor: true }))
      pipeline.send('withdrawals', wire.withdrawal({ playerId: player, withdrawalId: `w-${player}`, eventTimeMs: 2 * HOUR_MS }))
    }
    await pipeline.driver.run()

    const alerts = (await alertsOf(pipeline)).filter((alert) => alert.detectorId === 'anonymising_network')
    expect(alerts.map((alert) => [alert.playerId, alert.eventTimeMs, alert.severity]).sort()).toEqual([
      ['p-tor-mt', HOUR_MS, 'MEDIUM'], ['p-tor-mt', 2 * HOUR_MS, 'MEDIUM'], ['p-tor-uk', HOUR_MS, 'HIGH'], ['p-tor-uk', 2 * HOUR_MS, 'HIGH'],
    ])
    const decisions = await pipeline.decisions()
    expect(decisions.map((decision) => decision.outcome)).toEqual(['REVIEW', 'REVIEW'])
    expect(decisions[0]?.executions.find((execution) => execution.detectorId === 'anonymising_network')).toMatchObject({
      status: 'HIT', value: 1, threshold: 0, detail: '1 logins through an anonymising network in 6 h (tor), limit 0',
    })
  })
})
