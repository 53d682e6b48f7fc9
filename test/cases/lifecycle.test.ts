/**
 * The case lifecycle through the service: every allowed edge, every refused one with the code
 * and the allowed actions, roles for escalated cases, and concurrent officers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isRiskError, type ErrorCode } from '../../core/errors.js'
import type { CaseService } from '../../cases/case-service.js'
import { CASE_ACTIONS, type CaseAction } from '../../cases/lifecycle.js'
import type { Actor, Case, CaseStatus } from '../../cases/types.js'
import { alert, anna, ben, mlro, openHarness, tickAll, type Harness } from './support.js'

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'ok'> {
  try {
    await promise
    return 'ok'
  } catch (error) {
    if (isRiskError(error)) return error.code
    throw error
  }
}

/** A case brought to a status by the usual path. */
async function caseIn(service: CaseService, status: CaseStatus, playerId: string): Promise<Case> {
  const { caseId } = await service.ingestAlert(alert({ playerId }))
  let current = await service.get(caseId)
  const step = async (action: (version: number) => Promise<Case>): Promise<void> => { current = await action(current.version) }
  if (status === 'IN_REVIEW') await step((version) => service.claim({ caseId, expectedVersion: version, actor: anna }))
  if (status === 'ESCALATED') await step((version) => service.escalate({ caseId, expectedVersion: version, actor: anna, reason: 'source of funds unclear' }))
  if (status === 'CLOSED') {
    await tickAll(service, caseId, anna)
    current = await service.get(caseId)
    await step((version) => service.close({ caseId, expectedVersion: version, actor: anna, resolution: 'DISMISSED', reason: 'explained' }))
  }
  return current
}

/** Each action with valid arguments. */
function act(service: CaseService, action: CaseAction, record: Case, actor: Actor): Promise<Case> {
  const request = { caseId: record.caseId, expectedVersion: record.version, actor }
  switch (action) {
    case 'claim': return service.claim(request)
    case 'unclaim': return service.unclaim(request)
    case 'assign': return service.assign({ ...request, assigneeId: 'carl' })
    case 'comment': return service.comment({ ...request, text: 'called the player' })
    case 'addEvidence': return service.addEvidence({ ...request, kind: 'event', reference: 'evt-1' })
    case 'tickChecklist': return service.tickChecklist({ ...request, itemId: record.checklist[0]!.itemId })
    case 'escalate': return service.escalate({ ...request, reason: 'needs the MLRO' })
    case 'close': return service.close({ ...request, resolution: 'DISMISSED', reason: 'fine', checklistOverrideReason: 'test' })
  }
}

const ALLOWED: Record<CaseStatus, readonly CaseAction[]> = {
  OPEN: ['claim', 'assign', 'comment', 'addEvidence', 'tickChecklist', 'escalate', 'close'],
  IN_REVIEW: ['unclaim', 'assign', 'comment', 'addEvidence', 'tickChecklist', 'escalate', 'close'],
  ESCALATED: ['claim', 'assign', 'comment', 'addEvidence', 'tickChecklist', 'close'],
  CLOSED: ['comment'],
}

const STATUS_AFTER: Partial<Record<`${CaseStatus}:${CaseAction}`, CaseStatus>> = {
  'OPEN:claim': 'IN_REVIEW', 'OPEN:assign': 'IN_REVIEW', 'OPEN:escalate': 'ESCALATED', 'OPEN:close': 'CLOSED',
  'IN_REVIEW:unclaim': 'OPEN', 'IN_REVIEW:escalate': 'ESCALATED', 'IN_REVIEW:close': 'CLOSED',
  'ESCALATED:close': 'CLOSED',
}

describe('case lifecycle', () => {
  let harness: Harness
  let players = 0
  beforeEach(async () => { harness = await openHarness() })
  afterEach(async () => { await harness.cleanup() })

  const table = (Object.keys(ALLOWED) as CaseStatus[]).flatMap((status) => CASE_ACTIONS.map((action) => ({ status, action, allowed: ALLOWED[status].includes(action) })))

  it.each(table)('$status --$action--> allowed: $allowed', async ({ status, action, allowed }) => {
    const record = await caseIn(harness.service, status, `p-${(players += 1)}`)
    // escalated cases are taken and closed by the MLRO role
    const actor = status === 'ESCALATED' ? mlro : anna
    if (allowed) {
      const next = await act(harness.service, action, record, actor)
      expect(next.version).toBe(record.version + 1)
      expect(next.status).toBe(STATUS_AFTER[`${status}:${action}`] ?? status)
      expect((await harness.service.timeline(record.caseId)).at(-1)?.caseVersion).toBe(next.version)
    } else {
      const error = await act(harness.service, action, record, actor).then(() => null, (caught: unknown) => caught)
      expect(isRiskError(error, 'RISK_ERR_CASE_TRANSITION')).toBe(true)
      expect((error as Error).message).toContain(`allowed now: ${ALLOWED[status].join(', ')}`)
      expect((await harness.service.get(record.caseId)).version).toBe(record.version)
    }
  })

  it('sets and clears the assignee: claim, reassign, unclaim', async () => {
    const record = await caseIn(harness.service, 'OPEN', 'p-a')
    const claimed = await harness.service.claim({ caseId: record.caseId, expectedVersion: record.version, actor: anna })
    expect(claimed).toMatchObject({ status: 'IN_REVIEW', assigneeId: 'anna' })
    const reassigned = await harness.service.assign({ caseId: record.caseId, expectedVersion: claimed.version, actor: anna, assigneeId: 'ben' })
    expect(reassigned).toMatchObject({ status: 'IN_REVIEW', assigneeId: 'ben' })
    expect((await harness.service.list({ assigneeId: 'ben' })).map((found) => found.caseId)).toEqual([record.caseId])
    expect(await harness.service.list({ assigneeId: 'anna' })).toEqual([])
    const freed = await harness.service.unclaim({ caseId: record.caseId, expectedVersion: reassigned.version, actor: ben })
    expect(freed).toMatchObject({ status: 'OPEN', assigneeId: null })
    expect(await harness.service.list({ assigneeId: 'ben' })).toEqual([])
  })

  it('escalates to the MLRO queue: only an MLRO role claims and closes it, and only it files an STR', async () => {
    const record = await caseIn(harness.service, 'IN_REVIEW', 'p-e')
    const escalated = await harness.service.escalate({ caseId: record.caseId, expectedVersion: record.version, actor: anna, reason: 'structuring pattern' })
    expect(escalated).toMatchObject({ status: 'ESCALATED', assigneeId: null, escalationReason: 'structuring pattern' })
    expect(await codeOf(harness.service.claim({ caseId: record.caseId, expectedVersion: escalated.version, actor: ben }))).toBe('RISK_ERR_FORBIDDEN')
    expect(await codeOf(harness.service.close({ caseId: record.caseId, expectedVersion: escalated.version, actor: ben, resolution: 'STR_FILED', reason: 'x', checklistOverrideReason: 'x' }))).toBe('RISK_ERR_FORBIDDEN')
    expect(harness.service.allowedActions(escalated, ben)).toEqual(['assign', 'comment', 'addEvidence', 'tickChecklist'])
    const taken = await harness.service.claim({ caseId: record.caseId, expectedVersion: escalated.version, actor: mlro })
    expect(taken).toMatchObject({ status: 'ESCALATED', assigneeId: 'mona' })
    await tickAll(harness.service, record.caseId, mlro)
    const closed = await harness.service.close({ caseId: record.caseId, expectedVersion: (await harness.service.get(record.caseId)).version, actor: mlro, resolution: 'STR_FILED', reason: 'STR 2024-117 filed' })
    expect(closed).toMatchObject({ status: 'CLOSED', resolution: 'STR_FILED', closedBy: 'mona', closedAtMs: harness.clock.nowMs() })
  })

  it('refuses an STR from a case that was not escalated, naming the resolutions allowed', async () => {
    const record = await caseIn(harness.service, 'IN_REVIEW', 'p-s')
    const error = await harness.service.close({ caseId: record.caseId, expectedVersion: record.version, actor: mlro, resolution: 'STR_FILED', reason: 'x', checklistOverrideReason: 'x' }).then(() => null, (caught: unknown) => caught)
    expect(isRiskError(error, 'RISK_ERR_CASE_TRANSITION')).toBe(true)
    expect((error as Error).message).toMatch(/allowed resolutions: DISMISSED, RESTRICTED/)
  })

  it('needs the checklist ticked to close, or an override reason, which is recorded', async () => {
    const record = await caseIn(harness.service, 'IN_REVIEW', 'p-c')
    const error = await harness.service.close({ caseId: record.caseId, expectedVersion: record.version, actor: anna, resolution: 'RESTRICTED', reason: 'x' }).then(() => null, (caught: unknown) => caught)
    expect(isRiskError(error, 'RISK_ERR_CASE_TRANSITION')).toBe(true)
    expect((error as Error).message).toContain(record.checklist[0]!.itemId)
    const ticked = await harness.service.tickChecklist({ caseId: record.caseId, expectedVersion: record.version, actor: anna, itemId: record.checklist[0]!.itemId, note: 'deposits reviewed' })
    expect(ticked.checklist[0]).toMatchObject({ tickedBy: 'anna', tickedAtMs: harness.clock.nowMs(), note: 'deposits reviewed' })
    expect(await codeOf(harness.service.tickChecklist({ caseId: record.caseId, expectedVersion: ticked.version, actor: anna, itemId: record.checklist[0]!.itemId }))).toBe('RISK_ERR_CASE_TRANSITION')
    expect(await codeOf(harness.service.tickChecklist({ caseId: record.caseId, expectedVersion: ticked.version, actor: anna, itemId: 'nope' }))).toBe('RISK_ERR_REQUEST_INVALID')
    const closed = await harness.service.close({ caseId: record.caseId, expectedVersion: ticked.version, actor: anna, resolution: 'RESTRICTED', reason: 'account restricted', checklistOverrideReason: 'player unreachable for documents' })
    expect(closed.checklistOverrideReason).toBe('player unreachable for documents')
    const last = (await harness.service.timeline(record.caseId)).at(-1)!
    expect(last.type).toBe('CLOSED')
    expect(JSON.parse(last.details)).toMatchObject({ resolution: 'RESTRICTED', untickedItems: record.checklist.slice(1).map((item) => item.itemId) })
  })

  it('keeps comments and evidence, with ids, authors and clock times; decision evidence feeds the labels', async () => {
    const record = await caseIn(harness.service, 'OPEN', 'p-n')
    harness.clock.advance(5000)
    await harness.service.comment({ caseId: record.caseId, actor: anna, text: 'asked for payslips' })
    const withEvidence = await harness.service.addEvidence({ caseId: record.caseId, actor: ben, kind: 'decision', reference: 'wd-9:1', description: 'the held withdrawal' })
    expect(withEvidence.comments).toEqual([{ commentId: `${record.caseId}/comment-1`, authorId: 'anna', authorRole: 'aml_officer', text: 'asked for payslips', atMs: harness.clock.nowMs() }])
    expect(withEvidence.evidence).toEqual([{ evidenceId: `${record.caseId}/evidence-1`, kind: 'decision', reference: 'wd-9:1', description: 'the held withdrawal', addedBy: 'ben', addedAtMs: harness.clock.nowMs() }])
    expect(withEvidence.decisionIds).toEqual(['wd-9:1'])
    expect(await codeOf(harness.service.addEvidence({ caseId: record.caseId, actor: ben, kind: 'photo' as never, reference: 'x' }))).toBe('RISK_ERR_REQUEST_INVALID')
    // comments are allowed after closing, nothing else is
    await tickAll(harness.service, record.caseId, anna)
    const closed = await harness.service.close({ caseId: record.caseId, expectedVersion: (await harness.service.get(record.caseId)).version, actor: anna, resolution: 'DISMISSED', reason: 'payslips match' })
    expect((await harness.service.comment({ caseId: record.caseId, actor: anna, text: 'player informed' })).version).toBe(closed.version + 1)
  })

  it('answers unknown ids with RISK_ERR_CASE_NOT_FOUND and malformed requests with RISK_ERR_REQUEST_INVALID', async () => {
    expect(await codeOf(harness.service.get('CASE-404'))).toBe('RISK_ERR_CASE_NOT_FOUND')
    expect(await codeOf(harness.service.claim({ caseId: 'CASE-404', expectedVersion: 1, actor: anna }))).toBe('RISK_ERR_CASE_NOT_FOUND')
    expect(await codeOf(harness.service.close({ caseId: 'CASE-404', expectedVersion: 1, actor: anna, resolution: 'DISMISSED', reason: 'x' }))).toBe('RISK_ERR_CASE_NOT_FOUND')
    expect(await codeOf(harness.service.incident('INC-404'))).toBe('RISK_ERR_CASE_NOT_FOUND')
    expect(await codeOf(harness.service.alert('nope'))).toBe('RISK_ERR_CASE_NOT_FOUND')
    const record = await caseIn(harness.service, 'OPEN', 'p-r')
    expect(await codeOf(harness.service.claim({ caseId: record.caseId, expectedVersion: record.version, actor: { id: '', role: 'aml_officer' } }))).toBe('RISK_ERR_REQUEST_INVALID')
    expect(await codeOf(harness.service.claim({ caseId: record.caseId, expectedVersion: 0, actor: anna }))).toBe('RISK_ERR_REQUEST_INVALID')
    expect(await codeOf(harness.service.comment({ caseId: record.caseId, actor: anna, text: '   ' }))).toBe('RISK_ERR_REQUEST_INVALID')
    expect(await codeOf(harness.service.close({ caseId: record.caseId, expectedVersion: record.version, actor: anna, resolution: 'MAYBE' as never, reason: 'x' }))).toBe('RISK_ERR_REQUEST_INVALID')
    expect(await codeOf(harness.service.list({ limit: 0 }))).toBe('RISK_ERR_REQUEST_INVALID')
  })
})

describe('concurrent officers', () => {
  let harness: Harness
  beforeEach(async () => { harness = await openHarness() })
  afterEach(async () => { await harness.cleanup() })

  it('lets exactly one of two simultaneous claims win, 50 times over; the other gets RISK_ERR_CASE_CONFLICT', async () => {
    for (let round = 0; round < 50; round += 1) {
      const { caseId } = await harness.service.ingestAlert(alert({ playerId: `race-${round}` }))
      const { version } = await harness.service.get(caseId)
      const outcomes = await Promise.all([anna, ben].map((actor) => codeOf(harness.service.claim({ caseId, expectedVersion: version, actor }))))
      expect(outcomes.sort()).toEqual(['RISK_ERR_CASE_CONFLICT', 'ok'])
      const record = await harness.service.get(caseId)
      expect(record.version).toBe(version + 1)
      expect(['anna', 'ben']).toContain(record.assigneeId)
      expect((await harness.service.timeline(caseId)).filter((event) => event.type === 'CLAIMED')).toHaveLength(1)
    }
    expect((await harness.service.verifyAuditChain()).ok).toBe(true)
  })

  it('serialises ten officers racing on one case: one claim wins, the rest conflict, the audit chain stays whole', async () => {
    const { caseId } = await harness.service.ingestAlert(alert())
    const { version } = await harness.service.get(caseId)
    const officers = Array.from({ length: 10 }, (_, index) => ({ id: `officer-${index}`, role: 'aml_officer' }))
    const outcomes = await Promise.all(officers.map((actor) => codeOf(harness.service.claim({ caseId, expectedVersion: version, actor }))))
    expect(outcomes.filter((outcome) => outcome === 'ok')).toHaveLength(1)
    expect(outcomes.filter((outcome) => outcome === 'RISK_ERR_CASE_CONFLICT')).toHaveLength(9)
  })

  it('gives a conflict, not a lost update, when an alert changed the case under an officer', async () => {
    const { caseId } = await harness.service.ingestAlert(alert({ atMs: 0 }))
    const read = await harness.service.get(caseId)
    await harness.service.ingestAlert(alert({ atMs: 1000 }))
    const error = await harness.service.claim({ caseId, expectedVersion: read.version, actor: anna }).then(() => null, (caught: unknown) => caught)
    expect(isRiskError(error, 'RISK_ERR_CASE_CONFLICT')).toBe(true)
    expect((error as Error).message).toMatch(/at version 2, not 1/)
  })

  it('closes a case while its player\'s alerts pour in: every alert lands in the closed case or the next one, never lost', async () => {
    const { caseId } = await harness.service.ingestAlert(alert({ atMs: 0 }))
    const read = await harness.service.get(caseId)
    const storm = Array.from({ length: 30 }, (_, index) => alert({ atMs: (index + 1) * 1000 }))
    const [closeOutcome, ...filed] = await Promise.all([
      codeOf(harness.service.close({ caseId, expectedVersion: read.version, actor: anna, resolution: 'DISMISSED', reason: 'x', checklistOverrideReason: 'race test' })),
      ...storm.map((input) => harness.service.ingestAlert(input)),
    ])
    const cases = await harness.service.list({ playerId: 'p-1' })
    const totalAlerts = cases.reduce((sum, record) => sum + record.alertCount, 0)
    expect(totalAlerts).toBe(31)
    expect(cases.filter((record) => record.status !== 'CLOSED').length).toBeLessThanOrEqual(1)
    // the close wins its lock before or after some alerts (a conflict when one changed the case first)
    expect(['ok', 'RISK_ERR_CASE_CONFLICT']).toContain(closeOutcome)
    const closedCase = await harness.service.get(caseId)
    const intoClosed = filed.filter((result) => typeof result === 'object' && result.caseId === caseId).length
    expect(closedCase.alertCount).toBe(1 + intoClosed)
    if (closeOutcome === 'ok') expect(closedCase.status).toBe('CLOSED')
    expect((await harness.service.verifyAuditChain()).ok).toBe(true)
  })
})
