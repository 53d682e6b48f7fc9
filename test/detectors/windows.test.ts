import { describe, expect, it } from 'vitest'
import { insertByTime, isLate, retain, sessions, slidingWindow, tumblingWindow, tumblingWindowStart } from '../../detectors/windows.js'
import {
  appendLatest, capLatest, formatDuration, insertFirstOccurrence, insertRecent, keepFrom, sameId, recordSighting, retainRecent, retainSightings, sightedInWindow, sightingWindowEnds, windowsContaining,
} from '../../detectors/windows.js'

const item = (eventId: string, eventTimeMs: number) => ({ eventId, eventTimeMs })

describe('windows', () => {
  it('sliding windows hold (end - size, end]', () => {
    const items = [item('a', 0), item('b', 1_000), item('c', 2_000)]
    expect(slidingWindow(items, 2_000, 2_000).map((entry) => entry.eventId)).toEqual(['b', 'c'])
    expect(slidingWindow(items, 1_999, 2_000).map((entry) => entry.eventId)).toEqual(['a', 'b'])
    expect(slidingWindow(items, 2_000, 1_000).map((entry) => entry.eventId)).toEqual(['c'])
  })

  it('tumbling windows align to the epoch', () => {
    expect(tumblingWindowStart(86_400_000 + 5, 86_400_000)).toBe(86_400_000)
    expect(tumblingWindow([item('a', 86_399_999), item('b', 86_400_000)], 86_400_001, 86_400_000).map((entry) => entry.eventId)).toEqual(['b'])
  })

  it('sessions split at gaps of at least gapMs', () => {
    expect(sessions([item('a', 0), item('b', 999), item('c', 1_998), item('d', 2_998)], 1_000).map((session) => session.map((entry) => entry.eventId))).toEqual([['a', 'b', 'c'], ['d']])
  })

  it('late means before stream time minus grace', () => {
    expect(isLate(9_000, 10_000, 1_000)).toBe(false)
    expect(isLate(8_999, 10_000, 1_000)).toBe(true)
  })

  it('inserts out-of-order items in time order and replaces a redelivered id', () => {
    const items = insertByTime(insertByTime([item('a', 0), item('c', 2_000)], item('b', 1_000)), item('b', 1_000))
    expect(items.map((entry) => entry.eventId)).toEqual(['a', 'b', 'c'])
  })

  it('retains size + grace behind stream time', () => {
    expect(retain([item('a', 0), item('b', 1), item('c', 5_000)], 5_000, 4_000, 1_000).map((entry) => entry.eventId)).toEqual(['b', 'c'])
  })
})

describe('copy only what changes (issue 3)', () => {
  it('retainRecent is retain, and the same list when nothing expired', () => {
    const items = [item('a', 0), item('b', 1_000), item('c', 2_000)]
    expect(retainRecent(items, 2_000, 2_500, 0)).toBe(items)
    expect(retainRecent(items, 2_000, 1_500, 100)).toEqual(retain(items, 2_000, 1_500, 100))
    expect(retainRecent(items, 2_600, 1_500, 200).map((entry) => entry.eventId)).toEqual(['b', 'c'])
    expect(retainRecent(items, 9_000, 1_000, 0)).toEqual([])
  })

  it('keepFrom keeps items at or after a time, in list order (sorted or not), the same list when all stay', () => {
    const arrived = [item('a', 500), item('b', 100), item('c', 300)]
    expect(keepFrom(arrived, 100)).toBe(arrived)
    expect(keepFrom(arrived, 300).map((entry) => entry.eventId)).toEqual(['a', 'c'])
  })

  it('insertByTime, recordSighting and the window helpers never change the list they are given', () => {
    const items = Object.freeze([item('a', 0), item('b', 2_000)])
    expect(insertByTime(items, item('c', 1_000)).map((entry) => entry.eventId)).toEqual(['a', 'c', 'b'])
    expect(insertByTime(items, item('a', 3_000)).map((entry) => entry.eventId)).toEqual(['b', 'a'])
    const sightings = Object.freeze(recordSighting(recordSighting([], 'x', 0, 'e1'), 'y', 10, 'e2'))
    expect(recordSighting(sightings, 'y', 20, 'e3').map((entry) => [entry.key, entry.lastSeenMs])).toEqual([['x', 0], ['y', 20]])
    expect(recordSighting(sightings, 'x', 30, 'e4').map((entry) => [entry.key, entry.lastSeenMs])).toEqual([['y', 10], ['x', 30]])
    expect(sightings.map((entry) => entry.lastSeenMs)).toEqual([0, 10])
  })

  it('sameId is string equality', () => {
    for (const [a, b] of [['ev-3f9a-12', 'ev-3f9a-12'], ['ev-3f9a-12', 'ev-3f9a-13'], ['ev-3f9a-12', 'fv-3f9a-12'], ['ev-1', 'ev-12'], ['', ''], ['é', 'e']]) {
      expect(sameId(a as string, b as string)).toBe(a === b)
    }
  })

  it('appendLatest appends and keeps the last maxCount, leaving the list it was given alone', () => {
    const items = Object.freeze([1, 2, 3])
    expect(appendLatest(items, 4, 3)).toEqual([2, 3, 4])
    expect(appendLatest(items, 4, 10)).toEqual([1, 2, 3, 4])
    expect(appendLatest([], 1, 1)).toEqual([1])
    expect(items).toEqual([1, 2, 3])
  })

  it('insertRecent is insertByTime, retainRecent and capLatest in one copy', () => {
    const items = Object.freeze([item('a', 5), item('b', 12), item('c', 15)])
    expect(insertRecent(items, item('d', 18), 20, 10, 0, 2).map((entry) => entry.eventId)).toEqual(['c', 'd'])
    expect(insertRecent(items, item('d', 13), 20, 10, 0).map((entry) => entry.eventId)).toEqual(['b', 'd', 'c'])
    expect(insertRecent(items, item('b', 16), 20, 10, 0).map((entry) => entry.eventId)).toEqual(['c', 'b'])
    expect(items.map((entry) => entry.eventId)).toEqual(['a', 'b', 'c'])
    // Against the three steps on generated lists: out-of-order, expired, equal times, redeliveries, caps.
    let seed = 7
    const random = (below: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed % below
    }
    for (let round = 0; round < 2_000; round += 1) {
      const list = insertByTime([], item('e0', random(50)))
      for (let count = random(12); count > 0; count -= 1) list.splice(0, list.length, ...insertByTime(list, item(`e${random(20)}`, random(50))))
      const next = item(`e${random(24)}`, random(60))
      const streamTimeMs = 30 + random(40)
      const sizeMs = 1 + random(40)
      const graceMs = random(10)
      const maxCount = random(3) === 0 ? Number.POSITIVE_INFINITY : 1 + random(10)
      const expected = capLatest(retainRecent(insertByTime(list, next), streamTimeMs, sizeMs, graceMs), maxCount)
      expect(insertRecent(list, next, streamTimeMs, sizeMs, graceMs, maxCount)).toEqual(expected)
    }
  })
})

describe('windows holding an out-of-order event', () => {
  const ids = (window: { endMs: number; items: Array<{ eventId: string }> }) => [window.endMs, window.items.map((entry) => entry.eventId)]

  it('an in-order event has one window, ending at it', () => {
    expect(windowsContaining([item('a', 0), item('b', 5)], 5, 10).map(ids)).toEqual([[5, ['a', 'b']]])
  })

  it('an out-of-order one also belongs to the windows ending at later items, up to (not at) its time + size', () => {
    const items = [item('a', 0), item('b', 5), item('c', 12), item('d', 15), item('e', 30)]
    expect(windowsContaining(items, 5, 10).map(ids)).toEqual([[5, ['a', 'b']], [12, ['b', 'c']]])
    expect(windowsContaining(items, 6, 10).map(ids)).toEqual([[6, ['a', 'b']], [12, ['b', 'c']], [15, ['c', 'd']]])
  })
})

describe('sightings (one entry per key)', () => {
  it('widens first and last sighting, keeps the list ordered by last sighting', () => {
    let sightings = recordSighting([], 'a', 10, 'e1')
    sightings = recordSighting(sightings, 'b', 20, 'e2')
    sightings = recordSighting(sightings, 'a', 30, 'e3')
    sightings = recordSighting(sightings, 'a', 5, 'e0')
    expect(sightings).toEqual([
      { key: 'b', firstSeenMs: 20, firstEventId: 'e2', lastSeenMs: 20, lastEventId: 'e2' },
      { key: 'a', firstSeenMs: 5, firstEventId: 'e0', lastSeenMs: 30, lastEventId: 'e3' },
    ])
  })

  it('a key is in the window (end - size, end] when first seen by its end and last seen after its start', () => {
    const sightings = [recordSighting([], 'a', 0, 'e')[0], recordSighting([], 'b', 10, 'e')[0], recordSighting([], 'c', 25, 'e')[0]].filter((entry) => entry !== undefined)
    expect(sightedInWindow(sightings, 20, 10).map((entry) => entry.key)).toEqual([])
    expect(sightedInWindow(sightings, 19, 10).map((entry) => entry.key)).toEqual(['b'])
    expect(sightedInWindow(sightings, 10, 10).map((entry) => entry.key)).toEqual(['b'])
    expect(sightedInWindow(sightings, 9, 10).map((entry) => entry.key)).toEqual(['a'])
  })

  it('window ends for an out-of-order sighting: its time and each later first sighting within size', () => {
    const sightings = [0, 7, 12, 30].map((timeMs) => recordSighting([], `k${timeMs}`, timeMs, 'e')[0]).filter((entry) => entry !== undefined)
    expect(sightingWindowEnds(sightings, 5, 10)).toEqual([5, 7, 12])
    expect(sightingWindowEnds(sightings, 40, 10)).toEqual([40])
  })

  it('retention drops keys not seen within retentionMs, then caps to the most recently seen', () => {
    const sightings = ['a', 'b', 'c', 'd'].reduce((list, key, index) => recordSighting(list, key, index * 10, key), [] as ReturnType<typeof recordSighting>)
    expect(retainSightings(sightings, 30, 25, 10).map((entry) => entry.key)).toEqual(['b', 'c', 'd'])
    expect(retainSightings(sightings, 30, 100, 2).map((entry) => entry.key)).toEqual(['c', 'd'])
  })
})

describe('small helpers', () => {
  it('capLatest keeps the last items', () => {
    expect(capLatest([1, 2, 3, 4], 2)).toEqual([3, 4])
    expect(capLatest([1, 2], 5)).toEqual([1, 2])
  })

  it('insertFirstOccurrence keeps one item per subject, the earliest', () => {
    const first = insertFirstOccurrence([item('x', 1)], item('d1-late', 9), (other) => other.eventId.startsWith('d1'))
    expect(first).toEqual({ items: [item('x', 1), item('d1-late', 9)], inserted: true })
    const later = insertFirstOccurrence(first.items, item('d1-later', 12), (other) => other.eventId.startsWith('d1'))
    expect(later).toEqual({ items: first.items, inserted: false })
    const earlier = insertFirstOccurrence(first.items, item('d1-early', 0), (other) => other.eventId.startsWith('d1'))
    expect(earlier).toEqual({ items: [item('d1-early', 0), item('x', 1)], inserted: true })
  })

  it('formatDuration reads as an officer would write it', () => {
    expect([7 * 86_400_000, 86_400_000, 6 * 3_600_000, 90 * 60_000, 30_000].map(formatDuration)).toEqual(['7 d', '24 h', '6 h', '90 min', '30 s'])
  })
})
