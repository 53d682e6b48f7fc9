/**
 * Key-value state behind the partition tasks.
 *
 * One store per engine process; each partition task sees its own key space (`p0003/...`) through
 * a PartitionStore, so a partition's state, its consumed offsets and its pending-batch record
 * live in one RocksDB and change together in one atomic write batch (see partition-task.ts).
 *
 * Two implementations: RocksDB (production, integration tests) and memory (unit tests and the
 * in-memory test driver). Both keep keys as UTF-8 strings and values as Buffers.
 *
 * Example:
 *   const store = await openRocksStore('/var/lib/pitboss/state/engine-0')
 *   const p3 = store.partition(3)
 *   await p3.write({ puts: [['s/player-1', Buffer.from('{}')]], deletes: [] })
 *   await p3.get('s/player-1') // Buffer
 */
import fs from 'node:fs/promises'
import { RocksLevel } from '@nxtedition/rocksdb'
import { RiskError } from '../../core/errors.js'

export interface WriteBatch {
  readonly puts: ReadonlyArray<readonly [key: string, value: Buffer]>
  readonly deletes: readonly string[]
}

export interface PartitionStore {
  readonly partition: number
  get(key: string): Promise<Buffer | undefined>
  getMany(keys: readonly string[]): Promise<Array<Buffer | undefined>>
  /** Applies every put and delete atomically. */
  write(batch: WriteBatch): Promise<void>
  /** Every key of this partition starting with `prefix`, in key order, without the partition prefix. */
  entries(prefix?: string): AsyncIterable<[string, Buffer]>
}

export interface StateStore {
  partition(partition: number): PartitionStore
  close(): Promise<void>
  /**
   * The open RocksDB database's native handle, for another thread of this process to read and
   * write it directly (`sharedRocksStore`); absent for the memory store. Valid until `close`.
   */
  readonly handle?: bigint
}

const partitionPrefix = (partition: number): string => `p${String(partition).padStart(4, '0')}/`

/** The smallest string greater than every string starting with `prefix`. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}

export type BatchOperation = { readonly type: 'put'; readonly key: string; readonly value: Buffer } | { readonly type: 'del'; readonly key: string }

/**
 * Atomic batch writes to a RocksDB database through one reused native WriteBatch.
 *
 * Why not `db.batch(operations)`: @nxtedition/rocksdb builds a chained batch for it and never
 * closes it, so the database keeps it as an open resource until `db.close()`, and with it the
 * native WriteBatch holding a copy of every key and value written. The engine's RSS grew by about
 * the bytes it had written (4.4 GB beyond the V8 heap at 1M players; 880 MiB written grew it by
 * 1.3 GB, test/pipelines/state/store.test.ts). Here the batch is cleared, filled and written
 * synchronously — the library's own batch write is synchronous too — so writes cannot interleave
 * in it, and it keeps only the capacity of the largest batch.
 *
 *   const writer = batchWriter(db)
 *   writer.write([{ type: 'put', key: 'k', value }, { type: 'del', key: 'old' }], { sync: true })
 */
export function batchWriter(db: RocksLevel): { write(operations: readonly BatchOperation[], options?: { sync?: boolean }): void; close(): Promise<void> } {
  // What `db.batch()` returns on an open database. Called directly, it also works on a database
  // wrapped from another thread's handle (sharedRocksStore), which abstract-level takes for one
  // still opening and for which `batch()` would give a deferred batch without the synchronous write.
  const batch = db._chainedBatch()
  return {
    write(operations, options) {
      try {
        batch._clear()
        for (const operation of operations) {
          if (operation.type === 'put') batch._put(operation.key, operation.value)
          else batch._del(operation.key)
        }
        batch._writeSync(options)
      } finally {
        batch._clear()
      }
    },
    close: () => batch.close(),
  }
}

/** A partition's puts and deletes, as one atomic write of whole keys through `writer`. */
function writePartition(writer: ReturnType<typeof batchWriter>, partition: number, batch: WriteBatch): void {
  const prefix = partitionPrefix(partition)
  const operations: BatchOperation[] = []
  for (const key of batch.deletes) operations.push({ type: 'del', key: prefix + key })
  for (const [key, value] of batch.puts) operations.push({ type: 'put', key: prefix + key, value })
  try {
    writer.write(operations)
  } catch (error) {
    throw new RiskError('RISK_ERR_STATE_WRITE', `RocksDB write of ${operations.length} operations failed`, { partition }, { cause: error })
  }
}

export async function openRocksStore(directory: string): Promise<StateStore> {
  await fs.mkdir(directory, { recursive: true })
  const db = new RocksLevel(directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  try {
    await db.open()
  } catch (error) {
    throw new RiskError('RISK_ERR_STATE_WRITE', `cannot open RocksDB at ${directory} (is another engine process using it?)`, { directory }, { cause: error })
  }
  const partitions = new Map<number, PartitionStore>()
  const writer = batchWriter(db)
  const readMany = (keys: string[]): Array<Buffer | undefined> => db._getManySync(keys, {})
  return {
    handle: db.handle,
    partition(partition) {
      let view = partitions.get(partition)
      if (view === undefined) {
        const prefix = partitionPrefix(partition)
        view = {
          partition,
          // Reads are synchronous, like the writes: a batch's players are a few keys from the
          // memtables or the block cache, ~17 us for 10 keys against ~77 us through the libuv
          // pool, and no turn of the event loop in which the other tasks' work and messages run
          // before this batch goes on (decision latency, issue 10).
          get: async (key) => readMany([prefix + key])[0],
          getMany: async (keys) => readMany(keys.map((key) => prefix + key)),
          write: async (batch) => writePartition(writer, partition, batch),
          async *entries(keyPrefix = '') {
            const from = prefix + keyPrefix
            for await (const [key, value] of db.iterator({ gte: from, lt: prefixEnd(from) })) yield [key.slice(prefix.length), value]
          },
        }
        partitions.set(partition, view)
      }
      return view
    },
    close: async () => {
      await writer.close()
      await db.close()
    },
  }
}

/**
 * A RocksDB database another thread of this process opened, read and written directly through its
 * `handle` (@nxtedition/rocksdb wraps the same native database, without owning it), a partition's
 * keys at a time as through a PartitionStore, but synchronously. The processing threads read their
 * players and write their pending records and checkpoints this way (pipelines/processing-thread.ts).
 *
 * Why not through the main thread: a read waited for a round trip to a main thread that may be
 * busy fetching or producing, and a checkpoint (a few hundred players, ~1 MB of JSON at 5k
 * events/s) was copied to the main thread and written there synchronously, a 5-9 ms stretch in
 * which it fetched, produced and relayed nothing (issue 10, bench/README.md). RocksDB serialises
 * concurrent writers itself; each write is one atomic batch, as through the opener's store.
 *
 * The opener must not close the database while this may still be used: the engine stops its
 * processing threads, which `close` this first, before it closes the store (pipelines/engine.ts).
 *
 *   const shared = sharedRocksStore(workerData.storeHandle)
 *   shared.read(3, ['s/player-1']) // [Buffer] or [undefined]
 *   shared.write(3, { puts: [['s/player-1', value]], deletes: [] }) // synchronous, atomic
 *   await shared.close()
 */
export function sharedRocksStore(handle: bigint): { read(partition: number, keys: readonly string[]): Array<Buffer | undefined>; write(partition: number, batch: WriteBatch): void; close(): Promise<void> } {
  const db = new RocksLevel(handle, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  const writer = batchWriter(db)
  return {
    read: (partition, keys) => {
      const prefix = partitionPrefix(partition)
      return db._getManySync(keys.map((key) => prefix + key), {})
    },
    write: (partition, batch) => writePartition(writer, partition, batch),
    close: () => writer.close(),
  }
}

/** The same contract in memory, for unit tests and the in-memory driver. */
export function createMemoryStore(): StateStore & { readonly data: Map<string, Buffer> } {
  const data = new Map<string, Buffer>()
  return {
    data,
    partition(partition) {
      const prefix = partitionPrefix(partition)
      return {
        partition,
        get: async (key) => data.get(prefix + key),
        getMany: async (keys) => keys.map((key) => data.get(prefix + key)),
        async write(batch) {
          for (const key of batch.deletes) data.delete(prefix + key)
          for (const [key, value] of batch.puts) data.set(prefix + key, Buffer.from(value))
        },
        async *entries(keyPrefix = '') {
          const from = prefix + keyPrefix
          const keys = [...data.keys()].filter((key) => key.startsWith(from)).sort()
          for (const key of keys) yield [key.slice(prefix.length), data.get(key) as Buffer]
        },
      }
    },
    close: async () => undefined,
  }
}
