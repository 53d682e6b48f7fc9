/**
 * The ClickHouse sink: reads the engine's output topics and writes them to ClickHouse in
 * batches (by size and by age), idempotently.
 *
 * Nothing is lost when ClickHouse is down: the Kafka topic is the durable buffer. Offsets are
 * committed only after the rows containing them are inserted; while inserts fail the sink
 * retries with backoff and pauses consumption once its memory buffer is full. A restart
 * re-reads from the last committed offset and re-inserts rows ClickHouse may already have;
 * the tables are ReplacingMergeTree keyed by the record's id, so the copies collapse (count
 * with FINAL).
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import { sleep, type Clock } from '../core/clock.js'
import type { PitbossConfig } from '../core/config.js'
import type { Logger } from '../core/logger.js'
import { topicName, type TopicKey } from '../core/topics.js'
import type { AvroCodec } from '../schemas/codec.js'
import type { Decision, DeadLetter } from '../schemas/generated/types.js'
import type { ClickHouse } from './clickhouse/client.js'
import { toDeadLetterRow, toDecisionRow, type RowMeta } from './rows.js'

interface TableRoute {
  readonly topic: TopicKey
  readonly table: string
  readonly toRow: (value: never, meta: RowMeta) => Record<string, unknown>
}

const ROUTES: readonly TableRoute[] = [
  { topic: 'decisions', table: 'decisions', toRow: (value: Decision, meta) => toDecisionRow(value, meta) },
  { topic: 'deadLetters', table: 'dead_letters', toRow: (value: DeadLetter, meta) => toDeadLetterRow(value, meta) },
] as const

export interface SinkOptions {
  readonly config: PitbossConfig
  readonly kafka: Kafka
  readonly codec: AvroCodec
  readonly clickhouse: ClickHouse
  readonly clock: Clock
  readonly logger: Logger
  /** Flush when this many rows are buffered (INFRA-NOTES: ClickHouse wants ≥ 10k-row inserts under load). */
  readonly maxRows?: number
  /** Flush rows older than this. */
  readonly maxAgeMs?: number
  readonly onInserted?: (table: string, rows: number) => void
}

interface Pending {
  readonly rows: Map<string, Record<string, unknown>[]>
  /** Next offset to commit per topic:partition once the rows are in. */
  readonly offsets: Map<string, { topic: string; partition: number; offset: string }>
  count: number
  firstAtMs: number
}

export class ClickHouseSink {
  private readonly consumer: Consumer
  private readonly routes = new Map<string, TableRoute>()
  private pending: Pending = emptyPending()
  private flushing: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | null = null
  private running = false
  private paused = false
  private readonly maxRows: number
  private readonly maxAgeMs: number

  constructor(private readonly options: SinkOptions) {
    const { config } = options
    for (const route of ROUTES) this.routes.set(topicName(config.kafka, route.topic), route)
    this.maxRows = options.maxRows ?? 20_000
    this.maxAgeMs = options.maxAgeMs ?? 1000
    this.consumer = options.kafka.consumer({
      groupId: `${config.kafka.groupId}-sink-clickhouse`,
      sessionTimeout: config.kafka.sessionTimeoutMs,
      heartbeatInterval: config.kafka.heartbeatIntervalMs,
      maxWaitTimeInMs: config.kafka.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    })
  }

  async start(): Promise<void> {
    await this.consumer.connect()
    await this.consumer.subscribe({ topics: [...this.routes.keys()], fromBeginning: true })
    this.running = true
    this.timer = setInterval(() => {
      if (this.pending.count > 0 && this.options.clock.nowMs() - this.pending.firstAtMs >= this.maxAgeMs) void this.flush()
    }, Math.max(50, Math.floor(this.maxAgeMs / 4)))
    await this.consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) })
  }

  /** Flushes what is buffered (retrying until it is in or the deadline passes), commits, disconnects. */
  async stop(): Promise<void> {
    this.running = false
    if (this.timer !== null) clearInterval(this.timer)
    await this.consumer.stop()
    await this.flush()
    await this.consumer.disconnect()
  }

  private async onBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    const route = this.routes.get(batch.topic)
    if (route === undefined) return
    const insertedAtMs = this.options.clock.nowMs()
    for (const message of batch.messages) {
      const decoded = await this.options.codec.decode(route.topic, message.value)
      if (!decoded.ok) {
        // Our own output topic holding something we cannot read is a bug upstream; keep it visible.
        this.options.logger.error({ topic: batch.topic, partition: batch.partition, offset: message.offset, code: decoded.code, reason: decoded.message }, 'sink cannot decode an output record; skipped')
        continue
      }
      const latencyHeader = message.headers?.['pitboss-processing-ms']
      const latencyMs = latencyHeader === undefined ? Number.NaN : Number(latencyHeader.toString())
      this.add(route.table, route.toRow(decoded.value as never, { latencyMs: Number.isFinite(latencyMs) ? latencyMs : 0, insertedAtMs }))
      this.pending.offsets.set(`${batch.topic}:${batch.partition}`, { topic: batch.topic, partition: batch.partition, offset: String(BigInt(message.offset) + 1n) })
      resolveOffset(message.offset)
    }
    if (this.pending.count >= this.maxRows) await this.flush()
    await heartbeat()
    // Back-pressure: hold fetching while rows wait for a ClickHouse that does not answer.
    if (this.pending.count >= this.maxRows * 2 && !this.paused) {
      this.consumer.pause([...this.routes.keys()].map((topic) => ({ topic })))
      this.paused = true
    }
  }

  private add(table: string, row: Record<string, unknown>): void {
    if (this.pending.count === 0) this.pending.firstAtMs = this.options.clock.nowMs()
    const rows = this.pending.rows.get(table) ?? []
    rows.push(row)
    this.pending.rows.set(table, rows)
    this.pending.count += 1
  }

  /** Serialised: one flush at a time, each retried until it is in (or the sink stops). */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.flushNow())
    this.flushing = next.catch(() => undefined)
    return next
  }

  private async flushNow(): Promise<void> {
    const batch = this.pending
    if (batch.count === 0) return
    this.pending = emptyPending()
    for (let attempt = 1; ; attempt += 1) {
      try {
        for (const [table, rows] of batch.rows) {
          await this.options.clickhouse.insert(table, rows)
          this.options.onInserted?.(table, rows.length)
        }
        break
      } catch (error) {
        const backoffMs = Math.min(5000, 100 * 2 ** Math.min(attempt, 6))
        this.options.logger.warn({ err: error, attempt, rows: batch.count, backoffMs }, 'ClickHouse insert failed; retrying (offsets stay uncommitted, Kafka keeps the rows)')
        if (!this.running && attempt >= 3) throw error
        await sleep(backoffMs)
      }
    }
    await this.consumer.commitOffsets([...batch.offsets.values()])
    if (this.paused && this.pending.count < this.maxRows) {
      this.consumer.resume([...this.routes.keys()].map((topic) => ({ topic })))
      this.paused = false
    }
  }
}

function emptyPending(): Pending {
  return { rows: new Map(), offsets: new Map(), count: 0, firstAtMs: 0 }
}
