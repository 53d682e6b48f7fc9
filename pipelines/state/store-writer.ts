/**
 * The processing threads' RocksDB writes (their checkpoints: the dirty players' states, the
 * offsets and stream time, the pending records deleted) on a thread of their own.
 *
 * Why: @nxtedition/rocksdb writes a batch synchronously (store.ts, batchWriter), and a checkpoint
 * is ~1 MB of JSON for a few hundred players. The main thread served these writes: 5-9 ms
 * stretches, eight a second at 5k events/s, in which it fetched, produced and relayed nothing, and a
 * withdrawal arriving then waited for the write to end (bench/README.md, "The tail at 5k
 * events/s"). Here the main thread hands the packed write over (its buffer moved, not copied) and
 * the writer thread does it against the same database through its handle, as the processing
 * threads read it.
 *
 * Order and visibility: writes land one after another in the order they were asked for, each
 * atomically (one WriteBatch); a write's promise resolves after it has landed, so a task sees the
 * same contract as before (a read after an answered write sees it). The main thread's own writes
 * (the pending records that go before a batch's outputs) stay synchronous on the main thread: they
 * are small, and a checkpoint never touches their keys until their batch's outputs are
 * acknowledged. RocksDB takes writes from several threads of one process.
 *
 * The owner must close the writer before it closes the database (ProcessingThreads.stop does,
 * after the processing threads have stopped).
 *
 *   const writer = await StoreWriter.start(store.handle)
 *   await writer.write(3, ['s/player-1'], packValues([state]), ['pending/0000000042'])
 *   await writer.close()
 */
import { Worker, parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { RocksLevel } from '@nxtedition/rocksdb'
import { RiskError } from '../../core/errors.js'
import { unpackValues, type PackedValues } from '../kafka/thread-protocol.js'
import { threadEntry } from '../thread-entry.js'
import { batchWriter, partitionKey, type BatchOperation } from './store.js'

interface WriteRequest {
  readonly id: number
  readonly partition: number
  readonly putKeys: readonly string[]
  readonly putValues: PackedValues
  readonly deletes: readonly string[]
}

interface WriteAnswer {
  readonly id: number
  /** null when the write landed; else why it did not. */
  readonly error: string | null
}

interface StoreWriterData {
  readonly kind: 'pitboss-store-writer'
  readonly handle: bigint
}

export class StoreWriter {
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>()
  private failure: Error | null = null
  private closing = false
  private last: Promise<void> = Promise.resolve()

  private constructor(private readonly worker: Worker) {
    worker.on('message', (answer: WriteAnswer | 'ready') => {
      if (answer === 'ready') return
      const request = this.waiting.get(answer.id)
      this.waiting.delete(answer.id)
      if (answer.error === null) request?.resolve()
      else request?.reject(new RiskError('RISK_ERR_STATE_WRITE', `RocksDB write failed on the writer thread: ${answer.error}`, {}))
    })
    worker.on('error', (error) => this.fail(error))
    worker.on('exit', (code) => this.fail(new Error(`the store writer thread exited with code ${code}`)))
  }

  /** Starts the thread on an open database's `handle` (StateStore.handle). */
  static async start(handle: bigint): Promise<StoreWriter> {
    const entry = threadEntry('./store-writer', import.meta.url)
    const data: StoreWriterData = { kind: 'pitboss-store-writer', handle }
    const worker = new Worker(entry.source, { eval: entry.eval, workerData: data, name: 'pitboss-store-writer' })
    const writer = new StoreWriter(worker)
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`the store writer thread exited with code ${code} while starting`))
      worker.once('exit', onExit)
      worker.once('error', reject)
      worker.once('message', () => {
        worker.off('exit', onExit)
        worker.off('error', reject)
        resolve()
      })
    }).catch(async (error: unknown) => {
      await worker.terminate()
      throw error
    })
    return writer
  }

  /**
   * Puts (keys without the partition prefix, values packed; the buffer is moved to the thread) and
   * deletes, atomically, in one partition. Resolves once they have landed.
   */
  write(partition: number, putKeys: readonly string[], putValues: PackedValues, deletes: readonly string[]): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure)
    if (this.closing) return Promise.reject(new RiskError('RISK_ERR_SHUTDOWN', 'the store writer is closing', {}))
    const id = this.nextId++
    const written = new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      const request: WriteRequest = { id, partition, putKeys, putValues, deletes }
      this.worker.postMessage(request, [putValues.bytes])
    })
    this.last = written
    return written
  }

  /** Waits for the writes asked for (answered in order: the last one settles after the others), then stops the thread. */
  async close(): Promise<void> {
    this.closing = true
    await this.last.catch(() => undefined)
    this.failure ??= new RiskError('RISK_ERR_SHUTDOWN', 'the store writer is closed', {})
    await this.worker.terminate()
  }

  private fail(error: Error): void {
    if (this.failure !== null) return
    this.failure = error
    for (const { reject } of this.waiting.values()) reject(error)
    this.waiting.clear()
  }
}

/** The thread's side: every write in the order it came, through one reused WriteBatch. */
export function runStoreWriter(port: MessagePort, handle: bigint): void {
  const db = new RocksLevel(handle, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  const writer = batchWriter(db)
  port.on('message', (request: WriteRequest) => {
    let error: string | null = null
    try {
      const operations: BatchOperation[] = []
      for (const key of request.deletes) operations.push({ type: 'del', key: partitionKey(request.partition, key) })
      const values = unpackValues(request.putValues)
      request.putKeys.forEach((key, index) => operations.push({ type: 'put', key: partitionKey(request.partition, key), value: values[index] as Buffer }))
      writer.write(operations)
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught)
    }
    const answer: WriteAnswer = { id: request.id, error }
    port.postMessage(answer)
  })
  port.postMessage('ready')
}

const data = workerData as StoreWriterData | undefined
if (parentPort !== null && data?.kind === 'pitboss-store-writer') runStoreWriter(parentPort, data.handle)
