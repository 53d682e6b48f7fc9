import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import type { PlayerProfile, ScreenFunction } from '../../detectors/detector.js'
import { sanctionsConfirmedMatch, sanctionsPotentialMatch, type SanctionsMatchState } from '../../detectors/sanctions-match.js'
import { toInputEvent } from '../../schemas/adapters.js'
import type { ScreeningInstruction } from '../../schemas/generated/types.js'
import { loadWatchlistCsv } from '../../screening/loaders/watchlist.js'
import { buildScreener } from '../../screening/index.js'
import { toScreenFunction } from '../../screening/screen-function.js'
import { loadSdn, loadUn } from '../screening/lists.js'
import { testPipeline } from '../support/pipeline.js'
import { HOUR_MS, alertsOf, at, lastObservation, paramsFor, playerChange, profile, runScenario, withdrawal, type ScenarioStep, type TimedBuilder } from './scenario.js'

/** A screen function with fixed answers per name, so thresholds can be walked exactly. */
const fixedScreen = (scores: Record<string, { score: number; dateOfBirth: 'exact' | 'year' | 'contradicts' | 'unknown' }>): ScreenFunction => ({ fullName }) => {
  const entry = scores[fullName]
  if (entry === undefined) return { score: 0, best: null }
  return { score: entry.score, best: { listId: 'test-list', listVersion: 'v1', entryId: 'e-1', matchedName: fullName.toUpperCase(), dateOfBirth: entry.dateOfBirth } }
}

const potential = paramsFor('sanctions_potential_match', 'MT', 'VERIFIED')
const confirmed = paramsFor('sanctions_confirmed_match', 'MT', 'VERIFIED')
const named = profile({ firstName: 'Ivan', lastName: 'Petrov', dateOfBirth: '1970-01-01' })
const FIXTURES = path.join(path.dirname(new URL(import.meta.url).pathname), '../screening/fixtures')

/** A risk.screening.v1 instruction for p1, through the real wire -> domain adapter. */
function instruction(type: ScreeningInstruction['type'], fields: Partial<Omit<ScreeningInstruction, 'eventTimeMs' | 'type'>> = {}): TimedBuilder {
  return (eventTimeMs) => {
    const verdict = type === 'RESCREEN' ? {} : { officerId: 'officer-anna' }
    const wire: ScreeningInstruction = { eventId: `sc:${type}:${eventTimeMs}`, playerId: 'p1', eventTimeMs, type, listVersion: null, listId: null, entryId: null, officerId: null, caseId: null, note: null, ...verdict, ...fields }
    const result = toInputEvent('screening', wire)
    if (!result.ok) throw new Error(`invalid screening instruction: ${result.message}`)
    return result.event
  }
}
const falseMatch = (entry: string): TimedBuilder => instruction('FALSE_MATCH', { listId: entry.slice(0, entry.lastIndexOf(':')), entryId: entry.slice(entry.lastIndexOf(':') + 1), caseId: 'case-7' })
const trueMatch = (entry: string): TimedBuilder => instruction('TRUE_MATCH', { listId: entry.slice(0, entry.lastIndexOf(':')), entryId: entry.slice(entry.lastIndexOf(':') + 1) })
const rescreen = (listVersion: string | null = null): TimedBuilder => instruction('RESCREEN', { listVersion })

const stateOf = (steps: readonly ScenarioStep[]): SanctionsMatchState => steps[steps.length - 1]?.state as SanctionsMatchState
const matchOf = (steps: readonly ScenarioStep[]): string | null => {
  const match = stateOf(steps).match
  return match === null ? null : `${match.listId}:${match.entryId}`
}

describe('sanctions_potential_match and sanctions_confirmed_match', () => {
  const cases = [
    { score: 0.83, dateOfBirth: 'exact', potential: false, confirmed: false },
    { score: 0.84, dateOfBirth: 'unknown', potential: true, confirmed: false },
    { score: 0.94, dateOfBirth: 'exact', potential: true, confirmed: false },
    { score: 0.95, dateOfBirth: 'exact', potential: true, confirmed: true },
    { score: 0.99, dateOfBirth: 'contradicts', potential: true, confirmed: false },
  ] as const
  for (const testCase of cases) {
    it(`score ${testCase.score}, date of birth ${testCase.dateOfBirth}: potential ${testCase.potential}, confirmed ${testCase.confirmed}`, () => {
      const screen = fixedScreen({ 'Ivan Petrov': { score: testCase.score, dateOfBirth: testCase.dateOfBirth } })
      const scenario = [at(0, playerChange({ type: 'REGISTERED' })), at(HOUR_MS, withdrawal(100_00))]
      const potentialSteps = runScenario(sanctionsPotentialMatch, potential, scenario, { profile: named, screen })
      const confirmedSteps = runScenario(sanctionsConfirmedMatch, confirmed, scenario, { profile: named, screen })
      // an alert on the registration only when it matches; the withdrawal is judged either way
      expect(potentialSteps[0]?.observation?.hit ?? false).toBe(testCase.potential)
      expect(lastObservation(potentialSteps)).toMatchObject({ hit: testCase.potential, threshold: 0.84 })
      expect(lastObservation(confirmedSteps)).toMatchObject({ hit: testCase.confirmed, threshold: 0.95 })
    })
  }

  it('screens again only when the name, date of birth or country changes', () => {
    let calls = 0
    const screen: ScreenFunction = (query) => {
      calls += 1
      return fixedScreen({ 'Ivan Petrov': { score: 0.9, dateOfBirth: 'exact' } })(query)
    }
    runScenario(sanctionsPotentialMatch, potential, [at(0, playerChange({ type: 'REGISTERED' })), at(1, playerChange({ type: 'PROFILE_UPDATED' }))], { profile: named, screen })
    expect(calls).toBe(1)
  })

  it('records nothing when the engine runs without lists', () => {
    expect(lastObservation(runScenario(sanctionsPotentialMatch, potential, [at(0, playerChange({ type: 'REGISTERED' })), at(1, withdrawal(100_00))], { profile: named, screen: null }))).toBeNull()
    expect(lastObservation(runScenario(sanctionsPotentialMatch, potential, [at(0, rescreen())], { profile: named, screen: null }))).toBeNull()
    // a verdict is still remembered, for when lists are loaded again
    const verdict = runScenario(sanctionsPotentialMatch, potential, [at(0, falseMatch('ofac-sdn:1')), at(1, falseMatch('ofac-sdn:2')), at(2, trueMatch('ofac-sdn:1'))], { profile: named, screen: null })
    expect(stateOf(verdict)).toEqual({ screenedKey: null, lastScore: 0, match: null, dismissed: ['ofac-sdn:2'] })
  })

  it('declines the withdrawal of a player registered under a listed name with the same date of birth, through the pipeline and a real screener', async () => {
    const screener = buildScreener([await loadWatchlistCsv({ listId: 'watchlist', path: path.join(FIXTURES, 'watchlist-sample.csv') })])
    const pipeline = await testPipeline({ screen: toScreenFunction(screener) })
    const base = Date.UTC(2026, 0, 5) // adults at this time, so only the list match speaks
    pipeline.send('players', player({ playerId: 'pep', eventTimeMs: base, firstName: 'Jane', lastName: 'Example', dateOfBirth: '1961-02-03', country: 'MT' }))
    pipeline.send('players', player({ playerId: 'other', eventTimeMs: base, firstName: 'Maria', lastName: 'Borg', dateOfBirth: '1980-05-05', country: 'MT' }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'pep', withdrawalId: 'w-pep', eventTimeMs: base + HOUR_MS }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'other', withdrawalId: 'w-other', eventTimeMs: base + HOUR_MS }))
    await pipeline.driver.run()
    const decisions = Object.fromEntries((await pipeline.decisions()).map((decision) => [decision.withdrawalId, decision]))
    expect(decisions['w-pep']?.outcome).toBe('DECLINE')
    expect(decisions['w-pep']?.playerReasonCode).toBe('UNABLE_TO_PROCESS')
    expect(decisions['w-pep']?.executions.find((execution) => execution.detectorId === 'sanctions_confirmed_match')).toMatchObject({ status: 'HIT' })
    expect(decisions['w-other']?.executions.find((execution) => execution.detectorId === 'sanctions_potential_match')).toMatchObject({ status: 'NO_HIT' })
    expect(decisions['w-other']?.reasons.map((reason) => reason.code)).toEqual(['NO_RISK_SIGNALS'])
    expect(decisions['w-other']?.outcome).toBe('APPROVE')
  })
})

/**
 * Screening instructions (risk.screening.v1) against the real shared lists: OFAC SDN and the UN
 * consolidated list (SDN + UN), or the UN list alone as the lists "before an update".
 * Saddam Hussein, born 1937-04-28: SDN 7843 scores 1.00 and UN 6908048 0.97, both with the exact
 * date of birth. Osama bin Laden: SDN 6365 only (nothing on the UN list of individuals qualifies).
 */
describe('screening instructions on the real lists', () => {
  let both: ScreenFunction
  let unOnly: ScreenFunction
  beforeAll(async () => {
    const [sdn, un] = await Promise.all([loadSdn(), loadUn()])
    both = toScreenFunction(buildScreener([sdn, un]))
    unOnly = toScreenFunction(buildScreener([un]))
  }, 60_000)

  const SADDAM = profile({ firstName: 'Saddam', lastName: 'Hussein', dateOfBirth: '1937-04-28', country: 'IQ' })
  const OSAMA = profile({ firstName: 'Osama', lastName: 'bin Laden', dateOfBirth: null, country: null })
  const SDN_SADDAM = 'ofac-sdn:7843'
  const UN_SADDAM = 'un-consolidated:6908048'
  const SDN_OSAMA = 'ofac-sdn:6365'

  interface Row {
    readonly name: string
    readonly profile: PlayerProfile
    /** Lists before the instructions (the registration is screened with these). */
    readonly before: 'unOnly' | 'both'
    /** Lists the instructions and the withdrawal see; both unless told. */
    readonly after?: 'unOnly' | 'both'
    readonly instructions: readonly TimedBuilder[]
    /** Observation of the last instruction: null = none, else whether it is a hit and words of its detail. */
    readonly expected: { readonly hit: boolean; readonly detail: RegExp } | null
    /** The stored match afterwards, for potential and confirmed. */
    readonly potentialMatch: string | null
    readonly confirmedMatch: string | null
    readonly dismissed: readonly string[]
  }

  const table: Record<'RESCREEN' | 'FALSE_MATCH' | 'TRUE_MATCH', readonly Row[]> = {
    RESCREEN: [
      { name: 'a name added to the lists is found and raised', profile: OSAMA, before: 'unOnly', instructions: [rescreen('ofac-sdn@sha256:a1')], expected: { hit: true, detail: /^rescreened \(lists ofac-sdn@sha256:a1\): .*ofac-sdn entry 6365/ }, potentialMatch: SDN_OSAMA, confirmedMatch: null, dismissed: [] },
      { name: 'a name no longer listed loses its stored match', profile: OSAMA, before: 'both', after: 'unOnly', instructions: [rescreen()], expected: { hit: false, detail: /^rescreened: best list score 0\.\d\d, under the/ }, potentialMatch: null, confirmedMatch: null, dismissed: [] },
      { name: 'an unchanged match is raised again on the instruction', profile: SADDAM, before: 'both', instructions: [rescreen()], expected: { hit: true, detail: /ofac-sdn entry 7843/ }, potentialMatch: SDN_SADDAM, confirmedMatch: SDN_SADDAM, dismissed: [] },
      { name: 'a dismissed entry is skipped', profile: SADDAM, before: 'both', instructions: [falseMatch(SDN_SADDAM), rescreen()], expected: { hit: true, detail: /un-consolidated entry 6908048/ }, potentialMatch: UN_SADDAM, confirmedMatch: UN_SADDAM, dismissed: [SDN_SADDAM] },
      { name: 'a player without a name is not screened', profile: profile(), before: 'both', instructions: [rescreen()], expected: null, potentialMatch: null, confirmedMatch: null, dismissed: [] },
    ],
    FALSE_MATCH: [
      { name: 'the stored entry dismissed: the next best one still qualifies', profile: SADDAM, before: 'both', instructions: [falseMatch(SDN_SADDAM)], expected: { hit: true, detail: /^ofac-sdn:7843 dismissed as a false match by officer-anna in case case-7; screened again without it: .*un-consolidated entry 6908048/ }, potentialMatch: UN_SADDAM, confirmedMatch: UN_SADDAM, dismissed: [SDN_SADDAM] },
      { name: 'the stored entry dismissed: nothing else qualifies', profile: OSAMA, before: 'both', instructions: [falseMatch(SDN_OSAMA)], expected: { hit: false, detail: /screened again without it: best list score 0\.00, under the \w+ threshold; 1 dismissed entry skipped/ }, potentialMatch: null, confirmedMatch: null, dismissed: [SDN_OSAMA] },
      { name: 'another entry dismissed: remembered, the stored match stays, no new alert', profile: SADDAM, before: 'both', instructions: [falseMatch(UN_SADDAM)], expected: { hit: false, detail: /^un-consolidated:6908048 dismissed as a false match .*; the stored match stays \(name matches ofac-sdn entry 7843/ }, potentialMatch: SDN_SADDAM, confirmedMatch: SDN_SADDAM, dismissed: [UN_SADDAM] },
      { name: 'both entries dismissed, in any order, kept sorted and once', profile: SADDAM, before: 'both', instructions: [falseMatch(UN_SADDAM), falseMatch(SDN_SADDAM), falseMatch(SDN_SADDAM)], expected: { hit: false, detail: /no match was stored/ }, potentialMatch: null, confirmedMatch: null, dismissed: [SDN_SADDAM, UN_SADDAM] },
      { name: 'a dismissal before any match is kept for later screenings', profile: OSAMA, before: 'unOnly', instructions: [falseMatch(SDN_OSAMA), rescreen()], expected: { hit: false, detail: /1 dismissed entry skipped/ }, potentialMatch: null, confirmedMatch: null, dismissed: [SDN_OSAMA] },
    ],
    TRUE_MATCH: [
      { name: 'withdraws a dismissal and the entry matches again', profile: OSAMA, before: 'both', instructions: [falseMatch(SDN_OSAMA), trueMatch(SDN_OSAMA)], expected: { hit: true, detail: /^false-match verdict on ofac-sdn:6365 withdrawn by officer-anna; screened again: .*ofac-sdn entry 6365/ }, potentialMatch: SDN_OSAMA, confirmedMatch: null, dismissed: [] },
      { name: 'withdraws one of two dismissals', profile: SADDAM, before: 'both', instructions: [falseMatch(SDN_SADDAM), falseMatch(UN_SADDAM), trueMatch(UN_SADDAM)], expected: { hit: true, detail: /un-consolidated entry 6908048/ }, potentialMatch: UN_SADDAM, confirmedMatch: UN_SADDAM, dismissed: [SDN_SADDAM] },
      { name: 'without a dismissal it screens again', profile: SADDAM, before: 'both', instructions: [trueMatch(SDN_SADDAM)], expected: { hit: true, detail: /ofac-sdn entry 7843/ }, potentialMatch: SDN_SADDAM, confirmedMatch: SDN_SADDAM, dismissed: [] },
    ],
  }

  for (const [type, rows] of Object.entries(table)) {
    describe(type, () => {
      for (const row of rows) {
        it(row.name, () => {
          const byLevel = [
            { detector: sanctionsPotentialMatch, params: potential, expected: row.potentialMatch },
            { detector: sanctionsConfirmedMatch, params: confirmed, expected: row.confirmedMatch },
          ]
          for (const { detector, params, expected } of byLevel) {
            // registration screened with the lists before; the instructions (and a withdrawal) with both lists
            const registered = runScenario(detector, params, [at(0, playerChange({ type: 'REGISTERED' }))], { profile: row.profile, screen: row.before === 'both' ? both : unOnly })
            const steps = runScenario(detector, params, [...row.instructions.map((builder, index) => at(HOUR_MS * (index + 1), builder)), at(10 * HOUR_MS, withdrawal(100_00))], { profile: row.profile, screen: row.after === 'unOnly' ? unOnly : both, state: stateOf(registered) })
            const last = steps[steps.length - 2]?.observation ?? null
            if (row.expected === null) expect(last).toBeNull()
            else {
              expect(last?.hit, `${detector.id}: ${last?.detail}`).toBe(detector === sanctionsPotentialMatch || expected !== null ? row.expected.hit : false)
              if (detector === sanctionsPotentialMatch) expect(last?.detail).toMatch(row.expected.detail)
              if (last?.hit === true) expect(last.evidenceEventIds).toEqual([steps[steps.length - 2]?.event.eventId])
            }
            expect(matchOf(steps), detector.id).toBe(expected)
            expect(stateOf(steps).dismissed).toEqual(row.dismissed)
            // the withdrawal is judged on what is stored
            expect(lastObservation(steps)?.hit ?? false, `${detector.id} on the withdrawal`).toBe(expected !== null)
          }
        })
      }
    })
  }

  it('after the version 2 upgrade (state afresh) a RESCREEN restores the stored match', () => {
    expect([sanctionsPotentialMatch.version, sanctionsConfirmedMatch.version]).toEqual([2, 2])
    const steps = runScenario(sanctionsConfirmedMatch, confirmed, [at(0, rescreen()), at(HOUR_MS, withdrawal(100_00))], { profile: SADDAM, screen: both })
    expect(steps[0]?.observation).toMatchObject({ hit: true, value: 1 })
    expect(lastObservation(steps)).toMatchObject({ hit: true })
  })

  it('a dismissal holds across a later profile change: a new name, then back, never matches the entry', () => {
    const renamed = profile({ firstName: 'Osama', lastName: 'bin Laden', dateOfBirth: '1957-03-10', country: null })
    const before = runScenario(sanctionsPotentialMatch, potential, [at(0, playerChange({ type: 'REGISTERED' })), at(1, falseMatch(SDN_OSAMA))], { profile: OSAMA, screen: both })
    const after = runScenario(sanctionsPotentialMatch, potential, [at(2, playerChange({ type: 'PROFILE_UPDATED' }))], { profile: renamed, screen: both, state: stateOf(before) })
    expect(after[0]?.observation).toBeNull()
    expect(stateOf(after)).toMatchObject({ match: null, dismissed: [SDN_OSAMA], screenedKey: 'Osama bin Laden|1957-03-10|' })
  })
})

describe('screening instructions through the pipeline', () => {
  it('a RESCREEN and a FALSE_MATCH on risk.screening.v1: the alert carries the instruction, the dismissal approves the next withdrawal', async () => {
    const screener = buildScreener([await loadWatchlistCsv({ listId: 'watchlist', path: path.join(FIXTURES, 'watchlist-sample.csv') })])
    const pipeline = await testPipeline({ screen: toScreenFunction(screener) })
    const base = Date.UTC(2026, 0, 5)
    const send = (type: ScreeningInstruction['type'], eventTimeMs: number, fields: Partial<ScreeningInstruction> = {}): void =>
      pipeline.send('screening', { eventId: `sc-${type}-${eventTimeMs}`, playerId: 'pep', eventTimeMs, type, listVersion: null, listId: null, entryId: null, officerId: null, caseId: null, note: null, ...fields })
    pipeline.send('players', player({ playerId: 'pep', eventTimeMs: base, firstName: 'Jane', lastName: 'Example', dateOfBirth: '1961-02-03', country: 'MT' }))
    send('RESCREEN', base + 1, { listVersion: 'watchlist@test' })
    send('FALSE_MATCH', base + 2, { listId: 'watchlist', entryId: 'pep-1', officerId: 'officer-anna' })
    // Screening instructions are a side input: they do not hold the casino feeds' merge back, so
    // the officer's verdict is in before the withdrawal that follows it (as it is in real time).
    await pipeline.driver.run()
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'pep', withdrawalId: 'w-after', eventTimeMs: base + HOUR_MS }))
    await pipeline.driver.run()
    const alerts = await alertsOf(pipeline)
    expect(alerts.filter((alert) => alert.evidenceEventIds.includes(`sc-RESCREEN-${base + 1}`)).map((alert) => alert.alertId).sort())
      .toEqual([`sanctions_confirmed_match@2:sc-RESCREEN-${base + 1}`, `sanctions_potential_match@2:sc-RESCREEN-${base + 1}`])
    const [decision] = (await pipeline.decisions()).filter((entry) => entry.withdrawalId === 'w-after')
    expect(decision?.executions.find((execution) => execution.detectorId === 'sanctions_confirmed_match')).toMatchObject({ status: 'NO_HIT', detail: expect.stringContaining('1 dismissed entry skipped') as unknown })
    expect(decision?.outcome).toBe('APPROVE')
  })
})
