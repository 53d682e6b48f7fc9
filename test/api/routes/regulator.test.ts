/**
 * The regulator's routes on a real ClickHouse (one server for the file) and the real case
 * service: period reports in JSON, CSV and XML (checked well-formed by xmllint), paged logs,
 * a player's record, the audit history with diffs, and the sandbox twins.
 */
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RegulatorReport } from '../../../api/regulator-reports.js'
import { bearer, tokenFor } from '../helpers.js'
import { useLocalClickHouse } from '../../sinks/clickhouse/local-server.js'
import { buildStrTestApp, PLAYER, seedStrData, type StrTestApp } from '../str-data.js'

const server = useLocalClickHouse()
const DATABASE = 'api_regulator'
let test: StrTestApp
const regulator = bearer(tokenFor(['regulator_read'], 'fiu-reader'))

beforeAll(async () => {
  const clickhouse = server.connect(DATABASE)
  await seedStrData(clickhouse, DATABASE)
  test = await buildStrTestApp(clickhouse)
})
afterAll(async () => test?.close())

const get = (url: string, headers = regulator) => test.app.inject({ method: 'GET', url, headers })

/** xmllint --noout on stdin: throws when the document is not well-formed. */
const assertWellFormed = (xml: string): void => { execFileSync('xmllint', ['--noout', '--nonet', '-'], { input: xml }) }

describe('GET /regulator/reports/:period', () => {
  it('counts decisions by outcome with sums, alerts by detector, cases and dead letters for the UTC day', async () => {
    const response = await get('/regulator/reports/daily?date=2025-01-15')
    expect(response.statusCode, response.body).toBe(200)
    const report = response.json<RegulatorReport>()
    expect(report).toMatchObject({ period: 'daily', from: '2025-01-15T00:00:00.000Z', to: '2025-01-16T00:00:00.000Z' })
    expect(report.decisions).toEqual([{ outcome: 'APPROVE', currency: 'EUR', count: 1, amountMinor: '10000' }, { outcome: 'REVIEW', currency: 'EUR', count: 1, amountMinor: '740000' }])
    expect(report.alerts).toEqual([{ detectorId: 'deposit_structuring', count: 1 }, { detectorId: 'withdrawal_velocity', count: 1 }])
    expect(report.cases).toEqual({ opened: 1, closed: [] })
    expect(report.deadLetters).toEqual([{ reason: 'RISK_ERR_DECODE_MAGIC_BYTE', count: 1 }])
    const nextDay = (await get('/regulator/reports/daily?date=2025-01-16')).json<RegulatorReport>()
    expect([nextDay.decisions, nextDay.alerts, nextDay.cases.opened]).toEqual([[], [], 0])
    expect((await get('/regulator/reports/weekly?date=2025-01-19')).json<RegulatorReport>().from).toBe('2025-01-13T00:00:00.000Z')
  })

  it('answers CSV with a header and quoting, and well-formed XML', async () => {
    const csv = await get('/regulator/reports/monthly?date=2025-01-31&format=csv')
    expect(csv.headers['content-type']).toContain('text/csv')
    const lines = csv.body.split('\r\n')
    expect(lines[0]).toBe('period,from,to,section,key,currency,count,amount_minor')
    expect(lines).toContain('monthly,2025-01-01T00:00:00.000Z,2025-02-01T00:00:00.000Z,decisions,REVIEW,EUR,1,740000')
    const xml = await get('/regulator/reports/monthly?date=2025-01-31&format=xml')
    expect(xml.headers['content-type']).toContain('application/xml')
    assertWellFormed(xml.body)
    expect(xml.body).toContain('<amount_minor>740000</amount_minor>')
  })

  it('times each real report in pitboss_report_generation_seconds by kind; the sandbox\'s are not timed', async () => {
    const reportsOf = async (kind: string): Promise<number> => {
      const metrics = (await test.app.inject({ method: 'GET', url: '/metrics' })).body
      return Number(new RegExp(`^pitboss_report_generation_seconds_count\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0)
    }
    const [daily, weekly] = [await reportsOf('regulator_daily'), await reportsOf('regulator_weekly')]
    expect((await get('/regulator/reports/daily?date=2025-01-15&format=xml')).statusCode).toBe(200)
    expect((await get('/regulator/reports/daily?date=2025-01-15&format=csv')).statusCode).toBe(200)
    expect((await get('/sandbox/regulator/reports/weekly')).statusCode).toBe(200)
    expect([await reportsOf('regulator_daily'), await reportsOf('regulator_weekly')]).toEqual([daily + 2, weekly])
  })

  it('refuses an impossible date (400) and other roles (403)', async () => {
    expect((await get('/regulator/reports/daily?date=2025-02-30')).statusCode).toBe(400)
    expect((await get('/regulator/reports/daily', bearer(tokenFor(['aml_officer'])))).statusCode).toBe(403)
  })
})

describe('GET /regulator/logs/:type, /player/:playerId, /audit', () => {
  it('pages a log oldest first and renders CSV with quoted fields', async () => {
    const first = (await get(`/regulator/logs/withdrawal-events?playerId=${PLAYER}&limit=1`)).json()
    expect(first.items.map((row: { transition_id: string }) => row.transition_id)).toEqual(['wd-1:1'])
    expect(first.nextOffset).toBe(1)
    const csv = (await get(`/regulator/logs/withdrawal-events?playerId=${PLAYER}&offset=1&format=csv`)).body
    expect(csv).toContain('"REVIEW, ""held"", <funds>"')
    assertWellFormed((await get('/regulator/logs/decisions?format=xml')).body)
    expect((await get('/regulator/logs/dead-letters')).json().items[0].reason).toBe('RISK_ERR_DECODE_MAGIC_BYTE')
  })

  it('shows a player\'s KYC record, decisions and cases, 404 for an unknown one', async () => {
    const view = (await get(`/regulator/player/${PLAYER}`)).json()
    expect(view.kyc).toMatchObject({ firstName: 'José', lastName: 'Müller', kycStatus: 'VERIFIED', kycLevel: 2, changes: 2 })
    expect(view.decisions.map((row: { decision_id: string }) => row.decision_id)).toEqual(['wd-9:1', 'wd-1:1'])
    expect(view.cases.map((record: { caseId: string }) => record.caseId)).toEqual([test.caseId])
    expect((await get('/regulator/player/p-unknown')).statusCode).toBe(404)
  })

  it('lists the audit history of an entity with before/after diffs, and audits the regulator\'s own reads', async () => {
    await test.audit.append({ actor: { subject: 'anna', roles: ['aml_officer'] }, action: 'case.claim', entity: { type: 'case', id: test.caseId }, before: { status: 'OPEN', assigneeId: null }, after: { status: 'IN_REVIEW', assigneeId: 'anna' } })
    const history = (await get(`/regulator/audit?entity=case&id=${test.caseId}`)).json()
    expect(history.entries.map((entry: { action: string }) => entry.action)).toEqual(['case.claim'])
    expect(history.entries[0].diff).toEqual([{ path: 'assigneeId', before: null, after: 'anna' }, { path: 'status', before: 'OPEN', after: 'IN_REVIEW' }])
    const reads = (await get(`/regulator/audit?entity=player&id=${PLAYER}`)).json()
    expect(reads.entries.map((entry: { action: string; actor: { subject: string } }) => [entry.action, entry.actor.subject])).toContainEqual(['player.read', 'fiu-reader'])
  })
})

describe('/sandbox/regulator', () => {
  it('answers the same formats from the synthetic dataset, escaped', async () => {
    const report = (await get('/sandbox/regulator/reports/weekly')).json<RegulatorReport>()
    expect(report.decisions).toEqual([{ outcome: 'APPROVE', currency: 'EUR', count: 1, amountMinor: '25000' }, { outcome: 'APPROVE', currency: 'JPY', count: 1, amountMinor: '1500000' }, { outcome: 'DECLINE', currency: 'EUR', count: 1, amountMinor: '740000' }, { outcome: 'REVIEW', currency: 'EUR', count: 1, amountMinor: '740000' }])
    const csv = (await get('/sandbox/regulator/logs/decisions?format=csv')).body
    expect(csv).toContain('"RULE_HIT (deposit_structuring): 4 deposits of 1950.00, 1990.00, 1980.00 & 1995.00 EUR < 2000.00 ""threshold"""')
    for (const url of ['/sandbox/regulator/reports/daily?format=xml', '/sandbox/regulator/logs/decisions?format=xml', '/sandbox/regulator/player/sbx-player-2?format=xml', '/sandbox/regulator/audit?entity=case&id=CASE-SBX-0001&format=xml']) {
      const response = await get(url)
      expect(response.statusCode, url).toBe(200)
      assertWellFormed(response.body)
    }
    expect((await get('/sandbox/regulator/player/sbx-player-2?format=xml')).body).toContain("<last_name>O&apos;Neil-Smith</last_name>")
  })
})
