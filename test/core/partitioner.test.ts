import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { Partitioners, type PartitionMetadata } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { JavaCompatiblePartitioner, murmur2, partitionForKey } from '../../core/partitioner.js'

const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number

const metadata = (count: number, leaderless: readonly number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: leaderless.includes(partitionId) ? -1 : 0, replicas: [0], isr: [0], partitionErrorCode: 0, offlineReplicas: [] }))

function randomKey(seed: number): string {
  const alphabet = ['a', 'Z', '0', '-', ':', '/', 'é', 'ß', '漢', '😀', ' ']
  const length = seed % 40
  let key = seed % 3 === 0 ? 'player-' : ''
  for (let index = 0; index < length; index += 1) key += alphabet[(seed * 31 + index * 7 + (seed >> 3)) % alphabet.length]
  return key
}

describe('Java-compatible partitioner', () => {
  it('hashes like kafkajs (and so the Java client): string keys of every length mod 4, multi-byte UTF-8, raw bytes', () => {
    // Published Kafka test vectors (Utils.murmur2 in UtilsTest): "21" -> -973932308, "foobar" -> -790332482
    expect(murmur2('21')).toBe(-973932308)
    expect(murmur2('foobar')).toBe(-790332482)
    for (let seed = 0; seed < 3000; seed += 1) {
      const key = randomKey(seed)
      expect(murmur2(key), key).toBe(kafkajsMurmur2(key))
      const bytes = randomBytes(seed % 70)
      expect(murmur2(bytes)).toBe(kafkajsMurmur2(bytes))
    }
    const long = 'x'.repeat(5000) + '漢'.repeat(300)
    expect(murmur2(long)).toBe(kafkajsMurmur2(long))
    expect(murmur2('short again')).toBe(kafkajsMurmur2('short again'))
    expect(murmur2(12345)).toBe(kafkajsMurmur2(Buffer.from('12345')))
  })

  it('sends keyed records where kafkajs DefaultPartitioner does, and an explicit partition where it says', () => {
    const ours = JavaCompatiblePartitioner()
    const theirs = Partitioners.DefaultPartitioner()
    for (const count of [1, 3, 8, 12]) {
      const partitionMetadata = metadata(count)
      for (let seed = 0; seed < 500; seed += 1) {
        const message = { key: randomKey(seed), value: null }
        const partition = ours({ topic: 't', partitionMetadata, message })
        expect(partition).toBe(theirs({ topic: 't', partitionMetadata, message }))
        expect(partition).toBe(partitionForKey(message.key, count))
      }
      expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: null, partition: count - 1 } })).toBe(count - 1)
    }
  })

  it('spreads records without a key round-robin over the partitions that have a leader', () => {
    const partitioner = JavaCompatiblePartitioner()
    const partitionMetadata = metadata(4, [1])
    const seen = Array.from({ length: 9 }, () => partitioner({ topic: 'dead-letters', partitionMetadata, message: { key: null, value: null } }))
    expect(new Set(seen)).toEqual(new Set([0, 2, 3]))
    for (let index = 3; index < seen.length; index += 1) expect(seen[index]).toBe(seen[index - 3])
  })
})
