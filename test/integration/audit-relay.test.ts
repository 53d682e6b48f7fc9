/**
 * The audit relay against the real broker and registry: entries written with openAuditLog are
 * published to risk.audit.v1 in order; a relay restarted from its position file (after more
 * entries, and after one killed between the broker's acknowledgement and the position write)
 * loses nothing and changes nothing: every entry arrives, identical, de-duplicated by hash.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from '../../core/clock.js'
import { silentLogger } from '../../core/logger.js'
import type { AuditEntry as AuditRecord } from '../../schemas/generated/types.js'
import { openAuditLog, type AuditEntryInput, type AuditLog } from '../../api/audit.js'
import { AuditRelay, createKafkaAuditPublisher, readRelayPosition, writeRelayPosition, type AuditPublisher } from '../../api/audit-relay.js'
import { TopicReader, isolated, type Isolated } from './support.js'

let test: Isolated
let log: AuditLog
let publisher: AuditPublisher
let reader: TopicReader<AuditRecord>

beforeAll(async () => {
  test = await isolated('audit-relay')
  log = await openAuditLog({ path: path.join(test.workDir, 'audit', 'api.jsonl') })
  publisher = createKafkaAuditPublisher(test.config, silentLogger)
  reader = await new TopicReader<AuditRecord>(test, 'auditEntries').start()
})

afterAll(async () => {
  await reader?.stop()
  await publisher?.close()
  await log?.close()
  if (test !== undefined) fs.rmSync(test.workDir, { recursive: true, force: true })
})

const entry = (index: number): AuditEntryInput => ({
  actor: { subject: 'mlro-maria', roles: ['compliance_officer'], tokenId: `tok-${index}` },
  action: index % 4 === 3 ? 'str.export' : 'case.read',
  entity: index % 4 === 3 ? { type: 'str_draft', id: `str-CASE-${index}-1` } : { type: 'case', id: `CASE-${index % 5}` },
  ...(index % 4 === 3 ? { detail: { caseId: `CASE-${index}`, fileName: `STR-str-CASE-${index}-1.xml`, sha256: 'cd'.repeat(32), exportedAtMs: 1_736_942_400_000 + index } } : {}),
})

function relay(): AuditRelay {
  return new AuditRelay({ auditPath: log.path, syncedBytes: () => log.syncedBytes, publisher, codec: test.codec, logger: silentLogger, pollIntervalMs: 100, batchSize: 50 })
}

async function until(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await sleep(50)
  }
}

describe('audit relay on the real broker', () => {
  it('publishes every entry and, across restarts, loses none and changes none', async () => {
    const written = []
    for (let index = 0; index < 120; index += 1) written.push(await log.append(entry(index)))
    const first = relay()
    await first.start()
    await until(() => first.current.sequence === 120)
    await first.stop()

    // A relay that died after the broker acknowledged batches but before writing their position:
    // the restart re-publishes from the position on file (entries 121-200), nothing earlier.
    const position = await readRelayPosition(first.positionPath)
    for (let index = 120; index < 200; index += 1) written.push(await log.append(entry(index)))
    const second = relay()
    await second.start()
    await until(() => second.current.sequence === 200)
    await second.stop()
    const acknowledgedBefore = await readRelayPosition(second.positionPath)
    await writeRelayPosition(second.positionPath, position)
    const third = relay()
    await third.start()
    await until(() => third.current.sequence === 200)
    await third.stop()
    expect(await readRelayPosition(third.positionPath)).toEqual(acknowledgedBefore)

    await reader.waitFor((values) => new Set(values.map((value) => value.hash)).size === 200)
    await sleep(500)
    const byHash = new Map<string, AuditRecord>()
    for (const value of reader.values) {
      const seen = byHash.get(value.hash)
      // A copy is the same record, byte for byte in content.
      if (seen !== undefined) expect(value).toEqual(seen)
      byHash.set(value.hash, value)
    }
    // Only what the third relay re-published (entries 121-200) arrives twice.
    expect(reader.values.length).toBe(200 + 80)
    expect([...byHash.values()].sort((left, right) => left.sequence - right.sequence).map((value) => [value.sequence, value.hash, value.previousHash])).toEqual(written.map((line) => [line.sequence, line.hash, line.previousHash]))
    const exported = byHash.get(written[3]!.hash)!
    expect(exported).toMatchObject({ action: 'str.export', actor: 'mlro-maria', roles: ['compliance_officer'], tokenId: 'tok-3', entityType: 'str_draft', entityId: 'str-CASE-3-1', atMs: Date.parse(written[3]!.recordedAt) })
    expect(JSON.parse(exported.detail!)).toEqual({ caseId: 'CASE-3', exportedAtMs: 1_736_942_400_003, fileName: 'STR-str-CASE-3-1.xml', sha256: 'cd'.repeat(32) })
    const keys = new Set(reader.raw.map((message) => message.key))
    expect(keys.has('case:CASE-0')).toBe(true)
    expect(keys.has('str_draft:str-CASE-3-1')).toBe(true)
  })
})
