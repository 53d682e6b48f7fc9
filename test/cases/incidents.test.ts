/**
 * Alerts into incidents into cases: de-duplication by typology and window, idempotent replays,
 * one open case per player or cluster, priority and SLA.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isRiskError } from '../../core/errors.js'
import { DAY_MS, HOUR_MS, T0, alert, anna, openHarness, tickAll, type Harness } from './support.js'

describe('incidents', () => {
  let harness: Harness
  beforeEach(async () => { harness = await openHarness({ incidentWindowMs: { byDetector: { withdrawal_velocity: 7 * DAY_MS } } }) })
  afterEach(async () => { await harness.cleanup() })

  it('turns an alert storm of one typology for one player into one incident with every alert id', async () => {
    const storm = Array.from({ length: 20 }, (_, index) => alert({ atMs: index * 10 * 60_000 }))
    const results = []
    for (const input of storm) results.push(await harness.service.ingestAlert(input))
    expect(results.map((result) => result.outcome)).toEqual(['opened-case', ...Array(19).fill('joined-incident')])
    const [caseId] = new Set(results.map((result) => result.caseId))
    const cases = await harness.service.list()
    expect(cases).toHaveLength(1)
    const incidents = await harness.service.incidents(caseId as string)
    expect(incidents).toHaveLength(1)
    expect(incidents[0]?.alertIds).toEqual(storm.map((input) => input.alertId))
    expect((await harness.service.alerts(incidents[0]!.incidentId)).map((stored) => stored.alertId)).toEqual(storm.map((input) => input.alertId))
    expect(cases[0]).toMatchObject({ alertCount: 20, version: 20, incidentIds: [incidents[0]!.incidentId], playerIds: ['p-1'], typologies: ['deposit_structuring'] })
  })

  it('files the same storm sent all at once, concurrently, into one case and one incident', async () => {
    const storm = Array.from({ length: 20 }, (_, index) => alert({ atMs: index * 1000 }))
    const results = await Promise.all(storm.map((input) => harness.service.ingestAlert(input)))
    expect(new Set(results.map((result) => result.caseId)).size).toBe(1)
    expect(new Set(results.map((result) => result.incidentId)).size).toBe(1)
    expect(results.filter((result) => result.outcome === 'opened-case')).toHaveLength(1)
    const [incident] = await harness.service.incidents(results[0]!.caseId)
    expect([...incident!.alertIds].sort()).toEqual(storm.map((input) => input.alertId).sort())
    expect((await harness.service.verifyAuditChain()).ok).toBe(true)
  })

  it('ignores a replayed alert id, even after a restart', async () => {
    const first = alert()
    const opened = await harness.service.ingestAlert(first)
    const replay = await harness.service.ingestAlert({ ...first })
    expect(replay).toEqual({ outcome: 'duplicate', caseId: opened.caseId, incidentId: opened.incidentId, caseVersion: 1 })
    const service = await harness.reopen()
    expect((await service.ingestAlert(first)).outcome).toBe('duplicate')
    expect((await service.get(opened.caseId)).alertCount).toBe(1)
    expect(await service.timeline(opened.caseId)).toHaveLength(3) // CASE_OPENED, INCIDENT_OPENED, ALERT_ADDED
  })

  it('opens a new incident in the same case when the window has passed or the typology differs', async () => {
    const opened = await harness.service.ingestAlert(alert({ atMs: 0 }))
    const inside = await harness.service.ingestAlert(alert({ atMs: 24 * HOUR_MS - 1 }))
    const after = await harness.service.ingestAlert(alert({ atMs: 24 * HOUR_MS }))
    const other = await harness.service.ingestAlert(alert({ atMs: HOUR_MS, detectorId: 'pass_through' }))
    expect([inside.outcome, after.outcome, other.outcome]).toEqual(['joined-incident', 'opened-incident', 'opened-incident'])
    expect(inside.incidentId).toBe(opened.incidentId)
    expect(new Set([opened.caseId, inside.caseId, after.caseId, other.caseId]).size).toBe(1)
    const record = await harness.service.get(opened.caseId)
    expect(record.incidentIds).toHaveLength(3)
    expect(record.typologies).toEqual(['deposit_structuring', 'pass_through'])
    // the checklist gains the new typology's items once
    expect(record.checklist.map((item) => item.detectorId)).toEqual(expect.arrayContaining(['deposit_structuring', 'pass_through']))
    expect(new Set(record.checklist.map((item) => item.itemId)).size).toBe(record.checklist.length)
  })

  it('uses the per-detector window from the policy', async () => {
    const opened = await harness.service.ingestAlert(alert({ detectorId: 'withdrawal_velocity' }))
    const sixDaysLater = await harness.service.ingestAlert(alert({ detectorId: 'withdrawal_velocity', atMs: 6 * DAY_MS }))
    expect(sixDaysLater.incidentId).toBe(opened.incidentId)
    expect((await harness.service.incident(opened.incidentId)).windowEndMs).toBe(T0 + 7 * DAY_MS)
  })

  it('lets an out-of-order alert a little behind the first one join, but not one a window behind', async () => {
    const opened = await harness.service.ingestAlert(alert({ atMs: 2 * DAY_MS }))
    expect((await harness.service.ingestAlert(alert({ atMs: 2 * DAY_MS - HOUR_MS }))).incidentId).toBe(opened.incidentId)
    expect((await harness.service.ingestAlert(alert({ atMs: 0 }))).incidentId).not.toBe(opened.incidentId)
  })

  it('keeps one open case per player, and a new one after it closes', async () => {
    const first = await harness.service.ingestAlert(alert({ playerId: 'p-1' }))
    const otherPlayer = await harness.service.ingestAlert(alert({ playerId: 'p-2' }))
    expect(otherPlayer.caseId).not.toBe(first.caseId)
    await tickAll(harness.service, first.caseId, anna)
    await harness.service.close({ caseId: first.caseId, expectedVersion: (await harness.service.get(first.caseId)).version, actor: anna, resolution: 'DISMISSED', reason: 'salary deposits' })
    const next = await harness.service.ingestAlert(alert({ playerId: 'p-1', atMs: HOUR_MS }))
    expect(next.outcome).toBe('opened-case')
    expect(next.caseId).not.toBe(first.caseId)
    expect(next.incidentId).not.toBe(first.incidentId) // the closed case's incident is not joined
  })

  it('groups a cluster\'s alerts into one case across players', async () => {
    const a = await harness.service.ingestAlert(alert({ playerId: 'p-1', clusterId: 'cl-9' }))
    const b = await harness.service.ingestAlert(alert({ playerId: 'p-2', clusterId: 'cl-9', detectorId: 'device_count' }))
    const alone = await harness.service.ingestAlert(alert({ playerId: 'p-3' }))
    expect(b.caseId).toBe(a.caseId)
    expect(alone.caseId).not.toBe(a.caseId)
    const record = await harness.service.get(a.caseId)
    expect(record.subject).toEqual({ kind: 'cluster', id: 'cl-9' })
    expect(record.playerIds).toEqual(['p-1', 'p-2'])
    expect((await harness.service.list({ playerId: 'p-2' })).map((found) => found.caseId)).toEqual([a.caseId])
  })

  it('derives priority from the highest severity and the amount, and the SLA from the first alert\'s event time', async () => {
    const low = await harness.service.ingestAlert(alert({ severity: 'LOW' }))
    expect(await harness.service.get(low.caseId)).toMatchObject({ priority: 'LOW', dueAtMs: T0 + 7 * DAY_MS })
    // 15,000.00 puts a MEDIUM alert in the HIGH band: due 24 h after the first alert, not after this one
    await harness.service.ingestAlert(alert({ severity: 'MEDIUM', amountMinor: 1_500_000, atMs: 2 * HOUR_MS, detectorId: 'unusual_amount' }))
    expect(await harness.service.get(low.caseId)).toMatchObject({ priority: 'HIGH', dueAtMs: T0 + 24 * HOUR_MS, maxAmountMinor: 1_500_000, maxSeverity: 'MEDIUM' })
    await harness.service.ingestAlert(alert({ severity: 'CRITICAL', atMs: 3 * HOUR_MS, detectorId: 'sanctions_confirmed_match' }))
    expect(await harness.service.get(low.caseId)).toMatchObject({ priority: 'CRITICAL', dueAtMs: T0 + 4 * HOUR_MS })
    // a later LOW alert never lowers it
    await harness.service.ingestAlert(alert({ severity: 'LOW', atMs: 4 * HOUR_MS }))
    expect((await harness.service.get(low.caseId)).priority).toBe('CRITICAL')
    const types = (await harness.service.timeline(low.caseId)).map((event) => event.type)
    expect(types.filter((type) => type === 'PRIORITY_RAISED')).toHaveLength(2)
  })

  it('refuses malformed alerts with RISK_ERR_INVALID_FIELD naming the field', async () => {
    const bad = [
      alert({ alertId: '' }), alert({ playerId: 'a\u0000b' }), alert({ eventTimeMs: -1 }),
      alert({ severity: 'SEVERE' as never }), alert({ amountMinor: 12.5 }), alert({ clusterId: '' }),
    ]
    for (const input of bad) {
      const error = await harness.service.ingestAlert(input).then(() => null, (caught: unknown) => caught)
      expect(isRiskError(error, 'RISK_ERR_INVALID_FIELD'), String(error)).toBe(true)
    }
    expect(await harness.service.list()).toEqual([])
  })
})
