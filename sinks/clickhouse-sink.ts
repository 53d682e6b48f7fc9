/**
 * The ClickHouse sink: reads the casino input topics and the engine's output topics and writes
 * them to ClickHouse in batches (by size and by age), idempotently. Which topic feeds which
 * tables is sinks/routes.ts; the tables and their keys are docs/clickhouse.md.
 *
 * Nothing is lost when ClickHouse is down: the Kafka topics are the durable buffer. Offsets are
 * committed only after the rows of every record they cover are inserted, in every table of the
 * batch (a decision's rows in `decisions`, `rule_executions` and `model_scores` all went in, or
 * its offset stays uncommitted). While inserts fail the sink retries with backoff (100 ms
 * doubling to 5 s) and pauses consumption once 2 x maxRows rows wait; it never blocks the
 * consumer loop on ClickHouse, so it keeps heartbeating and its group membership through an
 * outage. A restart re-reads from the last committed offset and re-inserts rows ClickHouse may
 * already have; every table is a ReplacingMergeTree keyed by the row's identity, so the copies
 * collapse (count with FINAL).
 *
 * Records that do not decode are skipped (an output topic holding one is a bug upstream and is
 * logged as an error; an input topic's bad record is the engine's dead letter, in `dead_letters`)
 * and their offsets committed with the rest.
 *
 * Example:
 *   const sink = new ClickHouseSink({ config, kafka, codec, clickhouse, clock: systemClock, logger })
 *   await sink.start()     // consumes until stop()
 *   await sink.stop()      // flushes what is buffered, commits, disconnects
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import { sleep, type Clock } from '../core/clock.js'
import type { PitbossConfig } from '../core/config.js'
import type { ErrorCode } from '../core/errors.js'
import { isRiskError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { CASINO_TOPIC_KEYS, topicName, type TopicKey } from '../core/topics.js'
import type { AvroCodec } from '../schemas/codec.js'
import type { ClickHouse } from './clickhouse/client.js'
import type { Row } from './rows.js'
import { SINK_ROUTES, checkedRoutes, type AnySinkRoute } from './routes.js'

export interface SinkOptions {
  readonly config: PitbossConfig
  readonly kafka: Kafka
  readonly codec: AvroCodec
  readonly clickhouse: ClickHouse
  readonly clock: Clock
  readonly logger: Logger
  /** Topic -> tables; default SINK_ROUTES (every routed topic is subscribed). */
  readonly routes?: readonly AnySinkRoute[]
  /** Flush when this many rows are buffered (INFRA-NOTES: ClickHouse wants ≥ 10k-row inserts under load). Default 20 000. */
  readonly maxRows?: number
  /** Flush rows older than this. Default 1 000 ms. */
  readonly maxAgeMs?: number
  /** Longest wait between two insert attempts. Default 5 000 ms. */
  readonly maxBackoffMs?: number
  readonly onInserted?: (table: string, rows: number) => void
  /** A record that did not decode and was skipped, with the decoder's RISK_ERR_* code. */
  readonly onSkipped?: (topic: string, code: ErrorCode) => void
  /**
   * Rows not yet in ClickHouse (buffered, plus the batch being inserted), after each fetched
   * batch and each flush. Example: `onBuffered: (rows) => bufferedGauge.set(rows)`.
   */
  readonly onBuffered?: (rows: number) => void
}

interface Pending {
  readonly rows: Map<string, Row[]>
  /** Next offset to commit per topic:partition once the rows are in. */
  readonly offsets: Map<string, { topic: string; partition: number; offset: string }>
  rowCount: number
  recordCount: number
  firstAtMs: number
}

// Input records carry the operator's bytes: a bad one is expected (and dead-lettered by the engine).
const CASINO_TOPICS: ReadonlySet<TopicKey> = new Set(CASINO_TOPIC_KEYS)

export class ClickHouseSink {
  private readonly consumer: Consumer
  /** Keyed by the topic's name on the broker. */
  private readonly routes = new Map<string, AnySinkRoute>()
  private pending: Pending = emptyPending()
  /** The chain of flushes: one runs at a time, in order. */
  private flushing: Promise<void> = Promise.resolve()
  /** A flush requested but not started yet; later requests join it. */
  private queuedFlush: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  /**
   * Set once a batch was given up without its rows inserted (only while stopping): no later
   * offset may be committed, since it would cover that batch's records too.
   */
  private abandonedBatch = false
  private running = false
  private paused = false
  /** Rows of the batch being inserted: still waiting for ClickHouse, no longer in `pending`. */
  private insertingRows = 0
  private readonly maxRows: number
  private readonly maxAgeMs: number
  private readonly maxBackoffMs: number

  constructor(private readonly options: SinkOptions) {
    const { config } = options
    for (const entry of checkedRoutes(options.routes ?? SINK_ROUTES)) this.routes.set(topicName(config.kafka, entry.topic), entry)
    this.maxRows = options.maxRows ?? 20_000
    this.maxAgeMs = options.maxAgeMs ?? 1000
    this.maxBackoffMs = options.maxBackoffMs ?? 5000
    this.consumer = options.kafka.consumer({
      groupId: `${config.kafka.groupId}-sink-clickhouse`,
      sessionTimeout: config.kafka.sessionTimeoutMs,
      heartbeatInterval: config.kafka.heartbeatIntervalMs,
      maxWaitTimeInMs: config.kafka.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    })
  }

  /** Topics read, as named on the broker. */
  get topics(): string[] {
    return [...this.routes.keys()]
  }

  async start(): Promise<void> {
    await this.consumer.connect()
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true })
    this.running = true
    this.timer = setInterval(() => {
      if (this.pending.recordCount > 0 && this.options.clock.nowMs() - this.pending.firstAtMs >= this.maxAgeMs) this.requestFlush()
    }, Math.max(50, Math.floor(this.maxAgeMs / 4)))
    await this.consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) })
  }

  /** Flushes what is buffered (retrying until it is in, or 3 attempts once stopping), commits, disconnects. */
  async stop(): Promise<void> {
    this.running = false
    if (this.timer !== null) clearInterval(this.timer)
    // Flush while the consumer is still in its group: offsets can only be committed from there.
    // A batch fetched after this flush stays uncommitted and is re-read on restart (rows collapse by key).
    await this.flush()
    await this.consumer.stop()
    await this.consumer.disconnect()
  }

  private async onBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    const entry = this.routes.get(batch.topic)
    if (entry === undefined) return
    const insertedAtMs = this.options.clock.nowMs()
    for (const message of batch.messages) {
      const decoded = this.options.codec.decodeCached(entry.topic, message.value) ?? (await this.options.codec.decode(entry.topic, message.value))
      if (decoded.ok) {
        const latencyHeader = message.headers?.['pitboss-processing-ms']
        const latencyMs = latencyHeader === undefined ? Number.NaN : Number(latencyHeader.toString())
        const meta = {
          latencyMs: Number.isFinite(latencyMs) ? latencyMs : 0,
          insertedAtMs,
          source: { topic: batch.topic, partition: batch.partition, offset: message.offset, timestampMs: Number(message.timestamp) },
        }
        for (const [table, toRows] of Object.entries(entry.tables)) this.add(table, toRows(decoded.value as never, meta))
      } else {
        this.skipped(entry, batch.topic, batch.partition, message.offset, decoded.code, decoded.message)
      }
      if (this.pending.recordCount === 0) this.pending.firstAtMs = this.options.clock.nowMs()
      this.pending.recordCount += 1
      this.pending.offsets.set(`${batch.topic}:${batch.partition}`, { topic: batch.topic, partition: batch.partition, offset: String(BigInt(message.offset) + 1n) })
      resolveOffset(message.offset)
    }
    this.reportBuffered()
    if (this.pending.rowCount >= this.maxRows) this.requestFlush()
    // Back-pressure: hold fetching while rows wait for a ClickHouse that does not answer. The
    // flush is never awaited here, so the consumer keeps heartbeating (kafkajs heartbeats while
    // every partition is paused) instead of leaving the group during an outage.
    if (this.pending.rowCount >= this.maxRows * 2 && !this.paused) {
      this.consumer.pause(this.topics.map((topic) => ({ topic })))
      this.paused = true
      this.options.logger.info({ rows: this.pending.rowCount }, 'sink paused: rows wait for ClickHouse')
    }
    await heartbeat()
  }

  private skipped(entry: AnySinkRoute, topic: string, partition: number, offset: string, code: ErrorCode, reason: string): void {
    const context = { topic, partition, offset, code, reason }
    if (CASINO_TOPICS.has(entry.topic)) this.options.logger.debug(context, 'sink skipped an input record it cannot decode (the engine dead-letters it)')
    // Our own output topic holding something we cannot read is a bug upstream; keep it visible.
    else this.options.logger.error(context, 'sink cannot decode an output record; skipped')
    this.options.onSkipped?.(topic, code)
  }

  private add(table: string, rows: readonly Row[]): void {
    if (rows.length === 0) return
    const list = this.pending.rows.get(table)
    if (list === undefined) this.pending.rows.set(table, [...rows])
    else for (const row of rows) list.push(row)
    this.pending.rowCount += rows.length
  }

  /**
   * Inserts what is buffered and commits its offsets. Serialised: one flush at a time, each
   * retried until it is in (or, once stopping, 3 attempts). Resolves when the rows buffered at
   * the call are in and committed.
   */
  flush(): Promise<void> {
    if (this.queuedFlush !== null) return this.queuedFlush
    const next = this.flushing.then(() => {
      this.queuedFlush = null
      return this.flushNow()
    })
    this.queuedFlush = next
    this.flushing = next.catch(() => undefined)
    return next
  }

  /** A flush nobody waits for (size or age reached). */
  private requestFlush(): void {
    if (this.queuedFlush !== null) return
    // Losing this flush loses no data: its offsets stay uncommitted, so the records are re-read
    // after a restart or rebalance and their rows re-inserted (and collapsed by key).
    this.flush().catch((error: unknown) => this.options.logger.warn({ err: error }, 'ClickHouse flush abandoned; its records will be re-read from the last committed offset'))
  }

  private async flushNow(): Promise<void> {
    const batch = this.pending
    if (batch.recordCount === 0) return
    this.pending = emptyPending()
    this.insertingRows = batch.rowCount
    try {
      try {
        await this.insertAll(batch)
      } catch (error) {
        this.abandonedBatch = true
        throw error
      } finally {
        this.insertingRows = 0
        this.reportBuffered()
      }
      // After an abandoned batch these rows are in but stay uncommitted: re-read on restart, they collapse by key.
      if (!this.abandonedBatch) await this.consumer.commitOffsets([...batch.offsets.values()])
    } finally {
      // Also after a failed commit (a rebalance): the buffer it drained must not stay paused.
      if (this.paused && this.pending.rowCount < this.maxRows * 2) {
        this.consumer.resume(this.topics.map((topic) => ({ topic })))
        this.paused = false
        this.options.logger.info({ rows: this.pending.rowCount }, 'sink resumed')
      }
    }
    if (this.pending.rowCount >= this.maxRows) this.requestFlush()
  }

  private reportBuffered(): void {
    this.options.onBuffered?.(this.pending.rowCount + this.insertingRows)
  }

  /** Inserts every table of the batch; a retry re-sends only the tables not in yet. */
  private async insertAll(batch: Pending): Promise<void> {
    const done = new Set<string>()
    for (let attempt = 1; ; attempt += 1) {
      try {
        for (const [table, rows] of batch.rows) {
          if (done.has(table)) continue
          await this.options.clickhouse.insert(table, rows)
          done.add(table)
          this.options.onInserted?.(table, rows.length)
        }
        return
      } catch (error) {
        const backoffMs = Math.min(this.maxBackoffMs, 100 * 2 ** Math.min(attempt, 6))
        const context = { err: error, attempt, rows: batch.rowCount, tablesDone: [...done], backoffMs }
        // Retried either way: dropping the rows would lose them. A rejected query (a table or
        // column missing: migrations not applied?) needs an operator, so it is an error.
        if (isRiskError(error, 'RISK_ERR_CLICKHOUSE_UNAVAILABLE')) this.options.logger.warn(context, 'ClickHouse insert failed; retrying (offsets stay uncommitted, Kafka keeps the rows)')
        else this.options.logger.error(context, 'ClickHouse insert failed; retrying (offsets stay uncommitted, Kafka keeps the rows)')
        if (!this.running && attempt >= 3) throw error
        await sleep(backoffMs)
      }
    }
  }
}

function emptyPending(): Pending {
  return { rows: new Map(), offsets: new Map(), rowCount: 0, recordCount: 0, firstAtMs: 0 }
}
