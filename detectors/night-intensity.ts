/**
 * night_intensity: the share of a player's activity that happens at night in their local time
 * (catalog 9, responsible gambling). Activity is bets (counted once, on `countBetsOn`) and
 * completed deposits; night is [nightStartHour, nightEndHour) local, wrapping past midnight when
 * start > end (22 -> 6). Local time is event time plus the jurisdiction's `utcOffsetMinutes`
 * (MT 60, UK 0, CW -240 in the shipped rule set): a fixed offset, so daylight saving is ignored
 * and summer activity in MT and the UK is read one hour early.
 *
 * Over the last `windowMs`, with at least `minEvents` activities, a night share above
 * `maxNightShare` raises an alert (RG intervention by default), at most one per `windowMs`.
 *
 * Worked example (window 7 days, minEvents 10, maxNightShare 0.5, UK): 5 of 10 bets between
 * 00:00 and 06:00 -> share 0.5, no hit; a sixth night bet -> 6 of 11 = 0.545, hit, threshold 0.5.
 * With only 9 bets, all at night, nothing is judged yet (below minEvents).
 *
 * State is counts per tumbling bucket of `bucketMs` (1 h: 168 buckets for a week, kept as one
 * flat array of numbers), so the window is exact to a bucket: it holds the buckets that start
 * after `t - windowMs`, where t is stream
 * time (an out-of-order activity within grace is judged with what was seen after it). A late activity
 * (beyond grace) is flagged `late`, counted in its bucket if that is still kept, and raises
 * nothing.
 */
import { DAY_MS, HOUR_MS, defineDetector, type Observation } from './detector.js'
import { BET_STEP_PARAM, type BetStep } from './bonus-tracking.js'
import { isLate, tumblingWindowStart } from './windows.js'

export interface NightIntensityParams {
  /** The jurisdiction's offset from UTC in minutes (fixed; no daylight saving). */
  readonly utcOffsetMinutes: number
  /** Local hour night starts (inclusive) and ends (exclusive), 0..23. */
  readonly nightStartHour: number
  readonly nightEndHour: number
  readonly windowMs: number
  readonly bucketMs: number
  /** Judge only with at least this many activities in the window. */
  readonly minEvents: number
  /** Hit when the night share (0..1) is above this. */
  readonly maxNightShare: number
  readonly countBetsOn: BetStep
  readonly graceMs: number
}

interface NightActivity {
  readonly eventId: string
  readonly eventTimeMs: number
}

export interface NightIntensityState {
  /**
   * Counts per bucket, flat and ordered by bucket start: `[startMs, total, night, startMs, ...]`
   * (a third the JSON of one object per bucket, and one array to copy per step).
   */
  readonly buckets: readonly number[]
  /** The latest night activities (evidence), at most MAX_EVIDENCE. */
  readonly nightEvidence: readonly NightActivity[]
  readonly lastAlertMs: number | null
}

/** The state shape before buckets were flattened (`{ startMs, total, night }` each), still read from older checkpoints. */
interface LegacyBucket { readonly startMs: number; readonly total: number; readonly night: number }

const MAX_EVIDENCE = 10
const MINUTE_MS = 60_000
/** Numbers per bucket in `buckets`. */
const STRIDE = 3

/** True when `timeMs` falls in the night hours of the local time at `utcOffsetMinutes`. */
export function isNight(timeMs: number, params: Pick<NightIntensityParams, 'utcOffsetMinutes' | 'nightStartHour' | 'nightEndHour'>): boolean {
  const localMs = timeMs + params.utcOffsetMinutes * MINUTE_MS
  const hour = Math.floor((((localMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS)
  return params.nightStartHour <= params.nightEndHour
    ? hour >= params.nightStartHour && hour < params.nightEndHour
    : hour >= params.nightStartHour || hour < params.nightEndHour
}

function flatBuckets(buckets: readonly number[] | readonly LegacyBucket[]): readonly number[] {
  const first = buckets[0]
  if (first === undefined || typeof first === 'number') return buckets as readonly number[]
  return (buckets as readonly LegacyBucket[]).flatMap((bucket) => [bucket.startMs, bucket.total, bucket.night])
}

/**
 * The buckets after counting one activity in the bucket starting at `startMs`, without those
 * starting at or before `keepAfterMs`: one copy of the kept part, in start order.
 */
function countInBucket(buckets: readonly number[], startMs: number, night: boolean, keepAfterMs: number): number[] {
  let from = 0
  while (from < buckets.length && (buckets[from] as number) <= keepAfterMs) from += STRIDE
  const next = buckets.slice(from)
  // A bucket at or before the horizon is dropped with its count, as the pruning would drop it.
  if (startMs <= keepAfterMs) return next
  // Scan from the newest bucket: in-order activity lands in the last one.
  let index = next.length - STRIDE
  while (index >= 0 && (next[index] as number) > startMs) index -= STRIDE
  if (index >= 0 && next[index] === startMs) {
    next[index + 1] = (next[index + 1] as number) + 1
    if (night) next[index + 2] = (next[index + 2] as number) + 1
  } else {
    next.splice(index + STRIDE, 0, startMs, 1, night ? 1 : 0)
  }
  return next
}

/** The night evidence with this activity added (stable time order), the expired dropped, the latest MAX_EVIDENCE kept. */
function addEvidence(evidence: readonly NightActivity[], activity: NightActivity | null, keepAfterMs: number): readonly NightActivity[] {
  let from = 0
  while (from < evidence.length && (evidence[from] as NightActivity).eventTimeMs <= keepAfterMs) from += 1
  if (activity === null || activity.eventTimeMs <= keepAfterMs) return from === 0 ? evidence : evidence.slice(from)
  const next = evidence.slice(from)
  let index = next.length
  while (index > 0 && (next[index - 1] as NightActivity).eventTimeMs > activity.eventTimeMs) index -= 1
  next.splice(index, 0, activity)
  return next.length > MAX_EVIDENCE ? next.slice(next.length - MAX_EVIDENCE) : next
}

export const nightIntensity = defineDetector({
  id: 'night_intensity',
  version: 1,
  description: 'share of bets and deposits at night in the player local time, over a window',
  accepts: ['bet', 'deposit'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['utcOffsetMinutes', 'nightStartHour', 'nightEndHour', 'windowMs', 'minEvents', 'maxNightShare', 'graceMs'],
    properties: {
      utcOffsetMinutes: { type: 'integer', minimum: -12 * 60, maximum: 14 * 60 },
      nightStartHour: { type: 'integer', minimum: 0, maximum: 23 },
      nightEndHour: { type: 'integer', minimum: 0, maximum: 23 },
      windowMs: { type: 'integer', minimum: HOUR_MS, maximum: 31 * DAY_MS },
      bucketMs: { type: 'integer', minimum: 60_000, maximum: DAY_MS, default: HOUR_MS },
      minEvents: { type: 'integer', minimum: 1 },
      maxNightShare: { type: 'number', minimum: 0, maximum: 1 },
      countBetsOn: { ...BET_STEP_PARAM, default: 'SETTLED' },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
    },
  },
  init: (): NightIntensityState => ({ buckets: [], nightEvidence: [], lastAlertMs: null }),
  step(state: NightIntensityState, event, params: NightIntensityParams, context) {
    const counts = event.kind === 'bet' ? event.type === params.countBetsOn : event.status === 'COMPLETED'
    if (!counts) return { state, observation: null }
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    const night = isNight(event.eventTimeMs, params)
    const startMs = tumblingWindowStart(event.eventTimeMs, params.bucketMs)
    // Buckets some window within grace can still hold.
    const keepAfterMs = context.streamTimeMs - params.graceMs - params.windowMs - params.bucketMs
    const buckets = countInBucket(flatBuckets(state.buckets), startMs, night, keepAfterMs)
    const nightEvidence = addEvidence(state.nightEvidence, night ? { eventId: event.eventId, eventTimeMs: event.eventTimeMs } : null, keepAfterMs)
    const nextState: NightIntensityState = { buckets, nightEvidence, lastAlertMs: state.lastAlertMs }
    if (late) return { state: nextState, observation: null, late }

    // The window ends at stream time: an activity arriving out of order (within grace) is judged
    // together with what was already seen after it.
    const windowEndMs = context.streamTimeMs
    const windowStartMs = windowEndMs - params.windowMs
    let total = 0
    let nightCount = 0
    for (let index = 0; index < buckets.length; index += STRIDE) {
      const bucketStartMs = buckets[index] as number
      if (bucketStartMs <= windowStartMs || bucketStartMs > windowEndMs) continue
      total += buckets[index + 1] as number
      nightCount += buckets[index + 2] as number
    }
    const share = total === 0 ? 0 : nightCount / total
    const alertedRecently = state.lastAlertMs !== null && Math.abs(event.eventTimeMs - state.lastAlertMs) < params.windowMs
    if (total < params.minEvents || share <= params.maxNightShare || alertedRecently) return { state: nextState, observation: null, late }
    const observation: Observation = {
      hit: true,
      value: Math.round(share * 1000) / 1000,
      threshold: params.maxNightShare,
      detail: `${nightCount} of ${total} bets and deposits at night (${params.nightStartHour}:00-${params.nightEndHour}:00 local, UTC${params.utcOffsetMinutes >= 0 ? '+' : ''}${params.utcOffsetMinutes / 60}) in ${params.windowMs / DAY_MS} days, limit share ${params.maxNightShare}`,
      evidenceEventIds: nightEvidence.filter((activity) => activity.eventTimeMs > windowStartMs && activity.eventTimeMs <= windowEndMs).map((activity) => activity.eventId),
      windowStartMs,
      windowEndMs,
    }
    return { state: { ...nextState, lastAlertMs: event.eventTimeMs }, observation, late }
  },
})
