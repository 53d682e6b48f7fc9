// @nxtedition/rocksdb ships no declarations; this is the part of its abstract-level API we use.
declare module '@nxtedition/rocksdb' {
  export class RocksLevel {
    constructor(location: string, options: { keyEncoding: 'utf8'; valueEncoding: 'buffer' })
    open(): Promise<void>
    close(): Promise<void>
    getMany(keys: string[]): Promise<Array<Buffer | undefined>>
    batch(operations: Array<{ type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string }>): Promise<void>
    iterator(options: { gte: string; lt: string }): AsyncIterable<[string, Buffer]>
  }
}
