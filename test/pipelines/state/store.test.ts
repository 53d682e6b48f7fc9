import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { afterAll, describe, expect, it } from 'vitest'
import { nodeArgs } from '../../../infra/node-args.js'
import { openRocksStore } from '../../../pipelines/state/store.js'

const REPOSITORY_ROOT = path.resolve(import.meta.dirname, '../../..')
const folders: string[] = []
const tempDir = (): string => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-store-'))
  folders.push(folder)
  return folder
}
afterAll(() => {
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true })
})

const collect = async (iterable: AsyncIterable<[string, Buffer]>): Promise<string[]> => {
  const lines: string[] = []
  for await (const [key, value] of iterable) lines.push(`${key}=${value.toString()}`)
  return lines
}

describe('RocksDB state store', () => {
  it('writes puts and deletes atomically per partition, keeps partitions apart, and reads them back after a reopen', async () => {
    const directory = tempDir()
    const store = await openRocksStore(directory)
    const zero = store.partition(0)
    const one = store.partition(1)
    await zero.write({ puts: [['s/a', Buffer.from('1')], ['s/b', Buffer.from('2')], ['pending/0000000001', Buffer.from('[]')]], deletes: [] })
    await one.write({ puts: [['s/a', Buffer.from('other')]], deletes: [] })
    await zero.write({ puts: [['s/c', Buffer.from('3')], ['checkpoint', Buffer.from('{}')]], deletes: ['pending/0000000001', 's/missing'] })
    expect((await zero.getMany(['s/a', 's/x', 's/c'])).map((value) => value?.toString())).toEqual(['1', undefined, '3'])
    expect(await collect(zero.entries('s/'))).toEqual(['s/a=1', 's/b=2', 's/c=3'])
    expect(await collect(zero.entries('pending/'))).toEqual([])
    expect(await collect(one.entries())).toEqual(['s/a=other'])
    await store.close()

    const reopened = await openRocksStore(directory)
    expect(await collect(reopened.partition(0).entries())).toEqual(['checkpoint={}', 's/a=1', 's/b=2', 's/c=3'])
    expect((await reopened.partition(1).get('s/a'))?.toString()).toBe('other')
    await reopened.close()
  })

  it('leaves a failed write out entirely and writes the next one', async () => {
    const store = await openRocksStore(tempDir())
    const zero = store.partition(0)
    await expect(zero.write({ puts: [['s/a', Buffer.from('1')], ['s/b', null as unknown as Buffer]], deletes: [] })).rejects.toMatchObject({ code: 'RISK_ERR_STATE_WRITE' })
    await zero.write({ puts: [['s/c', Buffer.from('3')]], deletes: [] })
    expect(await collect(zero.entries())).toEqual(['s/c=3'])
    await store.close()
  })

  it('does not keep what it wrote in memory: ~880 MiB written grows the RSS by far less (it grew by ~1.3 GB before)', () => {
    // In a child process, so the figure is the store's alone (test/pipelines/state/write-much.ts).
    const result = spawnSync(process.execPath, nodeArgs(path.join(import.meta.dirname, 'write-much.ts'), ['--max-semi-space-size=16']), { cwd: REPOSITORY_ROOT, env: { ...process.env, WRITE_MUCH_DIR: tempDir() }, encoding: 'utf8', timeout: 120_000 })
    expect(result.status, result.stderr).toBe(0)
    const { writtenMiB, rssGrowthMiB } = JSON.parse(result.stdout.trim().split('\n').pop() as string) as { writtenMiB: number; rssGrowthMiB: number }
    expect(writtenMiB).toBeGreaterThan(850)
    // memtables (up to 2 x 64 MiB) and the allocator's slack stay; a copy of every write does not
    expect(rssGrowthMiB).toBeLessThan(700)
  }, 150_000)

  it('is read and written by another thread of the process through its handle, each seeing the other\'s writes once they have landed', async () => {
    const store = await openRocksStore(tempDir())
    const three = store.partition(3)
    await three.write({ puts: [['s/a', Buffer.from('one')], ['s/empty', Buffer.alloc(0)]], deletes: [] })
    await store.partition(4).write({ puts: [['s/b', Buffer.from('partition four')]], deletes: [] })
    // A worker as the processing threads start (tsx registered, then the module), reading and writing on request.
    const storeModule = new URL('../../../pipelines/state/store.ts', import.meta.url).href
    const source = `
      const { parentPort, workerData } = await import('node:worker_threads')
      const api = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
      api.register()
      const { sharedRocksStore } = await import(${JSON.stringify(storeModule)})
      const shared = sharedRocksStore(workerData.handle)
      parentPort.on('message', async ({ op, partition, keys, puts, deletes }) => {
        if (op === 'read') parentPort.postMessage(shared.read(partition, keys).map((value) => value === undefined ? null : value.toString()))
        if (op === 'write') {
          shared.write(partition, { puts: puts.map(([key, value]) => [key, Buffer.from(value)]), deletes })
          parentPort.postMessage([])
        }
        if (op === 'close') {
          await shared.close()
          parentPort.postMessage([])
        }
      })
      parentPort.postMessage('ready')`
    const worker = new Worker(`import(${JSON.stringify(`data:text/javascript,${encodeURIComponent(source)}`)})`, { eval: true, workerData: { handle: store.handle } })
    const answers: Array<Array<string | null>> = []
    let answered: () => void = () => undefined
    const ready = new Promise<void>((resolve) => {
      worker.on('message', (message: 'ready' | Array<string | null>) => {
        if (message === 'ready') resolve()
        else {
          answers.push(message)
          answered()
        }
      })
    })
    const ask = (request: { op: 'read'; partition: number; keys: string[] } | { op: 'write'; partition: number; puts: Array<[string, string]>; deletes: string[] } | { op: 'close' }): Promise<Array<string | null>> => new Promise((resolve) => {
      answered = () => resolve(answers[answers.length - 1] as Array<string | null>)
      worker.postMessage(request)
    })
    const read = (partition: number, keys: string[]): Promise<Array<string | null>> => ask({ op: 'read', partition, keys })
    try {
      await ready
      expect(await read(3, ['s/a', 's/missing', 's/empty', 's/b'])).toEqual(['one', null, '', null])
      expect(await read(4, ['s/b'])).toEqual(['partition four'])
      await three.write({ puts: [['s/a', Buffer.from('two')]], deletes: ['s/empty'] })
      expect(await read(3, ['s/a', 's/empty'])).toEqual(['two', null])
      // Its writes: puts and deletes in one batch, seen by the opener and by its own reads.
      await ask({ op: 'write', partition: 3, puts: [['s/a', 'three'], ['s/c', 'new']], deletes: ['s/a-old'] })
      expect((await three.getMany(['s/a', 's/c'])).map((value) => value?.toString())).toEqual(['three', 'new'])
      expect(await read(3, ['s/a', 's/c'])).toEqual(['three', 'new'])
      await ask({ op: 'write', partition: 4, puts: [], deletes: ['s/b'] })
      expect(await store.partition(4).get('s/b')).toBeUndefined()
      expect((await three.get('s/a'))?.toString()).toBe('three')
      await ask({ op: 'close' })
    } finally {
      await worker.terminate()
      await store.close()
    }
  })
})
