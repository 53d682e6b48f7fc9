/**
 * long_session: a playing session longer than `maxSessionMs` (catalog 9, responsible
 * gambling). A session is a run of activity — bets (placed or settled) and device events
 * (logins, session start/end) — with no gap of `gapMs` or more (session windows, `sessions()`
 * in windows.ts, computed here in one pass); its length is last activity minus first. One alert per session, raised by the
 * first event that takes it over the limit (RG intervention by default).
 *
 * Worked example (maxSessionMs 6 h, gapMs 30 min): bets every 10 minutes from 18:00; the bet at
 * 00:00 makes the session exactly 6 h (no hit), the one at 00:10 makes it 6 h 10 min -> hit,
 * value 22_200_000 ms, threshold 21_600_000, evidence the first and the latest event; later bets
 * in that session raise nothing more. A 30-minute pause ends it: the next bet starts a new one.
 *
 * State stays small however busy the player: an activity time is dropped when its neighbours are
 * already less than `gapMs` apart (it cannot change where sessions split), and a session is
 * forgotten once no event within grace can extend it (its end + gap is before stream time minus
 * grace). A late event (beyond grace) is flagged `late`, joins the sessions it can, and raises
 * nothing.
 */
import { DAY_MS, HOUR_MS, defineDetector, type Observation } from './detector.js'
import { insertRecent, isLate, type TimedWithId } from './windows.js'

export interface LongSessionParams {
  /** Hit when a session lasts longer than this. */
  readonly maxSessionMs: number
  /** A pause of this long or longer ends a session. */
  readonly gapMs: number
  readonly graceMs: number
  readonly maxTrackedActivity: number
}

export interface LongSessionState {
  /** Activity times that shape the open sessions, in event-time order (thinned, see above). */
  readonly activity: readonly TimedWithId[]
  /** Event times of the alerts raised; a session holding one has been alerted. */
  readonly alertedAtMs: readonly number[]
}

/** Drops items whose neighbours are already closer than `gapMs`: they split no session. */
export function thinActivity<T extends TimedWithId>(items: readonly T[], gapMs: number): T[] {
  const kept: T[] = []
  items.forEach((item, index) => {
    const previous = kept[kept.length - 1]
    const next = items[index + 1]
    if (previous !== undefined && next !== undefined && next.eventTimeMs - previous.eventTimeMs < gapMs) return
    kept.push(item)
  })
  return kept
}

/** The alert times at or after `fromMs`: the same list when all are (every step looks). */
function alertsFrom(alertedAtMs: readonly number[], fromMs: number): readonly number[] {
  for (const timeMs of alertedAtMs) if (timeMs < fromMs) return alertedAtMs.filter((kept) => kept >= fromMs)
  return alertedAtMs
}

/**
 * thinActivity over `items` from `from` on, the last `maxCount` kept: counted first, so the list
 * is allocated once at its size, and not at all when nothing is dropped (then it is `items`).
 */
function thinOpen(items: readonly TimedWithId[], from: number, gapMs: number, maxCount: number): readonly TimedWithId[] {
  let keptCount = 0
  let previousMs = Number.NaN
  for (let index = from; index < items.length; index += 1) {
    const next = items[index + 1]
    if (keptCount > 0 && next !== undefined && next.eventTimeMs - previousMs < gapMs) continue
    previousMs = (items[index] as TimedWithId).eventTimeMs
    keptCount += 1
  }
  if (from === 0 && keptCount === items.length && keptCount <= maxCount) return items
  let skip = keptCount > maxCount ? keptCount - maxCount : 0
  const kept: TimedWithId[] = new Array<TimedWithId>(keptCount - skip)
  let filled = 0
  let counted = 0
  for (let index = from; index < items.length; index += 1) {
    const next = items[index + 1]
    if (counted > 0 && next !== undefined && next.eventTimeMs - previousMs < gapMs) continue
    const item = items[index] as TimedWithId
    previousMs = item.eventTimeMs
    counted += 1
    if (skip > 0) skip -= 1
    else kept[filled++] = item
  }
  return kept
}

const hoursAndMinutes = (ms: number): string => `${Math.floor(ms / HOUR_MS)} h ${Math.floor((ms % HOUR_MS) / 60_000)} min`

export const longSession = defineDetector({
  id: 'long_session',
  version: 1,
  description: 'a session of bets and device activity (split at gaps) longer than a limit',
  accepts: ['bet', 'device'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxSessionMs', 'gapMs', 'graceMs'],
    properties: {
      maxSessionMs: { type: 'integer', minimum: 1, maximum: 7 * DAY_MS },
      gapMs: { type: 'integer', minimum: 1, maximum: DAY_MS },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      maxTrackedActivity: { type: 'integer', minimum: 10, maximum: 5000, default: 500 },
    },
  },
  init: (): LongSessionState => ({ activity: [], alertedAtMs: [] }),
  step(state: LongSessionState, event, params: LongSessionParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    const item: TimedWithId = { eventId: event.eventId, eventTimeMs: event.eventTimeMs }
    // insertByTime in one copy of the right size (nothing expires at an infinite size).
    const inserted = insertRecent(state.activity, item, context.streamTimeMs, Number.POSITIVE_INFINITY, 0)
    const eventIndex = inserted.indexOf(item)
    // Sessions (runs without a gap of gapMs) in one pass over the ordered activity, no arrays:
    // those that no event within grace can reach any more are done with; their ends ascend, so
    // they are a prefix. `current` is the open session holding this event, as [start, end] indexes.
    const openAfterMs = context.streamTimeMs - params.graceMs - params.gapMs
    let firstOpen = inserted.length
    let sessionStart = 0
    let currentStart = -1
    let currentEnd = -1
    for (let index = 0; index < inserted.length; index += 1) {
      const timeMs = (inserted[index] as TimedWithId).eventTimeMs
      const next = inserted[index + 1]
      if (next !== undefined && next.eventTimeMs - timeMs < params.gapMs) continue
      if (timeMs > openAfterMs) {
        if (firstOpen === inserted.length) firstOpen = sessionStart
        if (eventIndex >= sessionStart && eventIndex <= index) {
          currentStart = sessionStart
          currentEnd = index
        }
      }
      sessionStart = index + 1
    }
    const activity = thinOpen(inserted, firstOpen, params.gapMs, params.maxTrackedActivity)
    const firstKeptMs = activity[0]?.eventTimeMs ?? Number.POSITIVE_INFINITY
    const alertedAtMs = alertsFrom(state.alertedAtMs, firstKeptMs)
    if (late || currentStart === -1) return { state: { activity, alertedAtMs }, observation: null, late }
    const first = inserted[currentStart] as TimedWithId
    const last = inserted[currentEnd] as TimedWithId
    const startMs = first.eventTimeMs
    const endMs = last.eventTimeMs
    const lengthMs = endMs - startMs
    if (lengthMs <= params.maxSessionMs) return { state: { activity, alertedAtMs }, observation: null, late }

    if (alertedAtMs.some((timeMs) => timeMs >= startMs && timeMs <= endMs)) return { state: { activity, alertedAtMs }, observation: null, late }
    const evidence = [first.eventId, last.eventId, event.eventId]
    const observation: Observation = {
      hit: true,
      value: lengthMs,
      threshold: params.maxSessionMs,
      detail: `session of ${hoursAndMinutes(lengthMs)} (pauses under ${hoursAndMinutes(params.gapMs)}), limit ${hoursAndMinutes(params.maxSessionMs)}`,
      evidenceEventIds: [...new Set(evidence)],
      windowStartMs: startMs,
      windowEndMs: endMs,
    }
    return { state: { activity, alertedAtMs: [...alertedAtMs, event.eventTimeMs] }, observation, late }
  },
})
