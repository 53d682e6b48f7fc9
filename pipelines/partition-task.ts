/**
 * A partition task: partition p of every input topic, processed as one ordered stream.
 *
 * Order. The co-partitioned topics are merged by event time (ties: topic order in
 * INPUT_TOPIC_KEYS, then offset), each topic in offset order. A record is taken only when every
 * other topic either has a buffered record to compare with or is caught up to its high
 * watermark — Kafka Streams' rule with max.task.idle.ms = 0. With the input present, the merge
 * is a function of the topics' contents alone, so a rerun or a backtest sees the same order.
 * Live (with `refreshHighWatermarks`), an idle topic's high watermark counts for a record only if
 * it was asked after the record arrived, or came in the same fetch answer as the record or a later
 * answer from the same broker to the same consumer (`FetchContext`; the broker built that answer
 * after the record was in its log): one learned before could miss an earlier record written to
 * that topic just before this one. A record no high watermark covers waits for a refresh round
 * asked after it arrived.
 *
 * Checkpoints. Each batch of up to `batchSize` records goes through:
 *   1. process in memory (state changes are new objects; nothing shared is mutated);
 *   2. write the batch's order — (topic, offset) pairs — as a pending record `pending/<seq>`;
 *   3. produce every output and wait for the acks;
 * and every `checkpointBatches` batches or `checkpointIntervalMs` (and on flush):
 *   4. one RocksDB write batch: changed player states + next offsets + stream time, the pending
 *      records deleted.
 * Steps 2, 3 and 4 run behind step 1 of the next batches, in batch order: a batch's pending
 * record and outputs follow the previous batch's acks (the batches processed while one emission
 * is in flight go out together after it), and a checkpoint follows the acks of every
 * batch it covers and the checkpoint before it. Later batches' outputs do not wait for a
 * checkpoint (its serialisation and write): it deletes only the pending records of the batches it
 * covers, so a later batch's record written before it lands stays, and is replayed on top of its
 * state. Nothing waits for them but a flush. The tasks of one process start their
 * checkpoint cycles at different phases (by partition), so their checkpoints do not all fall on
 * the same moment; the state is serialised in slices, so one checkpoint does not hold the thread
 * for every other task either (decision latency, issue 10).
 * A crash before 4 leaves the pending records: the restarted task first replays exactly those
 * records in exactly that order, batch by batch, so it re-emits byte-identical outputs
 * (consumers de-duplicate by key and id), even for live data whose interleaving could differ on
 * refetch. Checkpointing every few batches rather than every batch saves re-serialising each
 * touched player's state per batch, the largest cost after the detectors themselves.
 * Kafka's committed group offsets are written after 4 for lag monitoring only; positions come
 * from the checkpoint.
 *
 * Bad input (undecodable, unknown schema, wrong key, bad event time, invalid field) becomes a
 * dead letter with its reason in the same batch — never thrown, never dropped.
 */
import { RiskError, type ErrorCode } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { CASINO_TOPIC_KEYS, INPUT_TOPIC_KEYS, type InputTopicKey, type TopicKey } from '../core/topics.js'
import type { RuleSetHolder } from '../detectors/rule-set.js'
import type { InputEvent } from '../schemas/domain.js'
import type { PartitionStore, WriteBatch } from './state/store.js'
import { newPlayerState, type EventProcessor, type OutputRecord, type PendingScore, type PlayerState, type ProcessResult, type ScoredWithdrawal } from './processor.js'

export interface RawRecord {
  readonly topicKey: InputTopicKey
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly timestampMs: number
  readonly key: Buffer | null
  readonly value: Buffer | null
}

export type DecodedRecord =
  | { readonly ok: true; readonly event: InputEvent }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly schemaId: number | null }

/**
 * Turns bytes into a domain event or a dead-letter reason. Infrastructure failures (registry
 * down) are thrown as retriable RiskErrors, never returned as a reason.
 */
export interface RecordDecoder {
  decode(record: RawRecord): Promise<DecodedRecord>
  /** The same result without a promise when it needs no I/O; undefined sends the record to decode. */
  decodeSync?(record: RawRecord): DecodedRecord | undefined
}

export interface TaskMetrics {
  eventsProcessed(topic: InputTopicKey, count: number): void
  deadLetter(reason: ErrorCode): void
  /** A decision acknowledged: its latency from the request's arrival, and that time by stage. */
  decision(outcome: string, latencyMs: number, stages: DecisionStageMs): void
  detectorError(detectorId: string): void
  duplicateInput(): void
  offsetGap(topic: InputTopicKey): void
  lateEvent(detectorId: string): void
  /** Milliseconds the withdrawals of one batch waited for the model service, and how many they were. */
  modelInference?(elapsedMs: number, rows: number): void
  /** One alert raised by a detector (counted once its batch is emitted, like decisions). */
  detectorHit?(detectorId: string): void
}

/**
 * Where a decision's latency went, in milliseconds; the stages add up to it. A batch's stages
 * after `merge` are shared by its decisions.
 */
export interface DecisionStageMs {
  /** The request's arrival in the process to its place in the task's queue: the crossing to a processing thread and the decode. */
  readonly toTask: number
  /** Queued in the task, waiting for the high watermarks of idle topics (the event-time merge). */
  readonly refresh: number
  /** The rest of its time queued in the task until its batch was taken: batches before it, other tasks on the thread. */
  readonly merge: number
  /** The batch's players not in the task's cache read from the store. */
  readonly load: number
  /** The batch waiting for the model service. */
  readonly score: number
  /** The rest of the batch's processing: decoding aside, the detectors, decisions, encoding. */
  readonly process: number
  /** Behind the previous batches' pending records and outputs. */
  readonly behind: number
  /** The batch's pending record written (0 when it goes with the outputs: `writeAndEmit`; with other batches' when they go together). */
  readonly pendingWrite: number
  /** The outputs produced and acknowledged (with `writeAndEmit`, the pending record written first). */
  readonly produce: number
}

export const noopTaskMetrics: TaskMetrics = {
  eventsProcessed: () => undefined,
  deadLetter: () => undefined,
  decision: () => undefined,
  detectorError: () => undefined,
  duplicateInput: () => undefined,
  offsetGap: () => undefined,
  lateEvent: () => undefined,
}

/**
 * Produces one batch's outputs and resolves once the broker has acknowledged all of them.
 * `processingMs`: milliseconds from the batch's first arrival in the task to the emission
 * (a header, not part of the values, so values stay deterministic).
 */
export type EmitOutputs = (outputs: readonly OutputRecord[], processingMs: number) => Promise<void>

/** A batch's pending record (its processing order), as written to the task's store. */
export interface PendingRecord {
  readonly key: string
  /** JSON text. */
  readonly value: string
}

/** The store write of pending records (their keys, their JSON as bytes). */
export const pendingWrite = (pending: readonly PendingRecord[]): WriteBatch => ({ puts: pending.map((record) => [record.key, Buffer.from(record.value)] as const), deletes: [] })

/**
 * Writes the pending records of one or more batches to the task's store (one write) and then,
 * once they are written, produces the batches' outputs, resolving when the broker has
 * acknowledged them. Nothing is produced if the write fails. For a task whose store is reached
 * through messages (a processing thread's), the two steps then take one round trip rather than two.
 */
export type WriteAndEmitOutputs = (pending: readonly PendingRecord[], outputs: readonly OutputRecord[], processingMs: number) => Promise<void>

export interface PartitionTaskOptions {
  readonly partition: number
  readonly store: PartitionStore
  readonly decoder: RecordDecoder
  readonly processor: EventProcessor
  readonly ruleSets: RuleSetHolder
  /**
   * Produces the outputs and resolves once the broker has acknowledged all of them. Batches are
   * emitted one after the other (the next starts once the previous is acknowledged), while the
   * task goes on processing the batches after them; the batches processed meanwhile go out
   * together, in order, in the next call.
   */
  readonly emit: EmitOutputs
  /** When given, used for a batch with both a pending record and outputs instead of store.write then emit. */
  readonly writeAndEmit?: WriteAndEmitOutputs
  readonly monotonicMs: () => number
  readonly logger: Logger
  readonly metrics?: TaskMetrics
  readonly batchSize?: number
  /** Player states kept in memory between batches. */
  readonly cacheSize?: number
  /** Checkpoint after this many batches (default 20)... */
  readonly checkpointBatches?: number
  /** ...or once this long has passed since the last checkpoint (default 1000 ms; monotonic clock). */
  readonly checkpointIntervalMs?: number
  /**
   * Asks the broker for fresh high watermarks of `topics` (calling setHighWatermark). Used
   * before a record is taken past a topic that looks caught up on old information: a record
   * produced to that topic a moment earlier may not have been fetched yet, and taking the other
   * record first would decide without it. Only those topics are asked: each costs a round of
   * offset requests, and usually one or two of the blocking topics are idle at a time.
   */
  readonly refreshHighWatermarks?: (topics: readonly InputTopicKey[]) => Promise<void>
  /**
   * The model service, when the processor was built with `scoring: true`. The withdrawal
   * requests of a batch are scored together (one ONNX run per model with `scoreBatch`) when the
   * batch ends, or earlier when another event of the same player needs the decision first.
   */
  readonly scorer?: { scoreOne(features: Float32Array): Promise<ScoredWithdrawal>; scoreBatch?(rows: readonly Float32Array[]): Promise<readonly ScoredWithdrawal[]> } | null
}

interface Checkpoint {
  readonly version: 1
  readonly nextOffsets: Readonly<Record<InputTopicKey, string>>
  readonly streamTimeMs: number | null
}

interface PendingBatch {
  readonly version: 1
  readonly order: ReadonlyArray<readonly [topicIndex: number, offset: string]>
}

/**
 * Which fetch answer records came in (kafka/fetch-answers.ts): answers to one consumer (`reader`)
 * from one broker (`node`) were built by the broker in `sequence` order.
 */
export interface AnswerTag {
  readonly reader: number
  readonly node: number
  readonly sequence: number
}

/** What a live fetch answer tells the task beside a batch of its records. */
export interface FetchContext {
  /** When the fetch was started (monotonic ms), before its request went out. */
  readonly askedAtMs: number
  readonly answer: AnswerTag
  /**
   * This partition's high watermarks of the answer's other merge-blocking topics (empty batches
   * included), flat: INPUT_TOPIC_KEYS index, offset, index, offset... (plain numbers: this crosses
   * to the processing thread with every batch, and nested pairs of bigints cost more to clone).
   */
  readonly highWatermarks: readonly number[]
}

/** Calls `apply` with each topic and high watermark of a FetchContext's flat `highWatermarks`. */
export function eachFetchedHighWatermark(highWatermarks: readonly number[], apply: (topic: InputTopicKey, highWatermark: bigint) => void): void {
  for (let index = 0; index + 1 < highWatermarks.length; index += 2) {
    apply(INPUT_TOPIC_KEYS[highWatermarks[index] as number] as InputTopicKey, BigInt(highWatermarks[index + 1] as number))
  }
}

interface Buffered {
  readonly raw: RawRecord
  readonly decoded: DecodedRecord
  readonly sortTimeMs: number
  readonly arrivedAtMs: number
  /** The fetch answer it came in, when the fetcher said (null: only arrivedAtMs counts). */
  readonly answer: AnswerTag | null
  /** When it was queued in the task (monotonic; the decision's stages). */
  readonly enqueuedAtMs: number
  /** The task's refreshWaitedMs then: what it adds while the record waits is its `refresh` stage. */
  readonly refreshWaitedAtEnqueueMs: number
}

/**
 * The topics the event-time merge waits for: the operator's feeds, and the transfers re-keyed to
 * their receivers. The engine's own side inputs (reviews, payout events, the cluster table,
 * screening instructions) are merged by event time when they are buffered, but an empty one
 * never holds the merge back: they are written long after the events they concern (a review
 * hours after its request), and waiting on four mostly idle topics cost every batch a round of
 * offset requests. `transfersReceived` does block: a transfer a sender's task re-keyed a moment
 * ago (acknowledged, not yet fetched here) must not be overtaken by the receiver's withdrawal,
 * which pass_through decides with the money received (issue 3). It cannot wait for a transfer
 * the sender's task has not processed yet: that one arrives late (docs/detectors.md).
 */
export const MERGE_BLOCKING_TOPIC_KEYS = [...CASINO_TOPIC_KEYS, 'transfersReceived'] as const satisfies readonly InputTopicKey[]
const MERGE_BLOCKING: ReadonlySet<InputTopicKey> = new Set(MERGE_BLOCKING_TOPIC_KEYS)

const CHECKPOINT_KEY = 'checkpoint'
const PENDING_PREFIX = 'pending/'
const pendingKey = (sequence: number): string => `${PENDING_PREFIX}${String(sequence).padStart(10, '0')}`
const PLAYER_PREFIX = 's/'
/** A processed batch waiting for its pending record and outputs to go out (PartitionTask.sendUnsent). */
interface UnsentBatch {
  readonly pending: PendingRecord | null
  readonly outputs: readonly OutputRecord[]
  readonly firstArrivalMs: number
  /** Its metrics, once sent and acknowledged. */
  readonly done: (startedMs: number, writtenMs: number, doneMs: number) => void
}

/** A batch in merge order, and whether it stopped at a record that needs a newer watermark (selectMerged). */
interface MergedSelection {
  readonly records: Buffered[]
  /** Idle topics whose high watermark does not cover the next record: it waits for a round asked after it arrived. */
  readonly waitingFor: readonly InputTopicKey[]
}

/** Refresh rounds one drain waits in a row for a record that arrived during the previous one. */
const MAX_ARRIVAL_ROUNDS = 3

/** Players serialised between two yields to the event loop while a checkpoint is written. */
const CHECKPOINT_SLICE = 128

/** Processed batches waiting for an emission in flight, beyond which the processing waits (processBatch). */
const MAX_UNSENT_BATCHES = 64

/**
 * A FIFO with O(1) shift. A shifted item's slot is released at once: the queue must not keep a
 * processed record (its bytes, its decoded event) alive until the array is next compacted. When it
 * did, every queue held up to 1024 processed records (on a topic with a few records a second per
 * partition, minutes of them), so nearly every record lived past a scavenge and was promoted
 * (bench/README.md, "the processing thread's scavenges").
 */
export class Queue<T> {
  private items: Array<T | undefined> = []
  private head = 0
  get length(): number { return this.items.length - this.head }
  peek(): T | undefined { return this.items[this.head] }
  push(item: T): void { this.items.push(item) }
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head += 1
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }
  clear(): void { this.items = []; this.head = 0 }
}

/**
 * Which fetched records a task takes, from its fetch position `from`: records before it are
 * skipped (already buffered or processed); a record past it is a gap, accepted once when
 * `acceptGap` (retention or compaction removed records), otherwise the records before it are
 * taken and the outcome is 'gap' (the runner seeks back to the position after them). Shared by
 * PartitionTask.enqueue and its proxy on the main thread, which must agree record for record.
 */
export function takeInOrder(records: readonly RawRecord[], from: bigint, acceptGap: boolean): {
  readonly accepted: RawRecord[]
  readonly position: bigint
  readonly outcome: 'ok' | 'gap'
  readonly acceptedGap: { readonly topic: string; readonly expected: bigint; readonly got: bigint } | null
} {
  let position = from
  let acceptedGap: { topic: string; expected: bigint; got: bigint } | null = null
  const accepted: RawRecord[] = []
  for (const raw of records) {
    if (raw.offset < position) continue
    if (raw.offset > position) {
      if (!acceptGap || acceptedGap !== null) return { accepted, position, outcome: 'gap', acceptedGap }
      acceptedGap = { topic: raw.topic, expected: position, got: raw.offset }
    }
    accepted.push(raw)
    position = raw.offset + 1n
  }
  return { accepted, position, outcome: 'ok', acceptedGap }
}

function sortTimeOf(decoded: DecodedRecord): number {
  // Bad records sort first: they leave through the dead-letter topic without holding anything up.
  if (!decoded.ok) return Number.NEGATIVE_INFINITY
  const time = decoded.event.eventTimeMs
  return Number.isFinite(time) ? time : Number.NEGATIVE_INFINITY
}

export class PartitionTask {
  readonly partition: number
  private readonly queues = new Map<InputTopicKey, Queue<Buffered>>()
  /** Next offset to process per topic (from the checkpoint, then advanced per batch). */
  private readonly nextOffsets = new Map<InputTopicKey, bigint>()
  /** Next offset expected from the fetcher per topic: after the last buffered record (independent of processing, which may be mid-batch). */
  private readonly fetchCursors = new Map<InputTopicKey, bigint>()
  private readonly highWatermarks = new Map<InputTopicKey, bigint>()
  /** When each topic's high watermark was last asked for (monotonic ms): it covers records that arrived before. */
  private readonly highWatermarkSeenAtMs = new Map<InputTopicKey, number>()
  /** The newest fetch answer that carried each topic's high watermark: it covers the records of that answer and earlier ones from the same broker. */
  private readonly highWatermarkAnswers = new Map<InputTopicKey, AnswerTag>()
  private newestArrivalMs = Number.NEGATIVE_INFINITY
  private newestAnswer: AnswerTag | null = null
  /** Milliseconds this task's drains have spent waiting for high-watermark refreshes, in all. */
  private refreshWaitedMs = 0
  private streamTimeMs: number | null = null
  /** Pending batches of an earlier run, to replay first, in order. */
  private pending: PendingBatch[] = []
  /** Pending records written since the last checkpoint (deleted by the next one). */
  private pendingKeys: string[] = []
  private nextPendingSequence = 0
  /** Player states changed since the last checkpoint. */
  private readonly dirty = new Map<string, PlayerState>()
  /** Checkpoints queued behind and not written yet, oldest first: players are evicted only when none is. */
  private readonly checkpointsInFlight: Array<Promise<void>> = []
  private batchesSinceCheckpoint = 0
  /** Batches this task's first checkpoint cycle counts as done already (its phase; see open). */
  private batchPhase = 0
  private lastCheckpointMs = 0
  private readonly cache = new Map<string, PlayerState>()
  private readonly metrics: TaskMetrics
  private readonly batchSize: number
  private readonly cacheSize: number
  private closed = false
  private running: Promise<void> = Promise.resolve()
  /** A drain queued behind the running one and not started yet (see drain). */
  private queuedDrain: Promise<void> | null = null
  /** Pending-record writes and emissions of processed batches, in batch order (see processBatch). */
  private behind: Promise<void> = Promise.resolve()
  /** Processed batches whose pending records and outputs have not gone out yet (sendUnsent). */
  private unsent: UnsentBatch[] = []
  /** Checkpoint writes, in order, each after the emissions of the batches it covers (queueCheckpoint). */
  private checkpoints: Promise<void> = Promise.resolve()
  /** The first failure among them all: the task fails with it at its next batch or checkpoint. */
  private behindFailure: unknown = undefined

  constructor(private readonly options: PartitionTaskOptions) {
    this.partition = options.partition
    this.metrics = options.metrics ?? noopTaskMetrics
    this.batchSize = options.batchSize ?? 500
    this.cacheSize = options.cacheSize ?? 20_000
    for (const key of INPUT_TOPIC_KEYS) this.queues.set(key, new Queue())
  }

  /** Loads the checkpoint. Returns the offset each topic must be read from. */
  async open(): Promise<ReadonlyMap<InputTopicKey, bigint>> {
    const [checkpointBytes] = await this.options.store.getMany([CHECKPOINT_KEY])
    const checkpoint = checkpointBytes === undefined ? null : parseStored<Checkpoint>(checkpointBytes, CHECKPOINT_KEY, this.partition)
    for (const key of INPUT_TOPIC_KEYS) {
      this.nextOffsets.set(key, BigInt(checkpoint?.nextOffsets[key] ?? '0'))
      this.fetchCursors.set(key, this.nextOffsets.get(key) as bigint)
    }
    this.streamTimeMs = checkpoint?.streamTimeMs ?? null
    this.pending = []
    this.pendingKeys = []
    for await (const [key, bytes] of this.options.store.entries(PENDING_PREFIX)) {
      this.pending.push(parseStored<PendingBatch>(bytes, key, this.partition))
      this.pendingKeys.push(key)
    }
    const lastKey = this.pendingKeys[this.pendingKeys.length - 1]
    this.nextPendingSequence = lastKey === undefined ? 0 : Number(lastKey.slice(PENDING_PREFIX.length)) + 1
    // The phase of this task's checkpoint cycle (see the header): a fraction of the interval and
    // of the batch count, spread evenly over any number of partitions by the golden ratio.
    const phase = (this.partition * 0.6180339887498949) % 1
    this.lastCheckpointMs = this.options.monotonicMs() - phase * (this.options.checkpointIntervalMs ?? 1000)
    this.batchPhase = Math.floor(phase * ((this.options.checkpointBatches ?? 20) - 1))
    if (this.pending.length > 0) {
      this.options.logger.info({ partition: this.partition, batches: this.pending.length, records: this.pending.reduce((sum, batch) => sum + batch.order.length, 0) }, 'replaying the pending batches of a run that stopped before its checkpoint')
    }
    return new Map(this.nextOffsets)
  }

  get currentStreamTimeMs(): number | null {
    return this.streamTimeMs
  }

  /** The next offset to process of one topic (no copy, unlike committedOffsets). */
  nextOffset(topic: InputTopicKey): bigint {
    return this.nextOffsets.get(topic) ?? 0n
  }

  /** Offsets processed and checkpointed, per topic (what Kafka's group offsets should say). */
  committedOffsets(): ReadonlyMap<InputTopicKey, bigint> {
    return new Map(this.nextOffsets)
  }

  /**
   * `seenAtMs`: when it was asked for (it covers records that arrived before); `answer`: the fetch
   * answer it came in, if any (it covers that answer's records and earlier ones from the broker).
   */
  setHighWatermark(topic: InputTopicKey, highWatermark: bigint, seenAtMs: number = this.options.monotonicMs(), answer: AnswerTag | null = null): void {
    const known = this.highWatermarks.get(topic)
    if (known === undefined || highWatermark > known) this.highWatermarks.set(topic, highWatermark)
    this.highWatermarkSeenAtMs.set(topic, Math.max(seenAtMs, this.highWatermarkSeenAtMs.get(topic) ?? Number.NEGATIVE_INFINITY))
    if (answer !== null) {
      const knownAnswer = this.highWatermarkAnswers.get(topic)
      if (knownAnswer === undefined || answer.sequence > knownAnswer.sequence) this.highWatermarkAnswers.set(topic, answer)
    }
  }

  /** Whether `topic`'s high watermark was learned after a record that arrived at `arrivedAtMs` in `answer` was written. */
  private covers(topic: InputTopicKey, arrivedAtMs: number, answer: AnswerTag | null): boolean {
    if ((this.highWatermarkSeenAtMs.get(topic) ?? Number.NEGATIVE_INFINITY) >= arrivedAtMs) return true
    if (answer === null) return false
    const known = this.highWatermarkAnswers.get(topic)
    return known !== undefined && known.reader === answer.reader && known.node === answer.node && known.sequence >= answer.sequence
  }

  bufferedCount(): number {
    let count = 0
    for (const queue of this.queues.values()) count += queue.length
    return count
  }

  /** Where the fetcher should be for `topic`: after the last buffered record. */
  fetchPosition(topic: InputTopicKey): bigint {
    return this.fetchCursors.get(topic) ?? 0n
  }

  /** Records between the processed position and the high watermark (for the lag metric). */
  lag(topic: InputTopicKey): bigint | null {
    const highWatermark = this.highWatermarks.get(topic)
    if (highWatermark === undefined) return null
    const behind = highWatermark - (this.nextOffsets.get(topic) ?? 0n)
    return behind > 0n ? behind : 0n
  }

  /**
   * Buffers fetched records (decoding them). Records before the fetch position (already
   * processed or buffered) are ignored. Returns 'gap' if the first new record is beyond the
   * fetch position — the caller should seek back once; a persisting gap (retention, compaction)
   * is accepted and counted. `fetch`: the fetch answer they came in, with the other topics' high
   * watermarks in it (live only). `fetchedAtMs`: when the records arrived in the process
   * (monotonic), if earlier than now (they crossed from the main thread).
   */
  async enqueue(topic: InputTopicKey, records: readonly RawRecord[], highWatermark: bigint | null, acceptGap = false, fetch: FetchContext | null = null, fetchedAtMs = this.options.monotonicMs()): Promise<'ok' | 'gap'> {
    if (fetch !== null) {
      eachFetchedHighWatermark(fetch.highWatermarks, (other, high) => this.setHighWatermark(other, high, fetch.askedAtMs, fetch.answer))
      if (highWatermark !== null) this.setHighWatermark(topic, highWatermark, fetch.askedAtMs, fetch.answer)
    } else if (highWatermark !== null) {
      this.setHighWatermark(topic, highWatermark, fetchedAtMs)
    }
    const answer = fetch?.answer ?? null
    const queue = this.queues.get(topic) as Queue<Buffered>
    const { accepted, outcome, acceptedGap } = takeInOrder(records, this.fetchPosition(topic), acceptGap)
    if (acceptedGap !== null) {
      this.options.logger.warn({ partition: this.partition, topic: acceptedGap.topic, expected: String(acceptedGap.expected), got: String(acceptedGap.got) }, 'offset gap: records missing from the broker (retention or compaction)')
      this.metrics.offsetGap(topic)
    }
    for (const raw of accepted) {
      const decoded = this.options.decoder.decodeSync?.(raw) ?? (await this.options.decoder.decode(raw))
      queue.push({ raw, decoded, sortTimeMs: sortTimeOf(decoded), arrivedAtMs: fetchedAtMs, answer, enqueuedAtMs: this.options.monotonicMs(), refreshWaitedAtEnqueueMs: this.refreshWaitedMs })
      this.newestArrivalMs = fetchedAtMs
      this.newestAnswer = answer
      this.fetchCursors.set(topic, raw.offset + 1n)
    }
    return outcome
  }

  /**
   * Processes everything that can be processed now, batch by batch. Serialised per task; calls
   * made while a drain waits to start share it (it sees every record enqueued before it starts).
   */
  drain(): Promise<void> {
    if (this.queuedDrain !== null) return this.queuedDrain
    const next = this.running.then(() => {
      this.queuedDrain = null
      return this.drainNow()
    })
    this.queuedDrain = next
    this.running = next.catch(() => undefined)
    return next
  }

  /** Writes a checkpoint now if anything changed since the last one (serialised with drain). */
  flush(): Promise<void> {
    const next = this.running.then(() => (this.closed ? undefined : this.checkpoint()))
    this.running = next.catch(() => undefined)
    return next
  }

  /** Checkpoints if the interval has passed with uncheckpointed work (for an idle partition). */
  flushIfDue(): Promise<void> {
    if (this.batchesSinceCheckpoint === 0 || this.options.monotonicMs() - this.lastCheckpointMs < (this.options.checkpointIntervalMs ?? 1000)) return Promise.resolve()
    return this.flush()
  }

  close(): void {
    this.closed = true
    this.dirty.clear()
    for (const queue of this.queues.values()) queue.clear()
    this.cache.clear()
  }

  /**
   * Resolves once the batch in progress and every pending-record write, emission and checkpoint
   * queued behind it have finished, failed ones included. A closed task's partition is reopened
   * in the same process only after this: a pending record written after the new task read the
   * pending list would otherwise be replayed by a later restart.
   */
  settled(): Promise<void> {
    return this.running.then(() => Promise.allSettled([this.behind, this.checkpoints])).then(() => undefined, () => undefined)
  }

  private caughtUp(topic: InputTopicKey): boolean {
    const highWatermark = this.highWatermarks.get(topic)
    return highWatermark !== undefined && this.fetchPosition(topic) >= highWatermark
  }

  /** A topic that looks caught up only on what we knew before the newest record arrived. */
  private staleIdleTopics(): InputTopicKey[] {
    return MERGE_BLOCKING_TOPIC_KEYS.filter((topic) => (this.queues.get(topic) as Queue<Buffered>).length === 0 && this.caughtUp(topic) && !this.covers(topic, this.newestArrivalMs, this.newestAnswer))
  }

  private async drainNow(): Promise<void> {
    let waitedRounds = 0
    let waitingFor: readonly InputTopicKey[] = []
    while (!this.closed) {
      const refresh = this.options.refreshHighWatermarks
      let stale = refresh !== undefined && this.pending.length === 0 && this.bufferedCount() > 0 ? this.staleIdleTopics() : []
      // Topics the last selection waited on but the newest record does not show as stale (it came
      // from another broker than the waiting record).
      for (const topic of waitingFor) if (!stale.includes(topic)) stale = [...stale, topic]
      if (refresh !== undefined && stale.length > 0) {
        const refreshStartedMs = this.options.monotonicMs()
        try {
          await refresh(stale)
        } catch (error) {
          // The broker is unreachable: nothing is taken past a topic that may hold an earlier
          // record. The records stay buffered; the runner retries the drain every
          // DRAIN_RETRY_INTERVAL_MS, and the next fetch drains too.
          this.options.logger.warn({ partition: this.partition, err: error }, 'high watermarks could not be refreshed; the merge waits and retries')
          return
        } finally {
          this.refreshWaitedMs += this.options.monotonicMs() - refreshStartedMs
        }
      }
      const replaying = this.pending[0]
      let selected: Buffered[] | null
      waitingFor = []
      if (replaying !== undefined) selected = this.selectPending(replaying)
      else ({ records: selected, waitingFor } = this.selectMerged(refresh !== undefined))
      if (selected === null || selected.length === 0) {
        // The next record arrived during the refresh: it waits for a round asked after it (a
        // few rounds at most here; a later drain goes on).
        if (waitingFor.length > 0 && (waitedRounds += 1) <= MAX_ARRIVAL_ROUNDS) continue
        return
      }
      waitedRounds = 0
      await this.processBatch(selected, replaying !== undefined)
    }
  }

  /** The pending batch's records in its recorded order, once all of them are buffered. */
  private selectPending(pending: PendingBatch): Buffered[] | null {
    const wanted = new Map<InputTopicKey, bigint[]>()
    for (const [topicIndex, offset] of pending.order) {
      const topic = INPUT_TOPIC_KEYS[topicIndex] as InputTopicKey
      const offsets = wanted.get(topic) ?? []
      offsets.push(BigInt(offset))
      wanted.set(topic, offsets)
    }
    // Each topic's share of the pending batch is a run of consecutive offsets from its next offset.
    for (const [topic, offsets] of wanted) {
      const queue = this.queues.get(topic) as Queue<Buffered>
      if (queue.length < offsets.length) return null
    }
    const taken = new Map<string, Buffered>()
    for (const [topic, offsets] of wanted) {
      const queue = this.queues.get(topic) as Queue<Buffered>
      for (const offset of offsets) {
        const record = queue.shift() as Buffered
        if (record.raw.offset !== offset) {
          throw new RiskError('RISK_ERR_STATE_CORRUPT', `pending batch names ${topic} offset ${offset} but the topic has ${record.raw.offset} there`, { partition: this.partition, topic })
        }
        taken.set(`${topic}:${offset}`, record)
      }
    }
    return pending.order.map(([topicIndex, offset]) => taken.get(`${INPUT_TOPIC_KEYS[topicIndex]}:${offset}`) as Buffered)
  }

  /**
   * The next batch in merge order (see the header). `arrivalChecked`: an idle topic's high
   * watermark counts for a record only if it was learned after the record was written (covers());
   * the batch stops at the first record one does not cover, and names those topics (waitingFor).
   */
  private selectMerged(arrivalChecked: boolean): MergedSelection {
    const selected: Buffered[] = []
    const idle: InputTopicKey[] = []
    while (selected.length < this.batchSize) {
      let best: Buffered | null = null
      let bestQueue: Queue<Buffered> | null = null
      let blocked = false
      idle.length = 0
      for (const topic of INPUT_TOPIC_KEYS) {
        const queue = this.queues.get(topic) as Queue<Buffered>
        const head = queue.peek()
        if (head === undefined) {
          if (!MERGE_BLOCKING.has(topic)) continue
          if (!this.caughtUp(topic)) blocked = true
          else idle.push(topic)
          continue
        }
        // Strictly smaller wins, so ties go to the earlier topic in INPUT_TOPIC_KEYS.
        if (best === null || head.sortTimeMs < best.sortTimeMs) {
          best = head
          bestQueue = queue
        }
      }
      if (best === null || bestQueue === null) break
      // A bad record (sorted first) may leave even while another topic is still being fetched.
      if (best.sortTimeMs !== Number.NEGATIVE_INFINITY) {
        if (blocked) break
        if (arrivalChecked) {
          let waitingFor: InputTopicKey[] | null = null
          for (const topic of idle) if (!this.covers(topic, best.arrivedAtMs, best.answer)) (waitingFor ??= []).push(topic)
          if (waitingFor !== null) return { records: selected, waitingFor }
        }
      }
      bestQueue.shift()
      selected.push(best)
    }
    return { records: selected, waitingFor: [] }
  }

  private async loadPlayers(records: readonly Buffered[]): Promise<void> {
    const missing = new Set<string>()
    for (const record of records) {
      if (record.decoded.ok && !this.cache.has(record.decoded.event.playerId) && !this.dirty.has(record.decoded.event.playerId)) missing.add(record.decoded.event.playerId)
    }
    if (missing.size === 0) return
    const ids = [...missing]
    const values = await this.options.store.getMany(ids.map((id) => PLAYER_PREFIX + id))
    ids.forEach((id, index) => {
      const bytes = values[index]
      this.cache.set(id, bytes === undefined ? newPlayerState() : parseStored<PlayerState>(bytes, PLAYER_PREFIX + id, this.partition))
    })
  }

  /**
   * Scores withdrawals, one ONNX run per model for all of them when the scorer batches; a failing
   * model yields decisions without it (sent to REVIEW by decide()).
   */
  private async scoreAll(rows: readonly Float32Array[], raw: RawRecord): Promise<readonly ScoredWithdrawal[]> {
    const scorer = this.options.scorer
    if (scorer === undefined || scorer === null) return rows.map(() => ({ champion: null, shadows: [], error: 'the engine scores withdrawals but has no model service' }))
    const startedMs = this.options.monotonicMs()
    try {
      if (scorer.scoreBatch !== undefined) return await scorer.scoreBatch(rows)
      const scores: ScoredWithdrawal[] = []
      for (const row of rows) {
        scores.push(await scorer.scoreOne(row).catch((error: unknown) => {
          this.options.logger.error({ partition: this.partition, topic: raw.topic, offset: String(raw.offset), err: error }, 'model scoring failed; deciding without the model')
          return { champion: null, shadows: [], error: `model scoring failed: ${error instanceof Error ? error.message : String(error)}` }
        }))
      }
      return scores
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      this.options.logger.error({ partition: this.partition, topic: raw.topic, offset: String(raw.offset), withdrawals: rows.length, err: error }, 'model scoring failed; deciding without the model')
      return rows.map(() => ({ champion: null, shadows: [], error: `model scoring failed: ${message}` }))
    } finally {
      this.metrics.modelInference?.(this.options.monotonicMs() - startedMs, rows.length)
    }
  }

  private async processBatch(records: readonly Buffered[], replaying: boolean): Promise<void> {
    if (this.behindFailure !== undefined) throw this.behindFailure
    // Back-pressure from behind: the processing does not run further ahead than two checkpoints
    // or MAX_UNSENT_BATCHES batches not sent yet. Each queued checkpoint holds a snapshot of its
    // players, and while any is in flight none is evicted from the cache: at 1M players, with
    // checkpoints no longer holding up the outputs (and so the input the memory bench sends), they
    // fell behind and the thread ran out of heap (session 13). The fetch pauses meanwhile
    // (backpressure.ts) as the buffered records pile up.
    while (this.checkpointsInFlight.length > 1) await (this.checkpointsInFlight[0] as Promise<void>).catch(() => undefined)
    if (this.unsent.length >= MAX_UNSENT_BATCHES) await this.behind.catch(() => undefined)
    if (this.behindFailure !== undefined) throw this.behindFailure
    const takenMs = this.options.monotonicMs()
    const refreshWaitedMs = this.refreshWaitedMs
    const ruleSet = this.options.ruleSets.current
    // Here, before the batch's players are looked up, never while they are in use.
    this.evict()
    await this.loadPlayers(records)
    const loadedMs = this.options.monotonicMs()
    let scoringMs = 0
    const changed = new Map<string, PlayerState>()
    const emissions: OutputRecord[] = []
    const counts = new Map<InputTopicKey, number>()
    const deadLetters: ErrorCode[] = []
    const decisions: Array<{ outcome: string; record: Buffered }> = []
    const detectorHits: string[] = []
    const detectorErrors: string[] = []
    const lateEvents: string[] = []
    let duplicates = 0
    let streamTimeMs = this.streamTimeMs
    const nextOffsets = new Map(this.nextOffsets)

    // Withdrawal requests waiting for the model, scored together (see completeScores).
    const awaiting: Array<{ playerId: string; pending: PendingScore; insertAt: number; record: Buffered }> = []
    const waiting = new Map<string, number>()
    const completed: Array<{ insertAt: number; outputs: readonly OutputRecord[] }> = []
    const completeScores = async (): Promise<void> => {
      if (awaiting.length === 0) return
      const batch = awaiting.splice(0, awaiting.length)
      waiting.clear()
      const scoringStartedMs = this.options.monotonicMs()
      const scores = await this.scoreAll(batch.map((entry) => entry.pending.features), (batch[0] as (typeof batch)[number]).record.raw)
      scoringMs += this.options.monotonicMs() - scoringStartedMs
      batch.forEach((entry, index) => {
        const { player: decided, outputs } = entry.pending.complete(scores[index] as ScoredWithdrawal, changed.get(entry.playerId) as PlayerState)
        changed.set(entry.playerId, decided)
        completed.push({ insertAt: entry.insertAt, outputs })
        for (const output of outputs) {
          if (output.topic === 'decisions') decisions.push({ outcome: String(output.value.outcome), record: entry.record })
          else if (output.topic === 'alerts') detectorHits.push(String(output.value.detectorId))
        }
      })
    }

    // One closure per batch, not per record (allocation on the hot path).
    let raw: RawRecord
    const deadLetter = (code: ErrorCode, message: string, schemaId: number | null): void => {
      deadLetters.push(code)
      emissions.push(toDeadLetter(raw, code, message, schemaId))
    }
    for (const record of records) {
      raw = record.raw
      nextOffsets.set(raw.topicKey, raw.offset + 1n)
      counts.set(raw.topicKey, (counts.get(raw.topicKey) ?? 0) + 1)
      const decoded = record.decoded
      if (!decoded.ok) {
        deadLetter(decoded.code, decoded.message, decoded.schemaId)
        continue
      }
      const event = decoded.event
      const key = raw.key === null ? null : raw.key.toString('utf8')
      if (key !== event.playerId) {
        deadLetter('RISK_ERR_KEY_MISMATCH', `message key ${JSON.stringify(key)} is not the event's playerId ${JSON.stringify(event.playerId)}`, null)
        continue
      }
      const eventStreamTimeMs = Math.max(streamTimeMs ?? event.eventTimeMs, event.eventTimeMs)
      // A withdrawal, review or payout event of a player whose request waits for its score needs that decision first.
      if (waiting.has(event.playerId) && (event.kind === 'withdrawal' || event.kind === 'review' || event.kind === 'payout')) await completeScores()
      const current = changed.get(event.playerId)
      const player = current ?? this.dirty.get(event.playerId) ?? this.cache.get(event.playerId) ?? newPlayerState()
      let result: ProcessResult
      try {
        result = this.options.processor.process(event, player, ruleSet, { topic: raw.topic, partition: raw.partition, offset: Number(raw.offset) }, eventStreamTimeMs, current !== undefined)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        this.options.logger.error({ partition: this.partition, topic: raw.topic, offset: String(raw.offset), err: error }, 'processing an event failed; sent to the dead-letter topic')
        deadLetter('RISK_ERR_PROCESSING_FAILED', message, null)
        continue
      }
      streamTimeMs = eventStreamTimeMs
      if (result.rejected !== null) deadLetter(result.rejected.code, result.rejected.message, null)
      if (result.duplicate) duplicates += 1
      for (const failure of result.detectorErrors) {
        detectorErrors.push(failure.detectorId)
        this.options.logger.error({ partition: this.partition, topic: raw.topic, offset: String(raw.offset), detectorId: failure.detectorId, error: failure.message }, 'detector failed')
      }
      for (const detectorId of result.lateFor) {
        lateEvents.push(detectorId)
        this.options.logger.warn({ partition: this.partition, topic: raw.topic, offset: String(raw.offset), detectorId, eventTimeMs: event.eventTimeMs, streamTimeMs: eventStreamTimeMs }, 'late event: behind a closed window')
      }
      if (result.player !== player) changed.set(event.playerId, result.player)
      for (const output of result.outputs) {
        emissions.push(output)
        if (output.topic === 'decisions') decisions.push({ outcome: String(output.value.outcome), record })
        else if (output.topic === 'alerts') detectorHits.push(String(output.value.detectorId))
      }
      if (result.awaitingScore !== null) {
        // the provisional state must be the player's from here on (it is what later events step)
        changed.set(event.playerId, result.player)
        waiting.set(event.playerId, (waiting.get(event.playerId) ?? 0) + 1)
        awaiting.push({ playerId: event.playerId, pending: result.awaitingScore, insertAt: emissions.length, record })
      }
    }
    await completeScores()
    // The decisions' outputs go where their requests were, so emissions keep the processing order.
    for (const done of completed.sort((a, b) => b.insertAt - a.insertAt)) emissions.splice(done.insertAt, 0, ...done.outputs)

    const checkpointNow = this.batchesSinceCheckpoint + this.batchPhase + 1 >= (this.options.checkpointBatches ?? 20) || this.options.monotonicMs() - this.lastCheckpointMs >= (this.options.checkpointIntervalMs ?? 1000)

    // 2. the order, so a crash from here on replays the same batches the same way. A replayed
    // batch has its record already. Every other batch needs one, even one that emits nothing and
    // checkpoints at once: the later batches' records may land before that checkpoint does, and
    // a crash in between would replay them with this batch missing from the order.
    let pendingWrite: PendingRecord | null = null
    if (!replaying) {
      const order: PendingBatch = { version: 1, order: records.map((record) => [INPUT_TOPIC_KEYS.indexOf(record.raw.topicKey), String(record.raw.offset)] as const) }
      pendingWrite = { key: pendingKey(this.nextPendingSequence), value: JSON.stringify(order) }
      this.nextPendingSequence += 1
      this.pendingKeys.push(pendingWrite.key)
    }

    // 3. outputs, acknowledged. Steps 2 and 3 run behind the task: the next batch is processed
    // while this one's pending record is written and its outputs wait for the broker's acks (the
    // round trip was idle time on every batch). They stay in order: batch n+1's pending record
    // and outputs go out only after batch n's are acknowledged, and a checkpoint (step 4) waits
    // for all of them, so it never covers outputs the broker has not acknowledged. If one fails,
    // nothing after it goes out and the task fails at its next batch or checkpoint. The batches
    // processed while an emission is in flight go out together after it (sendUnsent).
    let firstArrivalMs = Number.POSITIVE_INFINITY
    for (const record of records) firstArrivalMs = Math.min(firstArrivalMs, record.arrivedAtMs)
    const metrics = this.metrics
    const processedMs = this.options.monotonicMs()
    const done = (startedMs: number, writtenMs: number, doneMs: number): void => {
      for (const [topic, count] of counts) metrics.eventsProcessed(topic, count)
      for (const reason of deadLetters) metrics.deadLetter(reason)
      for (const { outcome, record } of decisions) {
        const queuedMs = takenMs - record.enqueuedAtMs
        const refreshMs = Math.min(queuedMs, refreshWaitedMs - record.refreshWaitedAtEnqueueMs)
        metrics.decision(outcome, doneMs - record.arrivedAtMs, {
          toTask: record.enqueuedAtMs - record.arrivedAtMs, refresh: refreshMs, merge: queuedMs - refreshMs,
          load: loadedMs - takenMs, score: scoringMs, process: processedMs - loadedMs - scoringMs,
          behind: startedMs - processedMs, pendingWrite: writtenMs - startedMs, produce: doneMs - writtenMs,
        })
      }
      if (metrics.detectorHit !== undefined) for (const detectorId of detectorHits) metrics.detectorHit(detectorId)
      for (const detectorId of detectorErrors) metrics.detectorError(detectorId)
      for (const detectorId of lateEvents) metrics.lateEvent(detectorId)
      for (let index = 0; index < duplicates; index += 1) metrics.duplicateInput()
    }
    this.unsent.push({ pending: pendingWrite, outputs: emissions, firstArrivalMs, done })
    this.queueBehind(() => this.sendUnsent())

    this.streamTimeMs = streamTimeMs
    for (const [key, offset] of nextOffsets) this.nextOffsets.set(key, offset)
    for (const [playerId, state] of changed) this.dirty.set(playerId, state)
    if (replaying) this.pending.shift()
    this.batchesSinceCheckpoint += 1

    // 4. every few batches: state + offsets + stream time, atomically, pending records deleted.
    // Also right after the last pending batch of a crashed run is replayed: a process that keeps
    // crashing sooner than the checkpoint interval would otherwise redo the same work each time.
    const replayDone = replaying && this.pending.length === 0
    if ((checkpointNow || replayDone) && this.pending.length === 0) this.queueCheckpoint()
  }

  /**
   * One step of the chain behind the processing: every batch processed and not sent yet, in
   * order, as one write of their pending records and one emission of their outputs. Each batch
   * queues a step; a step that finds them taken by an earlier one has nothing to do. Batch by
   * batch, a task emitted one round trip (to the main thread, the broker, and back) per batch,
   * and when those took longer than the batches came (a busy thread, a checkpoint's write), the
   * queue grew and waited seconds to drain (issue 10).
   */
  private async sendUnsent(): Promise<void> {
    const batches = this.unsent
    if (batches.length === 0) return
    this.unsent = []
    const pending: PendingRecord[] = []
    const joined: OutputRecord[] = []
    let firstArrivalMs = Number.POSITIVE_INFINITY
    for (const batch of batches) {
      if (batch.pending !== null) pending.push(batch.pending)
      if (batches.length > 1) for (const output of batch.outputs) joined.push(output)
      firstArrivalMs = Math.min(firstArrivalMs, batch.firstArrivalMs)
    }
    // One batch's outputs as they are; several batches' in one array, in order.
    const outputs = batches.length === 1 ? (batches[0] as UnsentBatch).outputs : joined
    const startedMs = this.options.monotonicMs()
    let writtenMs = startedMs
    const writeAndEmit = this.options.writeAndEmit
    if (pending.length > 0 && outputs.length > 0 && writeAndEmit !== undefined) {
      await writeAndEmit(pending, outputs, startedMs - firstArrivalMs)
    } else {
      if (pending.length > 0) await this.options.store.write(pendingWrite(pending))
      writtenMs = this.options.monotonicMs()
      if (outputs.length > 0) await this.options.emit(outputs, writtenMs - firstArrivalMs)
    }
    const doneMs = this.options.monotonicMs()
    for (const batch of batches) batch.done(startedMs, writtenMs, doneMs)
  }

  /** Waits for the pending records, outputs and checkpoints still in flight; throws the first failure among them. */
  private async settleBehind(): Promise<void> {
    await Promise.allSettled([this.behind, this.checkpoints])
    if (this.behindFailure !== undefined) throw this.behindFailure
  }

  /** A checkpoint of everything processed so far, written; throws the first failure behind. */
  private async checkpoint(): Promise<void> {
    this.queueCheckpoint()
    await this.settleBehind()
  }

  /**
   * Step 4, queued behind the pending records and outputs of every batch it covers and behind the
   * checkpoint before it, but not in the way of later batches' outputs (a withdrawal decided just
   * after a checkpoint was queued waited for its serialisation and write: up to hundreds of ms at
   * 5k events/s, issue 10). The snapshot is taken now (player states are immutable values, so
   * serialising them later sees them as they are now); the players move to the cache at once,
   * where the next batches find them, and stay there until the write has landed (evict runs only
   * with no checkpoint in flight).
   */
  private queueCheckpoint(): void {
    if (this.batchesSinceCheckpoint === 0 && this.pendingKeys.length === this.pending.length) return
    const checkpoint: Checkpoint = {
      version: 1,
      nextOffsets: Object.fromEntries(INPUT_TOPIC_KEYS.map((key) => [key, String(this.nextOffsets.get(key))])) as Record<InputTopicKey, string>,
      streamTimeMs: this.streamTimeMs,
    }
    const players = [...this.dirty]
    // Mid-replay (a flush on stop or revoke, or the periodic one), this checkpoint covers only
    // the crashed run's batches replayed so far: the rest keep their pending records, or a crash
    // after it would process them in merge order, not the order their outputs went out in.
    // No new pending record is written while any remain (drainNow replays them first), so the
    // replayed ones are the first keys.
    const replayed = this.pendingKeys.length - this.pending.length
    const deletes = this.pendingKeys.slice(0, replayed)
    for (const [playerId, state] of players) {
      this.cache.delete(playerId)
      this.cache.set(playerId, state)
    }
    this.dirty.clear()
    this.pendingKeys = this.pendingKeys.slice(replayed)
    this.batchesSinceCheckpoint = 0
    this.batchPhase = 0
    this.lastCheckpointMs = this.options.monotonicMs()
    const write = async (): Promise<void> => {
      const puts: Array<[string, Buffer]> = [[CHECKPOINT_KEY, Buffer.from(JSON.stringify(checkpoint))]]
      for (let index = 0; index < players.length; index += 1) {
        const [playerId, state] = players[index] as [string, PlayerState]
        puts.push([PLAYER_PREFIX + playerId, Buffer.from(JSON.stringify(state))])
        // Serialising a few hundred players holds the thread for milliseconds: let the other tasks in between.
        if (index % CHECKPOINT_SLICE === CHECKPOINT_SLICE - 1) await new Promise<void>((resolve) => setImmediate(resolve))
      }
      await this.options.store.write({ puts, deletes })
    }
    // The emissions it covers: a failed one (or an earlier failed checkpoint) skips the write.
    const covered = this.behind
    const landed = this.checkpoints.then(() => covered).then(write).finally(() => {
      this.checkpointsInFlight.splice(this.checkpointsInFlight.indexOf(landed), 1)
    })
    this.checkpointsInFlight.push(landed)
    this.checkpoints = landed
    this.checkpoints.catch((error: unknown) => {
      this.behindFailure ??= error
    })
  }

  /**
   * Appends a step to the writes and emissions behind the processing; its failure (or an earlier
   * one, which skips it) fails the task at its next batch.
   */
  private queueBehind(step: () => Promise<void>): void {
    this.behind = this.behind.then(step)
    this.behind.catch((error: unknown) => {
      this.behindFailure ??= error
    })
  }

  /** Drops the least recently checkpointed players beyond cacheSize; only when every queued checkpoint has landed. */
  private evict(): void {
    if (this.checkpointsInFlight.length > 0) return
    // Map iteration order is insertion order, refreshed on checkpoint: a cheap LRU.
    let excess = this.cache.size - this.cacheSize
    if (excess <= 0) return
    for (const playerId of this.cache.keys()) {
      if (excess <= 0) break
      this.cache.delete(playerId)
      excess -= 1
    }
  }
}

function parseStored<T>(bytes: Buffer, key: string, partition: number): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T
  } catch (error) {
    throw new RiskError('RISK_ERR_STATE_CORRUPT', `stored ${key} of partition ${partition} is not valid JSON`, { partition, key }, { cause: error })
  }
}

/** The dead-letter record: deterministic (no wall clock), keyed by where the input was. */
export function toDeadLetter(raw: RawRecord, reason: ErrorCode, message: string, schemaId: number | null): OutputRecord {
  const dlqId = `${raw.topic}:${raw.partition}:${raw.offset}`
  return {
    topic: 'deadLetters' satisfies TopicKey,
    key: dlqId,
    value: {
      dlqId,
      sourceTopic: raw.topic,
      sourcePartition: raw.partition,
      sourceOffset: Number(raw.offset),
      sourceTimestampMs: raw.timestampMs,
      reason,
      message,
      schemaId,
      key: raw.key,
      payload: raw.value ?? Buffer.alloc(0),
    },
  }
}
