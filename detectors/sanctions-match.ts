/**
 * sanctions_potential_match and sanctions_confirmed_match: the player's KYC name (with date of
 * birth and country as evidence) screened against the loaded sanctions and PEP lists
 * (screening/) whenever a player event changes what is screened or a screening instruction
 * (risk.screening.v1) asks for it; a withdrawal is then judged on the stored result.
 *
 * - potential: best score at or above `threshold` -> the rule set's action (shipped: hold for
 *   review, high), an alert for an officer on the player event;
 * - confirmed: best score at or above its (higher) `threshold` and, with
 *   `requireExactDateOfBirth`, the list's date of birth equal to the player's -> the rule set's
 *   action (shipped: block payout, critical).
 *
 * Screening instructions (issue 7, docs/screening.md):
 * - RESCREEN: the profile's name is screened again with the lists loaded now (sent for every
 *   player by screening/rescreen.ts after a list update); a qualifying result is a hit, so an
 *   alert, on the instruction.
 * - FALSE_MATCH: an officer's verdict that list entry `listId:entryId` is not this player. It is
 *   remembered (`dismissed`) and never matched again for this player; when the stored match is
 *   that entry, the name is screened again without it, since the next best entry may still
 *   qualify (then a hit). The observation's detail says which happened.
 * - TRUE_MATCH: withdraws a FALSE_MATCH for that entry and screens again.
 * Every screening skips the dismissed entries.
 *
 * Version 2 added `dismissed` to the state. A version change starts a detector afresh, so after
 * the upgrade stored matches are gone until each player is screened again: send a RESCREEN for
 * every player (screening/rescreen.ts) right after deploying it.
 *
 * Worked example (potential threshold 0.84): a player registers as "Saddam Hussein", born
 * 1937-04-28 -> SDN entry 7843 scores 1.0 with an exact date of birth: both fire on the
 * registration; the player's next withdrawal is a hit for both, so the decision is DECLINE.
 * An officer then sends FALSE_MATCH for ofac-sdn:7843 -> the name is screened without it; if
 * another entry still qualifies that one is stored (a hit on the verdict), else nothing is.
 *
 * Time plays no part (a list match does not expire); nothing here is late.
 */
import { defineDetector, listEntryKey, type DetectorContext, type Observation, type ScreenedName } from './detector.js'
import type { PlayerEvent, ScreeningEvent, WithdrawalEvent } from '../schemas/domain.js'

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
  /** Entries (`listId:entryId`) officers said are not this player, sorted so the state is deterministic. */
  readonly dismissed: readonly string[]
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
  return `name matches ${match.listId} entry ${match.entryId} ('${match.matchedName}', list version ${match.listVersion}), score ${match.score.toFixed(2)}, date of birth ${match.dateOfBirth}`
}

/** "best list score 0.42, under the potential threshold" (and the dismissed entries skipped, when any). */
function describeNoMatch(level: Level, score: number, dismissedCount: number): string {
  const skipped = dismissedCount === 0 ? '' : `; ${dismissedCount} dismissed ${dismissedCount === 1 ? 'entry' : 'entries'} skipped`
  return `best list score ${score.toFixed(2)}, under the ${level} threshold${skipped}`
}

const observe = (hit: boolean, value: number | null, params: SanctionsMatchParams, detail: string, evidenceEventIds: readonly string[]): Observation =>
  ({ hit, value, threshold: params.threshold, detail, evidenceEventIds, windowStartMs: null, windowEndMs: null })

interface Screened {
  readonly state: SanctionsMatchState
  readonly match: StoredMatch | null
}

/** What a profile puts to the screener, and the key that says whether it changed; null without a name. */
function profileQuery(context: DetectorContext): { fullName: string; dateOfBirth: string | null; country: string | null; screenedKey: string } | null {
  const { firstName, lastName, dateOfBirth, country } = context.profile
  const fullName = [firstName, lastName].filter((part) => part !== null && part.trim() !== '').join(' ')
  if (fullName === '') return null
  return { fullName, dateOfBirth, country, screenedKey: `${fullName}|${dateOfBirth ?? ''}|${country ?? ''}` }
}

/** Screens the profile's name (skipping dismissed entries) and stores the outcome; null when there is no name. */
function screenProfile(params: SanctionsMatchParams, context: DetectorContext, dismissed: readonly string[]): Screened | null {
  const query = profileQuery(context)
  if (context.screen === null || query === null) return null
  const { fullName, dateOfBirth, country, screenedKey } = query
  const result = context.screen(dismissed.length === 0 ? { fullName, dateOfBirth, country } : { fullName, dateOfBirth, country, exclude: new Set(dismissed) })
  const match: StoredMatch | null = qualifies(result, params) && result.best !== null
    ? { score: result.score, listId: result.best.listId, listVersion: result.best.listVersion, entryId: result.best.entryId, matchedName: result.best.matchedName, dateOfBirth: result.best.dateOfBirth }
    : null
  return { state: { screenedKey, lastScore: result.score, match, dismissed }, match }
}

function sanctionsDetector(level: Level, defaults: SanctionsMatchParams) {
  const matchLine = (match: StoredMatch): string => `${level} sanctions match: ${describe(match)}`

  /** RESCREEN, FALSE_MATCH and TRUE_MATCH (see the module comment). */
  function instruction(state: SanctionsMatchState, event: ScreeningEvent, params: SanctionsMatchParams, context: DetectorContext): { state: SanctionsMatchState; observation: Observation | null } {
    const evidence = [event.eventId]
    const outcome = (screened: Screened, prefix: string): { state: SanctionsMatchState; observation: Observation } => ({
      state: screened.state,
      observation: screened.match === null
        ? observe(false, screened.state.lastScore, params, `${prefix}: ${describeNoMatch(level, screened.state.lastScore, screened.state.dismissed.length)}`, evidence)
        : observe(true, screened.match.score, params, `${prefix}: ${matchLine(screened.match)}`, evidence),
    })
    if (event.type === 'RESCREEN') {
      const screened = screenProfile(params, context, state.dismissed)
      if (screened === null) return { state, observation: null }
      const lists = event.listVersion === null ? '' : ` (lists ${event.listVersion})`
      return outcome(screened, `rescreened${lists}`)
    }
    // UNKNOWN is dead-lettered by the adapter; a verdict always names its entry (schemas/adapters.ts).
    if ((event.type !== 'FALSE_MATCH' && event.type !== 'TRUE_MATCH') || event.listId === null || event.entryId === null) return { state, observation: null }
    const entry = listEntryKey(event.listId, event.entryId)
    const by = `${event.officerId ?? 'an officer'}${event.caseId === null ? '' : ` in case ${event.caseId}`}`
    if (event.type === 'FALSE_MATCH') {
      const dismissed = state.dismissed.includes(entry) ? state.dismissed : [...state.dismissed, entry].sort()
      const remembered: SanctionsMatchState = { ...state, dismissed }
      const stored = state.match
      if (stored === null || listEntryKey(stored.listId, stored.entryId) !== entry) {
        // Remembered for later screenings; the stored match (another entry, or none) is unchanged, so no new alert.
        const detail = `${entry} dismissed as a false match by ${by}; ${stored === null ? 'no match was stored' : `the stored match stays (${describe(stored)})`}`
        return { state: remembered, observation: observe(false, null, params, detail, evidence) }
      }
      // The stored match was the dismissed entry: the next best one may still qualify.
      const screened = screenProfile(params, context, dismissed)
      if (screened === null) return { state: { ...remembered, match: null }, observation: observe(false, null, params, `${entry} dismissed as a false match by ${by}; stored match cleared (no name to screen again, or no lists loaded)`, evidence) }
      return outcome(screened, `${entry} dismissed as a false match by ${by}; screened again without it`)
    }
    const dismissed = state.dismissed.filter((key) => key !== entry)
    const screened = screenProfile(params, context, dismissed)
    if (screened === null) return { state: { ...state, dismissed }, observation: null }
    return outcome(screened, `false-match verdict on ${entry} withdrawn by ${by}; screened again`)
  }

  return defineDetector({
    id: `sanctions_${level}_match`,
    version: 2,
    description: level === 'potential'
      ? 'KYC name scoring at or above the threshold against a sanctions or PEP list'
      : 'KYC name matching a sanctions or PEP list entry closely, with the same date of birth',
    accepts: ['player', 'withdrawal', 'screening'] as const,
    params: {
      type: 'object',
      additionalProperties: false,
      required: ['threshold'],
      properties: {
        threshold: { type: 'number', minimum: 0.5, maximum: 1 },
        requireExactDateOfBirth: { type: 'boolean', default: defaults.requireExactDateOfBirth },
      },
    },
    init: (): SanctionsMatchState => ({ screenedKey: null, lastScore: 0, match: null, dismissed: [] }),
    step(state: SanctionsMatchState, event: PlayerEvent | WithdrawalEvent | ScreeningEvent, params: SanctionsMatchParams, context: DetectorContext) {
      // A verdict is remembered even while the engine runs without lists.
      if (event.kind === 'screening') return instruction(state, event, params, context)
      if (context.screen === null) return { state, observation: null }
      if (event.kind === 'player') {
        const query = profileQuery(context)
        if (query === null || query.screenedKey === state.screenedKey) return { state, observation: null }
        const screened = screenProfile(params, context, state.dismissed)
        if (screened === null) return { state, observation: null }
        if (screened.match === null) return { state: screened.state, observation: null }
        return { state: screened.state, observation: observe(true, screened.match.score, params, matchLine(screened.match), [event.eventId]) }
      }
      if (event.type !== 'REQUESTED') return { state, observation: null }
      const match = state.match
      return {
        state,
        observation: match === null
          ? observe(false, state.screenedKey === null ? null : state.lastScore, params, state.screenedKey === null ? 'no name screened yet' : describeNoMatch(level, state.lastScore, state.dismissed.length), [])
          : observe(true, match.score, params, matchLine(match), [event.eventId]),
      }
    },
  })
}

export const sanctionsPotentialMatch = sanctionsDetector('potential', { threshold: 0.84, requireExactDateOfBirth: false })
export const sanctionsConfirmedMatch = sanctionsDetector('confirmed', { threshold: 0.95, requireExactDateOfBirth: true })
