/**
 * POST /players/:playerId/screening-verdicts on a real CaseService (RocksDB in a temp folder) and
 * the audit log; instructions are collected by the test's publishScreening. The engine's side of
 * the verdict is tested in test/detectors/sanctions-match.test.ts and end to end in
 * test/integration/rescreen.test.ts.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCaseService, type CaseService } from '../../../cases/case-service.js'
import { ManualClock } from '../../../core/clock.js'
import { RiskError } from '../../../core/errors.js'
import { toInputEvent } from '../../../schemas/adapters.js'
import type { ScreeningInstruction } from '../../../schemas/generated/types.js'
import { bearer, buildOperationsParts, buildTestApp, START_MS, tokenFor, type TestApp } from '../helpers.js'

let test: TestApp
let cases: CaseService
let casesDirectory: string
let caseId: string
let failNext = false
const published: ScreeningInstruction[] = []
const anna = bearer(tokenFor(['aml_officer'], 'anna'))
const olga = bearer(tokenFor(['compliance_officer'], 'olga'))

beforeAll(async () => {
  casesDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-screening-verdicts-'))
  cases = await createCaseService({ directory: casesDirectory, clock: new ManualClock(START_MS) })
  ;({ caseId } = await cases.ingestAlert({ alertId: 'sanctions_potential_match@2:pl:p-7:1', playerId: 'p-7', detectorId: 'sanctions_potential_match', detectorVersion: 2, severity: 'HIGH', action: 'hold_for_review', eventTimeMs: START_MS - 1000, value: 0.91, threshold: 0.84, windowStartMs: null, windowEndMs: null, evidenceEventIds: ['pl:p-7:1'], ruleSetVersion: 'rs-1' }))
  const publishScreening = async (instruction: ScreeningInstruction): Promise<void> => {
    if (failNext) {
      failNext = false
      throw new RiskError('RISK_ERR_KAFKA_PRODUCE', 'broker down (test)')
    }
    published.push(instruction)
  }
  test = await buildTestApp({ operations: { ...buildOperationsParts(cases), publishScreening } })
})
afterAll(async () => {
  await test?.close()
  await cases?.shutdown()
  fs.rmSync(casesDirectory, { recursive: true, force: true })
})

const post = (playerId: string, payload: Record<string, unknown>, headers = anna) => test.app.inject({ method: 'POST', url: `/players/${playerId}/screening-verdicts`, headers, payload })

describe('POST /players/:playerId/screening-verdicts', () => {
  it('publishes a FALSE_MATCH with a deterministic eventId, 202, the same eventId on a retry, and audits it', async () => {
    const body = { listId: 'ofac-sdn', entryId: '7843', verdict: 'FALSE_MATCH', caseId, note: 'passport checked', requestId: 'press-1' }
    const first = await post('p-7', body)
    const retry = await post('p-7', body)
    expect([first.statusCode, retry.statusCode]).toEqual([202, 202])
    expect(first.json()).toEqual({ eventId: 'screening-verdict:p-7:request:press-1', playerId: 'p-7', listId: 'ofac-sdn', entryId: '7843', verdict: 'FALSE_MATCH' })
    const expected: ScreeningInstruction = { eventId: 'screening-verdict:p-7:request:press-1', playerId: 'p-7', eventTimeMs: START_MS, type: 'FALSE_MATCH', listVersion: null, listId: 'ofac-sdn', entryId: '7843', officerId: 'anna', caseId, note: 'passport checked' }
    expect(published.slice(-2)).toEqual([expected, expected])
    // what the engine will read: the adapter takes it as a screening event
    expect(toInputEvent('screening', expected)).toMatchObject({ ok: true, event: { kind: 'screening', type: 'FALSE_MATCH' } })
    const entries = fs.readFileSync(test.audit.path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string; entity: { type: string; id: string }; actor: { subject: string }; after?: ScreeningInstruction })
    const audited = entries.filter((entry) => entry.action === 'player.screening-verdict')
    expect(audited).toHaveLength(2)
    expect(audited[0]).toMatchObject({ entity: { type: 'player', id: 'p-7' }, actor: { subject: 'anna' }, after: { type: 'FALSE_MATCH', listId: 'ofac-sdn', entryId: '7843' } })
  })

  it('takes a TRUE_MATCH from a compliance officer, without a case', async () => {
    const response = await post('p-9', { listId: 'un-consolidated', entryId: '6908048', verdict: 'TRUE_MATCH', requestId: 'r-2' }, olga)
    expect(response.statusCode).toBe(202)
    expect(published.at(-1)).toMatchObject({ playerId: 'p-9', type: 'TRUE_MATCH', officerId: 'olga', caseId: null, note: null })
  })

  const refusals = [
    { name: 'a verdict other than FALSE_MATCH / TRUE_MATCH', playerId: 'p-7', body: { listId: 'l', entryId: 'e', verdict: 'RESCREEN', requestId: 'r' }, headers: anna, status: 400, code: 'RISK_ERR_REQUEST_INVALID' },
    { name: 'no requestId', playerId: 'p-7', body: { listId: 'l', entryId: 'e', verdict: 'FALSE_MATCH' }, headers: anna, status: 400, code: 'RISK_ERR_REQUEST_INVALID' },
    { name: 'no entryId', playerId: 'p-7', body: { listId: 'l', verdict: 'FALSE_MATCH', requestId: 'r' }, headers: anna, status: 400, code: 'RISK_ERR_REQUEST_INVALID' },
    { name: 'an unknown field', playerId: 'p-7', body: { listId: 'l', entryId: 'e', verdict: 'FALSE_MATCH', requestId: 'r', entryVersion: 'x' }, headers: anna, status: 400, code: 'RISK_ERR_REQUEST_INVALID' },
    { name: 'a case about another player', playerId: 'p-other', body: { listId: 'l', entryId: 'e', verdict: 'FALSE_MATCH', requestId: 'r', caseId: 'CASE-LATER' }, headers: anna, status: 400, code: 'RISK_ERR_REQUEST_INVALID' },
    { name: 'an unknown case', playerId: 'p-7', body: { listId: 'l', entryId: 'e', verdict: 'FALSE_MATCH', requestId: 'r', caseId: 'CASE-99999999' }, headers: anna, status: 404, code: 'RISK_ERR_CASE_NOT_FOUND' },
    { name: 'a caller who is not an officer', playerId: 'p-7', body: { listId: 'l', entryId: 'e', verdict: 'FALSE_MATCH', requestId: 'r' }, headers: bearer(tokenFor(['regulator_read'])), status: 403, code: undefined },
  ] as const
  for (const refusal of refusals) {
    it(`refuses ${refusal.name} (${refusal.status}) and publishes nothing`, async () => {
      const before = published.length
      const body: Record<string, unknown> = 'caseId' in refusal.body && refusal.body.caseId === 'CASE-LATER' ? { ...refusal.body, caseId } : refusal.body
      const response = await post(refusal.playerId, body, refusal.headers)
      expect(response.statusCode).toBe(refusal.status)
      if (refusal.code !== undefined) expect(response.json().error.code).toBe(refusal.code)
      expect(published.length).toBe(before)
    })
  }

  it('answers a failed produce with its coded error, not 202, and records no audit entry for it', async () => {
    const audited = (): number => fs.readFileSync(test.audit.path, 'utf8').split('\n').filter((line) => line.includes('player.screening-verdict')).length
    const before = audited()
    failNext = true
    const response = await post('p-7', { listId: 'ofac-sdn', entryId: '1', verdict: 'FALSE_MATCH', requestId: 'down' })
    expect(response.statusCode).toBeGreaterThanOrEqual(500)
    expect(response.json().error.code).toBe('RISK_ERR_KAFKA_PRODUCE')
    expect(audited()).toBe(before)
  })

  it('is not registered without a publisher', async () => {
    const bare = await buildTestApp({ operations: buildOperationsParts(cases) })
    try {
      expect((await bare.app.inject({ method: 'POST', url: '/players/p-7/screening-verdicts', headers: anna, payload: {} })).statusCode).toBe(404)
    } finally {
      await bare.close()
    }
  })
})
