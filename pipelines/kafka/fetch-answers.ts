/**
 * The fetch answer each kafkajs batch came in, with the high watermarks of every partition in
 * that answer, the empty ones too.
 *
 * Why: the event-time merge may take a record past an idle topic only on a high watermark that
 * was learned after the record was written (partition-task.ts). The fetch answer that brought
 * the record holds such a watermark for every partition the consumer reads on that broker: the
 * broker built the answer after the record was in its log. kafkajs hands `eachBatch` only the
 * non-empty batches and drops the rest (consumer/runner.js `handleBatch`), so the engine asked
 * the broker again (a ListOffsets round) before most withdrawals: a refresh stage of ~3 ms on
 * average and ~20 ms at the p99 of decision latency (bench/README.md, "decision latency").
 *
 * How: kafkajs's consumer group (`consumer/consumerGroup.js`, private) fetches from one broker
 * per call and returns every partition of the answer as a Batch. `tagFetchAnswers()` wraps that
 * method once per process; each batch it returns carries its answer under a symbol of this
 * module: which consumer asked, the broker's node id, a sequence number increasing with every
 * answer the process receives, and when the fetch started. (A WeakMap from batch to answer did
 * the same, but its entries for thousands of short-lived batches a second doubled the main
 * thread's GC time in the e2e bench.) The wrapper fails loudly on a kafkajs without the method;
 * package.json pins kafkajs at exactly 2.2.4, its last release, so this private use cannot change
 * under the engine unseen (test/pipelines/kafka/fetch-answers.test.ts checks it against the local
 * broker).
 *
 * What a tag proves (partition-task.ts applies it): answers from one broker to one consumer come
 * in the order the broker built them (one fetch in flight per broker, one connection). So a high
 * watermark from answer n of node b covers every record that came in an answer m <= n of node b
 * to the same consumer, and, like a ListOffsets round, every record that arrived before the fetch
 * of answer n started. A record from another broker needs the latter.
 *
 *   tagFetchAnswers()
 *   // in eachBatch:
 *   const answer = fetchAnswerOf(batch)          // { reader, node, sequence, askedAtMs, ... } or undefined
 *   const highs = answer && partitionBatches(answer, batch.partition).map((b) => [b.topic, b.highWatermark]) // [[topic, '42'], ...]
 */
import { createRequire } from 'node:module'

/** The part of a kafkajs Batch this module reads. */
export interface KafkajsBatch {
  readonly topic: string
  readonly partition: number
  readonly highWatermark: string
}

export interface FetchAnswer {
  /** Which kafkajs consumer group fetched it (a number per consumer-group object in this process). */
  readonly reader: number
  /** The broker's node id. */
  readonly node: number
  /** Increases with every answer this process receives (from any broker, to any consumer). */
  readonly sequence: number
  /** performance.now() when the fetch call started (before its request was sent). */
  readonly askedAtMs: number
  /** Every batch of the answer, empty or not. */
  readonly batches: readonly KafkajsBatch[]
  /** partition -> the answer's batches of it, built on first use. */
  byPartition: Map<number, KafkajsBatch[]> | null
}

// kafkajs passes the node id as its cluster's broker map key: a string ('1').
type ConsumerGroupFetch = (this: unknown, nodeId: number | string) => Promise<KafkajsBatch[]>

const CONSUMER_GROUP_MODULE = 'kafkajs/src/consumer/consumerGroup.js'
const TAGGED = Symbol.for('pitboss.fetchAnswers.tagged')
/** The answer, on each batch; the reader number, on each consumer group. */
const ANSWER = Symbol('pitboss.fetchAnswer')
const READER = Symbol('pitboss.fetchAnswers.reader')
let sequence = 0

/** Wraps kafkajs's consumer-group fetch so its batches carry their answer (once per process; later calls do nothing). */
export function tagFetchAnswers(): void {
  const require = createRequire(import.meta.url)
  const module = require(CONSUMER_GROUP_MODULE) as { prototype?: Record<string | symbol, unknown> } | undefined
  const prototype = module?.prototype
  const fetch = prototype?.fetch
  if (prototype === undefined || typeof fetch !== 'function') {
    throw new Error(`fetch answers: ${CONSUMER_GROUP_MODULE} has no ConsumerGroup.prototype.fetch (written against kafkajs 2.2.4); see pipelines/kafka/fetch-answers.ts`)
  }
  if (prototype[TAGGED] === true) return
  const original = fetch as ConsumerGroupFetch
  prototype.fetch = async function fetchTagged(this: unknown, nodeId: number | string): Promise<KafkajsBatch[]> {
    const askedAtMs = performance.now()
    const batches = await original.call(this, nodeId)
    if (batches.length > 0) {
      sequence += 1
      const group = this as { [READER]?: number }
      const reader = group[READER] ??= sequence
      const answer: FetchAnswer = { reader, node: Number(nodeId), sequence, askedAtMs, batches, byPartition: null }
      for (const batch of batches) (batch as { [ANSWER]?: FetchAnswer })[ANSWER] = answer
    }
    return batches
  }
  prototype[TAGGED] = true
}

/** The answer a batch came in; undefined for a batch kafkajs made elsewhere (or before tagFetchAnswers). */
export function fetchAnswerOf(batch: object): FetchAnswer | undefined {
  return (batch as { [ANSWER]?: FetchAnswer })[ANSWER]
}

/** The answer's batch of every topic's `partition`, empty or not: each with its `highWatermark` (kafkajs's string). */
export function partitionBatches(answer: FetchAnswer, partition: number): readonly KafkajsBatch[] {
  if (answer.byPartition === null) {
    const byPartition = new Map<number, KafkajsBatch[]>()
    for (const batch of answer.batches) {
      const batches = byPartition.get(batch.partition)
      if (batches === undefined) byPartition.set(batch.partition, [batch])
      else batches.push(batch)
    }
    answer.byPartition = byPartition
  }
  return answer.byPartition.get(partition) ?? []
}
