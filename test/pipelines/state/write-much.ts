/**
 * Child process of store.test.ts: writes ~920 MiB through the RocksDB store in checkpoint-sized
 * batches (700 values of 3.3 KB) and prints {"writtenMiB","rssGrowthMiB"} as its last line.
 */
import { openRocksStore } from '../../../pipelines/state/store.js'

const store = await openRocksStore(process.env.WRITE_MUCH_DIR as string)
const value = Buffer.alloc(3300, 'x')
const before = process.memoryUsage().rss
let written = 0
for (let round = 0; round < 400; round += 1) {
  const puts: Array<[string, Buffer]> = []
  for (let index = 0; index < 700; index += 1) puts.push([`s/player-${round}-${index}`, Buffer.from(value)])
  await store.partition(round % 8).write({ puts, deletes: [] })
  written += 700 * value.length
}
const growth = process.memoryUsage().rss - before
await store.close()
process.stdout.write(`${JSON.stringify({ writtenMiB: written / 2 ** 20, rssGrowthMiB: growth / 2 ** 20 })}\n`)
