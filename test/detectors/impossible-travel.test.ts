import { describe, expect, it } from 'vitest'
import * as wire from '../../bench/events.js'
import centroidData from '../../detectors/data/country-centroids.json' with { type: 'json' }
import { countryDistanceKm, haversineKm, impossibleTravel, type ImpossibleTravelState } from '../../detectors/impossible-travel.js'
import type { RuleSetDocument, RuleSetOverride } from '../../detectors/rule-set.js'
import type { Alert } from '../../schemas/domain.js'
import { testPipeline, type TestPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, at, lastObservation, login, paramsFor, runScenario, withdrawal } from './scenario.js'

const document = (params: Record<string, unknown>, overrides: RuleSetOverride[] = []): RuleSetDocument => ({
  version: 'test-1',
  detectors: { impossible_travel: { enabled: true, severity: 'high', action: 'step_up_mfa', params } },
  overrides,
})
const BASE = { maxSpeedKmh: 1000, minDistanceKm: 1000, lookbackMs: DAY_MS, graceMs: HOUR_MS }
const paramsOf = (params: Record<string, unknown>) => paramsFor('impossible_travel', 'MT', 'VERIFIED', document(params), [impossibleTravel])
const PARAMS = paramsOf(BASE)
const from = (country: string, eventId: string, fields: Record<string, unknown> = {}) => login({ eventId, ipCountry: country, ...fields })

/** MT and GB centroids are 2550.41 km apart: 1000 km/h is crossed between 9181 s and 9182 s. */
const MT_GB_KM = 2550.4119771798987

describe('impossible_travel: distances', () => {
  it('haversine: one degree of longitude on the equator, and half the Earth', () => {
    expect(haversineKm([0, 0], [0, 1])).toBeCloseTo(111.195, 2)
    expect(haversineKm([0, 0], [0, 180])).toBeCloseTo(20_015.1, 0)
    expect(haversineKm([35.9, 14.4], [35.9, 14.4])).toBe(0)
  })

  it('country distances from the shipped centroid table, null for a country not in it', () => {
    expect(countryDistanceKm('MT', 'GB')).toBeCloseTo(MT_GB_KM, 6)
    expect(countryDistanceKm('gb', 'au')).toBeCloseTo(15_206.06, 1)
    expect(countryDistanceKm('MT', 'AQ')).toBeNull()
  })

  it('the table covers the licensing hubs and main markets, with valid coordinates and its source', () => {
    const centroids = centroidData.centroids as Record<string, number[]>
    expect(Object.keys(centroids).length).toBeGreaterThanOrEqual(60)
    for (const country of ['MT', 'GB', 'GI', 'IM', 'CW', 'CY', 'IE', 'SE', 'DE', 'NL', 'ES', 'IT', 'CA', 'US', 'BR', 'PH', 'AU', 'NZ', 'JE', 'GG', 'EE', 'LV', 'KN', 'AG', 'PA', 'CR']) {
      expect(centroids[country], country).toBeDefined()
    }
    for (const [country, point] of Object.entries(centroids)) {
      expect(country).toMatch(/^[A-Z]{2}$/)
      expect(Math.abs(point[0] as number) <= 90 && Math.abs(point[1] as number) <= 180, country).toBe(true)
    }
    expect(centroidData.source).toContain('developers.google.com')
  })
})

describe('impossible_travel: thresholds (1000 km/h, legs of 1000 km or more)', () => {
  it.each([
    { elapsedMs: 9182 * SECOND_MS, hit: false, speedKmh: 1000 },
    { elapsedMs: 9181 * SECOND_MS, hit: true, speedKmh: 1000 },
    { elapsedMs: 2 * HOUR_MS, hit: true, speedKmh: 1275 },
  ])('MT then GB after $elapsedMs ms -> hit $hit', ({ elapsedMs, hit, speedKmh }) => {
    const steps = runScenario(impossibleTravel, PARAMS, [at(0, from('MT', 'a')), at(elapsedMs, from('GB', 'b')), at(elapsedMs + 1, withdrawal(50_00))])
    expect(steps[1]?.observation?.hit ?? false).toBe(hit)
    expect(lastObservation(steps)).toMatchObject({ hit, value: speedKmh, threshold: 1000, evidenceEventIds: ['a', 'b'] })
  })

  it.each([
    { minDistanceKm: 2550, hit: true },
    { minDistanceKm: 2551, hit: false },
  ])('a 2550.4 km leg with minDistanceKm $minDistanceKm -> hit $hit', ({ minDistanceKm, hit }) => {
    const steps = runScenario(impossibleTravel, paramsOf({ ...BASE, minDistanceKm }), [at(0, from('MT', 'a')), at(MINUTE_MS, from('GB', 'b'))])
    expect(steps[1]?.observation?.hit ?? false).toBe(hit)
  })

  it('alerts on the leg that is impossible, with the worked example of the doc comment', () => {
    const steps = runScenario(impossibleTravel, PARAMS, [
      at(10 * HOUR_MS, from('MT', 'mt')), at(14 * HOUR_MS, from('GB', 'gb')), at(16 * HOUR_MS, from('AU', 'au')), at(16.5 * HOUR_MS, withdrawal(50_00)),
    ])
    expect(steps.slice(0, 2).map((step) => step.observation)).toEqual([null, null])
    expect(steps[2]?.observation).toEqual({
      hit: true, value: 7603, threshold: 1000, detail: 'GB to AU: 15206 km in 2 h = 7603 km/h, limit 1000 km/h',
      evidenceEventIds: ['gb', 'au'], windowStartMs: 14 * HOUR_MS, windowEndMs: 16 * HOUR_MS,
    })
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 7603, windowStartMs: 16.5 * HOUR_MS - DAY_MS })
  })

  it('never hits neighbours closer than minDistanceKm, even minutes apart', () => {
    const steps = runScenario(impossibleTravel, PARAMS, [at(0, from('MT', 'a')), at(10 * MINUTE_MS, from('IT', 'b')), at(11 * MINUTE_MS, withdrawal(50_00))])
    expect(steps[1]?.observation).toBeNull()
    expect(lastObservation(steps)).toMatchObject({ hit: false, value: null, detail: 'no two logins 1000 km or more apart in 24 h' })
  })

  it('pairs only logins within lookbackMs of the withdrawal', () => {
    const steps = runScenario(impossibleTravel, PARAMS, [at(0, from('MT', 'a')), at(HOUR_MS, from('AU', 'b')), at(HOUR_MS + DAY_MS, withdrawal(50_00))])
    expect(steps[1]?.observation?.hit).toBe(true)
    expect(lastObservation(steps)).toMatchObject({ hit: false, value: null })
  })

  it('skips anonymised logins by default and countries it cannot place', () => {
    const events = [at(0, from('MT', 'a')), at(HOUR_MS, from('AU', 'vpn', { isVpn: true })), at(2 * HOUR_MS, from('AQ', 'ice')), at(3 * HOUR_MS, withdrawal(50_00))]
    expect(runScenario(impossibleTravel, PARAMS, events).map((step) => step.observation?.hit ?? null)).toEqual([null, null, null, false])
    const counting = paramsOf({ ...BASE, ignoreAnonymised: false })
    expect(runScenario(impossibleTravel, counting, events)[1]?.observation).toMatchObject({ hit: true, evidenceEventIds: ['a', 'vpn'] })
  })

  it('gives logins in the same millisecond one second apart, so the speed stays finite', () => {
    const steps = runScenario(impossibleTravel, PARAMS, [at(0, from('MT', 'a')), at(0, from('GB', 'b'))])
    expect(steps[1]?.observation?.value).toBe(Math.round(MT_GB_KM * 3600))
  })
})

describe('impossible_travel: out of order and late (grace 1 h)', () => {
  it('places an out-of-order login within grace between its neighbours and hits on its legs', () => {
    const steps = runScenario(impossibleTravel, PARAMS, [at(10 * HOUR_MS, from('GB', 'gb1')), at(12 * HOUR_MS, from('GB', 'gb2')), at(11 * HOUR_MS, from('AU', 'au'))])
    expect(steps[2]).toMatchObject({ late: false, observation: { hit: true, evidenceEventIds: ['gb1', 'au'] } })
    expect((steps[2]?.state as ImpossibleTravelState).logins.map((entry) => entry.eventId)).toEqual(['gb1', 'au', 'gb2'])
  })

  it('an out-of-order login with only a later neighbour hits on the leg to it', () => {
    const steps = runScenario(impossibleTravel, PARAMS, [at(12 * HOUR_MS, from('GB', 'gb')), at(11.5 * HOUR_MS, from('AU', 'au'))])
    expect(steps[1]).toMatchObject({ late: false, observation: { hit: true, evidenceEventIds: ['au', 'gb'], windowStartMs: 11.5 * HOUR_MS, windowEndMs: 12 * HOUR_MS } })
  })

  it('flags a login behind stream time minus grace as late, raises nothing, and a withdrawal still sees the leg', () => {
    const steps = runScenario(impossibleTravel, PARAMS, [
      at(10 * HOUR_MS, from('GB', 'gb1')), at(12 * HOUR_MS, from('GB', 'gb2')), at(10.5 * HOUR_MS, from('AU', 'au')), at(13 * HOUR_MS, withdrawal(50_00)),
    ])
    expect(steps[2]).toMatchObject({ late: true, observation: null })
    expect(lastObservation(steps)).toMatchObject({ hit: true, evidenceEventIds: ['gb1', 'au'] })
  })
})

describe('impossible_travel: state stays bounded', () => {
  it('keeps a run of logins from one country as its first and last', () => {
    const steps = runScenario(impossibleTravel, PARAMS, [...Array.from({ length: 30 }, (_, index) => at(index * MINUTE_MS, from('MT', `m${index}`))), at(HOUR_MS, from('IT', 'it'))])
    expect((steps[30]?.state as ImpossibleTravelState).logins.map((entry) => entry.eventId)).toEqual(['m0', 'm29', 'it'])
  })

  it('keeps the first login of a run, so a withdrawal later in the run still sees the arrival leg', () => {
    const steps = runScenario(impossibleTravel, PARAMS, [at(10 * HOUR_MS, from('GB', 'gb')), at(11 * HOUR_MS, from('MT', 'mt1')), at(15 * HOUR_MS, from('MT', 'mt2')), at(15.5 * HOUR_MS, withdrawal(50_00))])
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 2550, evidenceEventIds: ['gb', 'mt1'] })
  })

  it('keeps logins for lookback + grace only, and at most maxTrackedLogins', () => {
    const many = Array.from({ length: 120 }, (_, index) => at(index * MINUTE_MS, from(index % 2 === 0 ? 'MT' : 'IT', `m${index}`)))
    const steps = runScenario(impossibleTravel, PARAMS, many)
    expect((steps[119]?.state as ImpossibleTravelState).logins).toHaveLength(100)
    const later = runScenario(impossibleTravel, PARAMS, [at(3 * DAY_MS, from('MT', 'late'))], { state: steps[119]?.state })
    expect((later[0]?.state as ImpossibleTravelState).logins.map((entry) => entry.eventId)).toEqual(['late'])
  })
})

describe('impossible_travel: overrides (no shipped override: the limit is physics; a rule set may still set one)', () => {
  const rules = document(BASE, [
    { match: { jurisdiction: 'CW' }, detectors: { impossible_travel: { params: { maxSpeedKmh: 2000 } } } },
    { match: { tier: 'VIP' }, detectors: { impossible_travel: { params: { minDistanceKm: 3000 } } } },
  ])
  const events = [at(0, from('MT', 'a')), at(2 * HOUR_MS, from('GB', 'b'))] // 1275 km/h over 2550 km

  it('a jurisdiction override raising the speed limit turns the hit into no hit', () => {
    expect(runScenario(impossibleTravel, paramsFor('impossible_travel', 'MT', 'VERIFIED', rules, [impossibleTravel]), events)[1]?.observation?.hit).toBe(true)
    expect(runScenario(impossibleTravel, paramsFor('impossible_travel', 'CW', 'VERIFIED', rules, [impossibleTravel]), events)[1]?.observation).toBeNull()
  })

  it('a tier override raising the minimum distance turns the hit into no hit', () => {
    expect(runScenario(impossibleTravel, paramsFor('impossible_travel', 'MT', 'VIP', rules, [impossibleTravel]), events)[1]?.observation).toBeNull()
  })

  it('the shipped rule set applies the same limits everywhere', () => {
    for (const [jurisdiction, tier] of [['MT', 'VERIFIED'], ['UK', 'NEW'], ['CW', 'VIP']] as const) {
      expect(paramsFor('impossible_travel', jurisdiction, tier)).toMatchObject({ maxSpeedKmh: 1000, minDistanceKm: 1000 })
    }
  })
})

async function alertsOf(pipeline: TestPipeline): Promise<Alert[]> {
  return Promise.all(pipeline.driver.output('alerts').map(async (message) => {
    const decoded = await pipeline.codec.decode('alerts', message.value)
    if (!decoded.ok) throw new Error(decoded.message)
    return decoded.value as Alert
  }))
}

describe('impossible_travel: end to end through the pipeline (shipped rule set)', () => {
  it('alerts on a Malta-then-Australia pair an hour apart and asks for MFA at the withdrawal (REVIEW)', async () => {
    const pipeline = await testPipeline()
    const player = 'p-travel'
    pipeline.send('players', wire.player({ playerId: player, eventTimeMs: 0, jurisdiction: 'MT', country: 'MT' }))
    pipeline.send('deposits', wire.deposit({ playerId: player, eventTimeMs: MINUTE_MS }))
    pipeline.send('devices', wire.device({ playerId: player, eventTimeMs: HOUR_MS, ipCountry: 'MT' }))
    pipeline.send('devices', wire.device({ playerId: player, eventTimeMs: 2 * HOUR_MS, ipCountry: 'AU' }))
    pipeline.send('withdrawals', wire.withdrawal({ playerId: player, withdrawalId: 'w-travel', eventTimeMs: 3 * HOUR_MS }))
    await pipeline.driver.run()

    const alerts = (await alertsOf(pipeline)).filter((alert) => alert.detectorId === 'impossible_travel')
    expect(alerts.map((alert) => [alert.eventTimeMs, alert.severity, alert.action, alert.evidenceEventIds])).toEqual([
      [2 * HOUR_MS, 'HIGH', 'step_up_mfa', [`dv:${player}:${HOUR_MS}`, `dv:${player}:${2 * HOUR_MS}`]],
      [3 * HOUR_MS, 'HIGH', 'step_up_mfa', [`dv:${player}:${HOUR_MS}`, `dv:${player}:${2 * HOUR_MS}`]],
    ])
    const [decision] = await pipeline.decisions()
    expect(decision?.outcome).toBe('REVIEW')
    expect(decision?.actions).toContain('step_up_mfa')
    expect(decision?.executions.find((execution) => execution.detectorId === 'impossible_travel')).toMatchObject({ status: 'HIT', threshold: 1000 })
  })
})
