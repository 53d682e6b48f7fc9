import { describe, expect, it } from 'vitest'
import * as wire from '../../bench/events.js'
import { geoMismatch, type GeoMismatchState } from '../../detectors/geo-mismatch.js'
import type { Alert } from '../../schemas/domain.js'
import { testPipeline, type TestPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, at, lastObservation, login, paramsFor, profile, runScenario, withdrawal } from './scenario.js'

const ruleSet = (params: Record<string, unknown>) => ({
  version: 'test-1',
  detectors: { geo_mismatch: { enabled: true, severity: 'medium' as const, action: 'hold_for_review' as const, params } },
})
const paramsOf = (params: Record<string, unknown>) => paramsFor('geo_mismatch', 'MT', 'VERIFIED', ruleSet(params), [geoMismatch])
/** Limit 2 foreign logins in 7 days, grace 1 h. */
const PARAMS = paramsOf({ maxMismatchedLogins: 2, windowMs: 7 * DAY_MS, graceMs: HOUR_MS })
const MALTESE = profile({ country: 'MT' })

const foreign = (index: number, country = 'IT') => login({ eventId: `l${index}`, ipCountry: country })

describe('geo_mismatch: threshold (limit 2 foreign logins in 7 d)', () => {
  it.each([
    { foreignLogins: 1, hit: false },
    { foreignLogins: 2, hit: false },
    { foreignLogins: 3, hit: true },
  ])('$foreignLogins foreign logins before a withdrawal -> hit $hit', ({ foreignLogins, hit }) => {
    const logins = Array.from({ length: foreignLogins }, (_, index) => at(index * HOUR_MS, foreign(index)))
    const steps = runScenario(geoMismatch, PARAMS, [at(0, login({ eventId: 'home', ipCountry: 'MT' })), ...logins, at(5 * HOUR_MS, withdrawal(50_00))], { profile: MALTESE })
    expect(lastObservation(steps)).toMatchObject({ hit, value: foreignLogins, threshold: 2, evidenceEventIds: logins.map((event) => event.eventId) })
  })

  it('raises an alert on the login that goes over the limit, not before', () => {
    const steps = runScenario(geoMismatch, PARAMS, [at(0, foreign(1)), at(HOUR_MS, foreign(2, 'DE')), at(2 * HOUR_MS, foreign(3, 'FR'))], { profile: MALTESE })
    expect(steps.map((step) => step.observation?.hit ?? null)).toEqual([null, null, true])
    expect(steps[2]?.observation?.detail).toBe('3 logins from outside KYC country MT in 7 d (DE, FR, IT), limit 2')
  })

  it('counts the window (t - 7 d, t]: a login exactly 7 d before the withdrawal has expired, 1 ms later it has not', () => {
    const events = [at(0, foreign(1)), at(1, foreign(2)), at(2, foreign(3))]
    const expired = runScenario(geoMismatch, PARAMS, [...events, at(7 * DAY_MS, withdrawal(50_00))], { profile: MALTESE })
    expect(lastObservation(expired)).toMatchObject({ hit: false, value: 2, evidenceEventIds: ['l2', 'l3'] })
    const inside = runScenario(geoMismatch, PARAMS, [...events, at(7 * DAY_MS - 1, withdrawal(50_00))], { profile: MALTESE })
    expect(lastObservation(inside)).toMatchObject({ hit: true, value: 3 })
  })

  it('does not count (nor keep) logins from the KYC country', () => {
    const steps = runScenario(geoMismatch, PARAMS, [
      at(0, login({ eventId: 'a', ipCountry: 'MT' })), at(1, login({ eventId: 'b', ipCountry: 'MT' })), at(2, foreign(3)), at(3, withdrawal(50_00)),
    ], { profile: MALTESE })
    expect(lastObservation(steps)).toMatchObject({ value: 1, evidenceEventIds: ['l3'] })
    expect((steps[1]?.state as GeoMismatchState).logins).toEqual([])
  })

  it('skips proxy/VPN/Tor logins by default and counts them when ignoreAnonymised is false', () => {
    const events = [at(0, login({ eventId: 'v1', ipCountry: 'NL', isVpn: true })), at(1, login({ eventId: 't1', ipCountry: 'DE', isTor: true })), at(2, foreign(3)), at(3, withdrawal(50_00))]
    expect(lastObservation(runScenario(geoMismatch, PARAMS, events, { profile: MALTESE }))).toMatchObject({ hit: false, value: 1 })
    const counting = paramsOf({ maxMismatchedLogins: 2, windowMs: 7 * DAY_MS, graceMs: HOUR_MS, ignoreAnonymised: false })
    expect(lastObservation(runScenario(geoMismatch, counting, events, { profile: MALTESE }))).toMatchObject({ hit: true, value: 3 })
  })

  it('counts LOGIN events only by default (a SESSION_START after a login is the same visit)', () => {
    const events = [0, 1, 2].map((index) => at(index, login({ eventId: `s${index}`, type: 'SESSION_START', ipCountry: 'IT' })))
    expect(lastObservation(runScenario(geoMismatch, PARAMS, [...events, at(3, withdrawal(50_00))], { profile: MALTESE }))).toMatchObject({ value: 0 })
    const sessions = paramsOf({ maxMismatchedLogins: 2, windowMs: 7 * DAY_MS, graceMs: HOUR_MS, activityTypes: ['SESSION_START'] })
    expect(lastObservation(runScenario(geoMismatch, sessions, [...events, at(3, withdrawal(50_00))], { profile: MALTESE }))).toMatchObject({ value: 3, hit: true })
  })

  it('records a withdrawal as no hit with value null while the KYC country is unknown, and judges the kept logins once it is known', () => {
    const events = [at(0, foreign(1)), at(1, foreign(2)), at(2, foreign(3, 'MT')), at(3, withdrawal(50_00))]
    const unknown = runScenario(geoMismatch, PARAMS, events, { profile: profile({ country: null }) })
    expect(lastObservation(unknown)).toMatchObject({ hit: false, value: null, detail: 'no KYC country on file; logins not judged' })
    expect(unknown.slice(0, 3).every((step) => step.observation === null)).toBe(true)
    // the same state, judged once KYC says the player lives in Malta: the two Italian logins count, the Maltese one does not
    const known = runScenario(geoMismatch, PARAMS, [at(4, withdrawal(50_00, { withdrawalId: 'w2' }))], { profile: MALTESE, state: unknown[2]?.state })
    expect(lastObservation(known)).toMatchObject({ value: 2, evidenceEventIds: ['l1', 'l2'] })
  })
})

describe('geo_mismatch: out of order and late (grace 1 h)', () => {
  it('counts an out-of-order login within grace where it belongs, and it can take a window over the limit', () => {
    const steps = runScenario(geoMismatch, PARAMS, [at(10 * HOUR_MS, foreign(1)), at(10 * HOUR_MS + 40 * MINUTE_MS, foreign(3)), at(10 * HOUR_MS + 20 * MINUTE_MS, foreign(2))], { profile: MALTESE })
    expect(steps[2]).toMatchObject({ late: false, observation: { hit: true, value: 3, evidenceEventIds: ['l1', 'l2', 'l3'] } })
  })

  it('flags a login older than stream time minus grace as late, raises nothing for it, but a later withdrawal sees it', () => {
    const steps = runScenario(geoMismatch, PARAMS, [
      at(10 * HOUR_MS, foreign(1)), at(12 * HOUR_MS, foreign(2)), at(10 * HOUR_MS + 59 * MINUTE_MS, foreign(3)), at(13 * HOUR_MS, withdrawal(50_00)),
    ], { profile: MALTESE })
    expect(steps[2]).toMatchObject({ late: true, observation: null })
    expect(steps[3]).toMatchObject({ late: false, observation: { hit: true, value: 3 } })
  })

  it('is not late exactly at stream time minus grace', () => {
    const steps = runScenario(geoMismatch, PARAMS, [at(10 * HOUR_MS, foreign(1)), at(12 * HOUR_MS, foreign(2)), at(11 * HOUR_MS, foreign(3))], { profile: MALTESE })
    expect(steps[2]).toMatchObject({ late: false, observation: { hit: true } })
  })
})

describe('geo_mismatch: state stays bounded', () => {
  it('keeps at most maxTrackedLogins foreign logins and drops those older than window + grace', () => {
    const events = Array.from({ length: 150 }, (_, index) => at(index * MINUTE_MS, foreign(index)))
    const steps = runScenario(geoMismatch, PARAMS, events, { profile: MALTESE })
    expect((steps[149]?.state as GeoMismatchState).logins).toHaveLength(100)
    const later = runScenario(geoMismatch, PARAMS, [at(200 * DAY_MS, foreign(999))], { profile: MALTESE, state: steps[149]?.state })
    expect((later[0]?.state as GeoMismatchState).logins.map((entry) => entry.eventId)).toEqual(['l999'])
  })
})

describe('geo_mismatch: shipped rule set overrides', () => {
  const twoForeignThenWithdrawal = [at(0, foreign(1)), at(HOUR_MS, foreign(2)), at(2 * HOUR_MS, withdrawal(50_00))]

  it('UK lowers the limit to 1: two foreign logins hit in the UK, not in Malta', () => {
    expect(paramsFor('geo_mismatch', 'MT', 'VERIFIED').maxMismatchedLogins).toBe(3)
    expect(lastObservation(runScenario(geoMismatch, paramsFor('geo_mismatch', 'MT', 'VERIFIED'), twoForeignThenWithdrawal, { profile: MALTESE }))?.hit).toBe(false)
    expect(lastObservation(runScenario(geoMismatch, paramsFor('geo_mismatch', 'UK', 'VERIFIED'), twoForeignThenWithdrawal, { profile: profile({ jurisdiction: 'UK', country: 'MT' }) }))?.hit).toBe(true)
  })

  it('VIP raises the limit to 6: four foreign logins hit a verified player, not a VIP', () => {
    const four = [0, 1, 2, 3].map((index) => at(index * HOUR_MS, foreign(index))).concat(at(5 * HOUR_MS, withdrawal(50_00)))
    expect(lastObservation(runScenario(geoMismatch, paramsFor('geo_mismatch', 'MT', 'VERIFIED'), four, { profile: MALTESE }))?.hit).toBe(true)
    expect(lastObservation(runScenario(geoMismatch, paramsFor('geo_mismatch', 'MT', 'VIP'), four, { profile: MALTESE }))?.hit).toBe(false)
  })
})

async function alertsOf(pipeline: TestPipeline): Promise<Alert[]> {
  return Promise.all(pipeline.driver.output('alerts').map(async (message) => {
    const decoded = await pipeline.codec.decode('alerts', message.value)
    if (!decoded.ok) throw new Error(decoded.message)
    return decoded.value as Alert
  }))
}

describe('geo_mismatch: end to end through the pipeline (shipped rule set, MT limit 3 in 7 d)', () => {
  it('alerts on the fourth login from Germany and sends the withdrawal to review with the execution recorded', async () => {
    const pipeline = await testPipeline()
    pipeline.send('players', wire.player({ playerId: 'p-geo', eventTimeMs: 0, jurisdiction: 'MT', country: 'MT' }))
    pipeline.send('deposits', wire.deposit({ playerId: 'p-geo', eventTimeMs: MINUTE_MS, amountMinor: 100_00 }))
    for (let index = 0; index < 4; index += 1) pipeline.send('devices', wire.device({ playerId: 'p-geo', eventTimeMs: (index + 1) * HOUR_MS, ipCountry: 'DE' }))
    pipeline.send('withdrawals', wire.withdrawal({ playerId: 'p-geo', withdrawalId: 'w-geo', eventTimeMs: 6 * HOUR_MS, amountMinor: 50_00 }))
    await pipeline.driver.run()

    const alerts = (await alertsOf(pipeline)).filter((alert) => alert.detectorId === 'geo_mismatch')
    expect(alerts.map((alert) => [alert.eventTimeMs, alert.value, alert.threshold, alert.severity])).toEqual([[4 * HOUR_MS, 4, 3, 'MEDIUM'], [6 * HOUR_MS, 4, 3, 'MEDIUM']])
    const [decision] = await pipeline.decisions()
    expect(decision?.outcome).toBe('REVIEW')
    expect(decision?.executions.find((execution) => execution.detectorId === 'geo_mismatch')).toEqual({
      detectorId: 'geo_mismatch', detectorVersion: 1, status: 'HIT', value: 4, threshold: 3, detail: '4 logins from outside KYC country MT in 7 d (DE), limit 3',
    })
    expect(decision?.reasons.map((reason) => reason.code)).toContain('GEO_MISMATCH')
  })
})
