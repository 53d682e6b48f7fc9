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
  return items.filter((item) => item.eventTimeMs > startMs && item.eventTimeMs <= endMs)
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
  const rest = items.filter((other) => other.eventId !== item.eventId)
  let index = rest.length
  while (index > 0 && (rest[index - 1] as T).eventTimeMs > item.eventTimeMs) index -= 1
  return [...rest.slice(0, index), item, ...rest.slice(index)]
}

/** Drops items no window of `sizeMs` with `graceMs` can include any more (retention = size + grace). */
export function retain<T extends Timed>(items: readonly T[], streamTimeMs: number, sizeMs: number, graceMs: number): T[] {
  const horizonMs = streamTimeMs - sizeMs - graceMs
  return items.filter((item) => item.eventTimeMs > horizonMs)
}
