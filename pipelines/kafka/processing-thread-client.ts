/**
 * The main thread's side of the processing threads (pipelines/processing-thread.ts): starts them,
 * serves their store calls (scans; they read and write the database themselves through its handle)
 * from the process's RocksDB database, and gives the runner a proxy per
 * partition task (RemoteTask) that the runner drives exactly as it drives a task on its own
 * thread. Partition p runs on thread p mod the number of threads.
 *
 * What the runner reads synchronously — fetch positions (gap checks, seeks), next offsets
 * (back-pressure, lag, the committed group offsets), the number of records waiting — the proxy
 * keeps itself: fetch positions by applying the task's own rule to the records it forwards (so
 * it knows a gap without asking), next offsets from the task's answer to each operation.
 * Records go one way (the runner does not wait for the thread to take them); a drain, a flush,
 * an open wait for the thread's answer. Messages keep their order, so the thread sees the calls
 * in the order the runner made them.
 */
import { Worker } from 'node:worker_threads'
import type { PitbossConfig } from '../../core/config.js'
import type { Logger } from '../../core/logger.js'
import { INPUT_TOPIC_KEYS, type InputTopicKey } from '../../core/topics.js'
import type { ThreadMemory } from '../metrics.js'
import { eachFetchedHighWatermark, pendingWrite, takeInOrder, type FetchContext, type RawRecord, type TaskMetrics } from '../partition-task.js'
import type { ProcessingThreadData } from '../processing-thread.js'
import type { StateStore } from '../state/store.js'
import type { RunnerTask, TaskHost, TaskWiring } from './engine-runner.js'
import { fromCrossing, packRecords, packValues, toCrossing, unpackOutputs, unpackValues, type FromProcessing, type HighWatermarkEntry, type MetricCall, type StoreCall, type TaskStatus, type ToProcessing } from './thread-protocol.js'

const LOG_LEVELS: Readonly<Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }

/**
 * The module to run in the thread. Under tsx (development, tests: `node --import tsx`) a worker
 * needs tsx's loader registered in it first; compiled JavaScript runs the file itself.
 */
function threadEntry(): { readonly source: string | URL; readonly eval: boolean } {
  const entry = new URL('../processing-thread' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js'), import.meta.url)
  if (!import.meta.url.endsWith('.ts')) return { source: entry, eval: false }
  const tsx = import.meta.resolve('tsx/esm/api')
  return { source: `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}) })`, eval: true }
}

export interface ThreadOptions {
  readonly batchSize?: number
  /** Each thread's V8 heap, every 2 s (for /metrics). */
  readonly memory?: (thread: number, memory: ThreadMemory) => void
}

/** The processing threads of one engine process. */
export class ProcessingThreads implements TaskHost {
  private constructor(private readonly threads: readonly ProcessingThread[]) {}

  /** Starts `count` threads together and waits until all of them have their parts open. */
  static async start(config: PitbossConfig, logger: Logger, store: StateStore, count: number, options: ThreadOptions = {}): Promise<ProcessingThreads> {
    const started = await Promise.allSettled(Array.from({ length: count }, (_, index) => ProcessingThread.start(config, logger, store, index, options)))
    const threads = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []))
    const failed = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')
    if (failed !== undefined) {
      await Promise.all(threads.map((thread) => thread.stop()))
      throw failed.reason
    }
    return new ProcessingThreads(threads)
  }

  onFatal(handler: (error: Error) => void): void {
    for (const thread of this.threads) thread.onFatal(handler)
  }

  newTask(partition: number, wiring: TaskWiring): RunnerTask {
    return (this.threads[partition % this.threads.length] as ProcessingThread).newTask(partition, wiring)
  }

  stopping(): void {
    for (const thread of this.threads) thread.stopping()
  }

  async stop(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.stop()))
  }
}

export class ProcessingThread implements TaskHost {
  private nextId = 1
  private readonly replies = new Map<number, { resolve: (message: Extract<FromProcessing, { op: 'reply' }>) => void; reject: (error: Error) => void }>()
  private wiring: TaskWiring | null = null
  private fatal: ((error: Error) => void) | null = null
  private stopped = false
  private exitedWith: Error | null = null
  private highWatermarkEntries: HighWatermarkEntry[] = []

  private constructor(
    private readonly worker: Worker,
    private readonly logger: Logger,
    private readonly store: StateStore,
    private readonly index: number,
    private readonly memory: ThreadOptions['memory'],
  ) {}

  /** Starts the thread and waits until its parts are open (models, lists, registry). */
  static async start(config: PitbossConfig, logger: Logger, store: StateStore, index: number, options: ThreadOptions = {}): Promise<ProcessingThread> {
    const entry = threadEntry()
    const data: ProcessingThreadData = { kind: 'pitboss-processing-thread', index, config, logLevel: logger.level, batchSize: options.batchSize, storeHandle: store.handle ?? null }
    const worker = new Worker(entry.source, { eval: entry.eval, workerData: data, name: `pitboss-processing-${index}` })
    const thread = new ProcessingThread(worker, logger, store, index, options.memory)
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`processing thread ${index} exited with code ${code} while starting (its log lines above say why)`))
      worker.once('exit', onExit)
      worker.once('error', reject)
      worker.on('message', (message: FromProcessing) => {
        if (message.op === 'ready') {
          worker.off('exit', onExit)
          worker.off('error', reject)
          resolve()
        } else if (message.op === 'startFailed') {
          reject(fromCrossing(message.error, 'processing thread start'))
        } else {
          thread.onMessage(message)
        }
      })
    }).catch(async (error: unknown) => {
      await worker.terminate()
      throw error
    })
    worker.on('error', (error) => thread.died(error))
    worker.on('exit', (code) => {
      if (!thread.stopped) thread.died(new Error(`processing thread ${index} exited with code ${code}`))
    })
    return thread
  }

  /** Called when the thread dies (an uncaught error in it): the engine cannot go on. */
  onFatal(handler: (error: Error) => void): void {
    this.fatal = handler
  }

  newTask(partition: number, wiring: TaskWiring): RunnerTask {
    this.wiring = wiring
    return new RemoteTask(this, this.nextId++, partition)
  }

  /** The engine is stopping: the thread's decoder stops retrying an unreachable registry. */
  stopping(): void {
    this.post({ op: 'stopping' })
  }

  /** Waits for every task's writes, closes the thread's parts (models, reload timers), ends the thread. */
  async stop(): Promise<void> {
    if (this.exitedWith === null) await this.request((id) => ({ op: 'stop', id }))
    this.stopped = true
    await this.worker.terminate()
  }

  post(message: ToProcessing, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer)
  }

  /**
   * A task's new high watermark, sent with the others noted in the same turn as one message (a
   * refresh round sets every partition of every topic asked: 56 at the defaults). Order against
   * other messages does not matter: the task keeps the highest watermark and the latest time.
   */
  noteHighWatermark(entry: HighWatermarkEntry): void {
    if (this.highWatermarkEntries.length === 0) queueMicrotask(() => this.flushHighWatermarks())
    this.highWatermarkEntries.push(entry)
  }

  /** Sends the noted high watermarks now (before a refresh's answer, which promises them). */
  flushHighWatermarks(): void {
    if (this.highWatermarkEntries.length === 0) return
    const entries = this.highWatermarkEntries
    this.highWatermarkEntries = []
    this.post({ op: 'highWatermarks', entries })
  }

  request(message: (id: number) => ToProcessing): Promise<Extract<FromProcessing, { op: 'reply' }>> {
    if (this.exitedWith !== null) return Promise.reject(this.exitedWith)
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      this.replies.set(id, { resolve, reject })
      this.post(message(id))
    })
  }

  private died(error: Error): void {
    if (this.exitedWith !== null) return
    this.exitedWith = error
    for (const waiting of this.replies.values()) waiting.reject(error)
    this.replies.clear()
    this.logger.fatal({ err: error }, 'the processing thread died')
    this.fatal?.(error)
  }

  private onMessage(message: FromProcessing): void {
    switch (message.op) {
      case 'reply': {
        const waiting = this.replies.get(message.id)
        this.replies.delete(message.id)
        if (message.error === null) waiting?.resolve(message)
        else waiting?.reject(fromCrossing(message.error, 'processing thread'))
        return
      }
      case 'emit': {
        const wiring = this.wiring as TaskWiring
        const pending = message.pending
        // The write is synchronous (store.ts): it has landed before the outputs are submitted.
        const written = pending.length === 0 ? Promise.resolve() : this.store.partition(message.partition).write(pendingWrite(pending))
        written.then(() => wiring.submit(unpackOutputs(message.outputs))).then(
          () => this.post({ op: 'emitted', id: message.id, error: null }),
          (error: unknown) => this.post({ op: 'emitted', id: message.id, error: toCrossing(error) }),
        )
        return
      }
      case 'refresh': {
        const wiring = this.wiring as TaskWiring
        // The new high watermarks reach the tasks (a highWatermarks message) before this answer.
        wiring.refreshHighWatermarks(message.topics).then(
          () => {
            this.flushHighWatermarks()
            this.post({ op: 'refreshed', id: message.id, error: null })
          },
          (error: unknown) => this.post({ op: 'refreshed', id: message.id, error: toCrossing(error) }),
        )
        return
      }
      case 'metrics':
        if (this.wiring !== null) for (const call of message.calls) replayMetric(this.wiring.metrics, call)
        return
      case 'log':
        this.relayLog(message.line)
        return
      case 'store':
        this.serveStore(message.id, message.partition, message.call)
        return
      case 'memory':
        this.memory?.(this.index, message.memory)
        return
      case 'ready':
      case 'startFailed':
        return
    }
  }

  /** One store call of a task on the thread, answered with the values packed into one moved buffer. */
  private serveStore(id: number, partition: number, call: StoreCall): void {
    const view = this.store.partition(partition)
    const answered = (async (): Promise<{ keys: string[] | null; values: ReturnType<typeof packValues> | null }> => {
      switch (call.name) {
        case 'getMany':
          return { keys: null, values: packValues(await view.getMany(call.keys)) }
        case 'write': {
          const values = unpackValues(call.putValues)
          await view.write({ puts: call.putKeys.map((key, index) => [key, values[index] as Buffer] as const), deletes: call.deletes })
          return { keys: null, values: null }
        }
        case 'entries': {
          const keys: string[] = []
          const values: Buffer[] = []
          for await (const [key, value] of view.entries(call.prefix)) {
            keys.push(key)
            values.push(value)
          }
          return { keys, values: packValues(values) }
        }
      }
    })()
    answered.then(
      ({ keys, values }) => this.post({ op: 'storeReply', id, error: null, keys, values }, values === null ? undefined : [values.bytes]),
      (error: unknown) => this.post({ op: 'storeReply', id, error: toCrossing(error), keys: null, values: null }),
    )
  }

  /** A line of the thread's logger, written through this thread's logger (its level, its destination). */
  private relayLog(line: string): void {
    let parsed: Record<string, unknown>
    try {
      parsed = JSON.parse(line) as Record<string, unknown>
    } catch {
      this.logger.warn({ line }, 'unparsable log line from the processing thread')
      return
    }
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, name: _name, service: _service, ...fields } = parsed
    const method = LOG_LEVELS[Number(level)] ?? 'info'
    this.logger[method](fields, typeof msg === 'string' ? msg : '')
  }
}

function replayMetric(metrics: TaskMetrics, call: MetricCall): void {
  switch (call[0]) {
    case 'eventsProcessed': metrics.eventsProcessed(call[1], call[2]); return
    case 'deadLetter': metrics.deadLetter(call[1] as Parameters<TaskMetrics['deadLetter']>[0]); return
    case 'decision': metrics.decision(call[1], call[2], call[3]); return
    case 'detectorError': metrics.detectorError(call[1]); return
    case 'duplicateInput': metrics.duplicateInput(); return
    case 'offsetGap': metrics.offsetGap(call[1]); return
    case 'lateEvent': metrics.lateEvent(call[1]); return
    case 'modelInference': metrics.modelInference?.(call[1], call[2]); return
    case 'detectorHit': metrics.detectorHit?.(call[1]); return
  }
}

/** A partition task on the processing thread, as the runner sees it. */
class RemoteTask implements RunnerTask {
  private readonly fetchCursors = new Map<InputTopicKey, bigint>()
  private readonly nextOffsets = new Map<InputTopicKey, bigint>()
  private readonly highWatermarks = new Map<InputTopicKey, bigint>()

  constructor(private readonly thread: ProcessingThread, private readonly id: number, readonly partition: number) {}

  async open(): Promise<ReadonlyMap<InputTopicKey, bigint>> {
    const answer = await this.thread.request((id) => ({ op: 'open', id, task: this.id, partition: this.partition }))
    const positions = new Map<InputTopicKey, bigint>()
    INPUT_TOPIC_KEYS.forEach((key, index) => {
      const position = answer.positions?.[index] ?? 0n
      positions.set(key, position)
      this.fetchCursors.set(key, position)
      this.nextOffsets.set(key, position)
    })
    return positions
  }

  setHighWatermark(topic: InputTopicKey, highWatermark: bigint, seenAtMs: number): void {
    this.noteHighWatermark(topic, highWatermark)
    this.thread.noteHighWatermark({ task: this.id, topic, high: highWatermark, seenAtEpochMs: performance.timeOrigin + seenAtMs })
  }

  private noteHighWatermark(topic: InputTopicKey, highWatermark: bigint): void {
    const known = this.highWatermarks.get(topic)
    if (known === undefined || highWatermark > known) this.highWatermarks.set(topic, highWatermark)
  }

  /** The task's own rule (takeInOrder), applied here to know the outcome and the fetch position without asking. */
  enqueue(topic: InputTopicKey, records: readonly RawRecord[], highWatermark: bigint | null, acceptGap: boolean, fetch: FetchContext | null = null): Promise<'ok' | 'gap'> {
    const fetchedAtEpochMs = performance.timeOrigin + performance.now()
    if (highWatermark !== null) this.noteHighWatermark(topic, highWatermark)
    if (fetch !== null) eachFetchedHighWatermark(fetch.highWatermarks, (other, high) => this.noteHighWatermark(other, high))
    const { accepted, position, outcome } = takeInOrder(records, this.fetchPosition(topic), acceptGap)
    this.fetchCursors.set(topic, position)
    if (accepted.length > 0 || highWatermark !== null) {
      const packed = packRecords(accepted)
      const topicName = accepted[0]?.topic ?? records[0]?.topic ?? ''
      const crossingFetch = fetch === null ? null : { askedAtEpochMs: performance.timeOrigin + fetch.askedAtMs, answer: fetch.answer, highWatermarks: fetch.highWatermarks }
      this.thread.post({ op: 'enqueue', task: this.id, partition: this.partition, topic, topicName, highWatermark, acceptGap, fetchedAtEpochMs, fetch: crossingFetch, records: packed }, [packed.bytes])
    }
    return Promise.resolve(outcome)
  }

  drain(): Promise<void> {
    return this.operate('drain')
  }

  flush(): Promise<void> {
    return this.operate('flush')
  }

  flushIfDue(): Promise<void> {
    return this.operate('flushIfDue')
  }

  close(): void {
    this.thread.post({ op: 'close', task: this.id })
  }

  async settled(): Promise<void> {
    await this.thread.request((id) => ({ op: 'settled', id, task: this.id })).catch(() => undefined)
  }

  bufferedCount(): number {
    let count = 0n
    for (const key of INPUT_TOPIC_KEYS) {
      const ahead = this.fetchPosition(key) - this.nextOffset(key)
      if (ahead > 0n) count += ahead
    }
    return Number(count)
  }

  fetchPosition(topic: InputTopicKey): bigint {
    return this.fetchCursors.get(topic) ?? 0n
  }

  nextOffset(topic: InputTopicKey): bigint {
    return this.nextOffsets.get(topic) ?? 0n
  }

  committedOffsets(): ReadonlyMap<InputTopicKey, bigint> {
    return new Map(this.nextOffsets)
  }

  lag(topic: InputTopicKey): bigint | null {
    const highWatermark = this.highWatermarks.get(topic)
    if (highWatermark === undefined) return null
    const behind = highWatermark - this.nextOffset(topic)
    return behind > 0n ? behind : 0n
  }

  private async operate(op: 'drain' | 'flush' | 'flushIfDue'): Promise<void> {
    const answer = await this.thread.request((id) => ({ op, id, task: this.id }))
    if (answer.status !== null) this.apply(answer.status)
  }

  private apply(status: TaskStatus): void {
    INPUT_TOPIC_KEYS.forEach((key, index) => {
      const next = status.nextOffsets[index]
      if (next !== undefined) this.nextOffsets.set(key, next)
    })
  }
}
