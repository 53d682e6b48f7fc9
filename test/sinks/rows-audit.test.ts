/** The audit adapters of sinks/rows.ts: `audit_log` (every entry) and `str_reports` (STR exports only). */
import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../schemas/generated/types.js'
import { toAuditLogRow, toStrReportRows, type RowMeta } from '../../sinks/rows.js'
import { loadFixture } from '../schemas/fixtures.js'

// 2024-05-14 12:00:00.250 UTC
const meta: RowMeta = { latencyMs: 0, insertedAtMs: 1_715_688_000_250, source: { topic: 't1.risk.audit.v1', partition: 2, offset: '77', timestampMs: 1_715_699_012_400 } }
const exportEntry = loadFixture('auditEntries').value as AuditEntry
const caseRead: AuditEntry = { ...exportEntry, action: 'case.read', entityType: 'case', entityId: 'CASE-00000042', before: null, after: null, detail: null }

describe('toAuditLogRow', () => {
  it('keeps every field of the entry, JSON as text and missing parts as NULL', () => {
    expect(toAuditLogRow(exportEntry, meta)).toEqual({
      sequence: 1042,
      hash: exportEntry.hash,
      previous_hash: exportEntry.previousHash,
      recorded_at: '2024-05-14 15:03:32',
      recorded_at_ms: 1_715_699_012_345,
      actor: 'mlro-maria',
      roles: ['compliance_officer'],
      token_id: 'tok-7f3a91',
      action: 'str.export',
      entity_type: 'str_draft',
      entity_id: 'str-CASE-00000042-1',
      before_json: '{"exports":0}',
      after_json: '{"exports":1}',
      detail_json: exportEntry.detail,
      request_json: exportEntry.request,
      inserted_at: '2024-05-14 12:00:00',
    })
    expect(toAuditLogRow({ ...caseRead, entityId: null, tokenId: null, request: null }, meta)).toMatchObject({ entity_id: null, token_id: null, before_json: null, request_json: null })
  })
})

describe('toStrReportRows', () => {
  it('gives one row per STR export, from the entry\'s detail', () => {
    expect(toStrReportRows(exportEntry, meta)).toEqual([{
      draft_id: 'str-CASE-00000042-1',
      case_id: 'CASE-00000042',
      file_name: 'STR-str-CASE-00000042-1.xml',
      sha256: '5d41402abc4b2a76b9719d911017c592ae1b3c8e9f0d2a4c6b8e1f3a5c7d9e0b',
      exported_by: 'mlro-maria',
      exported_at: '2024-05-14 15:03:32',
      exported_at_ms: 1_715_699_012_301,
      audit_sequence: 1042,
      audit_hash: exportEntry.hash,
      inserted_at: '2024-05-14 12:00:00',
    }])
  })

  it('gives no row for other actions, including the other STR actions', () => {
    expect(toStrReportRows(caseRead, meta)).toEqual([])
    for (const action of ['str.draft', 'str.edit', 'str.approve', 'str.read', 'str.preview']) expect(toStrReportRows({ ...exportEntry, action }, meta), action).toEqual([])
  })

  it('falls back to the entry\'s time and an empty case for exports audited before the route recorded them', () => {
    const older = { ...exportEntry, detail: '{"fileName":"STR-str-CASE-00000042-1.xml","sha256":"5d41"}' }
    expect(toStrReportRows(older, meta)).toMatchObject([{ case_id: '', exported_at_ms: 1_715_699_012_345, file_name: 'STR-str-CASE-00000042-1.xml' }])
  })

  it('gives no row for an export entry that names no file (no detail, not JSON, fields missing)', () => {
    for (const detail of [null, 'not json', '"text"', '{"fileName":"a.xml"}']) expect(toStrReportRows({ ...exportEntry, detail }, meta), String(detail)).toEqual([])
  })
})
