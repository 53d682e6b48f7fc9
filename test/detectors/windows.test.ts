import { describe, expect, it } from 'vitest'
import { insertByTime, isLate, retain, sessions, slidingWindow, tumblingWindow, tumblingWindowStart } from '../../detectors/windows.js'

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
