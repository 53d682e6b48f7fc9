/**
 * The case routes on a real CaseService (RocksDB in the test app's temp folder): the queue, one
 * case with what the caller may do, the lifecycle over HTTP with audited before/after, and two
 * officers claiming one case at once (one 200, one 409 RISK_ERR_CASE_CONFLICT).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCaseService, type CaseService } from '../../../cases/case-service.js'
import type { AlertInput } from '../../../cases/types.js'
import { ManualClock } from '../../../core/clock.js'
import { bearer, buildOperationsParts, buildTestApp, START_MS, tokenFor, type TestApp } from '../helpers.js'

let test: TestApp
let cases: CaseService
let caseId: string

const anna = bearer(tokenFor(['aml_officer'], 'anna'))
const ben = bearer(tokenFor(['aml_officer'], 'ben'))
const mlro = bearer(tokenFor(['compliance_officer', 'aml_officer'], 'maria'))

function alert(index: number): AlertInput {
  return { alertId: `deposit_structuring@1:e-${index}`, playerId: 'p-7', detectorId: 'deposit_structuring', detectorVersion: 1, severity: 'HIGH', action: 'REVIEW', eventTimeMs: Date.UTC(2025, 0, 15, 9, 0, index), value: 4, threshold: 3, windowStartMs: null, windowEndMs: null, evidenceEventIds: [], ruleSetVersion: 'rs-1' }
}

let casesDirectory: string

beforeEach(async () => {
  casesDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-case-routes-'))
  cases = await createCaseService({ directory: casesDirectory, clock: new ManualClock(START_MS) })
  test = await buildTestApp({ operations: buildOperationsParts(cases) })
  ;({ caseId } = await cases.ingestAlert(alert(1)))
  await cases.ingestAlert(alert(2))
})
afterEach(async () => {
  await test.close()
  await cases.shutdown()
  fs.rmSync(casesDirectory, { recursive: true, force: true })
})

const post = (url: string, headers: Record<string, string>, payload: unknown) => test.app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> })

describe('case routes', () => {
  it('lists the queue with filters and a cursor, and reads one case with incidents, alerts, timeline and allowed actions', async () => {
    const queue = await test.app.inject({ url: '/cases?status=OPEN&playerId=p-7', headers: anna })
    expect(queue.json()).toMatchObject({ cases: [{ caseId, version: 2, status: 'OPEN' }], next: null })
    const page = await test.app.inject({ url: '/cases?limit=1', headers: anna })
    expect(page.json().next).toBe(caseId)
    const one = await test.app.inject({ url: `/cases/${caseId}`, headers: anna })
    expect(one.statusCode).toBe(200)
    const body = one.json()
    expect(body.incidents).toHaveLength(1)
    expect(body.alerts.map((item: { alertId: string }) => item.alertId)).toEqual(['deposit_structuring@1:e-1', 'deposit_structuring@1:e-2'])
    expect(body.timeline.map((event: { type: string }) => event.type)).toEqual(['CASE_OPENED', 'INCIDENT_OPENED', 'ALERT_ADDED', 'ALERT_ADDED'])
    expect(body.allowedActions).toEqual(['claim', 'assign', 'comment', 'addEvidence', 'tickChecklist', 'escalate', 'close'])
    const missing = await test.app.inject({ url: '/cases/CASE-99999999', headers: anna })
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'RISK_ERR_CASE_NOT_FOUND'])
  })

  it('lets exactly one of two officers claiming the same version win over HTTP; the other gets 409', async () => {
    const [first, second] = await Promise.all([post(`/cases/${caseId}/claim`, anna, { expectedVersion: 2 }), post(`/cases/${caseId}/claim`, ben, { expectedVersion: 2 })])
    expect([first.statusCode, second.statusCode].sort()).toEqual([200, 409])
    const loser = first.statusCode === 409 ? first : second
    expect(loser.json().error.code).toBe('RISK_ERR_CASE_CONFLICT')
    const winner = first.statusCode === 200 ? 'anna' : 'ben'
    expect((await cases.get(caseId)).assigneeId).toBe(winner)
  })

  it('works a case through comments, evidence, checklist, escalation and an MLRO close, auditing before and after', async () => {
    expect((await post(`/cases/${caseId}/claim`, anna, { expectedVersion: 2 })).json()).toMatchObject({ version: 3, status: 'IN_REVIEW', assigneeId: 'anna' })
    expect((await post(`/cases/${caseId}/comments`, anna, { text: 'payroll deposits?' })).json().comments).toHaveLength(1)
    expect((await post(`/cases/${caseId}/evidence`, anna, { kind: 'decision', reference: 'wd-7:1' })).json().decisionIds).toEqual(['wd-7:1'])
    const current = await cases.get(caseId)
    const item = current.checklist[0]?.itemId ?? ''
    const ticked = await post(`/cases/${caseId}/checklist/${encodeURIComponent(item)}`, anna, { expectedVersion: current.version })
    expect(ticked.statusCode).toBe(200)
    const escalated = await post(`/cases/${caseId}/escalate`, anna, { expectedVersion: current.version + 1, reason: 'structuring pattern' })
    expect(escalated.json().status).toBe('ESCALATED')
    const refused = await post(`/cases/${caseId}/close`, anna, { expectedVersion: current.version + 2, resolution: 'STR_FILED', reason: 'filed' })
    expect([refused.statusCode, refused.json().error.code]).toEqual([403, 'RISK_ERR_FORBIDDEN'])
    const stale = await post(`/cases/${caseId}/close`, mlro, { expectedVersion: 1, resolution: 'STR_FILED', reason: 'filed', checklistOverrideReason: 'done elsewhere' })
    expect(stale.statusCode).toBe(409)
    const closed = await post(`/cases/${caseId}/close`, mlro, { expectedVersion: current.version + 2, resolution: 'STR_FILED', reason: 'filed', checklistOverrideReason: 'done elsewhere' })
    expect(closed.json()).toMatchObject({ status: 'CLOSED', resolution: 'STR_FILED', closedBy: 'maria' })
    const bad = await post(`/cases/${caseId}/claim`, anna, { expectedVersion: 'x' })
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'RISK_ERR_REQUEST_INVALID'])

    const entries = fs.readFileSync(test.audit.path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string; actor: { subject: string }; before?: { version: number }; after?: { version: number; status: string } })
    expect(entries.map((entry) => entry.action)).toEqual(['case.claim', 'case.comment', 'case.add_evidence', 'case.tick_checklist', 'case.escalate', 'case.close'])
    expect(entries[0]).toMatchObject({ actor: { subject: 'anna' }, before: { version: 2 }, after: { version: 3, status: 'IN_REVIEW' } })
    expect(entries[5]).toMatchObject({ actor: { subject: 'maria' }, after: { status: 'CLOSED' } })
  })
})
