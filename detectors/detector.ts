/**
 * The detector contract. A detector is a pure step over a player's state: given its previous
 * state, one event and its parameters from the active rule set, it returns the next state and,
 * when it evaluated something, an observation (hit or not, the value, the threshold, the
 * evidence). No await, no clock, no I/O: time is the event's `eventTimeMs`.
 *
 * Severity and action are not the detector's business: they come from the rule set and are
 * attached by the pipeline when an observation is a hit.
 *
 * Example (see withdrawal-velocity.ts for a whole one):
 *   export const withdrawalVelocity = defineDetector({
 *     id: 'withdrawal_velocity', version: 1, accepts: ['withdrawal'] as const,
 *     params: { type: 'object', properties: { maxCount: { type: 'integer', minimum: 0 } }, ... },
 *     init: () => ({ requests: [] }),
 *     step: (state, event, params) => ({ state: next, observation }),
 *   })
 */
import type { InputEvent } from '../schemas/domain.js'

export type EventKind = InputEvent['kind']

/** What the player looks like to a detector at the time of the event. */
export interface PlayerProfile {
  readonly jurisdiction: string
  readonly tier: string
  readonly kycStatus: string
  readonly registeredAtMs: number | null
  readonly country: string | null
  readonly dateOfBirth: string | null
  readonly selfExcludedUntilMs: number | null
  /** Names as verified by KYC (null until known). */
  readonly firstName: string | null
  readonly lastName: string | null
  readonly kycLevel: number | null
  readonly referrerPlayerId: string | null
}

/**
 * Name screening against the loaded sanctions and PEP lists (screening/), as detectors see it:
 * a pure lookup in an in-memory index, null when the engine runs without lists.
 *
 * `exclude` holds `listId:entryId` keys an officer dismissed as false matches for this player
 * (issue 7): those entries are skipped and the best remaining one is answered.
 *
 * Example:
 *   screen({ fullName: 'Ivan Petrov', dateOfBirth: '1970-01-01', country: 'RU', exclude: new Set(['ofac-sdn:7843']) })
 *   // -> { score: 0.91, best: { listId: 'un-consolidated', entryId: '6908048', ... }, excludedMatches: 1 }
 */
export type ScreenFunction = (query: ScreenQuery) => ScreenedName
export interface ScreenQuery {
  readonly fullName: string
  readonly dateOfBirth: string | null
  readonly country: string | null
  /** List entries (`listId:entryId`) never to answer; absent or empty = none. */
  readonly exclude?: ReadonlySet<string>
}
/** The key of a list entry in `ScreenQuery.exclude` and in officers' verdicts. Example: `listEntryKey('ofac-sdn', '7843')` -> `'ofac-sdn:7843'`. */
export const listEntryKey = (listId: string, entryId: string): string => `${listId}:${entryId}`
export interface ScreenedName {
  /**
   * Best score of any list entry not excluded, 0..1. When every match at or above the screener's
   * threshold was excluded, 0: the screener keeps no scores under its threshold, so the best
   * remaining one is not known, only that it is under the threshold.
   */
  readonly score: number
  /** How many matches at or above the threshold were skipped because `exclude` named them; absent = 0. */
  readonly excludedMatches?: number
  readonly best: {
    readonly listId: string
    readonly listVersion: string
    readonly entryId: string
    readonly matchedName: string
    readonly dateOfBirth: 'exact' | 'year' | 'contradicts' | 'unknown'
  } | null
}

export interface DetectorContext {
  readonly profile: PlayerProfile
  /** Highest event time seen on this partition so far (including this event). */
  readonly streamTimeMs: number
  /** Sanctions and PEP screening; null when the engine runs without lists. */
  readonly screen: ScreenFunction | null
}

export interface Observation {
  readonly hit: boolean
  readonly value: number | null
  readonly threshold: number | null
  /** One line an officer can read, e.g. "4 withdrawals in 24 h, limit 3". */
  readonly detail: string
  readonly evidenceEventIds: readonly string[]
  readonly windowStartMs: number | null
  readonly windowEndMs: number | null
}

export interface StepResult<State> {
  readonly state: State
  readonly observation: Observation | null
  /**
   * True when the event fell behind a window that had already closed (event time before
   * stream time minus the detector's grace). The detector decides what a late event still
   * changes; the pipeline counts it (pitboss_late_events_total) and logs where it came from.
   */
  readonly late?: boolean
}

/** A JSON schema (validated with ajv when a rule set is loaded). */
export type ParamsSchema = Readonly<Record<string, unknown>>

export interface Detector<Kind extends EventKind = EventKind, State = unknown, Params = unknown> {
  readonly id: string
  readonly version: number
  readonly description: string
  readonly accepts: readonly Kind[]
  readonly params: ParamsSchema
  init(): State
  step(state: State, event: Extract<InputEvent, { kind: Kind }>, params: Params, context: DetectorContext): StepResult<State>
}

/** A detector as the registry holds it: the event type is checked by `accepts` at run time. */
export type AnyDetector = Detector<EventKind, unknown, unknown>

export function defineDetector<const Kind extends EventKind, State, Params>(detector: Detector<Kind, State, Params>): AnyDetector {
  if (!/^[a-z][a-z0-9_]*$/.test(detector.id)) throw new Error(`detector id '${detector.id}' must be snake_case`)
  if (!Number.isInteger(detector.version) || detector.version < 1) throw new Error(`detector ${detector.id}: version must be a positive integer`)
  return Object.freeze(detector) as unknown as AnyDetector
}

export const detectorKey = (detector: { readonly id: string; readonly version: number }): string => `${detector.id}@${detector.version}`

export const HOUR_MS = 60 * 60 * 1000
export const DAY_MS = 24 * HOUR_MS
