/**
 * Kafka's default partitioner (the Java client's: murmur2 of the key's bytes), in 32-bit integer
 * arithmetic.
 *
 * kafkajs's DefaultPartitioner computes the same hash with its 64-bit Long class: about ten Long
 * objects per four bytes of key, and a Buffer per string key. In the engine's e2e profile that was
 * ~1% of the thread (murmur2, Long multiply/xor) and, in the broker-less replay, the largest single
 * allocator (1.8 kB per event, 12% of all bytes allocated). Here: Math.imul, and string keys
 * written into one reused buffer.
 *
 * The partition of every key is the same as kafkajs's and the Java client's (test/core/partitioner.test.ts
 * compares them on random keys), so records keep going where other producers put the same key.
 *
 * Example:
 *   kafka.producer({ createPartitioner: JavaCompatiblePartitioner })
 *   partitionForKey('player-1', 8) // the partition a keyed record of player-1 lands in
 */
import { randomBytes } from 'node:crypto'
import type { ICustomPartitioner } from 'kafkajs'

const SEED = 0x9747b28c
const M = 0x5bd1e995

let scratch = Buffer.allocUnsafe(256)

/** murmur2 of `length` bytes of `data`, as a signed 32-bit integer (Kafka's Utils.murmur2). */
function murmur2Bytes(data: Uint8Array, length: number): number {
  let h = SEED ^ length
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  const rest = length & 3
  if (rest === 3) h ^= (data[whole + 2] as number) << 16
  if (rest >= 2) h ^= (data[whole + 1] as number) << 8
  if (rest >= 1) {
    h ^= data[whole] as number
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** murmur2 of a key: a Buffer's bytes, or the UTF-8 bytes of anything else as a string (as kafkajs does). */
export function murmur2(key: Buffer | string | number): number {
  if (Buffer.isBuffer(key)) return murmur2Bytes(key, key.length)
  const text = typeof key === 'string' ? key : String(key)
  // UTF-8 takes at most 3 bytes per UTF-16 unit
  if (text.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(Math.max(text.length * 3, scratch.length * 2))
  return murmur2Bytes(scratch, scratch.write(text, 0, 'utf8'))
}

const toPositive = (value: number): number => value & 0x7fffffff

/** The partition of a keyed record among `partitions`. */
export function partitionForKey(key: Buffer | string, partitions: number): number {
  return toPositive(murmur2(key)) % partitions
}

/**
 * kafkajs's DefaultPartitioner with this murmur2: an explicit partition wins; a keyed record goes
 * to partitionForKey over all the topic's partitions; one without a key goes round-robin over the
 * partitions that have a leader (from a random start per topic).
 */
export const JavaCompatiblePartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>()
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition
    if (message.key !== null && message.key !== undefined) return partitionForKey(message.key, partitionMetadata.length)
    const counter = (counters.get(topic) ?? randomBytes(4).readUInt32BE(0)) + 1
    counters.set(topic, counter)
    const available = partitionMetadata.filter((partition) => partition.leader >= 0)
    if (available.length > 0) return (available[toPositive(counter) % available.length] as { partitionId: number }).partitionId
    return toPositive(counter) % partitionMetadata.length
  }
}
