/**
 * One of the engine's processing threads: the partition tasks the main thread gives it (partition
 * p goes to thread p mod the number of threads), with the parts they use (pipelines/processing.ts:
 * rule set, sanctions lists, models, schema codec). The main thread keeps Kafka — fetching,
 * producing, the consumer group — and opens the RocksDB database, which the tasks here read and
 * write directly through its handle (store.ts `sharedRocksStore`; one database per process, as
 * before: a partition's state, offsets and pending records change together in one write batch).
 * It talks to the tasks through pipelines/kafka/processing-thread-client.ts.
 *
 * Why: one thread used to do both, and the Kafka client's work (fetch decoding, produce encoding,
 * the group's heartbeats) took its share of the thread the detectors needed, while a second core
 * sat partly idle (bench/README.md). The tasks themselves are unchanged (pipelines/partition-task.ts):
 * the main thread calls them in the same order as it would on its own thread; only their outputs
 * (encoded here) and the records (decoded here) cross, as one transferred buffer per batch.
 *
 * Logs go to the main thread's logger (so they land where its lines do, at its level), and the
 * tasks' metric calls are replayed on the main thread's metrics, where /metrics serves them.
 */
import v8 from 'node:v8'
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import pino from 'pino'
import { systemClock } from '../core/clock.js'
import type { PitbossConfig } from '../core/config.js'
import type { Logger } from '../core/logger.js'
import { INPUT_TOPIC_KEYS, type InputTopicKey } from '../core/topics.js'
import { encodeOutputs, outputHeaders } from './kafka/engine-runner.js'
import { fromCrossing, packOutputs, packValues, toCrossing, unpackRecords, unpackValues, type CrossingError, type CrossingFetch, type FromProcessing, type MetricCall, type StoreCall, type TaskStatus, type ToProcessing } from './kafka/thread-protocol.js'
import { PartitionTask, pendingWrite, type FetchContext, type PendingRecord, type TaskMetrics } from './partition-task.js'
import type { OutputRecord } from './processor.js'
import { openProcessing, type ProcessingParts } from './processing.js'
import { sharedRocksStore, type PartitionStore, type StateStore } from './state/store.js'

export interface ProcessingThreadData {
  readonly kind: 'pitboss-processing-thread'
  /** This thread's number, for its logs. */
  readonly index: number
  readonly config: PitbossConfig
  readonly logLevel: string
  readonly batchSize?: number
  /**
   * The main thread's RocksDB handle (store.ts `handle`): the tasks read and write through it
   * directly; null with a store that has none (the memory store), then every store call goes
   * through the main thread.
   */
  readonly storeHandle?: bigint | null
}

interface Entry {
  readonly task: PartitionTask
  /** The task's enqueues, one after another (a record's decode may wait for the registry). */
  enqueuing: Promise<void>
  /** The first enqueue that failed: the task fails with it at its next drain. */
  failure: unknown
}

const MEMORY_REPORT_INTERVAL_MS = 2000

/** Milliseconds of the main thread's epoch-based time on this thread's monotonic clock. */
const toLocalMonotonic = (epochMs: number): number => epochMs - performance.timeOrigin

const fetchContextOf = (fetch: CrossingFetch | null): FetchContext | null =>
  fetch === null ? null : { askedAtMs: toLocalMonotonic(fetch.askedAtEpochMs), answer: fetch.answer, highWatermarks: fetch.highWatermarks }

type StoreAnswer = Extract<ToProcessing, { op: 'storeReply' }>

/** The database itself, when the thread can use it through the main thread's handle. */
type SharedStore = ReturnType<typeof sharedRocksStore>

/**
 * The process's store, partition by partition. With `shared` (the main thread's RocksDB through
 * its handle) reads and writes are synchronous calls here, with no round trip to a main thread
 * that may be busy fetching or producing, and no copy of a checkpoint's bytes to it; scans, and
 * everything without `shared` (the memory store), go through `call`.
 *
 * Through `call`, a read sees every write the main thread has answered, not one still in flight,
 * which a task never needs: the players of a checkpoint stay in its cache until the write has
 * landed (partition-task.ts, queueCheckpoint and evict).
 */
function storeOfThread(call: (partition: number, request: StoreCall, transfer?: ArrayBuffer[]) => Promise<StoreAnswer>, shared: SharedStore | null): StateStore {
  return {
    partition(partition): PartitionStore {
      const getMany = async (keys: readonly string[]): Promise<Array<Buffer | undefined>> => {
        if (shared !== null) return shared.read(partition, keys)
        const answer = await call(partition, { name: 'getMany', keys })
        return answer.values === null ? keys.map(() => undefined) : unpackValues(answer.values)
      }
      return {
        partition,
        getMany,
        get: async (key) => (await getMany([key]))[0],
        async write(batch) {
          if (shared !== null) return shared.write(partition, batch)
          const putValues = packValues(batch.puts.map(([, value]) => value))
          await call(partition, { name: 'write', putKeys: batch.puts.map(([key]) => key), putValues, deletes: batch.deletes }, [putValues.bytes])
        },
        async *entries(prefix = '') {
          const answer = await call(partition, { name: 'entries', prefix })
          const values = answer.values === null ? [] : unpackValues(answer.values)
          for (const [index, key] of (answer.keys ?? []).entries()) yield [key, values[index] as Buffer]
        },
      }
    },
    close: async () => undefined,
  }
}

export function runProcessingThread(port: MessagePort, data: ProcessingThreadData): void {
  const { config } = data
  const send = (message: FromProcessing, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer)
  const logger: Logger = pino({ name: 'engine', level: data.logLevel, base: { service: 'pitboss', thread: `processing-${data.index}` } }, { write: (line: string) => send({ op: 'log', line }) })

  // The tasks' metric calls, sent once per turn of the event loop.
  let calls: MetricCall[] = []
  const record = (call: MetricCall): void => {
    if (calls.length === 0) {
      setImmediate(() => {
        const sending = calls
        calls = []
        send({ op: 'metrics', calls: sending })
      })
    }
    calls.push(call)
  }
  const metrics: TaskMetrics = {
    eventsProcessed: (topic, count) => record(['eventsProcessed', topic, count]),
    deadLetter: (reason) => record(['deadLetter', reason]),
    decision: (outcome, latencyMs, stages) => record(['decision', outcome, latencyMs, stages]),
    detectorError: (detectorId) => record(['detectorError', detectorId]),
    duplicateInput: () => record(['duplicateInput']),
    offsetGap: (topic) => record(['offsetGap', topic]),
    lateEvent: (detectorId) => record(['lateEvent', detectorId]),
    modelInference: (elapsedMs, rows) => record(['modelInference', elapsedMs, rows]),
    detectorHit: (detectorId) => record(['detectorHit', detectorId]),
  }

  // Requests to the main thread (emit, refresh, store calls), answered by id (settle).
  let nextRequest = 1
  const waiting = new Map<number, { resolve: (answer: unknown) => void; reject: (error: Error) => void }>()
  const ask = <T>(message: (id: number) => FromProcessing, transfer?: ArrayBuffer[]): Promise<T> => new Promise<T>((resolve, reject) => {
    const id = nextRequest
    nextRequest += 1
    waiting.set(id, { resolve: resolve as (answer: unknown) => void, reject })
    send(message(id), transfer)
  })
  const settle = (id: number, error: CrossingError | null, answer: unknown, where: string): void => {
    const request = waiting.get(id)
    waiting.delete(id)
    if (error === null) request?.resolve(answer)
    else request?.reject(fromCrossing(error, where))
  }

  const shared = data.storeHandle === undefined || data.storeHandle === null ? null : sharedRocksStore(data.storeHandle)
  const store = storeOfThread((partition, call, transfer) => ask<StoreAnswer>((id) => ({ op: 'store', id, partition, call }), transfer), shared)

  const tasks = new Map<number, Entry>()
  let parts: ProcessingParts | null = null

  const statusOf = (task: PartitionTask): TaskStatus => ({ nextOffsets: INPUT_TOPIC_KEYS.map((key) => task.nextOffset(key)) })
  const reply = (id: number, outcome: Promise<TaskStatus | null>, positions?: () => readonly bigint[]): void => {
    outcome.then(
      (status) => send({ op: 'reply', id, error: null, status, positions: positions?.() }),
      (error: unknown) => send({ op: 'reply', id, error: toCrossing(error), status: null }),
    )
  }
  /** The task's operation once its enqueues have landed; a closed or unknown task has nothing to do. */
  const afterEnqueues = async (taskId: number, operation: (task: PartitionTask) => Promise<void>): Promise<TaskStatus | null> => {
    const entry = tasks.get(taskId)
    if (entry === undefined) return null
    await entry.enqueuing
    if (entry.failure !== undefined) throw entry.failure
    await operation(entry.task)
    return statusOf(entry.task)
  }

  const emitThroughMainThread = (partition: number, pending: readonly PendingRecord[], outputs: readonly OutputRecord[], processingMs: number, ready: ProcessingParts): Promise<void> => {
    const headers = outputHeaders(processingMs, config.instanceId)
    const packed = packOutputs(encodeOutputs(outputs, ready.encoder, config.kafka, headers), headers)
    // The pending records land before the outputs are produced: written here when the thread
    // writes the database itself, else by the main thread first.
    if (shared !== null && pending.length > 0) {
      return ready.store.partition(partition).write(pendingWrite(pending)).then(() => ask<void>((id) => ({ op: 'emit', id, outputs: packed, partition, pending: [] }), [packed.values]))
    }
    return ask<void>((id) => ({ op: 'emit', id, outputs: packed, partition, pending }), [packed.values])
  }

  const newTask = (partition: number, ready: ProcessingParts): PartitionTask => new PartitionTask({
    partition,
    store: ready.store.partition(partition),
    decoder: ready.decoder,
    processor: ready.processor,
    scorer: ready.models,
    ruleSets: ready.ruleSets,
    emit: (outputs, processingMs) => emitThroughMainThread(partition, [], outputs, processingMs, ready),
    // The pending records go with the outputs (written here or by the main thread), then the outputs are produced (one round trip).
    writeAndEmit: (pending, outputs, processingMs) => emitThroughMainThread(partition, pending, outputs, processingMs, ready),
    monotonicMs: () => performance.now(),
    logger,
    metrics,
    batchSize: data.batchSize,
    cacheSize: config.state.cachePlayers,
    refreshHighWatermarks: (topics) => ask<void>((id) => ({ op: 'refresh', id, topics })),
    checkpointBatches: config.pipeline.checkpointBatches,
    checkpointIntervalMs: config.pipeline.checkpointIntervalMs,
  })

  const handle = (message: ToProcessing): void => {
    switch (message.op) {
      case 'open': {
        const ready = parts as ProcessingParts
        const task = newTask(message.partition, ready)
        tasks.set(message.task, { task, enqueuing: Promise.resolve(), failure: undefined })
        let positions: ReadonlyMap<InputTopicKey, bigint> = new Map()
        reply(message.id, task.open().then((opened) => {
          positions = opened
          return statusOf(task)
        }), () => INPUT_TOPIC_KEYS.map((key) => positions.get(key) ?? 0n))
        return
      }
      case 'highWatermarks':
        for (const entry of message.entries) tasks.get(entry.task)?.task.setHighWatermark(entry.topic, entry.high, toLocalMonotonic(entry.seenAtEpochMs))
        return
      case 'enqueue': {
        const entry = tasks.get(message.task)
        if (entry === undefined) return
        const records = unpackRecords(message.records, message.topic, message.topicName, message.partition)
        entry.enqueuing = entry.enqueuing
          .then(() => entry.task.enqueue(message.topic, records, message.highWatermark, message.acceptGap, fetchContextOf(message.fetch), toLocalMonotonic(message.fetchedAtEpochMs)))
          .then((outcome) => {
            // The main thread sends only the records up to a gap it sees itself, so the task sees none.
            if (outcome === 'gap') throw new Error(`partition ${message.partition} of ${message.topicName}: the processing thread found an offset gap the main thread did not`)
          })
          .catch((error: unknown) => {
            entry.failure ??= error
          })
        return
      }
      case 'drain':
        reply(message.id, afterEnqueues(message.task, (task) => task.drain()))
        return
      case 'flush':
        reply(message.id, afterEnqueues(message.task, (task) => task.flush()))
        return
      case 'flushIfDue':
        reply(message.id, afterEnqueues(message.task, (task) => task.flushIfDue()))
        return
      case 'settled': {
        const entry = tasks.get(message.task)
        reply(message.id, entry === undefined ? Promise.resolve(null) : entry.enqueuing.then(() => entry.task.settled()).then(() => null))
        return
      }
      case 'close': {
        const entry = tasks.get(message.task)
        if (entry === undefined) return
        entry.task.close()
        // Still answerable (settled) until its writes behind have landed.
        void entry.enqueuing.then(() => entry.task.settled()).then(() => tasks.delete(message.task))
        return
      }
      case 'emitted':
      case 'refreshed':
        settle(message.id, message.error, undefined, 'main thread')
        return
      case 'storeReply':
        settle(message.id, message.error, message, 'main thread store')
        return
      case 'stopping':
        parts?.stopping()
        return
      case 'stop':
        reply(message.id, (async () => {
          await Promise.all([...tasks.values()].map((entry) => entry.task.settled()))
          await parts?.close()
          // Its batch released before the main thread closes the database (it stops this thread first).
          await shared?.close()
          return null
        })())
        return
    }
  }

  port.on('message', handle)
  // This isolate's heap for /metrics (the process's nodejs_heap_* metrics are the main thread's).
  setInterval(() => {
    const heap = v8.getHeapStatistics()
    send({ op: 'memory', memory: { heapTotalBytes: heap.total_heap_size, heapUsedBytes: heap.used_heap_size, externalBytes: heap.external_memory } })
  }, MEMORY_REPORT_INTERVAL_MS).unref()
  openProcessing(config, logger, systemClock, { store }).then(
    (opened) => {
      parts = opened
      send({ op: 'ready' })
    },
    (error: unknown) => send({ op: 'startFailed', error: toCrossing(error) }),
  )
}

const data = workerData as ProcessingThreadData | undefined
if (parentPort !== null && data?.kind === 'pitboss-processing-thread') runProcessingThread(parentPort, data)
