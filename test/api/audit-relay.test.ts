/**
 * The audit relay on real audit files (api/audit.ts) in a temp folder, with the real codec over
 * an in-memory registry and a publisher that records what the broker would have acknowledged
 * (the broker itself: test/integration/audit-relay.test.ts).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sleep } from '../../core/clock.js'
import { silentLogger } from '../../core/logger.js'
import { AvroCodec } from '../../schemas/codec.js'
import type { AuditEntry as AuditRecord } from '../../schemas/generated/types.js'
import { openAuditLog, type AuditEntryInput, type AuditLog } from '../../api/audit.js'
import { AuditRelay, readRelayPosition, type AuditMessage, type AuditPublisher } from '../../api/audit-relay.js'
import { InMemorySchemaRegistry } from '../schemas/memory-registry.js'

let dir: string
let codec: AvroCodec
const opened: AuditLog[] = []
const relays: AuditRelay[] = []

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-audit-relay-'))
  codec = new AvroCodec(new InMemorySchemaRegistry(), 'unit.')
  await codec.registerAll()
})

afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop()
  for (const log of opened.splice(0)) await log.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Acknowledges every batch unless told to fail; keeps what was acknowledged, decoded. */
class RecordingPublisher implements AuditPublisher {
  readonly acknowledged: Array<{ key: string; record: AuditRecord }> = []
  failNext = 0
  async publish(messages: readonly AuditMessage[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1
      throw new Error('broker down')
    }
    for (const message of messages) {
      const decoded = await codec.decode('auditEntries', message.value)
      if (!decoded.ok) throw new Error(decoded.message)
      this.acknowledged.push({ key: message.key, record: decoded.value as AuditRecord })
    }
  }
  async close(): Promise<void> {}
}

const entry = (index: number): AuditEntryInput => ({
  actor: { subject: `officer-${index % 3}`, roles: ['aml_officer'], tokenId: null },
  action: index % 5 === 4 ? 'str.export' : 'case.read',
  entity: { type: index % 5 === 4 ? 'str_draft' : 'case', id: index % 7 === 6 ? null : `c-${index}` },
  ...(index % 2 === 0 ? { before: { status: 'OPEN' }, after: { status: 'IN_REVIEW', amountMinor: 12n } } : {}),
  ...(index % 5 === 4 ? { detail: { caseId: `CASE-${index}`, fileName: `STR-${index}.xml`, sha256: 'ab'.repeat(32), exportedAtMs: 1_700_000_000_000 + index } } : {}),
})

async function openLog(): Promise<AuditLog> {
  const log = await openAuditLog({ path: path.join(dir, 'api.jsonl') })
  opened.push(log)
  return log
}

function relayOf(log: AuditLog, publisher: AuditPublisher, extra: Partial<ConstructorParameters<typeof AuditRelay>[0]> = {}): AuditRelay {
  const relay = new AuditRelay({ auditPath: log.path, syncedBytes: () => log.syncedBytes, publisher, codec, logger: silentLogger, pollIntervalMs: 20, batchSize: 7, ...extra })
  relays.push(relay)
  return relay
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await sleep(10)
  }
}

describe('AuditRelay', () => {
  it('publishes every line in order as its Avro record, keyed by entity, and records its position', async () => {
    const log = await openLog()
    const written = await Promise.all(Array.from({ length: 20 }, (_, index) => log.append(entry(index))))
    const publisher = new RecordingPublisher()
    const relay = relayOf(log, publisher)
    await relay.start()
    await until(() => publisher.acknowledged.length === 20)
    expect(publisher.acknowledged.map(({ record }) => record.hash)).toEqual(written.map((line) => line.hash))
    const first = publisher.acknowledged[0]!
    expect(first.key).toBe('case:c-0')
    expect(first.record).toMatchObject({ sequence: 1, previousHash: '0'.repeat(64), actor: 'officer-0', roles: ['aml_officer'], tokenId: null, action: 'case.read', entityType: 'case', entityId: 'c-0', before: '{"status":"OPEN"}', after: '{"amountMinor":"12","status":"IN_REVIEW"}', detail: null })
    expect(first.record.atMs).toBe(Date.parse(written[0]!.recordedAt))
    expect(publisher.acknowledged[6]!.key).toBe('case:')
    expect(JSON.parse(publisher.acknowledged[4]!.record.detail!)).toMatchObject({ caseId: 'CASE-4', fileName: 'STR-4.xml' })
    await until(() => relay.current.sequence === 20)
    expect(await readRelayPosition(relay.positionPath)).toEqual({ byteOffset: fs.statSync(log.path).size, sequence: 20, lastHash: log.headHash })

    // Lines appended while it runs follow.
    await log.append(entry(20))
    await until(() => publisher.acknowledged.length === 21)
  })

  it('resumes from its position after a restart: nothing lost, nothing published twice', async () => {
    const log = await openLog()
    for (let index = 0; index < 10; index += 1) await log.append(entry(index))
    const publisher = new RecordingPublisher()
    const first = relayOf(log, publisher)
    await first.start()
    await until(() => first.current.sequence === 10)
    await first.stop()
    for (let index = 10; index < 25; index += 1) await log.append(entry(index))
    const second = relayOf(log, publisher)
    await second.start()
    await until(() => publisher.acknowledged.length >= 25)
    await until(() => second.current.sequence === 25)
    expect(publisher.acknowledged.map(({ record }) => record.sequence)).toEqual(Array.from({ length: 25 }, (_, index) => index + 1))
  })

  it('keeps its position while the broker refuses, and publishes once it acknowledges', async () => {
    const log = await openLog()
    for (let index = 0; index < 3; index += 1) await log.append(entry(index))
    const publisher = new RecordingPublisher()
    publisher.failNext = 2
    const relay = relayOf(log, publisher)
    await relay.start()
    await until(() => publisher.acknowledged.length === 3)
    expect(publisher.failNext).toBe(0)
    expect(publisher.acknowledged.map(({ record }) => record.sequence)).toEqual([1, 2, 3])
  })

  it('publishes only synced bytes', async () => {
    const log = await openLog()
    await log.append(entry(0))
    const publisher = new RecordingPublisher()
    const relay = relayOf(log, publisher, { syncedBytes: () => 0 })
    expect(await relay.drain()).toBe(0)
    expect(publisher.acknowledged).toEqual([])
  })

  it('halts at a line that breaks the chain and never publishes it or anything after it', async () => {
    const log = await openLog()
    for (let index = 0; index < 6; index += 1) await log.append(entry(index))
    await log.close()
    opened.splice(0)
    const auditPath = path.join(dir, 'api.jsonl')
    const lines = fs.readFileSync(auditPath, 'utf8').split('\n')
    lines[3] = lines[3]!.replace('officer-0', 'officer-9')
    fs.writeFileSync(auditPath, lines.join('\n'))
    const publisher = new RecordingPublisher()
    const relay = new AuditRelay({ auditPath, publisher, codec, logger: silentLogger, pollIntervalMs: 20 })
    relays.push(relay)
    await relay.start()
    await until(() => relay.state === 'halted')
    expect(publisher.acknowledged.map(({ record }) => record.sequence)).toEqual([1, 2, 3])
    expect(await readRelayPosition(relay.positionPath)).toMatchObject({ sequence: 3 })
    await expect(relay.drain()).rejects.toMatchObject({ code: 'RISK_ERR_STATE_CORRUPT', message: expect.stringContaining('line 4') })
  })

  it('refuses a position file that is not one, and a file shorter than the position', async () => {
    const log = await openLog()
    await log.append(entry(0))
    const publisher = new RecordingPublisher()
    fs.writeFileSync(`${log.path}.relay`, '{"byteOffset":-1}')
    await expect(relayOf(log, publisher).start()).rejects.toMatchObject({ code: 'RISK_ERR_STATE_CORRUPT' })
    fs.writeFileSync(`${log.path}.relay`, JSON.stringify({ byteOffset: 10_000, sequence: 50, lastHash: 'a'.repeat(64) }))
    const relay = relayOf(log, publisher)
    await relay.start()
    await until(() => relay.state === 'halted')
    expect(publisher.acknowledged).toEqual([])
  })
})
