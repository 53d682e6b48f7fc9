/**
 * The graph worker (issue 5): consumes every partition of `risk.links.v1` into one LinkGraph,
 * and on a schedule recomputes it and publishes each changed player's cluster to the compacted
 * `risk.clusters.v1` and each new cluster alert to `risk.alerts.v1`.
 *
 * Records are decoded as they arrive and buffered; they are applied to the graph only at a
 * recompute, all buffered records below the recompute's cut, in (partition, offset) order. The
 * graph therefore only ever holds "snapshot + whole cuts", and one cut always gives the same
 * graph, whatever order the fetches came in.
 *
 * One recompute ("sequence" n), in this order:
 *   1. RocksDB: `graph/pending` = { sequence n, cut: next offset per partition };
 *   2. apply the records below the cut (bad ones become dead letters), `graph.recompute()`;
 *   3. produce dead letters, cluster records of changed players and alerts not current before,
 *      and wait for the acks;
 *   4. one RocksDB write batch: the graph snapshot (in chunks), `graph/meta` = { sequence n,
 *      offsets = cut }, `graph/pending` deleted;
 *   5. commit the cut as the group's offsets (lag monitoring only: positions come from RocksDB).
 * A crash (SIGKILL) before 4 leaves the pending record: on restart the worker restores snapshot
 * n-1, reads exactly up to the pending cut, recomputes as sequence n and re-publishes the same
 * records with the same eventIds and alertIds (consumers de-duplicate by them); then it goes on
 * live. A crash after 4 loses nothing. Replaying a link is idempotent in LinkGraph as well.
 *
 * The graph is not partitionable (docs/graph.md): one worker consumes all partitions. Several
 * workers may run in one group; the assigner gives every partition to the member with the most
 * advanced snapshot (ties: smallest member id) and leaves the others idle as standbys. A standby
 * that takes over without a snapshot of its own replays the topic from offset 0, which needs
 * unlimited retention on `risk.links.v1`.
 *
 * Example:
 *   const worker = new GraphWorker({ config, kafka: createKafka(config.kafka, logger), codec, store, logger })
 *   await worker.start()          // restores the snapshot, seeks, consumes
 *   await worker.stop()           // recomputes what it holds, snapshots, commits
 */
import { AssignerProtocol, type Admin, type Consumer, type EachBatchPayload, type Kafka, type PartitionAssigner, type Producer } from 'kafkajs'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { sleep, systemClock, type Clock } from '../core/clock.js'
import type { PitbossConfig } from '../core/config.js'
import { RiskError, isRiskError, type ErrorCode } from '../core/errors.js'
import { createKafka, groupConsumerConfig, ORDERED_PRODUCER_CONFIG } from '../core/kafka.js'
import type { Logger } from '../core/logger.js'
import { topicName, type TopicKey } from '../core/topics.js'
import { LinkGraph, type RecomputeResult } from '../graph/link-graph.js'
import { applyLinkRecord } from '../graph/links.js'
import type { GraphParamsInput } from '../graph/params.js'
import type { ClusterAlert, ClusterSummary, SharedIdentifier } from '../graph/types.js'
import { AvroCodec, createHttpRegistryClient } from '../schemas/codec.js'
import { deadLetterIdOf } from '../schemas/domain.js'
import type { Alert, ClusterIdentifierType, ClusterTypology, DeadLetter, LinkRecord, PlayerCluster } from '../schemas/generated/types.js'
import { untilAvailable } from './processing.js'
import { serveMetrics } from './metrics.js'
import { openRocksStore, type PartitionStore } from './state/store.js'

/** Most shared identifiers one cluster record carries (the schema documents the bound). */
export const MAX_SHARED_IDENTIFIERS = 20
/** Most evidence entries (players, identifiers, edge references) one alert carries. */
export const MAX_ALERT_EVIDENCE = 50
/** Version of the graph detectors in alerts (`graph_<typology>@1`). */
export const GRAPH_DETECTOR_VERSION = 1
/** Snapshot chunk size: RocksDB takes large values, but 4 MiB pieces keep each put and read modest. */
const SNAPSHOT_CHUNK_BYTES = 4 * 1024 * 1024
const META_KEY = 'graph/meta'
const PENDING_KEY = 'graph/pending'
const CHUNK_PREFIX = 'graph/snapshot/'
const chunkKey = (index: number): string => `${CHUNK_PREFIX}${String(index).padStart(6, '0')}`

/** Offsets as decimal strings by partition (JSON has no bigint). */
type StoredOffsets = Readonly<Record<string, string>>

interface StoredMeta {
  readonly version: 1
  readonly sequence: number
  readonly offsets: StoredOffsets
  readonly chunks: number
  readonly bytes: number
}

interface StoredPending {
  readonly version: 1
  readonly sequence: number
  readonly cut: StoredOffsets
}

/** A fetched record: decoded, or the reason it will be dead-lettered. */
interface BufferedRecord {
  readonly offset: bigint
  readonly timestampMs: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly decoded: { readonly ok: true; readonly record: LinkRecord } | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly schemaId: number | null }
}

export interface OutputMessage {
  readonly topic: TopicKey
  readonly key: string
  readonly value: Record<string, unknown>
}

/** The worker's metrics (prom-client); `registry` is served on the metrics port. */
export interface GraphWorkerMetrics {
  readonly registry: Registry
  recomputed(seconds: number, counts: { players: number; identifiers: number; links: number; transferEdges: number }, sequence: number): void
  applied(kind: string, count: number): void
  deadLetter(reason: ErrorCode): void
  published(topic: TopicKey, count: number): void
  lag(partition: number, records: number): void
}

export function createGraphWorkerMetrics(registry = new Registry()): GraphWorkerMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'pitboss_graph_process_' })
  const nodes = new Gauge({ name: 'pitboss_graph_nodes', help: 'nodes of the link graph after the last recompute, by kind', labelNames: ['kind'], registers: [registry] })
  const edges = new Gauge({ name: 'pitboss_graph_edges', help: 'edges of the link graph after the last recompute, by kind (link: player-identifier; transfer: player-player)', labelNames: ['kind'], registers: [registry] })
  const recompute = new Histogram({ name: 'pitboss_graph_recompute_seconds', help: 'one recompute: apply the buffered links, recompute changed components', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers: [registry] })
  const sequence = new Gauge({ name: 'pitboss_graph_sequence', help: 'sequence number of the last recompute', registers: [registry] })
  const applied = new Counter({ name: 'pitboss_graph_links_applied_total', help: 'link records applied to the graph, by kind', labelNames: ['kind'], registers: [registry] })
  const deadLetters = new Counter({ name: 'pitboss_graph_dead_letters_total', help: 'link records sent to the dead-letter topic, by reason code', labelNames: ['reason'], registers: [registry] })
  const published = new Counter({ name: 'pitboss_graph_published_total', help: 'records produced, by topic key (clusters, alerts, deadLetters)', labelNames: ['topic'], registers: [registry] })
  const lag = new Gauge({ name: 'pitboss_graph_consumer_lag', help: 'records of risk.links.v1 behind the high watermark, per partition', labelNames: ['partition'], registers: [registry] })
  return {
    registry,
    recomputed(seconds, counts, value) {
      recompute.observe(seconds)
      nodes.set({ kind: 'player' }, counts.players)
      nodes.set({ kind: 'identifier' }, counts.identifiers)
      edges.set({ kind: 'link' }, counts.links)
      edges.set({ kind: 'transfer' }, counts.transferEdges)
      sequence.set(value)
    },
    applied: (kind, count) => applied.inc({ kind }, count),
    deadLetter: (reason) => deadLetters.inc({ reason }),
    published: (topic, count) => published.inc({ topic }, count),
    lag: (partition, records) => lag.set({ partition: String(partition) }, records),
  }
}

export interface GraphWorkerOptions {
  readonly config: PitbossConfig
  readonly kafka: Kafka
  /** Registered (registerAll) codec: decodes links, encodes clusters, alerts and dead letters. */
  readonly codec: AvroCodec
  /** The worker's own key space (e.g. `openRocksStore(dir).partition(0)`); nobody else writes it. */
  readonly store: PartitionStore
  readonly logger: Logger
  readonly metrics?: GraphWorkerMetrics
  readonly clock?: Clock
  readonly graphParams?: GraphParamsInput
  /** Consumer group; default `${config.kafka.groupId}-graph`. */
  readonly groupId?: string
  /** Recompute when records are buffered and this much wall time passed since the last one (default 2000 ms)... */
  readonly recomputeIntervalMs?: number
  /** ...or as soon as this many records are buffered (default 20 000). */
  readonly recomputeRecords?: number
  /** Rule-set version the alerts name (default `graph@1`). */
  readonly ruleSetVersion?: string
}

export const DEFAULT_RECOMPUTE_INTERVAL_MS = 2000
export const DEFAULT_RECOMPUTE_RECORDS = 20_000

const decodeOffsets = (stored: StoredOffsets): Map<number, bigint> => new Map(Object.entries(stored).map(([partition, offset]) => [Number(partition), BigInt(offset)]))
const encodeOffsets = (offsets: ReadonlyMap<number, bigint>): StoredOffsets => Object.fromEntries([...offsets].sort(([left], [right]) => left - right).map(([partition, offset]) => [String(partition), String(offset)]))

function parseStored<T>(bytes: Buffer, key: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T
  } catch (error) {
    throw new RiskError('RISK_ERR_STATE_CORRUPT', `graph worker state ${key} is not valid JSON; delete the graph state folder to rebuild from the topic`, { key }, { cause: error })
  }
}

/**
 * A consumer-group assigner for a worker that must hold every partition: all go to the member
 * with the highest snapshot sequence (announced in its metadata), ties to the smallest member
 * id, so a newly started standby never takes the graph away from the worker that has it.
 */
export function graphAssigner(sequenceOf: () => number): PartitionAssigner {
  const name = 'PitbossGraphSingle'
  return ({ cluster }) => ({
    name,
    version: 1,
    async assign({ members, topics }) {
      const ranked = members.map((member) => {
        let sequence = -1
        try {
          const metadata = AssignerProtocol.MemberMetadata.decode(member.memberMetadata)
          sequence = Number(metadata?.userData?.toString('utf8') ?? '-1')
        } catch {
          sequence = -1 // unreadable metadata: rank last rather than fail the whole group
        }
        return { memberId: member.memberId, sequence: Number.isFinite(sequence) ? sequence : -1 }
      }).sort((left, right) => right.sequence - left.sequence || (left.memberId < right.memberId ? -1 : 1))
      const leader = ranked[0]?.memberId
      return members.map((member) => {
        const assignment: Record<string, number[]> = {}
        for (const topic of topics) assignment[topic] = member.memberId === leader ? cluster.findTopicPartitionMetadata(topic).map((partition) => partition.partitionId).sort((left, right) => left - right) : []
        return { memberId: member.memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }) }
      })
    },
    protocol({ topics }) {
      return { name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(String(sequenceOf())) }) }
    },
  })
}

/** The cluster record of a player (erased: `summary` null). */
export function toClusterRecord(playerId: string, summary: ClusterSummary | null, sequence: number, streamTimeMs: number): PlayerCluster {
  if (summary === null) {
    return {
      eventId: `erased:${playerId}:${sequence}`, playerId, eventTimeMs: streamTimeMs, sequence, erased: true, clusterId: null, size: 0,
      communityId: null, communitySize: 0, sharedIdentifiers: [], sharedIdentifierCount: 0, risk: 0, typologies: [], stale: false, computedAtMs: null,
    }
  }
  const shared = [...summary.sharedIdentifiers].sort((left, right) => right.playerCount - left.playerCount || compareIdentifiers(left, right))
  return {
    eventId: `${summary.clusterId}:${playerId}:${sequence}`,
    playerId,
    eventTimeMs: streamTimeMs,
    sequence,
    erased: false,
    clusterId: summary.clusterId,
    size: summary.size,
    communityId: summary.communityId,
    communitySize: summary.communitySize,
    sharedIdentifiers: shared.slice(0, MAX_SHARED_IDENTIFIERS).map((identifier) => ({
      identifierType: identifier.identifierType.toUpperCase() as ClusterIdentifierType, identifier: identifier.identifier, playerCount: identifier.playerCount,
    })),
    sharedIdentifierCount: shared.length,
    risk: summary.risk,
    typologies: summary.typologies.map((typology) => typology.toUpperCase() as ClusterTypology),
    stale: summary.stale,
    computedAtMs: summary.computedAtMs,
  }
}

function compareIdentifiers(left: SharedIdentifier, right: SharedIdentifier): number {
  const leftKey = `${left.identifierType}:${left.identifier}`
  const rightKey = `${right.identifierType}:${right.identifier}`
  return leftKey < rightKey ? -1 : leftKey > rightKey ? 1 : 0
}

/**
 * A cluster alert as an `risk.alerts.v1` record, keyed by its smallest player: detector
 * `graph_<typology>`, value = players named, evidence = `player:<id>` for each player, then
 * `<type>:<identifier>` for each shared identifier, then `<edge kind>:<reference>` (transfer
 * ids, table:round), bounded to MAX_ALERT_EVIDENCE entries. alertId `graph:<the graph's id>`.
 */
export function toAlertRecord(alert: ClusterAlert, ruleSetVersion: string): Alert {
  const evidence = [
    ...alert.playerIds.map((playerId) => `player:${playerId}`),
    ...alert.sharedIdentifiers.map((identifier) => `${identifier.identifierType}:${identifier.identifier}`),
    ...alert.edges.filter((edge) => edge.kind !== 'link').map((edge) => `${edge.kind}:${edge.reference}`),
  ]
  return {
    alertId: `graph:${alert.alertId}`,
    playerId: alert.playerIds[0] ?? alert.clusterId,
    detectorId: `graph_${alert.typology}`,
    detectorVersion: GRAPH_DETECTOR_VERSION,
    severity: 'HIGH',
    action: 'REVIEW',
    eventTimeMs: alert.eventTimeMs,
    value: alert.playerIds.length,
    threshold: null,
    windowStartMs: null,
    windowEndMs: null,
    evidenceEventIds: [...new Set(evidence)].slice(0, MAX_ALERT_EVIDENCE),
    ruleSetVersion,
    clusterId: alert.clusterId,
    amountMinor: null,
    currency: null,
    decisionId: null,
  }
}

function deadLetterOf(topic: string, partition: number, record: BufferedRecord, reason: ErrorCode, message: string, schemaId: number | null): DeadLetter {
  return {
    dlqId: deadLetterIdOf(topic, partition, String(record.offset)),
    sourceTopic: topic,
    sourcePartition: partition,
    sourceOffset: Number(record.offset),
    sourceTimestampMs: record.timestampMs,
    reason,
    message,
    schemaId,
    key: record.key,
    payload: record.value ?? Buffer.alloc(0),
  }
}

export class GraphWorker {
  private graph: LinkGraph
  private sequence = 0
  /** Next offset per partition covered by the graph (= the last snapshot's). */
  private appliedOffsets = new Map<number, bigint>()
  /** Next offset per partition fetched into the buffer. */
  private readonly fetchedOffsets = new Map<number, bigint>()
  private readonly buffers = new Map<number, BufferedRecord[]>()
  private bufferedCount = 0
  /** A recompute a crashed run published but did not snapshot: replayed exactly first. */
  private replay: { sequence: number; cut: Map<number, bigint> } | null = null
  private readonly paused = new Set<number>()
  private readonly gapSeeks = new Set<string>()
  private assigned: number[] = []
  private lastRecomputeMs = 0
  /** Serialises batches, recomputes and stop: the graph is touched by one of them at a time. */
  private work: Promise<unknown> = Promise.resolve()
  private running = false
  private timer: NodeJS.Timeout | null = null
  private fatal: ((error: Error) => void) | null = null
  private readonly consumer: Consumer
  private readonly producer: Producer
  private readonly admin: Admin
  private readonly topic: string
  private readonly clock: Clock
  private readonly recomputeIntervalMs: number
  private readonly recomputeRecords: number
  private readonly ruleSetVersion: string

  constructor(private readonly options: GraphWorkerOptions) {
    const { config, kafka } = options
    this.topic = topicName(config.kafka, 'links')
    this.clock = options.clock ?? systemClock
    this.recomputeIntervalMs = options.recomputeIntervalMs ?? DEFAULT_RECOMPUTE_INTERVAL_MS
    this.recomputeRecords = options.recomputeRecords ?? DEFAULT_RECOMPUTE_RECORDS
    this.ruleSetVersion = options.ruleSetVersion ?? `graph@${GRAPH_DETECTOR_VERSION}`
    this.graph = new LinkGraph(options.graphParams)
    this.consumer = kafka.consumer({ ...groupConsumerConfig(config.kafka, options.groupId ?? `${config.kafka.groupId}-graph`), partitionAssigners: [graphAssigner(() => this.sequence)] })
    // Each output partition stays in order across retries.
    this.producer = kafka.producer(ORDERED_PRODUCER_CONFIG)
    this.admin = kafka.admin()
  }

  /** Called with an error the worker cannot recover from (exit non-zero; the restart resumes from the snapshot). */
  onFatal(handler: (error: Error) => void): void {
    this.fatal = handler
  }

  /** The graph as of the last recompute (read-only use: tests, an API). */
  get currentGraph(): LinkGraph { return this.graph }
  get currentSequence(): number { return this.sequence }

  async start(): Promise<void> {
    await this.restore()
    await Promise.all([this.producer.connect(), this.admin.connect()])
    this.running = true
    this.lastRecomputeMs = this.clock.monotonicMs()
    await this.consumer.connect()
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      this.assign(event.payload.memberAssignment[this.topic] ?? []).catch((error: unknown) => this.fail(error))
    })
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.options.logger.error({ err: event.payload.error, restart: event.payload.restart }, 'graph consumer crashed')
      if (!event.payload.restart) this.fail(event.payload.error)
    })
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true })
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (payload) => this.onBatch(payload) })
    this.timer = setInterval(() => {
      if (this.isDue(false)) this.exclusive(() => this.recomputeIfDue(false)).catch((error: unknown) => this.fail(error))
    }, Math.max(50, Math.min(500, Math.floor(this.recomputeIntervalMs / 4))))
    this.timer.unref()
    this.options.logger.info({ topic: this.topic, sequence: this.sequence, offsets: encodeOffsets(this.appliedOffsets), replaying: this.replay?.sequence ?? null }, 'graph worker consuming')
  }

  /** Graceful stop: recompute and snapshot what is buffered (unless a replay is unfinished), commit, disconnect. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    await this.exclusive(async () => {
      if (this.running && this.replay === null && this.bufferedCount > 0) await this.recompute(this.cutOfFetched())
      this.running = false
    })
    await this.consumer.disconnect()
    await Promise.all([this.producer.disconnect(), this.admin.disconnect()])
  }

  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    const next = this.work.then(step)
    this.work = next.catch(() => undefined)
    return next
  }

  private fail(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error))
    this.options.logger.fatal({ err: failure }, 'graph worker cannot continue')
    this.fatal?.(failure)
  }

  // ---- state ----------------------------------------------------------------------------

  private async restore(): Promise<void> {
    const { store, logger, graphParams } = this.options
    const [metaBytes, pendingBytes] = await store.getMany([META_KEY, PENDING_KEY])
    if (metaBytes !== undefined) {
      const meta = parseStored<StoredMeta>(metaBytes, META_KEY)
      const chunks = await store.getMany(Array.from({ length: meta.chunks }, (_unused, index) => chunkKey(index)))
      if (chunks.some((chunk) => chunk === undefined)) throw new RiskError('RISK_ERR_STATE_CORRUPT', `graph snapshot ${meta.sequence} is missing chunks; delete the graph state folder to rebuild from the topic`, { sequence: meta.sequence })
      const bytes = Buffer.concat(chunks as Buffer[])
      if (bytes.length !== meta.bytes) throw new RiskError('RISK_ERR_STATE_CORRUPT', `graph snapshot ${meta.sequence} has ${bytes.length} bytes, its record says ${meta.bytes}; delete the graph state folder to rebuild from the topic`, { sequence: meta.sequence })
      this.graph = LinkGraph.restore(bytes, graphParams)
      this.sequence = meta.sequence
      this.appliedOffsets = decodeOffsets(meta.offsets)
    }
    if (pendingBytes !== undefined) {
      const pending = parseStored<StoredPending>(pendingBytes, PENDING_KEY)
      // A pending record older than the snapshot was made obsolete by it (never written so, but harmless).
      if (pending.sequence === this.sequence + 1) this.replay = { sequence: pending.sequence, cut: decodeOffsets(pending.cut) }
    }
    logger.info({ sequence: this.sequence, offsets: encodeOffsets(this.appliedOffsets), pending: this.replay?.sequence ?? null, counts: this.graph.counts() }, metaBytes === undefined ? 'graph worker starts without a snapshot' : 'graph snapshot restored')
  }

  private async writeSnapshot(sequence: number, offsets: ReadonlyMap<number, bigint>): Promise<void> {
    const { store } = this.options
    const previous = await store.get(META_KEY)
    const previousChunks = previous === undefined ? 0 : parseStored<StoredMeta>(previous, META_KEY).chunks
    const bytes = this.graph.snapshot()
    const puts: Array<[string, Buffer]> = []
    for (let start = 0, index = 0; start < bytes.length || index === 0; start += SNAPSHOT_CHUNK_BYTES, index += 1) {
      puts.push([chunkKey(index), bytes.subarray(start, start + SNAPSHOT_CHUNK_BYTES)])
    }
    const meta: StoredMeta = { version: 1, sequence, offsets: encodeOffsets(offsets), chunks: puts.length, bytes: bytes.length }
    puts.push([META_KEY, Buffer.from(JSON.stringify(meta))])
    const deletes = [PENDING_KEY]
    for (let index = puts.length - 1; index < previousChunks; index += 1) deletes.push(chunkKey(index))
    await store.write({ puts, deletes })
  }

  // ---- consuming ------------------------------------------------------------------------

  private async assign(partitions: readonly number[]): Promise<void> {
    await this.exclusive(async () => {
      const kept = new Set(partitions)
      if (partitions.length === 0 && this.assigned.length > 0) {
        // Another member holds the graph now: what is buffered is not ours to apply.
        this.buffers.clear()
        this.bufferedCount = 0
        this.fetchedOffsets.clear()
      }
      this.assigned = [...kept].sort((left, right) => left - right)
      this.paused.clear()
      // The interval counts from the assignment: the first fetches of every partition get a
      // whole interval to arrive, rather than a recompute after the first partition's batch.
      this.lastRecomputeMs = this.clock.monotonicMs()
      for (const partition of this.assigned) {
        const position = this.fetchedOffsets.get(partition) ?? this.appliedOffsets.get(partition) ?? 0n
        this.fetchedOffsets.set(partition, position)
        this.consumer.seek({ topic: this.topic, partition, offset: String(position) })
      }
      this.options.logger.info({ partitions: this.assigned }, this.assigned.length === 0 ? 'graph worker is a standby (another member holds the graph)' : 'graph partitions assigned')
    })
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isStale }: EachBatchPayload): Promise<void> {
    await this.exclusive(async () => {
      if (!this.running || isStale() || batch.topic !== this.topic || !this.assigned.includes(batch.partition)) return
      const partition = batch.partition
      const expected = this.fetchedOffsets.get(partition) ?? 0n
      const first = batch.messages[0]
      if (first !== undefined && BigInt(first.offset) > expected) {
        const gapKey = `${partition}:${expected}`
        if (!this.gapSeeks.has(gapKey)) {
          // Usually a fetch that started before our seek; seek once more and accept the gap if it persists.
          this.gapSeeks.add(gapKey)
          this.consumer.seek({ topic: this.topic, partition, offset: String(expected) })
          return
        }
        this.gapSeeks.delete(gapKey)
        this.options.logger.error({ partition, expected: String(expected), got: first.offset }, 'records of risk.links.v1 are missing (removed by retention before being read); the graph goes on without them')
      }
      const buffer = this.buffers.get(partition) ?? []
      this.buffers.set(partition, buffer)
      let next = expected
      for (const message of batch.messages) {
        const offset = BigInt(message.offset)
        if (offset < next) continue // already buffered or applied (a re-fetch after a seek or rebalance)
        buffer.push({ offset, timestampMs: Number(message.timestamp), key: message.key, value: message.value, decoded: await this.decode(message.value) })
        this.bufferedCount += 1
        next = offset + 1n
      }
      this.fetchedOffsets.set(partition, next)
      const last = batch.messages[batch.messages.length - 1]
      if (last !== undefined) resolveOffset(last.offset)
      this.options.metrics?.lag(partition, Math.max(0, Number(BigInt(batch.highWatermark) - next)))
      await heartbeat()
      if (this.replay !== null && next >= (this.replay.cut.get(partition) ?? 0n) && !this.paused.has(partition)) {
        // Past its part of the replayed cut: hold this partition until the others catch up.
        this.consumer.pause([{ topic: this.topic, partitions: [partition] }])
        this.paused.add(partition)
      }
      await this.recomputeIfDue(true)
    })
  }

  private async decode(value: Buffer | null): Promise<BufferedRecord['decoded']> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const result = await this.options.codec.decode('links', value)
        return result.ok ? { ok: true, record: result.value } : { ok: false, code: result.code, message: result.message, schemaId: result.schemaId }
      } catch (error) {
        // Only a registry outage gets here: retry, never turn good records into dead letters.
        if (!isRiskError(error) || !error.retriable || !this.running) throw error
        const backoffMs = Math.min(5000, 100 * 2 ** Math.min(attempt, 6))
        this.options.logger.warn({ err: error, attempt, backoffMs }, 'decoding a link record needs the schema registry, which did not answer; retrying')
        await sleep(backoffMs)
      }
    }
  }

  // ---- recompute ------------------------------------------------------------------------

  private cutOfFetched(): Map<number, bigint> {
    const cut = new Map(this.appliedOffsets)
    for (const [partition, offset] of this.fetchedOffsets) cut.set(partition, offset)
    return cut
  }

  private isDue(afterBatch: boolean): boolean {
    if (!this.running || this.assigned.length === 0) return false
    if (this.replay !== null) {
      for (const [partition, offset] of this.replay.cut) if ((this.fetchedOffsets.get(partition) ?? this.appliedOffsets.get(partition) ?? 0n) < offset) return false
      return true
    }
    if (this.bufferedCount === 0) return false
    if (afterBatch && this.bufferedCount >= this.recomputeRecords) return true
    return this.clock.monotonicMs() - this.lastRecomputeMs >= this.recomputeIntervalMs
  }

  private async recomputeIfDue(afterBatch: boolean): Promise<void> {
    if (!this.isDue(afterBatch)) return
    if (this.replay !== null) {
      const { sequence, cut } = this.replay
      this.options.logger.info({ sequence, cut: encodeOffsets(cut) }, 'replaying the recompute a previous run published but did not snapshot')
      await this.recompute(cut, sequence)
      this.replay = null
      if (this.paused.size > 0) this.consumer.resume([{ topic: this.topic, partitions: [...this.paused] }])
      this.paused.clear()
      return
    }
    await this.recompute(this.cutOfFetched())
  }

  /**
   * Applies every buffered record below `cut` in (partition, offset) order, recomputes, publishes,
   * snapshots. `replayOf`: the sequence of a pending recompute being replayed (its pending record is already stored).
   */
  private async recompute(cut: ReadonlyMap<number, bigint>, replayOf?: number): Promise<void> {
    const { store, logger, metrics } = this.options
    const sequence = this.sequence + 1
    if (replayOf === undefined) await store.write({ puts: [[PENDING_KEY, Buffer.from(JSON.stringify({ version: 1, sequence, cut: encodeOffsets(cut) } satisfies StoredPending))]], deletes: [] })
    const startedMs = this.clock.monotonicMs()
    const currentAlertIds = new Set(this.graph.allAlerts().map((alert) => alert.alertId))
    const outputs: OutputMessage[] = []
    const appliedByKind = new Map<string, number>()
    for (const partition of [...this.buffers.keys()].sort((left, right) => left - right)) {
      const buffer = this.buffers.get(partition) as BufferedRecord[]
      const limit = cut.get(partition) ?? 0n
      let taken = 0
      for (const record of buffer) {
        if (record.offset >= limit) break
        taken += 1
        const problem = this.applyOne(record)
        if (problem === null) {
          const kind = (record.decoded as { record: LinkRecord }).record.kind
          appliedByKind.set(kind, (appliedByKind.get(kind) ?? 0) + 1)
          continue
        }
        const letter = deadLetterOf(this.topic, partition, record, problem.code, problem.message, problem.schemaId)
        outputs.push({ topic: 'deadLetters', key: letter.dlqId, value: letter as unknown as Record<string, unknown> })
        metrics?.deadLetter(problem.code)
        logger.warn({ partition, offset: String(record.offset), reason: problem.code, message: problem.message }, 'link record sent to the dead-letter topic')
      }
      buffer.splice(0, taken)
      this.bufferedCount -= taken
    }
    const result: RecomputeResult = this.graph.recompute()
    const streamTimeMs = this.graph.streamTimeMs
    for (const playerId of result.changedPlayerIds) {
      const cluster = toClusterRecord(playerId, this.graph.clusterOf(playerId), sequence, streamTimeMs)
      outputs.push({ topic: 'clusters', key: playerId, value: cluster as unknown as Record<string, unknown> })
    }
    const newAlerts = result.alerts.filter((alert) => !currentAlertIds.has(alert.alertId))
    for (const alert of newAlerts) {
      const record = toAlertRecord(alert, this.ruleSetVersion)
      outputs.push({ topic: 'alerts', key: record.playerId, value: record as unknown as Record<string, unknown> })
    }
    const recomputeSeconds = (this.clock.monotonicMs() - startedMs) / 1000
    await this.emit(outputs)
    await this.writeSnapshot(sequence, cut)
    this.sequence = sequence
    this.appliedOffsets = new Map(cut)
    this.lastRecomputeMs = this.clock.monotonicMs()
    if (metrics !== undefined) {
      for (const [kind, count] of appliedByKind) metrics.applied(kind, count)
      for (const topic of ['clusters', 'alerts', 'deadLetters'] as const) metrics.published(topic, outputs.filter((output) => output.topic === topic).length)
      metrics.recomputed(recomputeSeconds, this.graph.counts(), sequence)
    }
    logger.info({ sequence, cut: encodeOffsets(cut), applied: Object.fromEntries(appliedByKind), components: result.componentsRecomputed, clusters: result.changedPlayerIds.length, alerts: newAlerts.length, deadLetters: outputs.filter((output) => output.topic === 'deadLetters').length, recomputeSeconds, replay: replayOf !== undefined }, 'graph recomputed')
    // The group's offsets are for lag monitoring; positions come from the snapshot.
    await this.consumer.commitOffsets([...cut].filter(([partition]) => this.assigned.includes(partition)).map(([partition, offset]) => ({ topic: this.topic, partition, offset: String(offset) })))
      .catch((error: unknown) => logger.warn({ err: error }, 'committing graph offsets failed (positions are in the snapshot; only lag reporting is affected)'))
  }

  /** Applies one buffered record; returns why it cannot be applied (it then becomes a dead letter). */
  private applyOne(record: BufferedRecord): { code: ErrorCode; message: string; schemaId: number | null } | null {
    if (!record.decoded.ok) return { code: record.decoded.code, message: record.decoded.message, schemaId: record.decoded.schemaId }
    try {
      applyLinkRecord(this.graph, record.decoded.record)
      return null
    } catch (error) {
      if (isRiskError(error)) return { code: error.code, message: error.message, schemaId: null }
      return { code: 'RISK_ERR_PROCESSING_FAILED', message: error instanceof Error ? error.message : String(error), schemaId: null }
    }
  }

  private async emit(outputs: readonly OutputMessage[]): Promise<void> {
    if (outputs.length === 0) return
    const { config, codec, logger } = this.options
    const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>()
    for (const output of outputs) {
      const name = topicName(config.kafka, output.topic)
      const messages = byTopic.get(name) ?? []
      messages.push({ key: output.key, value: codec.encode(output.topic, output.value) })
      byTopic.set(name, messages)
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }))
    for (let attempt = 1; ; attempt += 1) {
      try {
        // Large recomputes go in slices so one request stays under the broker's message limits.
        for (const { topic, messages } of topicMessages) {
          for (let start = 0; start < messages.length; start += 1000) await this.producer.send({ topic, messages: messages.slice(start, start + 1000), acks: -1 })
        }
        return
      } catch (error) {
        if (!this.running) throw new RiskError('RISK_ERR_SHUTDOWN', 'stopping while graph outputs could not be produced; they are re-published after restart', {}, { cause: error })
        const backoffMs = Math.min(5000, 100 * 2 ** Math.min(attempt, 6))
        logger.warn({ err: error, attempt, backoffMs }, 'producing graph outputs failed; retrying (the recompute is not snapshotted until they are acknowledged)')
        await sleep(backoffMs)
      }
    }
  }
}

export interface RunningGraphWorker {
  readonly worker: GraphWorker
  readonly metricsPort: number
  stop(): Promise<void>
}

export interface StartGraphWorkerOptions extends Pick<GraphWorkerOptions, 'graphParams' | 'groupId' | 'recomputeIntervalMs' | 'recomputeRecords' | 'ruleSetVersion' | 'clock'> {
  /** RocksDB folder of the graph state; default `${config.state.dir}-graph` (beside the engine's, never inside it). */
  readonly stateDir?: string
  /** Metrics port; default config.metrics.port + 1 (0 stays 0), so an engine and a graph worker on one host do not collide. */
  readonly metricsPort?: number
}

/**
 * Builds a running graph worker from a config: registry schemas, RocksDB state, Kafka, and the
 * metrics endpoint. pipelines/graph-main.ts is the process around it; tests may call it directly.
 * Example: const running = await startGraphWorker(loadConfig(), logger); ...; await running.stop()
 */
export async function startGraphWorker(config: PitbossConfig, logger: Logger, options: StartGraphWorkerOptions = {}): Promise<RunningGraphWorker> {
  const metrics = createGraphWorkerMetrics()
  const metricsServer = await serveMetrics(metrics.registry, config.metrics.host, options.metricsPort ?? config.graph.metricsPort ?? (config.metrics.port === 0 ? 0 : config.metrics.port + 1))
  const codec = new AvroCodec(createHttpRegistryClient(config.registry.url), config.kafka.topicPrefix, { maxPayloadBytes: config.pipeline.maxPayloadBytes })
  try {
    await untilAvailable('schema registry', () => codec.registerAll(), logger)
  } catch (error) {
    await metricsServer.close()
    throw error
  }
  const stateDir = options.stateDir ?? config.graph.stateDir
  const store = await openRocksStore(stateDir)
  const worker = new GraphWorker({ groupId: config.graph.groupId, recomputeIntervalMs: config.graph.recomputeIntervalMs, recomputeRecords: config.graph.recomputeRecords, ...options, config, kafka: createKafka(config.kafka, logger), codec, store: store.partition(0), logger, metrics })
  try {
    await worker.start()
  } catch (error) {
    await store.close()
    await metricsServer.close()
    throw error
  }
  logger.info({ stateDir, metricsPort: metricsServer.port }, 'graph worker started')
  return {
    worker,
    metricsPort: metricsServer.port,
    async stop() {
      await worker.stop()
      await store.close()
      await metricsServer.close()
    },
  }
}
