/**
 * GET /decisions/:withdrawalId and POST /withdrawals/:withdrawalId/review on a real ClickHouse
 * (own process) and a real CaseService; verdicts are collected by the test's publishReview.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseReadModel } from '../../../api/read-model.js'
import { createCaseService, type CaseService } from '../../../cases/case-service.js'
import { ManualClock } from '../../../core/clock.js'
import { useLocalClickHouse } from '../../sinks/clickhouse/local-server.js'
import { bearer, buildOperationsParts, buildTestApp, START_MS, tokenFor, type TestApp } from '../helpers.js'
import { PLAYER, seedOperations } from '../operations-data.js'

const server = useLocalClickHouse()
let test: TestApp
let cases: CaseService
let casesDirectory: string
let operations: ReturnType<typeof buildOperationsParts>
const anna = bearer(tokenFor(['aml_officer'], 'anna'))

beforeAll(async () => {
  const clickhouse = server.connect('api_decisions')
  await seedOperations(clickhouse, 'api_decisions')
  casesDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-decision-routes-'))
  cases = await createCaseService({ directory: casesDirectory, clock: new ManualClock(START_MS) })
  operations = buildOperationsParts(cases, createClickHouseReadModel(clickhouse))
  test = await buildTestApp({ operations })
})
afterAll(async () => {
  await test?.close()
  await cases?.shutdown()
  fs.rmSync(casesDirectory, { recursive: true, force: true })
})

const review = (withdrawalId: string, payload: Record<string, unknown>) => test.app.inject({ method: 'POST', url: `/withdrawals/${withdrawalId}/review`, headers: anna, payload })

describe('decision routes', () => {
  it('answers every revision with executions, scores and transitions to officers and regulators; 404 when none', async () => {
    const response = await test.app.inject({ url: '/decisions/wd-7', headers: bearer(tokenFor(['regulator_read'], 'reg')) })
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body.revisions.map((revision: { decisionId: string }) => revision.decisionId)).toEqual(['wd-7:1', 'wd-7:2'])
    expect(body.revisions[0].executions).toHaveLength(3)
    expect(body.revisions[0].models.map((model: { role: string }) => model.role)).toEqual(['champion', 'shadow'])
    expect(body.transitions).toHaveLength(4)
    const missing = await test.app.inject({ url: '/decisions/wd-none', headers: anna })
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'RISK_ERR_NOT_FOUND'])
    expect((await test.app.inject({ url: '/decisions/wd-7', headers: bearer(tokenFor(['data_scientist'])) })).statusCode).toBe(403)
  })

  it('publishes a verdict with a deterministic eventId, answers 202, and a retried POST gives the same eventId', async () => {
    const body = { playerId: PLAYER, verdict: 'DECLINE', reasonCode: 'SOURCE_OF_FUNDS_UNEXPLAINED', note: 'no payslips', requestId: 'press-1' }
    const first = await review('wd-8', body)
    const retry = await review('wd-8', body)
    expect([first.statusCode, retry.statusCode]).toEqual([202, 202])
    expect(first.json()).toEqual({ eventId: 'review:wd-8:request:press-1', withdrawalId: 'wd-8', verdict: 'DECLINE' })
    expect(retry.json().eventId).toBe(first.json().eventId)
    expect(operations.published.at(-1)).toEqual({ eventId: 'review:wd-8:request:press-1', playerId: PLAYER, eventTimeMs: START_MS, withdrawalId: 'wd-8', verdict: 'DECLINE', reviewerId: 'anna', caseId: null, reasonCode: 'SOURCE_OF_FUNDS_UNEXPLAINED', note: 'no payslips' })
  })

  it('refuses a verdict on a decided withdrawal (409), another player (400), an unknown one (404), a non-officer (403)', async () => {
    const decided = await review('wd-7', { playerId: PLAYER, verdict: 'APPROVE', reasonCode: 'DOCUMENTS_VERIFIED' })
    expect([decided.statusCode, decided.json().error.code]).toEqual([409, 'RISK_ERR_WITHDRAWAL_TRANSITION'])
    // The revision that came from this very eventId: the retry of an applied verdict is still 202.
    const applied = await review('wd-7', { playerId: PLAYER, verdict: 'APPROVE', reasonCode: 'DOCUMENTS_VERIFIED', requestId: 'r1' })
    expect(applied.statusCode).toBe(202)
    expect((await review('wd-8', { playerId: 'p-other', verdict: 'APPROVE', reasonCode: 'OK' })).statusCode).toBe(400)
    expect((await review('wd-none', { playerId: PLAYER, verdict: 'APPROVE', reasonCode: 'OK' })).statusCode).toBe(404)
    expect((await review('wd-8', { playerId: PLAYER, verdict: 'MAYBE', reasonCode: 'OK' })).statusCode).toBe(400)
    const regulator = await test.app.inject({ method: 'POST', url: '/withdrawals/wd-8/review', headers: bearer(tokenFor(['regulator_read'])), payload: { playerId: PLAYER, verdict: 'APPROVE', reasonCode: 'OK' } })
    expect(regulator.statusCode).toBe(403)
  })
})
