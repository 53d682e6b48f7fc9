/**
 * The engine's Kafka wiring: one consumer group over all input topics (co-partitioned
 * assignment), one partition task per assigned partition (on this thread, or its proxy here and
 * the task on a processing thread: TaskHost), one producer for the outputs.
 *
 * Positions come from each task's RocksDB checkpoint, not from Kafka's committed offsets:
 * on assignment the runner seeks every topic-partition to the task's next offset. The group's
 * committed offsets follow the checkpoints for lag monitoring only.
 *
 * Rebuilding a partition on another process (DESIGN.md: changelog or replay — we replay): a
 * process that gets a partition it has no checkpoint for starts it from offset 0 of every
 * input topic and rebuilds the state from the events. That needs unlimited retention on the
 * input topics (the production topic-init sets retention.ms=-1); a process that gets back a
 * partition it held before resumes from its own, older checkpoint and re-emits identical
 * outputs for the stretch another process already covered.
 */
import { type Admin, type Consumer, type EachBatchPayload, type Kafka } from 'kafkajs'
import { groupConsumerConfig } from '../../core/kafka.js'
import { createOutputProducer, type OutputProducer } from '../../core/output-producer.js'
import type { Clock } from '../../core/clock.js'
import { sleep } from '../../core/clock.js'
import type { KafkaConfig, PitbossConfig } from '../../core/config.js'
import { RiskError } from '../../core/errors.js'
import type { Logger } from '../../core/logger.js'
import { INPUT_TOPIC_KEYS, topicName, type InputTopicKey, type TopicKey } from '../../core/topics.js'
import type { RuleSetHolder } from '../../detectors/rule-set.js'
import type { EngineMetrics } from '../metrics.js'
import { MERGE_BLOCKING_TOPIC_KEYS, PartitionTask, type FetchContext, type PartitionTaskOptions, type RawRecord, type RecordDecoder, type TaskMetrics } from '../partition-task.js'
import type { EventProcessor, OutputRecord } from '../processor.js'
import type { StateStore } from '../state/store.js'
import { backpressureMoves, type BufferedPositions } from './backpressure.js'
import { coPartitionedAssigner } from './co-partitioned-assigner.js'
import { HighWatermarkReader, RefreshRounds } from './high-watermarks.js'
import { fetchAnswerOf, partitionBatches, tagFetchAnswers } from './fetch-answers.js'
import { OutputCoalescer, type TopicMessages } from './output-coalescer.js'
import type { OutputMessage } from './thread-protocol.js'

export interface OutputEncoder {
  encode(topic: TopicKey, value: Record<string, unknown>): Buffer
}

/** What the runner does with a partition task: a PartitionTask, or the proxy of one on a processing thread. */
export interface RunnerTask extends BufferedPositions {
  readonly partition: number
  open(): Promise<ReadonlyMap<InputTopicKey, bigint>>
  setHighWatermark(topic: InputTopicKey, highWatermark: bigint, seenAtMs: number): void
  /** `fetch`: the fetch answer the records came in (see partition-task.ts, FetchContext). */
  enqueue(topic: InputTopicKey, records: readonly RawRecord[], highWatermark: bigint | null, acceptGap: boolean, fetch: FetchContext | null): Promise<'ok' | 'gap'>
  drain(): Promise<void>
  flush(): Promise<void>
  flushIfDue(): Promise<void>
  close(): void
  settled(): Promise<void>
  committedOffsets(): ReadonlyMap<InputTopicKey, bigint>
  lag(topic: InputTopicKey): bigint | null
}

/** The runner's side of a task: where its outputs go and how it asks for fresh high watermarks. */
export interface TaskWiring {
  /** Produces encoded outputs; resolves once the broker acknowledged them. */
  submit(topicMessages: ReadonlyArray<TopicMessages<OutputMessage>>): Promise<void>
  refreshHighWatermarks(topics: readonly InputTopicKey[]): Promise<void>
  readonly metrics: TaskMetrics
}

/** Where the partition tasks run: on this thread (LocalTasks) or on processing threads (ProcessingThreads). */
export interface TaskHost {
  newTask(partition: number, wiring: TaskWiring): RunnerTask
}

export interface EngineRunnerOptions {
  readonly config: PitbossConfig
  readonly kafka: Kafka
  readonly tasks: TaskHost
  readonly metrics: EngineMetrics
  readonly clock: Clock
  readonly logger: Logger
}

/** One batch's outputs, encoded and gathered per topic name in order, with the batch's headers. */
export function encodeOutputs(outputs: readonly OutputRecord[], encoder: OutputEncoder, kafka: KafkaConfig, headers: Record<string, string>): Map<string, OutputMessage[]> {
  const byTopic = new Map<string, OutputMessage[]>()
  for (const output of outputs) {
    const name = topicName(kafka, output.topic)
    let messages = byTopic.get(name)
    if (messages === undefined) {
      messages = []
      byTopic.set(name, messages)
    }
    messages.push({ key: output.key, value: encoder.encode(output.topic, output.value), headers })
  }
  return byTopic
}

/** The headers of one batch's outputs (one object per batch: the values are the same for every output). */
export function outputHeaders(processingMs: number, instanceId: string): Record<string, string> {
  return { 'pitboss-processing-ms': processingMs.toFixed(3), 'pitboss-instance': instanceId }
}

/** Partition tasks on the runner's own thread. */
export class LocalTasks implements TaskHost {
  constructor(private readonly parts: {
    readonly config: PitbossConfig
    readonly store: StateStore
    readonly decoder: RecordDecoder
    readonly encoder: OutputEncoder
    readonly processor: EventProcessor
    /** The model service, when the processor scores withdrawals. */
    readonly scorer?: PartitionTaskOptions['scorer']
    readonly ruleSets: RuleSetHolder
    readonly clock: Clock
    readonly logger: Logger
    readonly batchSize?: number
  }) {}

  newTask(partition: number, wiring: TaskWiring): PartitionTask {
    const { config, store, decoder, encoder, processor, ruleSets, clock, logger } = this.parts
    return new PartitionTask({
      partition,
      store: store.partition(partition),
      decoder,
      processor,
      scorer: this.parts.scorer ?? null,
      ruleSets,
      emit: (outputs, processingMs) => wiring.submit([...encodeOutputs(outputs, encoder, config.kafka, outputHeaders(processingMs, config.instanceId))].map(([topic, messages]) => ({ topic, messages }))),
      monotonicMs: () => clock.monotonicMs(),
      logger,
      metrics: wiring.metrics,
      batchSize: this.parts.batchSize,
      cacheSize: config.state.cachePlayers,
      refreshHighWatermarks: (topics) => wiring.refreshHighWatermarks(topics),
      checkpointBatches: config.pipeline.checkpointBatches,
      checkpointIntervalMs: config.pipeline.checkpointIntervalMs,
    })
  }
}

interface TaskEntry {
  readonly task: RunnerTask
  readonly ready: Promise<void>
  lastCommitMs: number
}

const COMMIT_INTERVAL_MS = 1000
const DRAIN_RETRY_INTERVAL_MS = 500
/** What one coalesced produce request gathers at most (values and keys); a larger batch goes alone. */
const OUTPUT_REQUEST_MAX_BYTES = 1024 * 1024

export class EngineRunner {
  private consumer: Consumer
  /** Consumer restarts after errors kafkajs does not restart from, by wall-clock time (for the limit). */
  private readonly restartsAtMs: number[] = []
  private readonly producer: OutputProducer
  private readonly admin: Admin
  /** The high watermarks the merge waits on (the blocking topics), one request per round. */
  private readonly highWatermarks: HighWatermarkReader
  private readonly refreshRounds = new RefreshRounds((names) => this.refreshRound(names))
  private readonly tasks = new Map<number, TaskEntry>()
  private readonly topicByName = new Map<string, InputTopicKey>()
  private readonly nameByTopic = new Map<InputTopicKey, string>()
  /** INPUT_TOPIC_KEYS index of each merge-blocking topic, by topic name. */
  private readonly blockingIndexByName = new Map<string, number>()
  private readonly paused = new Set<string>()
  private readonly gapSeeks = new Set<string>()
  private running = false
  /**
   * Every task's outputs go out in one produce request per broker round trip: librdkafka gathers
   * what is queued while a request is in flight by itself (on its own threads, without waiting
   * for this thread to see the acknowledgement); kafkajs sends each call as a request of its
   * own, so an OutputCoalescer gathers for it.
   */
  private readonly submitOutputs: (topicMessages: ReadonlyArray<TopicMessages<OutputMessage>>) => Promise<void>
  private fatal: ((error: Error) => void) | null = null

  constructor(private readonly options: EngineRunnerOptions) {
    const { config, kafka } = options
    for (const key of INPUT_TOPIC_KEYS) {
      this.topicByName.set(topicName(config.kafka, key), key)
      this.nameByTopic.set(key, topicName(config.kafka, key))
    }
    for (const key of MERGE_BLOCKING_TOPIC_KEYS) this.blockingIndexByName.set(topicName(config.kafka, key), INPUT_TOPIC_KEYS.indexOf(key))
    // Batches carry their fetch answer, whose high watermarks spare the merge most refresh rounds.
    tagFetchAnswers()
    this.consumer = this.newConsumer()
    // librdkafka or kafkajs (core/output-producer.ts); either keeps each output partition in order
    // across retries. With librdkafka the link records, three quarters of the messages, go in a lane
    // of their own (OutputLane), so a decision's requests do not wait behind theirs.
    this.producer = createOutputProducer(config.kafka, kafka, options.logger, {
      bulkTopics: [topicName(config.kafka, 'links')],
      onStatistics: (statistics, lane) => options.metrics.outputProducerStatistics(statistics, lane),
    })
    if (this.producer.gathersRequests) {
      this.submitOutputs = (topicMessages) => this.produce(topicMessages)
    } else {
      const coalescer = new OutputCoalescer<OutputMessage>((topicMessages) => this.produce(topicMessages), (message) => message.value.length + message.key.length, OUTPUT_REQUEST_MAX_BYTES)
      this.submitOutputs = (topicMessages) => coalescer.submit(topicMessages)
    }
    this.admin = kafka.admin()
    this.highWatermarks = new HighWatermarkReader(kafka, MERGE_BLOCKING_TOPIC_KEYS.map((key) => topicName(config.kafka, key)))
  }

  private newConsumer(): Consumer {
    const { config, kafka } = this.options
    return kafka.consumer({ ...groupConsumerConfig(config.kafka, config.kafka.groupId), partitionAssigners: [coPartitionedAssigner] })
  }

  /** Called with an error the runner cannot recover from (the process should exit non-zero and be restarted). */
  onFatal(handler: (error: Error) => void): void {
    this.fatal = handler
  }

  private checkpointTimer: NodeJS.Timeout | null = null
  private retryTimer: NodeJS.Timeout | null = null

  async start(): Promise<void> {
    await Promise.all([this.producer.connect(), this.admin.connect(), this.highWatermarks.connect()])
    this.running = true
    // A partition that goes quiet still gets its last batches checkpointed.
    this.checkpointTimer = setInterval(() => {
      for (const [partition, entry] of this.tasks) {
        entry.task.flushIfDue().then(
          () => this.commitBehind(partition, entry),
          (error: unknown) => this.options.logger.warn({ err: error, partition }, 'periodic checkpoint failed; retried on the next batch'),
        )
      }
    }, this.options.config.pipeline.checkpointIntervalMs)
    this.checkpointTimer.unref()
    // A drain that stopped on an unreachable broker (no fresh high watermarks) is retried here
    // even when no new batch arrives to trigger it.
    this.retryTimer = setInterval(() => {
      for (const entry of this.tasks.values()) if (entry.task.bufferedCount() > 0) this.drainBehind(entry)
    }, DRAIN_RETRY_INTERVAL_MS)
    this.retryTimer.unref()
    await this.startConsumer()
  }

  private async startConsumer(): Promise<void> {
    const { config, logger } = this.options
    const consumer = this.consumer
    await consumer.connect()
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.assign(event.payload.memberAssignment).catch((error: unknown) => this.fail(error))
    })
    consumer.on(consumer.events.CRASH, (event) => {
      logger.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed')
      if (!event.payload.restart) this.restartConsumer(event.payload.error).catch((error: unknown) => this.fail(error))
    })
    await consumer.subscribe({ topics: [...this.topicByName.keys()], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.min(4, INPUT_TOPIC_KEYS.length * 2),
      eachBatch: (payload) => this.onBatch(payload),
    })
    logger.info({ group: config.kafka.groupId, topics: [...this.topicByName.keys()], outputProducer: this.producer.client }, 'engine consuming')
  }

  /**
   * kafkajs gives up on errors it classes as not retriable, some of which are transient in
   * practice (a broker answering SyncGroup with an error during a concurrent join). Rejoin with a
   * fresh consumer — tasks reopen from their checkpoints — up to 5 times in 5 minutes; beyond
   * that the error is fatal and the process exits for its supervisor to restart.
   */
  private async restartConsumer(cause: Error): Promise<void> {
    if (!this.running) return
    const nowMs = this.options.clock.nowMs()
    while (this.restartsAtMs.length > 0 && (this.restartsAtMs[0] as number) < nowMs - 5 * 60_000) this.restartsAtMs.shift()
    if (this.restartsAtMs.length >= 5) {
      this.fail(cause)
      return
    }
    this.restartsAtMs.push(nowMs)
    const closing = [...this.tasks.values()].map((entry) => {
      entry.task.close()
      return entry.task.settled()
    })
    this.tasks.clear()
    this.paused.clear()
    const backoffMs = 500 * this.restartsAtMs.length
    this.options.logger.warn({ err: cause, attempt: this.restartsAtMs.length, backoffMs }, 'restarting the consumer with a fresh group membership')
    // The closed tasks' queued writes land before their partitions can be reopened here.
    await Promise.all([sleep(backoffMs), ...closing])
    if (!this.running) return
    this.consumer = this.newConsumer()
    await this.startConsumer()
  }

  /** Graceful stop: finish the batch in hand (it checkpoints), commit, disconnect. */
  async stop(): Promise<void> {
    this.running = false
    // The group offsets are for lag reporting only (positions come from the checkpoints), so
    // commit what is checkpointed now, while the group is still joined; disconnect then waits
    // for the batch in hand, which checkpoints itself.
    for (const [partition, entry] of this.tasks) {
      await this.commit(partition, entry, true).catch((error: unknown) => this.options.logger.warn({ err: error, partition }, 'final offset commit failed (positions are in the checkpoint; only lag reporting is affected)'))
    }
    await this.consumer.disconnect()
    if (this.checkpointTimer !== null) clearInterval(this.checkpointTimer)
    if (this.retryTimer !== null) clearInterval(this.retryTimer)
    for (const entry of this.tasks.values()) {
      await entry.task.flush()
      entry.task.close()
    }
    this.tasks.clear()
    await Promise.all([this.producer.disconnect(), this.admin.disconnect(), this.highWatermarks.disconnect()])
  }

  assignedPartitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b)
  }

  /** Stops the engine with an error from outside the runner (the processing thread died). */
  failWith(error: Error): void {
    this.fail(error)
  }

  private fail(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error))
    this.options.logger.fatal({ err: failure }, 'engine cannot continue')
    this.fatal?.(failure)
  }

  private async assign(memberAssignment: Record<string, number[]>): Promise<void> {
    const { logger, metrics } = this.options
    const partitions = new Set<number>()
    for (const [topic, assigned] of Object.entries(memberAssignment)) {
      if (this.topicByName.has(topic)) for (const partition of assigned) partitions.add(partition)
    }
    for (const [partition, entry] of this.tasks) {
      if (partitions.has(partition)) continue
      // Revoked: checkpoint what it processed (useful if it comes back here), drop the buffers.
      await entry.task.flush().catch((error: unknown) => logger.warn({ err: error, partition }, 'checkpoint of a revoked partition failed; its pending batches replay if it comes back'))
      entry.task.close()
      this.tasks.delete(partition)
      for (const topic of this.topicByName.keys()) metrics.forgetPartition(topic, partition)
    }
    const opened: number[] = []
    for (const partition of partitions) {
      if (this.tasks.has(partition)) continue
      const task = this.newTask(partition)
      const entry: TaskEntry = { task, ready: this.openTask(task), lastCommitMs: 0 }
      this.tasks.set(partition, entry)
      opened.push(partition)
    }
    await Promise.all(opened.map((partition) => (this.tasks.get(partition) as TaskEntry).ready))
    logger.info({ partitions: this.assignedPartitions(), opened }, 'partitions assigned')
  }

  private newTask(partition: number): RunnerTask {
    return this.options.tasks.newTask(partition, {
      submit: (topicMessages) => this.submitOutputs(topicMessages),
      refreshHighWatermarks: (topics) => this.refreshHighWatermarks(topics),
      metrics: this.options.metrics,
    })
  }

  /**
   * Fresh high watermarks of `topics` (blocking topics) for all open tasks, in rounds of one
   * ListOffsets request (HighWatermarkReader), one round at a time (RefreshRounds): requests side
   * by side on one connection answer late on the mock broker.
   */
  private refreshHighWatermarks(topics: readonly InputTopicKey[]): Promise<void> {
    return this.refreshRounds.ask(topics.map((key) => topicName(this.options.config.kafka, key)))
  }

  private async refreshRound(names: readonly string[]): Promise<void> {
    const startedMs = this.options.clock.monotonicMs()
    const answers = await this.highWatermarks.fetch(names)
    this.options.metrics.highWatermarkRefresh(names, this.options.clock.monotonicMs() - startedMs)
    for (const [name, offsets] of answers) {
      const key = this.topicByName.get(name) as InputTopicKey
      for (const { partition, high } of offsets) this.tasks.get(partition)?.task.setHighWatermark(key, high, startedMs)
    }
  }

  private async openTask(task: RunnerTask): Promise<void> {
    const positions = await task.open()
    const answers = await Promise.all([...this.topicByName].map(async ([name, key]) => ({ name, key, offsets: await this.admin.fetchTopicOffsets(name) })))
    for (const { name, key, offsets } of answers) {
      const high = offsets.find((entry) => entry.partition === task.partition)
      if (high !== undefined) task.setHighWatermark(key, BigInt(high.high), this.options.clock.monotonicMs())
      this.consumer.seek({ topic: name, partition: task.partition, offset: String(positions.get(key) ?? 0n) })
    }
    this.options.logger.info({ partition: task.partition, positions: Object.fromEntries([...positions].map(([key, offset]) => [key, String(offset)])) }, 'partition task opened')
  }

  private async onBatch({ batch, resolveOffset, isStale }: EachBatchPayload): Promise<void> {
    const topicKey = this.topicByName.get(batch.topic)
    const entry = this.tasks.get(batch.partition)
    if (topicKey === undefined || entry === undefined || !this.running) return
    await entry.ready
    if (isStale() || this.tasks.get(batch.partition) !== entry) return
    const { task } = entry
    const records: RawRecord[] = batch.messages.map((message) => ({
      topicKey,
      topic: batch.topic,
      partition: batch.partition,
      offset: BigInt(message.offset),
      timestampMs: Number(message.timestamp),
      key: message.key,
      value: message.value,
    }))
    const gapKey = `${batch.topic}:${batch.partition}:${task.fetchPosition(topicKey)}`
    const outcome = await task.enqueue(topicKey, records, BigInt(batch.highWatermark), this.gapSeeks.has(gapKey), this.fetchContext(batch, topicKey))
    if (outcome === 'gap') {
      // Usually a fetch that started before our seek; seek once more, and accept the gap if it persists.
      this.gapSeeks.add(gapKey)
      this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: String(task.fetchPosition(topicKey)) })
      return
    }
    this.gapSeeks.delete(gapKey)
    const last = batch.messages[batch.messages.length - 1]
    if (last !== undefined) resolveOffset(last.offset)
    // Processing runs behind the fetching: kafkajs fetches again from a broker only once every
    // eachBatch of its last answer has returned, so awaiting the drain here left the thread idle
    // for each fetch round trip. Back-pressure pauses a partition whose buffer runs over
    // maxBufferedRecords and resumes it when a drain has emptied it. No heartbeat here either:
    // kafkajs heartbeats (when due) after every eachBatch returns, and this one does not wait.
    this.drainBehind(entry)
    this.applyBackpressure(task)
    // Not awaited: kafkajs fetches again from this broker only once this returns, and the
    // commit (lag reporting only; positions live in the checkpoint) is a broker round trip.
    this.commitBehind(batch.partition, entry)
  }

  /**
   * What the batch's fetch answer says about the partition's other merge-blocking topics
   * (fetch-answers.ts): their high watermarks, which cover this batch's records, so the merge
   * needs no refresh round for them. Null for a batch without a tag.
   */
  private fetchContext(batch: EachBatchPayload['batch'], topicKey: InputTopicKey): FetchContext | null {
    const answer = fetchAnswerOf(batch)
    if (answer === undefined) return null
    const highWatermarks: number[] = []
    for (const other of partitionBatches(answer, batch.partition)) {
      const index = this.blockingIndexByName.get(other.topic)
      const high = Number(other.highWatermark)
      // An offset past 2^53 is left out (then a refresh round asks for it).
      if (index !== undefined && INPUT_TOPIC_KEYS[index] !== topicKey && Number.isSafeInteger(high)) highWatermarks.push(index, high)
    }
    return { askedAtMs: answer.askedAtMs, answer: { reader: answer.reader, node: answer.node, sequence: answer.sequence }, highWatermarks }
  }

  /**
   * Drains the task without holding up the fetch loop. A failure is fatal while running (the
   * process exits and its supervisor restarts it; the task's pending batches replay then): a task
   * that failed mid-batch cannot go on in this process.
   */
  private drainBehind(entry: TaskEntry): void {
    entry.task.drain().then(
      () => {
        if (this.tasks.get(entry.task.partition) !== entry) return
        this.applyBackpressure(entry.task)
        this.commitBehind(entry.task.partition, entry)
      },
      (error: unknown) => {
        if (this.running && this.tasks.get(entry.task.partition) === entry) this.fail(error)
        else this.options.logger.warn({ err: error, partition: entry.task.partition }, 'processing stopped by the shutdown or a rebalance; the pending batches replay on the next start')
      },
    )
  }

  /** Pauses the topics of a task that run ahead while its buffer is over the limit; resumes them as backpressureMoves says. */
  private applyBackpressure(task: RunnerTask): void {
    const name = (key: InputTopicKey): string => this.nameByTopic.get(key) as string
    const id = (key: InputTopicKey): string => `${name(key)}:${task.partition}`
    const { pause, resume } = backpressureMoves(task, this.options.config.pipeline.maxBufferedRecords, this.nameByTopic.keys(), (key) => this.paused.has(id(key)))
    for (const key of pause) {
      this.consumer.pause([{ topic: name(key), partitions: [task.partition] }])
      this.paused.add(id(key))
    }
    for (const key of resume) {
      this.consumer.resume([{ topic: name(key), partitions: [task.partition] }])
      this.paused.delete(id(key))
    }
  }

  /**
   * Commits the group offsets after a drain or a periodic checkpoint, outside eachBatch: the
   * checkpoint a drain writes lands after its eachBatch returned, and an engine that goes idle
   * gets no further batch to commit it (a rescreen's `--wait` watches these offsets).
   */
  private commitBehind(partition: number, entry: TaskEntry): void {
    if (!this.running || this.tasks.get(partition) !== entry) return
    this.commit(partition, entry, false).catch((error: unknown) => this.options.logger.debug({ err: error, partition }, 'offset commit failed (positions are in the checkpoint; only lag reporting is affected); retried later'))
  }

  private async commit(partition: number, entry: TaskEntry, force: boolean): Promise<void> {
    const nowMs = this.options.clock.nowMs()
    if (!force && nowMs - entry.lastCommitMs < COMMIT_INTERVAL_MS) return
    entry.lastCommitMs = nowMs
    const offsets = entry.task.committedOffsets()
    for (const [name, key] of this.topicByName) {
      const lag = entry.task.lag(key)
      if (lag !== null) this.options.metrics.consumerLag(name, partition, Number(lag))
    }
    const topics = [...this.topicByName].map(([name, key]) => ({ topic: name, partition, offset: String(offsets.get(key) ?? 0n) }))
    await this.consumer.commitOffsets(topics)
  }

  /** Outputs produced, retried until acknowledged (or the engine stops). */
  private async produce(topicMessages: ReadonlyArray<TopicMessages<OutputMessage>>): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.producer.send(topicMessages)
        return
      } catch (error) {
        if (!this.running) throw new RiskError('RISK_ERR_SHUTDOWN', 'stopping while outputs could not be produced; they are re-emitted after restart', {}, { cause: error })
        const backoffMs = Math.min(5000, 100 * 2 ** Math.min(attempt, 6))
        this.options.logger.warn({ err: error, attempt, backoffMs }, 'producing outputs failed; retrying (the batch is not checkpointed until they are acknowledged)')
        await sleep(backoffMs)
      }
    }
  }
}
