import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import type { ScreenFunction } from '../../detectors/detector.js'
import { sanctionsConfirmedMatch, sanctionsPotentialMatch } from '../../detectors/sanctions-match.js'
import { loadWatchlistCsv } from '../../screening/loaders/watchlist.js'
import { buildScreener } from '../../screening/index.js'
import { toScreenFunction } from '../../screening/screen-function.js'
import { testPipeline } from '../support/pipeline.js'
import { HOUR_MS, at, lastObservation, paramsFor, playerChange, profile, runScenario, withdrawal } from './scenario.js'

/** A screen function with fixed answers per name, so thresholds can be walked exactly. */
const fixedScreen = (scores: Record<string, { score: number; dateOfBirth: 'exact' | 'year' | 'contradicts' | 'unknown' }>): ScreenFunction => ({ fullName }) => {
  const entry = scores[fullName]
  if (entry === undefined) return { score: 0, best: null }
  return { score: entry.score, best: { listId: 'test-list', listVersion: 'v1', entryId: 'e-1', matchedName: fullName.toUpperCase(), dateOfBirth: entry.dateOfBirth } }
}

const potential = paramsFor('sanctions_potential_match', 'MT', 'VERIFIED')
const confirmed = paramsFor('sanctions_confirmed_match', 'MT', 'VERIFIED')
const named = profile({ firstName: 'Ivan', lastName: 'Petrov', dateOfBirth: '1970-01-01' })

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
  })

  it('declines the withdrawal of a player registered under a listed name with the same date of birth, through the pipeline and a real screener', async () => {
    const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), '../screening/fixtures/watchlist-sample.csv')
    const screener = buildScreener([await loadWatchlistCsv({ listId: 'watchlist', path: fixture })])
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
