/**
 * An in-memory driver for the partition tasks: topics as arrays with partitions, offsets and
 * timestamps, in-memory or RocksDB stores, no broker. Pipeline unit tests use it, and so can a
 * backtest replaying recorded events through the same code as production.
 *
 * Example:
 *   const driver = new MemoryDriver({ partitions: 4, decoder, encoder, processor, ruleSets, store: createMemoryStore() })
 *   driver.produce('withdrawals', 'player-1', bytes, 1_000)
 *   await driver.run()                       // processes everything produced so far (and what that fed back)
 *   driver.output('decisions')               // [{ key, value, partition, offset }]
 */
import { silentLogger, type Logger } from '../core/logger.js'
import { partitionForKey } from '../core/partitioner.js'
import { INPUT_TOPIC_KEYS, TOPICS, type InputTopicKey, type TopicKey } from '../core/topics.js'
import type { RuleSetHolder } from '../detectors/rule-set.js'
import type { OutputEncoder } from './kafka/engine-runner.js'
import { PartitionTask, type PartitionTaskOptions, type RawRecord, type RecordDecoder, type TaskMetrics } from './partition-task.js'
import type { EventProcessor, OutputRecord } from './processor.js'
import type { StateStore } from './state/store.js'

export interface StoredMessage {
  readonly partition: number
  readonly offset: bigint
  readonly timestampMs: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Readonly<Record<string, string>>
}

export interface DriverOptions {
  readonly partitions: number
  readonly store: StateStore
  readonly decoder: RecordDecoder
  readonly encoder: OutputEncoder
  readonly processor: EventProcessor
  readonly ruleSets: RuleSetHolder
  readonly logger?: Logger
  readonly metrics?: TaskMetrics
  readonly batchSize?: number
  readonly checkpointBatches?: number
  /** Player states each task keeps in memory (PartitionTask's cacheSize). */
  readonly cacheSize?: number
  /** Records handed to a task per fetch, to exercise batching and interleaving. */
  readonly fetchSize?: number
  /**
   * Injects a crash around `emit`: 'before' throws before the outputs reach the topics, 'after'
   * stores them and then throws (the outputs went out but the checkpoint never happened).
   */
  readonly crashOnEmit?: (outputs: readonly OutputRecord[]) => 'before' | 'after' | null
  /** The model service, for a processor built with `scoring: true`. */
  readonly scorer?: PartitionTaskOptions['scorer']
}

/** Topics the tasks both write and read. */
const FED_BACK: ReadonlySet<TopicKey> = new Set<TopicKey>(INPUT_TOPIC_KEYS)

export class MemoryDriver {
  private readonly topics = new Map<TopicKey, StoredMessage[][]>()
  private readonly tasks = new Map<number, PartitionTask>()
  private readonly positions = new Map<string, bigint>()

  constructor(private readonly options: DriverOptions) {
    for (const key of Object.keys(TOPICS) as TopicKey[]) this.topics.set(key, Array.from({ length: options.partitions }, () => []))
  }

  produce(topic: TopicKey, key: string | null, value: Buffer | null, timestampMs: number, partition?: number): StoredMessage {
    const partitions = this.topics.get(topic) as StoredMessage[][]
    const target = partition ?? (key === null ? 0 : partitionForKey(key, this.options.partitions))
    const log = partitions[target] as StoredMessage[]
    const message: StoredMessage = { partition: target, offset: BigInt(log.length), timestampMs, key: key === null ? null : Buffer.from(key), value, headers: {} }
    log.push(message)
    return message
  }

  /** Every message of a topic, partition by partition, in offset order. */
  output(topic: TopicKey): StoredMessage[] {
    return (this.topics.get(topic) as StoredMessage[][]).flat()
  }

  /**
   * Opens tasks (first call), processes everything produced so far, and checkpoints (as a graceful
   * stop would). Partitions take turns, one fetch per topic each, as a consumer interleaves them,
   * so an output a task writes to an input topic — a transfer re-keyed to its receiver
   * (risk.transfers-received.v1) — reaches the receiver's task as it would live: read in a later
   * turn, merged by event time, late if the receiver is already past it. Turns go on until every
   * input is read, including inputs the checkpoints' last outputs wrote.
   */
  async run(): Promise<void> {
    for (let partition = 0; partition < this.options.partitions; partition += 1) {
      if (this.tasks.has(partition)) continue
      const task = this.newTask(partition)
      const positions = await task.open()
      for (const [topic, offset] of positions) this.positions.set(`${topic}:${partition}`, offset)
      this.tasks.set(partition, task)
    }
    for (;;) {
      let progressed = true
      while (progressed) {
        progressed = false
        for (const [partition, task] of this.tasks) if (await this.pumpOnce(task, partition)) progressed = true
      }
      for (const task of this.tasks.values()) await task.drain()
      // A checkpoint waits for outputs still on their way, which may be inputs of another partition.
      for (const task of this.tasks.values()) await task.flush()
      if (![...this.tasks.keys()].some((partition) => INPUT_TOPIC_KEYS.some((topic) => (this.positions.get(`${topic}:${partition}`) ?? 0n) < BigInt(this.log(topic, partition).length)))) return
    }
  }

  /** Drops the tasks without a checkpoint, as a crash would; the next run() reopens from the store. */
  crash(): void {
    for (const task of this.tasks.values()) task.close()
    this.tasks.clear()
    this.positions.clear()
  }

  /** One turn of a partition: round-robin over its topics, one fetch each. True when it read anything. */
  private async pumpOnce(task: PartitionTask, partition: number): Promise<boolean> {
    const fetchSize = this.options.fetchSize ?? 100
    // Fresh high watermarks each turn: another partition's task may have written to this one's inputs.
    for (const topic of INPUT_TOPIC_KEYS) task.setHighWatermark(topic, BigInt(this.log(topic, partition).length))
    let progressed = false
    for (const topic of INPUT_TOPIC_KEYS) {
      const log = this.log(topic, partition)
      const positionKey = `${topic}:${partition}`
      const position = this.positions.get(positionKey) ?? 0n
      if (position >= BigInt(log.length)) continue
      const slice = log.slice(Number(position), Number(position) + fetchSize)
      const records: RawRecord[] = slice.map((message) => ({ topicKey: topic, topic: TOPICS[topic].name, partition, offset: message.offset, timestampMs: message.timestampMs, key: message.key, value: message.value }))
      await task.enqueue(topic, records, BigInt(log.length))
      this.positions.set(positionKey, position + BigInt(slice.length))
      await task.drain()
      progressed = true
    }
    return progressed
  }

  private log(topic: InputTopicKey, partition: number): StoredMessage[] {
    return (this.topics.get(topic) as StoredMessage[][])[partition] as StoredMessage[]
  }

  private newTask(partition: number): PartitionTask {
    const { options } = this
    return new PartitionTask({
      partition,
      store: options.store.partition(partition),
      decoder: options.decoder,
      processor: options.processor,
      scorer: options.scorer ?? null,
      ruleSets: options.ruleSets,
      emit: async (outputs, processingMs) => {
        const crash = options.crashOnEmit?.(outputs) ?? null
        if (crash === 'before') throw new Error('crash before emit (injected)')
        for (const output of outputs) {
          // An output the tasks read back (a transfer re-keyed to its receiver) is stamped with its
          // event time: live, the producer stamps the wall clock, at or after the event, and the
          // decoder's future-skew check (schemas/event-time.ts) must pass here as it does there.
          const timestampMs = FED_BACK.has(output.topic) && typeof output.value.eventTimeMs === 'number' ? output.value.eventTimeMs : 0
          const message = this.produce(output.topic, output.key, options.encoder.encode(output.topic, output.value), timestampMs)
          Object.assign(message.headers, { 'pitboss-processing-ms': processingMs.toFixed(3) })
        }
        if (crash === 'after') throw new Error('crash after emit (injected)')
      },
      monotonicMs: () => performance.now(),
      logger: options.logger ?? silentLogger,
      metrics: options.metrics,
      batchSize: options.batchSize,
      checkpointBatches: options.checkpointBatches,
      cacheSize: options.cacheSize,
      // Replays checkpoint by batch count only, so a run does the same writes whatever the machine.
      checkpointIntervalMs: Number.MAX_SAFE_INTEGER,
    })
  }
}
