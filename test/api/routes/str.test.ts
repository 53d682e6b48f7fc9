/**
 * The STR routes on a real ClickHouse (one server for the file), the real case service and real
 * xmllint: draft from a case, edit with optimistic revisions, approve (MLRO only), export a file
 * that validates against the goAML XSD, and a broken STR refused with the schema's errors.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StrDraftRecord } from '../../../api/str-store.js'
import type { ClickHouse } from '../../../sinks/clickhouse/client.js'
import type { StrDraft, StrProblem } from '../../../sinks/str/draft.js'
import { validateXml } from '../../../sinks/str/validate.js'
import { subject as completeSubject } from '../../sinks/str/fixtures.js'
import { useLocalClickHouse } from '../../sinks/clickhouse/local-server.js'
import { bearer, tokenFor } from '../helpers.js'
import { buildStrTestApp, PLAYER, seedStrData, type StrTestApp } from '../str-data.js'

const server = useLocalClickHouse()
const DATABASE = 'api_str'
let clickhouse: ClickHouse
let test: StrTestApp

const officer = bearer(tokenFor(['aml_officer'], 'anna'))
const mlro = bearer(tokenFor(['compliance_officer'], 'mlro-max'))

type DraftBody = StrDraftRecord & { problems: StrProblem[] }

beforeAll(async () => {
  clickhouse = server.connect(DATABASE)
  await seedStrData(clickhouse, DATABASE)
  test = await buildStrTestApp(clickhouse)
})
afterAll(async () => test?.close())

async function draftFromCase(): Promise<DraftBody> {
  const response = await test.app.inject({ method: 'POST', url: `/cases/${test.caseId}/str`, headers: officer, payload: { officerNotes: 'Player could not explain the "source" of funds & stopped replying.' } })
  expect(response.statusCode, response.body).toBe(201)
  return response.json<DraftBody>()
}

async function edit(draftId: string, expectedRevision: number, patch: Partial<StrDraft>, headers = officer) {
  return test.app.inject({ method: 'PATCH', url: `/str/${draftId}`, headers, payload: { expectedRevision, patch } })
}

/** The subject completed by the officer: the player's id with the fixture's documents and nationality. */
const completed = (draft: StrDraft) => ({ ...completeSubject, playerId: draft.subject.playerId, firstName: draft.subject.firstName, lastName: draft.subject.lastName, originalName: draft.subject.originalName, instruments: draft.subject.instruments })

describe('POST /cases/:caseId/str', () => {
  it('drafts from the case: KYC subject, transactions in scope, indicators and a narrative from the decisions', async () => {
    const { draft, problems } = await draftFromCase()
    expect(draft).toMatchObject({ draftId: `str-${test.caseId}-1`, caseId: test.caseId, revision: 1, status: 'draft', localCurrency: 'EUR' })
    expect(draft.subject).toMatchObject({ playerId: PLAYER, firstName: 'Jose', lastName: 'Muller', originalName: 'José Müller', dateOfBirth: '1990-02-14', residenceCountryCode: 'MT' })
    // dep-2 once (first time, latest status), both transfers with the counterparty named, the withdrawal; not the 40-day-old deposit.
    expect(draft.transactions.map((transaction) => [transaction.transactionId, transaction.kind, transaction.status])).toEqual([
      ['dep-1', 'deposit', 'COMPLETED'], ['dep-2', 'deposit', 'CHARGEBACK'], ['tr-1', 'transfer_out', 'P2P'], ['tr-2', 'transfer_in', 'TIP'], ['wd-1', 'withdrawal', 'REQUESTED'],
    ])
    expect(draft.transactions[2]?.counterparty).toEqual({ playerId: 'p-2', firstName: 'Anna', lastName: 'Borg', countryCode: 'MT' })
    expect(draft.indicators.map((indicator) => indicator.code)).toEqual(['CTRGB', 'ML002', 'LOWBL', 'FRQDW'])
    expect(draft.narrative).toContain('Decision wd-1:1 on withdrawal wd-1 of 7400.00 EUR')
    expect(draft.narrative).toContain('deposit_structuring@1 value 4 against threshold 3')
    expect(draft.narrative).toContain('top contributions: wager_to_deposit_ratio_24h +0.313')
    expect(draft.narrative).toContain('Officer\'s notes: Player could not explain')
    // What the players topic does not carry is left for the officer.
    expect(problems.map((problem) => problem.path)).toEqual(['subject.nationalityCountryCode', 'subject.identifications'])
    expect(fs.existsSync(path.join(test.governance.str.draftsDir, `${draft.draftId}.json`))).toBe(true)
  })

  it('answers 404 for an unknown case and 400 for a player outside the case', async () => {
    expect((await test.app.inject({ method: 'POST', url: '/cases/CASE-nope/str', headers: officer, payload: {} })).statusCode).toBe(404)
    const outside = await test.app.inject({ method: 'POST', url: `/cases/${test.caseId}/str`, headers: officer, payload: { playerId: 'p-2' } })
    expect(outside.statusCode).toBe(400)
    expect(outside.json().error.message).toContain('is not in case')
  })
})

describe('edit, approve, export', () => {
  it('edits with the revision read (409 when stale), approves as the MLRO only, exports a file that validates, then refuses edits', async () => {
    const { draft } = await draftFromCase()
    const stale = await edit(draft.draftId, 7, { narrative: 'x' })
    expect(stale.statusCode).toBe(409)
    expect(stale.json().error.code).toBe('RISK_ERR_CASE_CONFLICT')

    const edited = await edit(draft.draftId, 1, { subject: completed(draft), action: 'Withdrawal wd-1 declined; account restricted' })
    expect(edited.statusCode, edited.body).toBe(200)
    expect(edited.json<DraftBody>()).toMatchObject({ draft: { revision: 2 }, problems: [] })
    // The other officer still holding revision 1 loses.
    expect((await edit(draft.draftId, 1, { narrative: 'late' })).statusCode).toBe(409)

    expect((await test.app.inject({ method: 'POST', url: `/str/${draft.draftId}/approve`, headers: officer, payload: { expectedRevision: 2 } })).statusCode).toBe(403)
    const approved = await test.app.inject({ method: 'POST', url: `/str/${draft.draftId}/approve`, headers: mlro, payload: { expectedRevision: 2 } })
    expect(approved.statusCode, approved.body).toBe(200)
    expect(approved.json<DraftBody>().draft).toMatchObject({ status: 'approved', revision: 3, approvedBy: 'mlro-max' })
    expect((await edit(draft.draftId, 3, { narrative: 'after approval' })).statusCode).toBe(409)

    const exported = await test.app.inject({ method: 'POST', url: `/str/${draft.draftId}/export`, headers: mlro })
    expect(exported.statusCode, exported.body).toBe(200)
    const body = exported.json<{ fileName: string; sha256: string; xml: string; revision: number }>()
    expect(body.fileName).toBe(`STR-${draft.draftId}.xml`)
    expect(body.sha256).toBe(createHash('sha256').update(body.xml, 'utf8').digest('hex'))
    const written = fs.readFileSync(path.join(test.governance.str.exportDir, body.fileName), 'utf8')
    expect(written).toBe(body.xml)
    expect(await validateXml(written, { schemaPath: test.governance.str.schemaPath })).toEqual({ valid: true, errors: [] })
    expect(body.xml).toContain('<report_code>STR</report_code>')
    expect(body.xml).toContain('<transactionnumber>tr-2</transactionnumber>')

    const stored = await test.app.inject({ method: 'GET', url: `/str/${draft.draftId}`, headers: officer })
    expect(stored.json<DraftBody>().exports).toEqual([{ fileName: body.fileName, sha256: body.sha256, filePath: path.join(test.governance.str.exportDir, body.fileName), exportedAtMs: test.clock.nowMs(), exportedBy: 'mlro-max' }])
    expect((await test.app.inject({ method: 'POST', url: `/str/${draft.draftId}/export`, headers: officer })).statusCode).toBe(403)
    // the export is timed as a report (refused ones are not)
    expect((await test.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^pitboss_report_generation_seconds_count\{kind="str_goaml"\} 1$/m)
  })

  it('refuses to approve a draft that breaks the draft rules (422 with the problems) and to export one not approved (409)', async () => {
    const { draft } = await draftFromCase()
    const refused = await test.app.inject({ method: 'POST', url: `/str/${draft.draftId}/approve`, headers: mlro, payload: { expectedRevision: 1 } })
    expect(refused.statusCode).toBe(422)
    expect(refused.json().error.problems.map((problem: StrProblem) => problem.path)).toEqual(['subject.nationalityCountryCode', 'subject.identifications'])
    const notApproved = await test.app.inject({ method: 'POST', url: `/str/${draft.draftId}/export`, headers: mlro })
    expect(notApproved.statusCode).toBe(409)
    expect(notApproved.json().error.code).toBe('RISK_ERR_CASE_TRANSITION')
  })

  it('refuses a broken STR before export with the schema errors (422), and writes nothing', async () => {
    const { draft } = await draftFromCase()
    // Five capitals pass the draft rules, but goAML's indicator list is a closed enumeration.
    await edit(draft.draftId, 1, { subject: completed(draft), indicators: [{ code: 'CTRGB', sources: [] }, { code: 'ZZZZZ', sources: [] }] })
    expect((await test.app.inject({ method: 'POST', url: `/str/${draft.draftId}/approve`, headers: mlro, payload: { expectedRevision: 2 } })).statusCode).toBe(200)
    const refused = await test.app.inject({ method: 'POST', url: `/str/${draft.draftId}/export`, headers: mlro })
    expect(refused.statusCode).toBe(422)
    const error = refused.json().error as { code: string; message: string; schemaErrors: Array<{ line: number; element: string; message: string }> }
    expect(error.code).toBe('RISK_ERR_REQUEST_INVALID')
    expect(error.schemaErrors[0]).toMatchObject({ element: 'indicator', line: expect.any(Number) })
    expect(error.schemaErrors[0]?.message).toContain('ZZZZZ')
    expect(fs.existsSync(path.join(test.governance.str.exportDir, `STR-${draft.draftId}.xml`))).toBe(false)
    expect((await test.app.inject({ method: 'GET', url: `/str/${draft.draftId}`, headers: officer })).json<DraftBody>().exports).toEqual([])
  })

  it('previews the XML with the problems and the schema verdict while editing', async () => {
    const { draft } = await draftFromCase()
    const preview = await test.app.inject({ method: 'GET', url: `/str/${draft.draftId}/preview`, headers: officer })
    expect(preview.statusCode).toBe(200)
    const body = preview.json<{ xml: string; problems: StrProblem[]; schema: { valid: boolean } }>()
    expect(body.xml).toContain('<entity_reference>')
    expect(body.problems.length).toBe(2)
    expect(body.schema.valid).toBe(false)
  })

  it('lists a case\'s drafts and records every call in the audit log, edits with before and after', async () => {
    const list = await test.app.inject({ method: 'GET', url: `/cases/${test.caseId}/str`, headers: officer })
    expect(list.json().drafts.length).toBeGreaterThanOrEqual(4)
    const lines = fs.readFileSync(test.audit.path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string; entity: { type: string; id: string }; before?: StrDraft; after?: StrDraft })
    const actions = new Set(lines.map((entry) => entry.action))
    for (const action of ['str.draft', 'str.edit', 'str.approve', 'str.export', 'str.read', 'str.preview', 'str.list']) expect(actions).toContain(action)
    const firstEdit = lines.find((entry) => entry.action === 'str.edit')
    expect(firstEdit?.entity).toEqual({ type: 'str_draft', id: `str-${test.caseId}-2` })
    expect(firstEdit?.before?.revision).toBe(1)
    expect(firstEdit?.after?.revision).toBe(2)
  })
})
