/**
 * The outbox relay against a real case store: publishes in order, deletes only what the
 * publisher acknowledged, retries a failing publisher, wakes on commits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sleep } from '../../core/clock.js'
import { silentLogger } from '../../core/logger.js'
import { OutboxRelay } from '../../cases/outbox-relay.js'
import type { OutboxMessage } from '../../cases/types.js'
import { alert, anna, openHarness, type Harness } from './support.js'

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('timed out')
    await sleep(10)
  }
}

describe('OutboxRelay', () => {
  let harness: Harness
  let relay: OutboxRelay | null = null
  beforeEach(async () => { harness = await openHarness() })
  afterEach(async () => {
    await relay?.stop()
    relay = null
    await harness.cleanup()
  })

  it('publishes every case event once, in audit order, and empties the outbox', async () => {
    const published: OutboxMessage[] = []
    relay = new OutboxRelay({ source: harness.service.outbox, publish: async (messages) => { published.push(...messages) }, logger: silentLogger, batchSize: 4, pollIntervalMs: 60_000 })
    relay.start()
    const { caseId } = await harness.service.ingestAlert(alert())
    for (let index = 0; index < 5; index += 1) await harness.service.comment({ caseId, actor: anna, text: `note ${index}` })
    await until(() => published.length === 8)
    expect(published.map((message) => message.value)).toEqual(await harness.service.timeline(caseId))
    expect(await harness.service.outbox.readOutbox(10)).toEqual([])
  })

  it('keeps entries while the publisher fails and sends them when it recovers', async () => {
    let failing = true
    let attempts = 0
    const published: OutboxMessage[] = []
    relay = new OutboxRelay({
      source: harness.service.outbox,
      publish: async (messages) => {
        attempts += 1
        if (failing) throw new Error('broker down')
        published.push(...messages)
      },
      logger: silentLogger,
      pollIntervalMs: 60_000,
    })
    relay.start()
    await harness.service.ingestAlert(alert())
    await until(() => attempts >= 2)
    expect(await harness.service.outbox.readOutbox(10)).toHaveLength(3)
    failing = false
    await until(() => published.length === 3)
    expect(await harness.service.outbox.readOutbox(10)).toEqual([])
  })

  it('leaves what it could not publish for the next start (at least once, never lost)', async () => {
    await harness.service.ingestAlert(alert())
    const once = new OutboxRelay({ source: harness.service.outbox, publish: async () => { throw new Error('no ack') }, logger: silentLogger })
    await expect(once.drain()).rejects.toThrow(/no ack/)
    const service = await harness.reopen()
    const published: OutboxMessage[] = []
    const again = new OutboxRelay({ source: service.outbox, publish: async (messages) => { published.push(...messages) }, logger: silentLogger })
    expect(await again.drain()).toBe(3)
    expect(published.map((message) => message.topic)).toEqual(['caseEvents', 'caseEvents', 'caseEvents'])
  })
})
