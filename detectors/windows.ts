/**
 * Event-time windows for detectors, as pure functions over the items a detector keeps in its
 * state (each with `eventTimeMs`). State lives in the player's RocksDB record, so a window's
 * retention is what the detector keeps: `retain` drops what no window can need again.
 *
 * Semantics (Kafka Streams' vocabulary):
 * - sliding window ending at t of size s: items with t - s < eventTimeMs <= t;
 * - tumbling window of size s: [k*s, (k+1)*s) in epoch milliseconds (UTC-aligned days for s = 1 day);
 * - session windows: items separated by gaps shorter than `gapMs` form one session;
 * - a window closes at stream time minus grace: an event whose time is before
 *   `streamTimeMs - graceMs` is late. Late events are still stored (so later evaluations see
 *   them), flagged in StepResult.late, counted and logged; they never re-open a decision.
 *
 * Example:
 *   const deposits = retain(insertByTime(state.deposits, item), streamTimeMs, DAY_MS, graceMs)
 *   const last24h = slidingWindow(deposits, event.eventTimeMs, DAY_MS)
 */
export interface Timed {
  readonly eventTimeMs: number
}

export interface TimedWithId extends Timed {
  readonly eventId: string
}

/** Items in the sliding window (endMs - sizeMs, endMs]. Items must be in event-time order. */
export function slidingWindow<T extends Timed>(items: readonly T[], endMs: number, sizeMs: number): T[] {
  const startMs = endMs - sizeMs
  const result: T[] = []
  for (const item of items) if (item.eventTimeMs > startMs && item.eventTimeMs <= endMs) result.push(item)
  return result
}

/** Start of the tumbling window of `sizeMs` (aligned to the epoch plus `offsetMs`) holding `eventTimeMs`. */
export function tumblingWindowStart(eventTimeMs: number, sizeMs: number, offsetMs = 0): number {
  return Math.floor((eventTimeMs - offsetMs) / sizeMs) * sizeMs + offsetMs
}

/** Items in the same tumbling window as `eventTimeMs`. */
export function tumblingWindow<T extends Timed>(items: readonly T[], eventTimeMs: number, sizeMs: number, offsetMs = 0): T[] {
  const startMs = tumblingWindowStart(eventTimeMs, sizeMs, offsetMs)
  return items.filter((item) => item.eventTimeMs >= startMs && item.eventTimeMs < startMs + sizeMs)
}

/** Splits event-time-ordered items into sessions: a gap of `gapMs` or more starts a new one. */
export function sessions<T extends Timed>(items: readonly T[], gapMs: number): T[][] {
  const result: T[][] = []
  let current: T[] = []
  for (const item of items) {
    const last = current[current.length - 1]
    if (last !== undefined && item.eventTimeMs - last.eventTimeMs >= gapMs) {
      result.push(current)
      current = []
    }
    current.push(item)
  }
  if (current.length > 0) result.push(current)
  return result
}

/** True when an event at `eventTimeMs` is behind windows that closed at stream time minus grace. */
export function isLate(eventTimeMs: number, streamTimeMs: number, graceMs: number): boolean {
  return eventTimeMs < streamTimeMs - graceMs
}

/**
 * Inserts in event-time order (stable for equal times), replacing an item with the same
 * eventId — a redelivered event does not count twice.
 */
export function insertByTime<T extends TimedWithId>(items: readonly T[], item: T): T[] {
  // One copy on the hot path: a redelivery (same eventId) is rare, so look for one before filtering.
  let redelivered = false
  for (const other of items) {
    if (other.eventId === item.eventId) {
      redelivered = true
      break
    }
  }
  const result = redelivered ? items.filter((other) => other.eventId !== item.eventId) : items.slice()
  let index = result.length
  while (index > 0 && (result[index - 1] as T).eventTimeMs > item.eventTimeMs) index -= 1
  if (index === result.length) result.push(item)
  else result.splice(index, 0, item)
  return result
}

/** Drops items no window of `sizeMs` with `graceMs` can include any more (retention = size + grace). */
export function retain<T extends Timed>(items: readonly T[], streamTimeMs: number, sizeMs: number, graceMs: number): T[] {
  const horizonMs = streamTimeMs - sizeMs - graceMs
  return items.filter((item) => item.eventTimeMs > horizonMs)
}

/**
 * Items at or after `fromMs`, in their order (sorted or not); the same list (no copy) when all
 * are, which is most steps. Example: keepFrom(recentBets, streamTimeMs - graceMs)
 */
export function keepFrom<T extends Timed>(items: readonly T[], fromMs: number): readonly T[] {
  let index = 0
  while (index < items.length && (items[index] as T).eventTimeMs >= fromMs) index += 1
  if (index === items.length) return items
  const result = items.slice(0, index)
  for (index += 1; index < items.length; index += 1) {
    const item = items[index] as T
    if (item.eventTimeMs >= fromMs) result.push(item)
  }
  return result
}

/**
 * `retain` for a detector's own state: the same list (no copy) when nothing has expired, which
 * is most steps. The result is read-only, since it may be the list it was given.
 * Example: retainRecent(items, streamTimeMs, DAY_MS, graceMs) === items   // when nothing expired
 */
export function retainRecent<T extends Timed>(items: readonly T[], streamTimeMs: number, sizeMs: number, graceMs: number): readonly T[] {
  const horizonMs = streamTimeMs - sizeMs - graceMs
  let index = 0
  while (index < items.length && (items[index] as T).eventTimeMs > horizonMs) index += 1
  if (index === items.length) return items
  const result = items.slice(0, index)
  for (index += 1; index < items.length; index += 1) {
    const item = items[index] as T
    if (item.eventTimeMs > horizonMs) result.push(item)
  }
  return result
}

/**
 * The sliding windows of `sizeMs` that hold an event at `eventTimeMs`, one per distinct content:
 * the window ending at the event and those ending at each later item before `eventTimeMs +
 * sizeMs`. An in-order event has only the first; an out-of-order one (within grace) also falls
 * into windows that already ended at later items, and a limit it pushes over there is a hit too.
 * Items must be in event-time order.
 *
 * Example (size 10): items at 0, 5, 12; windowsContaining(items, 5, 10) ->
 *   [{ endMs: 5, items: [0, 5] }, { endMs: 12, items: [5, 12] }]
 */
export function windowsContaining<T extends Timed>(items: readonly T[], eventTimeMs: number, sizeMs: number): Array<{ endMs: number; items: T[] }> {
  const ends = [eventTimeMs]
  let last = eventTimeMs
  for (const item of items) {
    if (item.eventTimeMs > last && item.eventTimeMs < eventTimeMs + sizeMs) {
      ends.push(item.eventTimeMs)
      last = item.eventTimeMs
    }
  }
  return ends.map((endMs) => ({ endMs, items: slidingWindow(items, endMs, sizeMs) }))
}

/**
 * A compact record of one key (a device fingerprint, an ASN, an IP block) seen by a player:
 * first and last event time and the events that set them. Distinct-count detectors keep one per
 * key instead of one per event, so a player logging in all day from one phone costs one entry.
 */
export interface Sighting {
  readonly key: string
  readonly firstSeenMs: number
  readonly firstEventId: string
  readonly lastSeenMs: number
  readonly lastEventId: string
}

/**
 * Records that `key` was seen at `eventTimeMs`: widens its first/last times (an out-of-order
 * event can move either) or adds it. Keeps the list ordered by `lastSeenMs`, most recent last.
 * Returns the same list when nothing changes (a sighting inside the known span), so a detector
 * stepping on every login of a known device allocates nothing.
 *
 * Example: recordSighting([], 'fp-a', 1_000, 'e1') -> [{ key: 'fp-a', firstSeenMs: 1000, lastSeenMs: 1000, ... }]
 */
export function recordSighting(sightings: readonly Sighting[], key: string, eventTimeMs: number, eventId: string): readonly Sighting[] {
  // From the newest: the key seen last time is the usual one.
  let index = sightings.length - 1
  while (index >= 0 && (sightings[index] as Sighting).key !== key) index -= 1
  const existing = index === -1 ? undefined : sightings[index]
  if (existing !== undefined && eventTimeMs >= existing.firstSeenMs && eventTimeMs <= existing.lastSeenMs) return sightings
  // Every field spelt out in one order (no spread): one object shape for all sightings.
  const next: Sighting = existing === undefined
    ? { key, firstSeenMs: eventTimeMs, firstEventId: eventId, lastSeenMs: eventTimeMs, lastEventId: eventId }
    : eventTimeMs < existing.firstSeenMs
      ? { key, firstSeenMs: eventTimeMs, firstEventId: eventId, lastSeenMs: existing.lastSeenMs, lastEventId: existing.lastEventId }
      : { key, firstSeenMs: existing.firstSeenMs, firstEventId: existing.firstEventId, lastSeenMs: eventTimeMs, lastEventId: eventId }
  const last = sightings[sightings.length - 1]
  // The common case: the newest sighting of all, appended (or replacing the key's entry at the end).
  if (last === undefined || next.lastSeenMs >= last.lastSeenMs) {
    const result = sightings.slice()
    if (index === -1) result.push(next)
    else if (index === sightings.length - 1) result[index] = next
    else {
      result.splice(index, 1)
      result.push(next)
    }
    return result
  }
  const rest = index === -1 ? [...sightings] : [...sightings.slice(0, index), ...sightings.slice(index + 1)]
  let position = rest.length
  while (position > 0 && (rest[position - 1] as Sighting).lastSeenMs > next.lastSeenMs) position -= 1
  rest.splice(position, 0, next)
  return rest
}

/** True when `key` is among the keys `sightedInWindow` would return, without building the list. */
export function isSightedInWindow(sightings: readonly Sighting[], key: string, endMs: number, sizeMs: number): boolean {
  const startMs = endMs - sizeMs
  for (const sighting of sightings) if (sighting.key === key && sighting.firstSeenMs <= endMs && sighting.lastSeenMs > startMs) return true
  return false
}

/**
 * Keys seen in the sliding window (endMs - sizeMs, endMs], judged from first and last sighting:
 * exact when the window ends at or after the last sighting (the in-order case: evaluating the
 * latest event or a withdrawal), and an over-count only for a key whose sightings straddle a
 * window that ends before its last one without falling inside it.
 */
export function sightedInWindow(sightings: readonly Sighting[], endMs: number, sizeMs: number): Sighting[] {
  const startMs = endMs - sizeMs
  const result: Sighting[] = []
  for (const sighting of sightings) if (sighting.firstSeenMs <= endMs && sighting.lastSeenMs > startMs) result.push(sighting)
  return result
}

/**
 * Ends of the sliding windows of `sizeMs` that hold `eventTimeMs` and where a distinct count can
 * be higher than at the event itself: the event time, then each first sighting after it and
 * before `eventTimeMs + sizeMs`, ascending. For an in-order event that is just `[eventTimeMs]`;
 * an out-of-order one is also judged in the windows that already hold later new keys.
 *
 * Example (size 10): first sightings at 0, 7, 12, 30; sightingWindowEnds(s, 5, 10) -> [5, 7, 12]
 */
export function sightingWindowEnds(sightings: readonly Sighting[], eventTimeMs: number, sizeMs: number): number[] {
  let later: number[] | null = null
  for (const sighting of sightings) {
    const timeMs = sighting.firstSeenMs
    if (timeMs > eventTimeMs && timeMs < eventTimeMs + sizeMs && (later === null || !later.includes(timeMs))) (later ??= []).push(timeMs)
  }
  // The in-order case has no later first sighting: no set, no sort.
  return later === null ? [eventTimeMs] : [eventTimeMs, ...later.sort((a, b) => a - b)]
}

/**
 * Drops keys not seen within `retentionMs` of stream time, then keeps at most `maxCount`, the
 * most recently seen. Returns the same list when nothing is dropped.
 */
export function retainSightings(sightings: readonly Sighting[], streamTimeMs: number, retentionMs: number, maxCount: number): readonly Sighting[] {
  const horizonMs = streamTimeMs - retentionMs
  // Ordered by last sighting: the first one is the oldest.
  if (sightings.length <= maxCount && (sightings[0] === undefined || sightings[0].lastSeenMs > horizonMs)) return sightings
  // Ordered by last sighting, so the expired are a prefix.
  let from = 0
  while (from < sightings.length && (sightings[from] as Sighting).lastSeenMs <= horizonMs) from += 1
  return sightings.slice(Math.max(from, sightings.length - maxCount))
}

/** Keeps the last `maxCount` items (event-time order: the most recent), a hard cap on state size; the same list when under it. */
export function capLatest<T>(items: readonly T[], maxCount: number): readonly T[] {
  return items.length > maxCount ? items.slice(items.length - maxCount) : items
}

/**
 * A window length as an officer reads it in a detail line: whole days from two days up as `7 d`,
 * whole hours as `24 h`, else minutes, else seconds. Example: formatDuration(86_400_000) -> '24 h'.
 */
export function formatDuration(durationMs: number): string {
  if (durationMs >= 2 * 86_400_000 && durationMs % 86_400_000 === 0) return `${durationMs / 86_400_000} d`
  if (durationMs > 0 && durationMs % 3_600_000 === 0) return `${durationMs / 3_600_000} h`
  if (durationMs >= 60_000) return `${Math.round(durationMs / 60_000)} min`
  return `${Math.round(durationMs / 1000)} s`
}

/**
 * Inserts `item` in event-time order as the only item of its subject (one deposit, one
 * withdrawal): when the list already holds an item of that subject at the same time or earlier,
 * the list is unchanged (`inserted: false`); a later one is replaced. So a CHARGEBACK and then a
 * REVERSED event of one deposit count once, at the first, whatever order they arrive in.
 *
 * Example: insertFirstOccurrence([{ id: 'd1', eventTimeMs: 5 }], { id: 'd1', eventTimeMs: 3 }, (o) => o.id === 'd1')
 *   -> { items: [{ id: 'd1', eventTimeMs: 3 }], inserted: true }
 */
export function insertFirstOccurrence<T extends Timed>(items: readonly T[], item: T, isSameSubject: (other: T) => boolean): { items: T[]; inserted: boolean } {
  if (items.some((other) => isSameSubject(other) && other.eventTimeMs <= item.eventTimeMs)) return { items: [...items], inserted: false }
  const rest = items.filter((other) => !isSameSubject(other))
  let index = rest.length
  while (index > 0 && (rest[index - 1] as T).eventTimeMs > item.eventTimeMs) index -= 1
  return { items: [...rest.slice(0, index), item, ...rest.slice(index)], inserted: true }
}

/**
 * `a === b` for event ids, compared from the end: ids of one player's events share a prefix and
 * differ in their last characters, so most pairs differ at the first character looked at, without
 * the call into the engine's string comparison (the redelivery scans ran it on every stored item).
 * Example: sameId('ev-3f9a-12', 'ev-3f9a-13') === false (one character compared)
 */
export function sameId(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  for (let index = a.length - 1; index >= 0; index -= 1) if (a.charCodeAt(index) !== b.charCodeAt(index)) return false
  return true
}

/**
 * `capLatest(retainRecent(insertByTime(items, item), streamTimeMs, sizeMs, graceMs), maxCount)`
 * in one copy: the list a detector stores after one more event. The three steps copied the list
 * up to three times (and `insertByTime`'s push grew its copy once more) on every counted event.
 * Same result, item for item, for items in event-time order (as insertByTime keeps them); a
 * redelivered event (same eventId) takes the three-step path.
 *
 * Example (size 10, grace 0, stream time 20, max 2): items at 5, 12, 15; inserting one at 18
 *   -> [15, 18] (5 expired, 12 over the cap)
 */
export function insertRecent<T extends TimedWithId>(items: readonly T[], item: T, streamTimeMs: number, sizeMs: number, graceMs: number, maxCount = Number.POSITIVE_INFINITY): T[] {
  // Each of the three returns a list of its own (insertByTime always copies), hence the cast.
  for (const other of items) if (sameId(other.eventId, item.eventId)) return capLatest(retainRecent(insertByTime(items, item), streamTimeMs, sizeMs, graceMs), maxCount) as T[]
  const horizonMs = streamTimeMs - sizeMs - graceMs
  // In event-time order the expired items are a prefix (usually empty): one or two items read.
  let from = 0
  while (from < items.length && (items[from] as T).eventTimeMs <= horizonMs) from += 1
  // Where insertByTime puts it: after every item at or before its time (so at or after `from`
  // when it is kept itself).
  let position = items.length
  while (position > from && (items[position - 1] as T).eventTimeMs > item.eventTimeMs) position -= 1
  const itemKept = item.eventTimeMs > horizonMs
  const kept = items.length - from + (itemKept ? 1 : 0)
  // The oldest kept beyond the cap are skipped, as capLatest drops them. Then a plain element
  // copy: no item's fields are read again (this helper sees every detector's item shape).
  let skip = kept > maxCount ? kept - maxCount : 0
  const result: T[] = new Array<T>(kept - skip)
  let index = 0
  for (let source = from; source < items.length; source += 1) {
    if (source === position && itemKept) {
      if (skip > 0) skip -= 1
      else result[index++] = item
    }
    if (skip > 0) skip -= 1
    else result[index++] = items[source] as T
  }
  if (position === items.length && itemKept && skip === 0) result[index] = item
  return result
}

/**
 * `items` with `item` appended, the last `maxCount` kept, in one copy of exactly the right size
 * (a `slice()` then `push` copies twice: the push outgrows the slice). For lists of recent
 * events kept in arrival order.
 * Example: appendLatest([a, b, c], d, 3) -> [b, c, d]
 */
export function appendLatest<T>(items: readonly T[], item: T, maxCount: number): T[] {
  const from = items.length + 1 > maxCount ? items.length + 1 - maxCount : 0
  const result: T[] = new Array<T>(items.length + 1 - from)
  let index = 0
  for (let source = from; source < items.length; source += 1) result[index++] = items[source] as T
  result[index] = item
  return result
}
