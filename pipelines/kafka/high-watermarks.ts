/**
 * High watermarks of a fixed set of topics, all asked at once, each over its own connection.
 *
 * Why not one admin client: kafkajs multiplexes every request to a broker over one connection,
 * and `fetchTopicOffsets` asks per topic (two ListOffsets each). With several topics asked in
 * parallel, the replies after the first on that connection arrive late: against the local mock
 * broker, 7 topics in parallel on one connection took p50 44 ms, one after the other 5.9 ms, and
 * in parallel on 7 connections 2.4 ms (bench/README.md, "decision latency"). The engine asks on
 * every drain that could overtake a record not fetched yet, so this was most of its decision
 * latency.
 *
 *   const reader = new HighWatermarkReader(kafka, ['casino.bets.v1', 'casino.withdrawals.v1'])
 *   await reader.connect()
 *   const highs = await reader.fetch() // Map topic -> [{ partition, high }]; or reader.fetch(['casino.bets.v1'])
 */
import type { Admin, Kafka } from 'kafkajs'

export interface PartitionHigh {
  readonly partition: number
  readonly high: bigint
}

export class HighWatermarkReader {
  private readonly admins: ReadonlyMap<string, Admin>
  private connected: Promise<void> | null = null

  constructor(kafka: Kafka, topics: readonly string[]) {
    this.admins = new Map(topics.map((topic) => [topic, kafka.admin()]))
  }

  get topics(): readonly string[] {
    return [...this.admins.keys()]
  }

  /** Connects every topic's client; a failed connect is retried by the next call. */
  connect(): Promise<void> {
    this.connected ??= Promise.all([...this.admins.values()].map((admin) => admin.connect())).then(
      () => undefined,
      (error: unknown) => {
        this.connected = null
        throw error
      },
    )
    return this.connected
  }

  /**
   * The high watermark per partition of `topics` (default: all of this reader's), asked in
   * parallel, one request in flight per connection. A topic this reader was not built for is an
   * error.
   */
  async fetch(topics: readonly string[] = this.topics): Promise<ReadonlyMap<string, readonly PartitionHigh[]>> {
    await this.connect()
    const answers = await Promise.all(topics.map(async (topic) => {
      const admin = this.admins.get(topic)
      if (admin === undefined) throw new Error(`HighWatermarkReader: ${topic} is not one of its topics (${this.topics.join(', ')})`)
      const offsets = await admin.fetchTopicOffsets(topic)
      return [topic, offsets.map(({ partition, high }) => ({ partition, high: BigInt(high) }))] as const
    }))
    return new Map(answers)
  }

  async disconnect(): Promise<void> {
    this.connected = null
    await Promise.all([...this.admins.values()].map((admin) => admin.disconnect()))
  }
}
