// @nxtedition/rocksdb ships no declarations; this is the part of its abstract-level API we use.
declare module '@nxtedition/rocksdb' {
  export interface RocksChainedBatch {
    _clear(): void
    _put(key: string, value: Buffer): void
    _del(key: string): void
    _writeSync(options?: { sync?: boolean }): void
    close(): Promise<void>
  }
  export class RocksLevel {
    /** A directory to open, or an open database's `handle` (another thread's wrapper of the same database, not opened again). */
    constructor(location: string | bigint, options: { keyEncoding: 'utf8'; valueEncoding: 'buffer' })
    /** The open database's native pointer, for another thread of the process (see store.ts sharedRocksStore). */
    readonly handle: bigint
    open(): Promise<void>
    close(): Promise<void>
    getMany(keys: string[]): Promise<Array<Buffer | undefined>>
    /** The library's synchronous read (what getMany does on the libuv pool); see store.ts. */
    _getManySync(keys: string[], options: Record<string, never>): Array<Buffer | undefined>
    batch(operations: Array<{ type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string }>): Promise<void>
    /** A chained batch; the underscore methods are the library's own synchronous implementation (see store.ts). */
    batch(): RocksChainedBatch
    /** The library's constructor of a chained batch, what `batch()` returns on an open database (see store.ts batchWriter). */
    _chainedBatch(): RocksChainedBatch
    iterator(options: { gte: string; lt: string }): AsyncIterable<[string, Buffer]>
  }
}
