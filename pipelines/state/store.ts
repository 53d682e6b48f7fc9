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
}

const partitionPrefix = (partition: number): string => `p${String(partition).padStart(4, '0')}/`

/** The smallest string greater than every string starting with `prefix`. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
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
  // One native WriteBatch for every write of this store. @nxtedition/rocksdb's db.batch(array)
  // builds a chained batch it never closes, so the database keeps it as an open resource until
  // db.close(), and with it the native WriteBatch holding a copy of every key and value written:
  // the engine's RSS grew by about the bytes it had written (4.4 GB beyond the V8 heap at 1M
  // players; test/pipelines/state/store.test.ts). Reused instead: cleared, filled and written
  // synchronously — the library's own batch write is synchronous as well — so two partitions'
  // writes cannot interleave in it, and it keeps only the capacity of the largest batch.
  const writeBatch = db.batch()
  return {
    partition(partition) {
      let view = partitions.get(partition)
      if (view === undefined) {
        const prefix = partitionPrefix(partition)
        view = {
          partition,
          async get(key) {
            const [value] = await db.getMany([prefix + key])
            return value
          },
          getMany: (keys) => db.getMany(keys.map((key) => prefix + key)),
          async write(batch) {
            try {
              writeBatch._clear()
              for (const key of batch.deletes) writeBatch._del(prefix + key)
              for (const [key, value] of batch.puts) writeBatch._put(prefix + key, value)
              writeBatch._writeSync()
            } catch (error) {
              throw new RiskError('RISK_ERR_STATE_WRITE', `RocksDB write of ${batch.deletes.length + batch.puts.length} operations failed`, { partition }, { cause: error })
            } finally {
              writeBatch._clear()
            }
          },
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
      await writeBatch.close()
      await db.close()
    },
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
