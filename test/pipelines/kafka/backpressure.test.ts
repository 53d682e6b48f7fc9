import { describe, expect, it } from 'vitest'
import type { InputTopicKey } from '../../../core/topics.js'
import { backpressureMoves, type BufferedPositions } from '../../../pipelines/kafka/backpressure.js'

/** A task with `buffered` records ahead of the processing per topic. */
function taskWith(buffered: Partial<Record<InputTopicKey, number>>): BufferedPositions {
  return {
    bufferedCount: () => Object.values(buffered).reduce((sum, count) => sum + (count ?? 0), 0),
    fetchPosition: (topic) => 100n + BigInt(buffered[topic] ?? 0),
    nextOffset: () => 100n,
  }
}

const TOPICS: InputTopicKey[] = ['players', 'devices', 'bets']

describe('back-pressure of a partition task', () => {
  it('pauses the topics with records ahead once the task holds more than the limit, not the empty ones', () => {
    expect(backpressureMoves(taskWith({ bets: 900, devices: 200 }), 1000, TOPICS, () => false)).toEqual({ pause: ['devices', 'bets'], resume: [] })
    expect(backpressureMoves(taskWith({ bets: 900, devices: 100 }), 1000, TOPICS, () => false)).toEqual({ pause: [], resume: [] })
  })

  it('resumes every paused topic once the task is back under the limit', () => {
    const paused = new Set<InputTopicKey>(['devices', 'bets'])
    expect(backpressureMoves(taskWith({ bets: 600 }), 1000, TOPICS, (topic) => paused.has(topic))).toEqual({ pause: [], resume: ['devices', 'bets'] })
  })

  it('resumes a paused topic drained empty while the others still hold more than the limit (the merge may be waiting for it)', () => {
    // devices was paused with records ahead; the processing took them all and now waits for its
    // next record, while bets alone holds more than the limit: a stall if devices stayed paused
    const paused = new Set<InputTopicKey>(['devices', 'bets'])
    expect(backpressureMoves(taskWith({ bets: 1500 }), 1000, TOPICS, (topic) => paused.has(topic))).toEqual({ pause: [], resume: ['devices'] })
  })

  it('leaves alone what is already as it should be', () => {
    const paused = new Set<InputTopicKey>(['bets'])
    expect(backpressureMoves(taskWith({ bets: 1500 }), 1000, TOPICS, (topic) => paused.has(topic))).toEqual({ pause: [], resume: [] })
  })
})
