/**
 * Closing a case emits one label per (player, typology) into the outbox, next to the case
 * events, in the same write.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CaseLabel, OutboxMessage } from '../../cases/types.js'
import { HOUR_MS, T0, alert, anna, mlro, openHarness, tickAll, type Harness } from './support.js'

async function outboxLabels(harness: Harness): Promise<CaseLabel[]> {
  const messages: OutboxMessage[] = await harness.service.outbox.readOutbox(10_000)
  return messages.filter((message) => message.topic === 'labels').map((message) => message.value as CaseLabel)
}

describe('labels', () => {
  let harness: Harness
  beforeEach(async () => { harness = await openHarness() })
  afterEach(async () => { await harness.cleanup() })

  it('labels a dismissed case false positive per player and typology, with its alerts, incidents and decisions', async () => {
    const a1 = alert({ playerId: 'p-1', clusterId: 'cl-1', atMs: HOUR_MS, decisionIds: ['wd-1:1'] })
    const a2 = alert({ playerId: 'p-1', clusterId: 'cl-1', atMs: 2 * HOUR_MS })
    const a3 = alert({ playerId: 'p-2', clusterId: 'cl-1', atMs: 3 * HOUR_MS })
    const a4 = alert({ playerId: 'p-2', clusterId: 'cl-1', atMs: 0, detectorId: 'device_count' })
    const results = []
    for (const input of [a1, a2, a3, a4]) results.push(await harness.service.ingestAlert(input))
    const caseId = results[0]!.caseId
    await harness.service.addEvidence({ caseId, actor: anna, kind: 'decision', reference: 'wd-7:2' })
    await tickAll(harness.service, caseId, anna)
    harness.clock.advance(HOUR_MS)
    await harness.service.close({ caseId, expectedVersion: (await harness.service.get(caseId)).version, actor: anna, resolution: 'DISMISSED', reason: 'shared household, explained' })

    const labels = await outboxLabels(harness)
    expect(labels).toEqual([
      {
        labelId: `${caseId}:p-1:deposit_structuring`, caseId, playerId: 'p-1', typology: 'deposit_structuring', outcome: 'FALSE_POSITIVE', resolution: 'DISMISSED',
        alertIds: [a1.alertId, a2.alertId], incidentIds: [results[0]!.incidentId], decisionIds: ['wd-1:1', 'wd-7:2'],
        firstAlertTimeMs: T0 + HOUR_MS, lastAlertTimeMs: T0 + 2 * HOUR_MS, closedAtMs: harness.clock.nowMs(), closedBy: 'anna',
      },
      {
        labelId: `${caseId}:p-2:deposit_structuring`, caseId, playerId: 'p-2', typology: 'deposit_structuring', outcome: 'FALSE_POSITIVE', resolution: 'DISMISSED',
        alertIds: [a3.alertId], incidentIds: [results[2]!.incidentId], decisionIds: ['wd-7:2'],
        firstAlertTimeMs: T0 + 3 * HOUR_MS, lastAlertTimeMs: T0 + 3 * HOUR_MS, closedAtMs: harness.clock.nowMs(), closedBy: 'anna',
      },
      {
        labelId: `${caseId}:p-2:device_count`, caseId, playerId: 'p-2', typology: 'device_count', outcome: 'FALSE_POSITIVE', resolution: 'DISMISSED',
        alertIds: [a4.alertId], incidentIds: [results[3]!.incidentId], decisionIds: ['wd-7:2'],
        firstAlertTimeMs: T0, lastAlertTimeMs: T0, closedAtMs: harness.clock.nowMs(), closedBy: 'anna',
      },
    ])
    const closed = (await harness.service.timeline(caseId)).at(-1)!
    expect(JSON.parse(closed.details).labelIds).toEqual(labels.map((label) => label.labelId))
  })

  it.each([['RESTRICTED', 'IN_REVIEW'], ['STR_FILED', 'ESCALATED']] as const)('labels a case closed as %s true positive', async (resolution, via) => {
    const { caseId } = await harness.service.ingestAlert(alert())
    let version = (await harness.service.get(caseId)).version
    if (via === 'ESCALATED') version = (await harness.service.escalate({ caseId, expectedVersion: version, actor: anna, reason: 'suspicion' })).version
    await harness.service.close({ caseId, expectedVersion: version, actor: mlro, resolution, reason: 'confirmed', checklistOverrideReason: 'MLRO decision' })
    expect((await outboxLabels(harness)).map((label) => [label.outcome, label.resolution])).toEqual([['TRUE_POSITIVE', resolution]])
  })

  it('puts every case event in the outbox in audit order, and no label before a close', async () => {
    const { caseId } = await harness.service.ingestAlert(alert())
    await harness.service.comment({ caseId, actor: anna, text: 'looking' })
    const messages = await harness.service.outbox.readOutbox(100)
    expect(messages.map((message) => message.topic)).toEqual(['caseEvents', 'caseEvents', 'caseEvents', 'caseEvents'])
    expect(messages.map((message) => message.key)).toEqual(Array(4).fill(caseId))
    expect(messages.map((message) => message.value)).toEqual(await harness.service.timeline(caseId))
  })
})
