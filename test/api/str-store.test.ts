/**
 * The STR draft store on a temp folder: one JSON file per draft, atomic writes, optimistic
 * revisions (a stale update is a coded conflict), concurrent creates of one id.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isRiskError } from '../../core/errors.js'
import { StrDraftStore, type StrDraftRecord } from '../../api/str-store.js'
import { approvedDraft } from '../sinks/str/fixtures.js'

let directory: string
let store: StrDraftStore
const record = (draftId: string): StrDraftRecord => ({ draft: { ...approvedDraft, draftId, caseId: 'CASE-1', revision: 1, status: 'draft' }, createdBy: 'anna', createdAtMs: 1, updatedAtMs: 1, exports: [] })

beforeEach(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-str-store-'))
  store = await StrDraftStore.open(directory)
})
afterEach(() => fs.rmSync(directory, { recursive: true, force: true }))

describe('StrDraftStore', () => {
  it('creates, reads back and updates with the revision raised, leaving no temp files', async () => {
    const draftId = await store.nextDraftId('CASE-1')
    expect(draftId).toBe('str-CASE-1-1')
    await store.create(record(draftId))
    const { before, after } = await store.update(draftId, 1, (current) => ({ ...current, draft: { ...current.draft, narrative: 'edited' } }))
    expect([before.draft.revision, after.draft.revision, after.draft.narrative]).toEqual([1, 2, 'edited'])
    expect((await store.get(draftId)).draft).toEqual(after.draft)
    expect(fs.readdirSync(directory)).toEqual([`${draftId}.json`])
    expect(await store.nextDraftId('CASE-1')).toBe('str-CASE-1-2')
  })

  it('refuses a stale revision with RISK_ERR_CASE_CONFLICT: of two concurrent editors of revision 1 one wins', async () => {
    await store.create(record('d-1'))
    const results = await Promise.allSettled([1, 2].map((editor) => store.update('d-1', 1, (current) => ({ ...current, draft: { ...current.draft, narrative: `editor ${editor}` } }))))
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected'])
    const rejected = results.find((result) => result.status === 'rejected') as PromiseRejectedResult
    expect(isRiskError(rejected.reason, 'RISK_ERR_CASE_CONFLICT')).toBe(true)
    expect((await store.get('d-1')).draft.revision).toBe(2)
  })

  it('never overwrites on create, writes nothing when the change throws, and answers unknown ids with NOT_FOUND', async () => {
    await store.create(record('d-2'))
    await expect(store.create({ ...record('d-2'), createdBy: 'other' })).rejects.toMatchObject({ code: 'RISK_ERR_CASE_CONFLICT' })
    await expect(store.update('d-2', 1, () => { throw new Error('refused') })).rejects.toThrow('refused')
    expect((await store.get('d-2'))).toMatchObject({ createdBy: 'anna', draft: { revision: 1 } })
    await expect(store.get('nope')).rejects.toMatchObject({ code: 'RISK_ERR_NOT_FOUND' })
    await expect(store.get('../etc/passwd')).rejects.toMatchObject({ code: 'RISK_ERR_REQUEST_INVALID' })
  })

  it('keeps amounts beyond 2^53 as digit strings', async () => {
    const big = record('d-3')
    await store.create({ ...big, draft: { ...big.draft, transactions: [{ ...big.draft.transactions[0]!, amountMinor: 2n ** 60n }] } })
    expect((await store.get('d-3')).draft.transactions[0]?.amountMinor).toBe('1152921504606846976')
  })
})
