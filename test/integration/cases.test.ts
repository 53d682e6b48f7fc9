/**
 * The case worker on the real broker and registry: an alert storm and a replay become one
 * case with one incident, a bad record goes to the dead-letter topic, case events reach
 * risk.case-events.v1 with their hash chain, and closing the case puts its label on
 * risk.labels.v1.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../core/clock.js'
import { createKafka } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { GENESIS_HASH, eventHash } from '../../cases/audit-chain.js'
import { createCaseService, type CaseService } from '../../cases/case-service.js'
import { CaseWorker } from '../../cases/worker.js'
import type { Alert, CaseEvent, CaseLabel, DeadLetter } from '../../schemas/generated/types.js'
import { TopicReader, encoded, isolated, produce, type Isolated, type Message } from './support.js'

const T0 = 1_715_690_601_250

function alert(index: number, fields: Partial<Alert> = {}): Alert {
  return {
    alertId: `deposit_structuring@1:evt-${index}`, playerId: 'p-storm', detectorId: 'deposit_structuring', detectorVersion: 1,
    severity: 'HIGH', action: 'hold_for_review', eventTimeMs: T0 + index * 60_000, value: 3, threshold: 2,
    windowStartMs: null, windowEndMs: null, evidenceEventIds: [`evt-${index}`], ruleSetVersion: '2026-11-26.3', clusterId: null, amountMinor: 25_000, currency: 'EUR', decisionId: null, ...fields,
  }
}

describe('case worker', () => {
  let test: Isolated
  let service: CaseService
  let worker: CaseWorker
  const clock = new ManualClock(T0 + 86_400_000)

  beforeAll(async () => {
    test = await isolated('cases')
    service = await createCaseService({ directory: path.join(test.workDir, 'cases'), clock })
    worker = new CaseWorker({ config: test.config, kafka: createKafka(test.config.kafka, silentLogger), codec: test.codec, service, logger: silentLogger, relayPollIntervalMs: 200 })
  })

  afterAll(async () => {
    await worker.stop()
    await service.shutdown()
    fs.rmSync(test.workDir, { recursive: true, force: true })
  })

  it('files a storm into one incident, dead-letters a bad record, publishes case events and the label', async () => {
    const storm = Array.from({ length: 20 }, (_, index) => encoded(test, 'alerts', alert(index)))
    const replay = storm.slice(0, 5)
    const bad: Message = { topic: 'alerts', key: 'p-storm', value: Buffer.from('not avro') }
    const other = encoded(test, 'alerts', alert(100, { playerId: 'p-other', alertId: 'device_count@1:evt-100', detectorId: 'device_count' }))

    const caseEvents = await new TopicReader<CaseEvent>(test, 'caseEvents').start()
    const labels = await new TopicReader<CaseLabel>(test, 'labels').start()
    const deadLetters = await new TopicReader<DeadLetter>(test, 'deadLetters').start()
    try {
      await produce(test, [...storm, bad, ...replay, other])
      await worker.start()
      // 3 events open the storm's case, 19 more alerts join; the other player's case has 3
      await caseEvents.waitFor((values) => values.length >= 3 + 19 + 3)
      await deadLetters.waitFor((values) => values.length >= 1)
      expect(deadLetters.values.map((letter) => letter.reason)).toEqual(['RISK_ERR_DECODE_MAGIC_BYTE'])
      expect(Buffer.from(deadLetters.values[0]!.payload).toString()).toBe('not avro')

      const [stormCase] = await service.list({ playerId: 'p-storm' })
      expect(stormCase).toMatchObject({ alertCount: 20, status: 'OPEN', priority: 'HIGH' })
      const incidents = await service.incidents(stormCase!.caseId)
      expect(incidents).toHaveLength(1)
      expect(incidents[0]!.alertIds).toHaveLength(20)

      // published events are exactly the stored timeline, and re-verify from the wire
      const published = caseEvents.values.filter((event) => event.caseId === stormCase!.caseId)
      expect(new Set(published.map((event) => event.eventId)).size).toBe(22)
      expect(published.sort((a, b) => a.sequence - b.sequence)).toEqual(await service.timeline(stormCase!.caseId))
      const all = [...caseEvents.values].sort((a, b) => a.sequence - b.sequence)
      expect(all[0]!.previousHash).toBe(GENESIS_HASH)
      all.forEach((event, index) => {
        expect(eventHash(event)).toBe(event.hash)
        if (index > 0) expect(event.previousHash).toBe(all[index - 1]!.hash)
      })
      expect(caseEvents.raw.every((record) => record.key !== null && record.key.startsWith('CASE-'))).toBe(true)

      // an officer closes it: the label goes out
      const claimed = await service.claim({ caseId: stormCase!.caseId, expectedVersion: stormCase!.version, actor: { id: 'anna', role: 'aml_officer' } })
      await service.close({ caseId: claimed.caseId, expectedVersion: claimed.version, actor: { id: 'anna', role: 'aml_officer' }, resolution: 'RESTRICTED', reason: 'structuring confirmed', checklistOverrideReason: 'integration test' })
      await labels.waitFor((values) => values.length >= 1)
      expect(labels.values[0]).toMatchObject({ caseId: stormCase!.caseId, playerId: 'p-storm', typology: 'deposit_structuring', outcome: 'TRUE_POSITIVE', resolution: 'RESTRICTED' })
      expect(labels.values[0]!.alertIds).toHaveLength(20)
      expect(labels.raw[0]!.key).toBe(stormCase!.caseId)
      expect(await service.outbox.readOutbox(10)).toEqual([])
      expect((await service.verifyAuditChain()).ok).toBe(true)
    } finally {
      await caseEvents.stop()
      await labels.stop()
      await deadLetters.stop()
    }
  })
})
