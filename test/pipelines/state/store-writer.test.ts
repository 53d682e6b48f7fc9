import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isRiskError } from '../../../core/errors.js'
import { packValues } from '../../../pipelines/kafka/thread-protocol.js'
import { StoreWriter } from '../../../pipelines/state/store-writer.js'
import { openRocksStore } from '../../../pipelines/state/store.js'

const folders: string[] = []
const tempDir = (): string => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-store-writer-'))
  folders.push(folder)
  return folder
}
afterAll(() => {
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true })
})

const values = (...texts: string[]): ReturnType<typeof packValues> => packValues(texts.map((text) => Buffer.from(text)))

describe('store writer thread', () => {
  it('writes puts and deletes into the partition asked for, visible to the opener once answered, and lasting after a reopen', async () => {
    const directory = tempDir()
    const store = await openRocksStore(directory)
    const writer = await StoreWriter.start(store.handle as bigint)
    await store.partition(2).write({ puts: [['pending/0000000001', Buffer.from('[]')]], deletes: [] })
    await writer.write(2, ['s/a', 's/b', 'checkpoint'], values('1', '2', '{}'), ['pending/0000000001'])
    await writer.write(5, ['s/a'], values('other'), [])
    expect((await store.partition(2).getMany(['s/a', 's/b', 'checkpoint', 'pending/0000000001'])).map((value) => value?.toString())).toEqual(['1', '2', '{}', undefined])
    expect((await store.partition(5).get('s/a'))?.toString()).toBe('other')
    expect(await store.partition(3).get('s/a')).toBeUndefined()
    await writer.close()
    await store.close()
    const reopened = await openRocksStore(directory)
    expect((await reopened.partition(2).get('s/b'))?.toString()).toBe('2')
    await reopened.close()
  })

  it('lands writes in the order they were asked for, and close waits for the ones in flight', async () => {
    const store = await openRocksStore(tempDir())
    const writer = await StoreWriter.start(store.handle as bigint)
    const written: Array<Promise<void>> = []
    const big = 'x'.repeat(4096)
    for (let index = 0; index < 500; index += 1) {
      // Every write puts the same key and a key of its own, and deletes the previous write's own key.
      written.push(writer.write(0, ['s/same', `s/own-${index}`], values(String(index), big), index === 0 ? [] : [`s/own-${index - 1}`]))
    }
    await writer.close()
    const outcomes = await Promise.allSettled(written)
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true)
    expect((await store.partition(0).get('s/same'))?.toString()).toBe('499')
    expect(await store.partition(0).get('s/own-498')).toBeUndefined()
    expect((await store.partition(0).get('s/own-499'))?.length).toBe(4096)
    await store.close()
  })

  it('refuses a write once closing, with a coded error', async () => {
    const store = await openRocksStore(tempDir())
    const writer = await StoreWriter.start(store.handle as bigint)
    await writer.close()
    const refused = await writer.write(0, ['s/a'], values('1'), []).catch((error: unknown) => error)
    expect(isRiskError(refused, 'RISK_ERR_SHUTDOWN')).toBe(true)
    expect(await store.partition(0).get('s/a')).toBeUndefined()
    await store.close()
  })
})
