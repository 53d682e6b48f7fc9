/**
 * self_exclusion_breach: a deposit, bet or withdrawal by a player who is self-excluded at the
 * event's time (catalog 9, responsible gambling). The operator should never have let it
 * through; the default action blocks the payout and the alert goes to the RG and compliance
 * officers.
 *
 * The exclusion comes from SELF_EXCLUSION_CHANGED player events: the detector keeps each change
 * with its event time, so an event is judged against the exclusion in force at its own time
 * (a bet placed before the exclusion but delivered after it is not a breach). Until it has
 * seen a change, it falls back to `profile.selfExcludedUntilMs`.
 *
 * Worked example: SELF_EXCLUSION_CHANGED at day 0 with selfExcludedUntilMs = day 30; a deposit
 * on day 10 -> hit, value 20 days in ms (exclusion time remaining), threshold 0; a withdrawal on
 * day 31 -> no hit. Bets are many: a bet raises an alert only when the previous bet alert is at
 * least `betAlertIntervalMs` away; deposits and withdrawals always do. A chargeback or reversal
 * is the payment provider moving money, not the player: it is not a breach.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'

export interface SelfExclusionBreachParams {
  /** Minimum event-time distance between two alerts raised by bets (deposits and withdrawals always alert). */
  readonly betAlertIntervalMs: number
}

interface ExclusionChange {
  readonly eventId: string
  readonly eventTimeMs: number
  /** End of the exclusion set by this change; null lifts it. */
  readonly untilMs: number | null
}

export interface SelfExclusionBreachState {
  /** Changes seen, in event-time order (the most recent kept). */
  readonly changes: readonly ExclusionChange[]
  readonly lastBetAlertMs: number | null
}

const MAX_CHANGES = 20
const NOT_PLAYER_ACTIVITY: ReadonlySet<string> = new Set(['CHARGEBACK', 'REVERSED'])

interface Exclusion {
  readonly fromMs: number | null
  readonly untilMs: number
  readonly eventId: string | null
}

/** The exclusion in force at `timeMs`, or null. */
function exclusionAt(changes: readonly ExclusionChange[], fallbackUntilMs: number | null, timeMs: number): Exclusion | null {
  if (changes.length === 0) return fallbackUntilMs !== null && timeMs < fallbackUntilMs ? { fromMs: null, untilMs: fallbackUntilMs, eventId: null } : null
  const inForce = changes.filter((change) => change.eventTimeMs <= timeMs).at(-1)
  if (inForce === undefined || inForce.untilMs === null || timeMs >= inForce.untilMs) return null
  return { fromMs: inForce.eventTimeMs, untilMs: inForce.untilMs, eventId: inForce.eventId }
}

const iso = (timeMs: number): string => new Date(timeMs).toISOString()

export const selfExclusionBreach = defineDetector({
  id: 'self_exclusion_breach',
  version: 1,
  description: 'deposit, bet or withdrawal while the player is self-excluded at the event time',
  accepts: ['player', 'deposit', 'bet', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['betAlertIntervalMs'],
    properties: {
      betAlertIntervalMs: { type: 'integer', minimum: 0, maximum: 30 * DAY_MS },
    },
  },
  init: (): SelfExclusionBreachState => ({ changes: [], lastBetAlertMs: null }),
  step(state: SelfExclusionBreachState, event, params: SelfExclusionBreachParams, context) {
    if (event.kind === 'player') {
      if (event.type !== 'SELF_EXCLUSION_CHANGED') return { state, observation: null }
      const change: ExclusionChange = { eventId: event.eventId, eventTimeMs: event.eventTimeMs, untilMs: event.selfExcludedUntilMs }
      const changes = [...state.changes.filter((other) => other.eventId !== event.eventId), change].sort((left, right) => left.eventTimeMs - right.eventTimeMs)
      return { state: { ...state, changes: changes.slice(-MAX_CHANGES) }, observation: null }
    }
    if (event.kind === 'withdrawal' && event.type !== 'REQUESTED') return { state, observation: null }
    if (event.kind === 'deposit' && NOT_PLAYER_ACTIVITY.has(event.status)) return { state, observation: null }

    const exclusion = exclusionAt(state.changes, context.profile.selfExcludedUntilMs, event.eventTimeMs)
    if (exclusion === null) {
      if (event.kind !== 'withdrawal') return { state, observation: null }
      const observation: Observation = { hit: false, value: 0, threshold: 0, detail: 'not self-excluded at the request time', evidenceEventIds: [event.eventId], windowStartMs: null, windowEndMs: null }
      return { state, observation }
    }
    let lastBetAlertMs = state.lastBetAlertMs
    if (event.kind === 'bet') {
      if (lastBetAlertMs !== null && Math.abs(event.eventTimeMs - lastBetAlertMs) < params.betAlertIntervalMs) return { state, observation: null }
      lastBetAlertMs = event.eventTimeMs
    }
    // Built only for a hit: this runs on every bet and deposit.
    const what = event.kind === 'deposit' ? `deposit ${event.status.toLowerCase()}` : event.kind === 'bet' ? `bet ${event.type.toLowerCase()}` : 'withdrawal requested'
    const observation: Observation = {
      hit: true,
      value: exclusion.untilMs - event.eventTimeMs,
      threshold: 0,
      detail: `${what} while self-excluded until ${iso(exclusion.untilMs)}`,
      evidenceEventIds: exclusion.eventId === null ? [event.eventId] : [exclusion.eventId, event.eventId],
      windowStartMs: exclusion.fromMs,
      windowEndMs: exclusion.untilMs,
    }
    return { state: { ...state, lastBetAlertMs }, observation }
  },
})
