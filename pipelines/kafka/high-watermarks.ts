/**
 * High watermarks of a fixed set of topics: one ListOffsets request per broker for all the topics
 * asked, on a kafkajs cluster client of its own.
 *
 * Why not `admin.fetchTopicOffsets`: it asks for one topic per call and sends two ListOffsets one
 * after the other (latest, then earliest; only the first is needed here). The engine asks on every
 * drain that could overtake a record not fetched yet, so they are on most decisions' path.
 * Against the local mock broker, idle, 7 topics took p50 1.8-2.0 ms that way (7 admin clients in
 * parallel, one connection each, because requests multiplexed on one connection answered late:
 * p50 44 ms), and 0.23-0.28 ms in one request (bench/README.md, "decision latency").
 *
 * kafkajs has no public call that sends one ListOffsets for several topics. Its cluster client,
 * which its admin, consumer and producer are each built on, has one (`fetchTopicsOffset`). The
 * `Kafka` object makes those cluster clients with a private method, which this reader finds by
 * its symbol's description; the construction fails with a clear error on a kafkajs without it
 * (tested: test/pipelines/kafka/high-watermarks.test.ts). package.json pins kafkajs at exactly
 * 2.2.4, its last release, so this private use cannot change under the engine unseen.
 *
 * Offsets are read with isolation level READ_COMMITTED, like the engine's consumer: the offset
 * returned is the one its fetches reach.
 *
 *   const reader = new HighWatermarkReader(kafka, ['casino.bets.v1', 'casino.withdrawals.v1'])
 *   await reader.connect()
 *   const highs = await reader.fetch() // Map topic -> [{ partition, high }]; or reader.fetch(['casino.bets.v1'])
 */
import type { Kafka } from 'kafkajs'

export interface PartitionHigh {
  readonly partition: number
  readonly high: bigint
}

/** The part of kafkajs's (private) cluster client this reader uses. */
interface KafkaCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  addMultipleTargetTopics(topics: string[]): Promise<void>
  refreshMetadata(): Promise<void>
  refreshMetadataIfNecessary(): Promise<void>
  findTopicPartitionMetadata(topic: string): ReadonlyArray<{ partitionId: number }>
  fetchTopicsOffset(topics: ReadonlyArray<{ topic: string; fromBeginning: boolean; partitions: ReadonlyArray<{ partition: number }> }>): Promise<ReadonlyArray<{ topic: string; partitions: ReadonlyArray<{ partition: number; offset: string }> }>>
}

type CreateCluster = (options: { isolationLevel: number; allowAutoTopicCreation: boolean }) => KafkaCluster

const CREATE_CLUSTER = 'private:Kafka:createCluster'
/** kafkajs's ISOLATION_LEVEL.READ_COMMITTED (protocol/isolationLevel.js), the consumer's default. */
const READ_COMMITTED = 1

function clusterOf(kafka: Kafka): KafkaCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((candidate) => candidate.description === CREATE_CLUSTER)
  const create = symbol === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[symbol]
  if (typeof create !== 'function') {
    throw new Error(`HighWatermarkReader: this kafkajs has no ${CREATE_CLUSTER} method (written against kafkajs 2.2.4); see pipelines/kafka/high-watermarks.ts`)
  }
  return (create as CreateCluster)({ isolationLevel: READ_COMMITTED, allowAutoTopicCreation: false })
}

export class HighWatermarkReader {
  private readonly cluster: KafkaCluster
  private connected: Promise<void> | null = null
  /** Set by a failed request: the next one refreshes the metadata first (a leader or partition may have changed). */
  private metadataSuspect = false

  constructor(kafka: Kafka, readonly topics: readonly string[]) {
    this.cluster = clusterOf(kafka)
  }

  /** Connects and loads the topics' metadata; a failed connect is retried by the next call. */
  connect(): Promise<void> {
    this.connected ??= (async () => {
      await this.cluster.connect()
      await this.cluster.addMultipleTargetTopics([...this.topics])
    })().catch((error: unknown) => {
      this.connected = null
      throw error
    })
    return this.connected
  }

  /**
   * The high watermark per partition of `topics` (default: all of this reader's), in one request
   * per broker. A topic this reader was not built for is an error. A failed request (broker gone,
   * leader moved) rejects; the next call refreshes the metadata before it asks.
   */
  async fetch(topics: readonly string[] = this.topics): Promise<ReadonlyMap<string, readonly PartitionHigh[]>> {
    for (const topic of topics) {
      if (!this.topics.includes(topic)) throw new Error(`HighWatermarkReader: ${topic} is not one of its topics (${this.topics.join(', ')})`)
    }
    await this.connect()
    try {
      if (this.metadataSuspect) {
        await this.cluster.refreshMetadata()
        this.metadataSuspect = false
      } else {
        await this.cluster.refreshMetadataIfNecessary()
      }
      const answers = await this.cluster.fetchTopicsOffset(topics.map((topic) => ({
        topic,
        fromBeginning: false,
        partitions: this.cluster.findTopicPartitionMetadata(topic).map(({ partitionId }) => ({ partition: partitionId })),
      })))
      return new Map(answers.map(({ topic, partitions }) => [topic, partitions.map(({ partition, offset }) => ({ partition, high: BigInt(offset) }))]))
    } catch (error) {
      this.metadataSuspect = true
      throw error
    }
  }

  async disconnect(): Promise<void> {
    this.connected = null
    await this.cluster.disconnect()
  }
}

/**
 * Refresh rounds, one at a time: a caller joins the next round, which starts once the round in
 * flight has settled (failed or not) and asks every name its callers gave. So a caller's answer
 * was asked after its call, and costs at most the rest of the round in flight plus one round.
 * A failed round rejects its own callers only.
 *
 *   const rounds = new RefreshRounds((names) => refreshFrom(reader, names))
 *   await rounds.ask(['casino.bets.v1'])
 */
export class RefreshRounds {
  private inFlight: Promise<void> = Promise.resolve()
  private next: { readonly names: Set<string>; readonly done: Promise<void> } | null = null

  constructor(private readonly round: (names: readonly string[]) => Promise<void>) {}

  ask(names: Iterable<string>): Promise<void> {
    let next = this.next
    if (next === null) {
      const joined = new Set<string>()
      const done = this.inFlight.then(() => {
        this.next = null
        const round = this.round([...joined])
        this.inFlight = round.catch(() => undefined)
        return round
      })
      next = this.next = { names: joined, done }
    }
    for (const name of names) next.names.add(name)
    return next.done
  }
}
