/**
 * The read model on a real ClickHouse (Debian's 18.16, own process for this file), filled through
 * the sink's row adapters, and the player and cluster routes over it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClickHouseReadModel, parseReason, type ReadModel } from '../../api/read-model.js'
import { createCaseService, type CaseService } from '../../cases/case-service.js'
import { useLocalClickHouse } from '../sinks/clickhouse/local-server.js'
import { bearer, buildOperationsParts, buildTestApp, tokenFor, type TestApp } from './helpers.js'
import { PLAYER, T_MS, seedOperations } from './operations-data.js'

const server = useLocalClickHouse()
let readModel: ReadModel
let test: TestApp
let cases: CaseService

beforeAll(async () => {
  const clickhouse = server.connect('api_read_model')
  await seedOperations(clickhouse, 'api_read_model')
  readModel = createClickHouseReadModel(clickhouse)
  test = await buildTestApp()
  cases = await createCaseService({ directory: `${test.directory}/officer-cases`, clock: test.clock })
  await test.app.close()
  test = await buildTestApp({ operations: buildOperationsParts(cases, readModel) })
})
afterAll(async () => {
  await test?.close()
  await cases?.shutdown()
})

const officer = bearer(tokenFor(['aml_officer'], 'anna'))

describe('createClickHouseReadModel', () => {
  it('reads a withdrawal: revisions with parsed reasons, executions, champion and shadow scores, transitions', async () => {
    const history = await readModel.withdrawal('wd-7')
    expect(history?.playerId).toBe(PLAYER)
    expect(history?.revisions.map((revision) => [revision.revision, revision.outcome, revision.review?.reviewerId ?? null])).toEqual([[1, 'REVIEW', null], [2, 'APPROVE', 'anna']])
    const first = history?.revisions[0]
    expect(first?.reasons[0]).toEqual({ code: 'RULE_HIT', detectorId: 'deposit_withdraw_no_play', detail: expect.stringContaining('wager ratio') })
    expect(first?.executions.map((execution) => [execution.detectorId, execution.status, execution.value, execution.detail])).toEqual([
      ['deposit_withdraw_no_play', 'hit', 0.4, 'wagered 20000 of 49500 deposited'],
      ['withdrawal_velocity', 'no_hit', 1, null],
      ['shared_instrument', 'error', null, 'cluster table not ready'],
    ])
    expect(first?.models.map((model) => [model.role, model.modelId, model.score])).toEqual([['champion', 'withdrawal-risk-gbt', 0.8125], ['shadow', 'withdrawal-burst-xgb', 0.64]])
    expect(first?.models[0]?.contributions[0]).toEqual({ feature: 'wager_to_deposit_ratio_24h', contribution: 0.3125 })
    expect(history?.revisions[1]).toMatchObject({ compositeScore: null, hardStop: null, review: { reviewerId: 'anna', caseId: 'CASE-1', reasonCode: 'DOCUMENTS_VERIFIED', eventId: 'review:wd-7:request:r1' }, models: [], executions: [] })
    expect(first?.compositeScore).toBeTypeOf('number')
    expect(history?.transitions.map((step) => `${step.fromState}->${step.toState}`)).toEqual(['NONE->PENDING', 'PENDING->RISK_SCORING', 'RISK_SCORING->AWAITING_REVIEW', 'AWAITING_REVIEW->APPROVED'])
    expect(history?.transitions[0]?.detail).toBeNull()
    expect(await readModel.withdrawal('wd-unknown')).toBeNull()
  })

  it("falls back to the decision row's executions when its rule_executions rows are missing", async () => {
    const pending = await readModel.withdrawal('wd-8')
    expect(pending?.revisions[0]?.executions.map((execution) => [execution.detectorId, execution.detectorVersion, execution.detail])).toEqual([])
    expect(pending?.revisions[0]?.models).toEqual([])
  })

  it('parses reasons as the sink writes them, and keeps odd text whole', () => {
    expect(parseReason('MODEL_SCORE_HIGH: score 0.81 >= 0.70')).toEqual({ code: 'MODEL_SCORE_HIGH', detectorId: null, detail: 'score 0.81 >= 0.70' })
    expect(parseReason('free text')).toEqual({ code: '', detectorId: null, detail: 'free text' })
  })

  it('pages a player\'s decisions newest first with an exclusive `before`', async () => {
    const all = await readModel.playerDecisions(PLAYER, { limit: 10 })
    expect(all.map((record) => record.decisionId)).toEqual(['wd-8:1', 'wd-7:2', 'wd-7:1'])
    const older = await readModel.playerDecisions(PLAYER, { limit: 10, beforeMs: T_MS + 60_000 })
    expect(older.map((record) => record.decisionId)).toEqual(['wd-7:1'])
  })

  it('merges events, decisions, alerts and transitions by event time, newest first, within the range and limit', async () => {
    const entries = await readModel.playerTimeline(PLAYER, { limit: 100 })
    expect(entries.map((entry) => `${entry.atMs - T_MS} ${entry.kind} ${entry.id}`)).toEqual([
      '120000 decision wd-8:1',
      '60000 transition wd-7:4',
      '60000 decision wd-7:2',
      '0 transition wd-7:3',
      '0 transition wd-7:2',
      '0 transition wd-7:1',
      '0 decision wd-7:1',
      '-5000 alert deposit_structuring@1:dep-evt-1',
      '-10000 event dep-evt-1',
    ])
    expect(entries.find((entry) => entry.kind === 'event')?.summary).toBe('deposit COMPLETED 495.00 EUR')
    expect(entries.find((entry) => entry.kind === 'decision' && entry.id === 'wd-7:1')?.summary).toBe('REVIEW withdrawal wd-7 (revision 1) 850.00 EUR: RULE_HIT')
    const window = await readModel.playerTimeline(PLAYER, { fromMs: T_MS - 5_000, toMs: T_MS + 60_000, limit: 3 })
    expect(window.map((entry) => entry.id)).toEqual(['wd-7:3', 'wd-7:2', 'wd-7:1'])
  })

  it('filters alerts by player and detector', async () => {
    expect((await readModel.alerts({ limit: 10 })).map((alert) => alert.playerId).sort()).toEqual(['p-7', 'p-other'])
    expect((await readModel.alerts({ playerId: PLAYER, limit: 10 })).map((alert) => alert.alertId)).toEqual(['deposit_structuring@1:dep-evt-1'])
    expect(await readModel.alerts({ detectorId: 'rare_method', playerId: PLAYER, limit: 10 })).toEqual([])
  })

  it('draws a cluster from each player\'s latest record: players, shared identifiers, player–identifier edges', async () => {
    const graph = await readModel.cluster('cmp:p-7')
    expect(graph?.nodes.map((node) => node.id)).toEqual(['player:p-7', 'player:p-9', 'identifier:device:fp:9a1c77', 'identifier:ip_block:203.0.113.0/24'])
    expect(graph?.nodes[0]).toEqual({ id: 'player:p-7', kind: 'player', label: 'p-7', risk: 0.5, typologies: ['MULTI_ACCOUNT_FARM'], communityId: 'com:p-1001' })
    expect(graph?.nodes[2]).toEqual({ id: 'identifier:device:fp:9a1c77', kind: 'identifier', label: 'fp:9a1c77', identifierType: 'device' })
    expect(graph?.edges).toEqual([
      { source: 'player:p-7', target: 'identifier:device:fp:9a1c77', kind: 'device' },
      { source: 'player:p-9', target: 'identifier:device:fp:9a1c77', kind: 'device' },
      { source: 'player:p-9', target: 'identifier:ip_block:203.0.113.0/24', kind: 'ip_block' },
    ])
    expect(graph?.truncated).toBe(false)
    expect(await readModel.cluster('cmp:nobody')).toBeNull()
  })
})

describe('player, alert and cluster routes', () => {
  it('answers the timeline and decisions, and audits each read of player data', async () => {
    const timeline = await test.app.inject({ url: `/players/${PLAYER}/timeline?limit=2`, headers: officer })
    expect(timeline.statusCode).toBe(200)
    expect(timeline.json().entries.map((entry: { id: string }) => entry.id)).toEqual(['wd-8:1', 'wd-7:4'])
    const decisions = await test.app.inject({ url: `/players/${PLAYER}/decisions?limit=2`, headers: bearer(tokenFor(['regulator_read'], 'reg')) })
    expect(decisions.json()).toMatchObject({ playerId: PLAYER, nextBefore: T_MS + 60_000 })
    const bad = await test.app.inject({ url: `/players/${PLAYER}/timeline?fromMs=5&toMs=5`, headers: officer })
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'RISK_ERR_REQUEST_INVALID'])
    const { readFileSync } = await import('node:fs')
    const entries = readFileSync(test.audit.path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string; entity: { id: string }; actor: { subject: string } })
    expect(entries.map((entry) => [entry.action, entry.entity.id, entry.actor.subject])).toEqual([['player.read', PLAYER, 'anna'], ['player.read', PLAYER, 'reg']])
  })

  it('lists alerts for officers only', async () => {
    const response = await test.app.inject({ url: `/alerts?playerId=${PLAYER}`, headers: officer })
    expect(response.json().alerts).toHaveLength(1)
    expect((await test.app.inject({ url: '/alerts', headers: bearer(tokenFor(['regulator_read'])) })).statusCode).toBe(403)
  })

  it('answers a cluster graph, 404 for an empty one', async () => {
    const response = await test.app.inject({ url: `/clusters/${encodeURIComponent('cmp:p-7')}`, headers: officer })
    expect(response.statusCode).toBe(200)
    expect(response.json().edges).toHaveLength(3)
    const missing = await test.app.inject({ url: '/clusters/cmp:none', headers: officer })
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'RISK_ERR_NOT_FOUND'])
  })
})
