/**
 * sanctions_potential_match and sanctions_confirmed_match: the player's KYC name (with date of
 * birth and country as evidence) screened against the loaded sanctions and PEP lists
 * (screening/) whenever a player event changes what is screened; a withdrawal is then judged on
 * the stored result.
 *
 * - potential: best score at or above `threshold` -> the rule set's action (shipped: hold for
 *   review, high), an alert for an officer on the player event;
 * - confirmed: best score at or above its (higher) `threshold` and, with
 *   `requireExactDateOfBirth`, the list's date of birth equal to the player's -> the rule set's
 *   action (shipped: block payout, critical). An officer's verdict on a match is not modelled yet.
 *
 * Worked example (potential threshold 0.84): a player registers as "Saddam Hussein", born
 * 1937-04-28 -> SDN entry 7843 scores 1.0 with an exact date of birth: both fire on the
 * registration; the player's next withdrawal is a hit for both, so the decision is DECLINE.
 *
 * Time plays no part (a list match does not expire); nothing here is late.
 */
import { defineDetector, type DetectorContext, type ScreenedName } from './detector.js'
import type { PlayerEvent, WithdrawalEvent } from '../schemas/domain.js'

interface StoredMatch {
  readonly score: number
  readonly listId: string
  readonly listVersion: string
  readonly entryId: string
  readonly matchedName: string
  readonly dateOfBirth: string
}

export interface SanctionsMatchState {
  /** What was last screened (name, date of birth, country), so an unchanged profile is not screened again. */
  readonly screenedKey: string | null
  readonly lastScore: number
  readonly match: StoredMatch | null
}

export interface SanctionsMatchParams {
  readonly threshold: number
  readonly requireExactDateOfBirth: boolean
}

type Level = 'potential' | 'confirmed'

function qualifies(result: ScreenedName, params: SanctionsMatchParams): boolean {
  if (result.best === null || result.score < params.threshold) return false
  return !params.requireExactDateOfBirth || result.best.dateOfBirth === 'exact'
}

function describe(match: StoredMatch): string {
  return `name matches ${match.listId} entry ${match.entryId} ('${match.matchedName}'), score ${match.score.toFixed(2)}, date of birth ${match.dateOfBirth}`
}

function sanctionsDetector(level: Level, defaults: SanctionsMatchParams) {
  return defineDetector({
    id: `sanctions_${level}_match`,
    version: 1,
    description: level === 'potential'
      ? 'KYC name scoring at or above the threshold against a sanctions or PEP list'
      : 'KYC name matching a sanctions or PEP list entry closely, with the same date of birth',
    accepts: ['player', 'withdrawal'] as const,
    params: {
      type: 'object',
      additionalProperties: false,
      required: ['threshold'],
      properties: {
        threshold: { type: 'number', minimum: 0.5, maximum: 1 },
        requireExactDateOfBirth: { type: 'boolean', default: defaults.requireExactDateOfBirth },
      },
    },
    init: (): SanctionsMatchState => ({ screenedKey: null, lastScore: 0, match: null }),
    step(state: SanctionsMatchState, event: PlayerEvent | WithdrawalEvent, params: SanctionsMatchParams, context: DetectorContext) {
      if (context.screen === null) return { state, observation: null }
      if (event.kind === 'player') {
        const { firstName, lastName, dateOfBirth, country } = context.profile
        const fullName = [firstName, lastName].filter((part) => part !== null && part.trim() !== '').join(' ')
        if (fullName === '') return { state, observation: null }
        const screenedKey = `${fullName}|${dateOfBirth ?? ''}|${country ?? ''}`
        if (screenedKey === state.screenedKey) return { state, observation: null }
        const result = context.screen({ fullName, dateOfBirth, country })
        const match: StoredMatch | null = qualifies(result, params) && result.best !== null
          ? { score: result.score, listId: result.best.listId, listVersion: result.best.listVersion, entryId: result.best.entryId, matchedName: result.best.matchedName, dateOfBirth: result.best.dateOfBirth }
          : null
        const next: SanctionsMatchState = { screenedKey, lastScore: result.score, match }
        if (match === null) return { state: next, observation: null }
        return {
          state: next,
          observation: { hit: true, value: match.score, threshold: params.threshold, detail: `${level} sanctions match: ${describe(match)}`, evidenceEventIds: [event.eventId], windowStartMs: null, windowEndMs: null },
        }
      }
      if (event.type !== 'REQUESTED') return { state, observation: null }
      const match = state.match
      return {
        state,
        observation: match === null
          ? { hit: false, value: state.screenedKey === null ? null : state.lastScore, threshold: params.threshold, detail: state.screenedKey === null ? 'no name screened yet' : `best list score ${state.lastScore.toFixed(2)}, under the ${level} threshold`, evidenceEventIds: [], windowStartMs: null, windowEndMs: null }
          : { hit: true, value: match.score, threshold: params.threshold, detail: `${level} sanctions match: ${describe(match)}`, evidenceEventIds: [event.eventId], windowStartMs: null, windowEndMs: null },
      }
    },
  })
}

export const sanctionsPotentialMatch = sanctionsDetector('potential', { threshold: 0.84, requireExactDateOfBirth: false })
export const sanctionsConfirmedMatch = sanctionsDetector('confirmed', { threshold: 0.95, requireExactDateOfBirth: true })
