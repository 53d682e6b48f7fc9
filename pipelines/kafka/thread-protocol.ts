/**
 * What the engine's main thread (Kafka) and its processing thread (the partition tasks) say to
 * each other (pipelines/kafka/processing-thread-client.ts, pipelines/processing-thread.ts).
 *
 * Records and outputs cross as one ArrayBuffer of bytes per batch, moved (transferred), not
 * copied: a kafkajs message's key and value are views into the whole fetch response, and
 * structured clone copies a view's entire underlying buffer.
 */
import { RiskError, type ErrorCode, type ErrorContext } from '../../core/errors.js'
import type { ProducedMessage } from '../../core/output-producer.js'
import { INPUT_TOPIC_KEYS, type InputTopicKey } from '../../core/topics.js'
import type { ThreadMemory } from '../metrics.js'
import type { AnswerTag, DecisionStageMs, PendingRecord, RawRecord } from '../partition-task.js'

/** Records of one topic-partition: keys and values back to back; lengths -1 for null. */
export interface PackedRecords {
  readonly bytes: ArrayBuffer
  /** Key length, value length, per record. */
  readonly lengths: Int32Array
  readonly offsets: BigInt64Array
  readonly timestamps: Float64Array
}

export function packRecords(records: readonly RawRecord[]): PackedRecords {
  let total = 0
  for (const record of records) total += (record.key?.length ?? 0) + (record.value?.length ?? 0)
  const bytes = new ArrayBuffer(total)
  const target = new Uint8Array(bytes)
  const lengths = new Int32Array(records.length * 2)
  const offsets = new BigInt64Array(records.length)
  const timestamps = new Float64Array(records.length)
  let at = 0
  records.forEach((record, index) => {
    offsets[index] = record.offset
    timestamps[index] = record.timestampMs
    lengths[index * 2] = record.key === null ? -1 : record.key.length
    lengths[index * 2 + 1] = record.value === null ? -1 : record.value.length
    if (record.key !== null) {
      target.set(record.key, at)
      at += record.key.length
    }
    if (record.value !== null) {
      target.set(record.value, at)
      at += record.value.length
    }
  })
  return { bytes, lengths, offsets, timestamps }
}

/** The records back, their keys and values views into the one received buffer. */
export function unpackRecords(packed: PackedRecords, topicKey: InputTopicKey, topic: string, partition: number): RawRecord[] {
  const records: RawRecord[] = []
  let at = 0
  const view = (length: number): Buffer | null => {
    if (length < 0) return null
    const slice = Buffer.from(packed.bytes, at, length)
    at += length
    return slice
  }
  for (let index = 0; index < packed.offsets.length; index += 1) {
    const key = view(packed.lengths[index * 2] as number)
    const value = view(packed.lengths[index * 2 + 1] as number)
    records.push({ topicKey, topic, partition, offset: packed.offsets[index] as bigint, timestampMs: packed.timestamps[index] as number, key, value })
  }
  return records
}

/** Buffers (or undefined) back to back in one buffer; length -1 for undefined. */
export interface PackedValues {
  readonly bytes: ArrayBuffer
  readonly lengths: Int32Array
}

export function packValues(values: ReadonlyArray<Buffer | undefined>): PackedValues {
  let total = 0
  for (const value of values) total += value?.length ?? 0
  const bytes = new ArrayBuffer(total)
  const target = new Uint8Array(bytes)
  const lengths = new Int32Array(values.length)
  let at = 0
  values.forEach((value, index) => {
    if (value === undefined) {
      lengths[index] = -1
      return
    }
    lengths[index] = value.length
    target.set(value, at)
    at += value.length
  })
  return { bytes, lengths }
}

/** The values back, views into the one received buffer. */
export function unpackValues(packed: PackedValues): Array<Buffer | undefined> {
  const values: Array<Buffer | undefined> = []
  let at = 0
  for (const length of packed.lengths) {
    if (length < 0) {
      values.push(undefined)
      continue
    }
    values.push(Buffer.from(packed.bytes, at, length))
    at += length
  }
  return values
}

/** One batch's encoded outputs, gathered per topic, in order. */
export interface PackedOutputs {
  readonly headers: Record<string, string>
  readonly topics: readonly string[]
  /** Messages per topic, in the order of `topics`. */
  readonly counts: readonly number[]
  readonly keys: readonly string[]
  readonly valueLengths: Int32Array
  readonly values: ArrayBuffer
}

/** One encoded output, as the output producer sends it. */
export type OutputMessage = ProducedMessage

export function packOutputs(byTopic: ReadonlyMap<string, ReadonlyArray<{ key: string; value: Buffer }>>, headers: Record<string, string>): PackedOutputs {
  let total = 0
  let count = 0
  for (const messages of byTopic.values()) {
    count += messages.length
    for (const message of messages) total += message.value.length
  }
  const values = new ArrayBuffer(total)
  const target = new Uint8Array(values)
  const valueLengths = new Int32Array(count)
  const keys: string[] = []
  const topics: string[] = []
  const counts: number[] = []
  let at = 0
  let index = 0
  for (const [topic, messages] of byTopic) {
    topics.push(topic)
    counts.push(messages.length)
    for (const message of messages) {
      keys.push(message.key)
      valueLengths[index] = message.value.length
      target.set(message.value, at)
      at += message.value.length
      index += 1
    }
  }
  return { headers, topics, counts, keys, valueLengths, values }
}

export function unpackOutputs(packed: PackedOutputs): Array<{ topic: string; messages: OutputMessage[] }> {
  const gathered: Array<{ topic: string; messages: OutputMessage[] }> = []
  let at = 0
  let index = 0
  packed.topics.forEach((topic, topicIndex) => {
    const messages: OutputMessage[] = []
    for (let n = 0; n < (packed.counts[topicIndex] as number); n += 1) {
      const length = packed.valueLengths[index] as number
      messages.push({ key: packed.keys[index] as string, value: Buffer.from(packed.values, at, length), headers: packed.headers })
      at += length
      index += 1
    }
    gathered.push({ topic, messages })
  })
  return gathered
}

/** A task's positions after an operation: what the main thread's back-pressure and lag read. */
export interface TaskStatus {
  /** Next offset to process, per topic in INPUT_TOPIC_KEYS order. */
  readonly nextOffsets: readonly bigint[]
}

export function topicIndex(topic: InputTopicKey): number {
  return INPUT_TOPIC_KEYS.indexOf(topic)
}

/** An error as it crosses: RiskErrors keep their code and details. */
export interface CrossingError {
  readonly name: string
  readonly message: string
  readonly stack?: string
  readonly code?: ErrorCode
  readonly context?: ErrorContext
}

export function toCrossing(error: unknown): CrossingError {
  if (error instanceof RiskError) return { name: error.name, message: error.message.slice(error.code.length + 2), stack: error.stack, code: error.code, context: error.context }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack }
  return { name: 'Error', message: String(error) }
}

/** The error again on this side: a RiskError stays one (same code, context, retriable). */
export function fromCrossing(crossing: CrossingError, where: string): Error {
  const error = crossing.code !== undefined ? new RiskError(crossing.code, crossing.message, crossing.context) : new Error(crossing.message)
  if (crossing.code === undefined) error.name = crossing.name
  error.stack = `${error.name}: ${error.message}\n    (${where})\n${(crossing.stack ?? '').split('\n').slice(1).join('\n')}`
  return error
}

/** A task's topic's high watermark, learned at seenAtEpochMs (a fetch or a refresh round). */
export interface HighWatermarkEntry {
  readonly task: number
  readonly topic: InputTopicKey
  readonly high: bigint
  readonly seenAtEpochMs: number
}

/** A FetchContext (partition-task.ts) crossing threads: its time as epoch ms, like fetchedAtEpochMs. */
export interface CrossingFetch {
  readonly askedAtEpochMs: number
  readonly answer: AnswerTag
  readonly highWatermarks: readonly number[]
}

/** Main thread -> processing thread. */
export type ToProcessing =
  | { readonly op: 'open'; readonly id: number; readonly task: number; readonly partition: number }
  | { readonly op: 'highWatermarks'; readonly entries: readonly HighWatermarkEntry[] }
  | { readonly op: 'enqueue'; readonly task: number; readonly partition: number; readonly topic: InputTopicKey; readonly topicName: string; readonly highWatermark: bigint | null; readonly acceptGap: boolean; readonly fetchedAtEpochMs: number; readonly fetch: CrossingFetch | null; readonly records: PackedRecords }
  | { readonly op: 'drain' | 'flush' | 'flushIfDue' | 'settled'; readonly id: number; readonly task: number }
  | { readonly op: 'close'; readonly task: number }
  | { readonly op: 'stopping' }
  | { readonly op: 'emitted' | 'refreshed'; readonly id: number; readonly error: CrossingError | null }
  | { readonly op: 'stop'; readonly id: number }
  | { readonly op: 'storeReply'; readonly id: number; readonly error: CrossingError | null; readonly keys: readonly string[] | null; readonly values: PackedValues | null }

/** Processing thread -> main thread. */
export type FromProcessing =
  | { readonly op: 'ready' }
  | { readonly op: 'startFailed'; readonly error: CrossingError }
  | { readonly op: 'reply'; readonly id: number; readonly error: CrossingError | null; readonly status: TaskStatus | null; readonly positions?: readonly bigint[] }
  /** Outputs to produce; the `pending` records of their batches (none, one or several) are written to `partition`'s store first, in one write (and nothing produced if it fails). */
  | { readonly op: 'emit'; readonly id: number; readonly outputs: PackedOutputs; readonly partition: number; readonly pending: readonly PendingRecord[] }
  | { readonly op: 'refresh'; readonly id: number; readonly topics: readonly InputTopicKey[] }
  | { readonly op: 'metrics'; readonly calls: readonly MetricCall[] }
  | { readonly op: 'log'; readonly line: string }
  | { readonly op: 'memory'; readonly memory: ThreadMemory }
  | { readonly op: 'store'; readonly id: number; readonly partition: number; readonly call: StoreCall }

/** A PartitionStore call of a processing thread, served by the main thread's RocksDB store. */
export type StoreCall =
  | { readonly name: 'getMany'; readonly keys: readonly string[] }
  | { readonly name: 'write'; readonly putKeys: readonly string[]; readonly putValues: PackedValues; readonly deletes: readonly string[] }
  | { readonly name: 'entries'; readonly prefix: string }

/** One TaskMetrics call, recorded on the processing thread and replayed on the main thread's metrics. */
export type MetricCall =
  | readonly ['eventsProcessed', InputTopicKey, number]
  | readonly ['deadLetter', string]
  | readonly ['decision', string, number, DecisionStageMs]
  | readonly ['detectorError', string]
  | readonly ['duplicateInput']
  | readonly ['offsetGap', InputTopicKey]
  | readonly ['lateEvent', string]
  | readonly ['modelInference', number, number]
  | readonly ['detectorHit', string]
