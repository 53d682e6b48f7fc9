import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../core/clock.js'
import { RiskError } from '../../core/errors.js'
import { GENESIS_HASH, canonicalJson, chainHash, openAuditLog, recordAuditChange, type AuditEntryInput } from '../../api/audit.js'
import { verifyAuditFile } from '../../api/audit-verify.js'
import { API_ROLES } from '../../api/roles.js'
import { START_MS, bearer, buildBareTestApp, tokenFor } from './helpers.js'

const directories: string[] = []
function tempFile(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-audit-'))
  directories.push(directory)
  return path.join(directory, 'audit.jsonl')
}
afterEach(() => { for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true }) })

const entry = (index: number): AuditEntryInput => ({
  actor: { subject: `officer-${index % 3}`, roles: ['aml_officer'] },
  action: 'case.resolve',
  entity: { type: 'case', id: `c-${index}` },
  before: { status: 'open', version: index },
  after: { status: 'resolved', version: index + 1, amountMinor: 12_345n },
})

describe('canonical JSON and the chain hash', () => {
  it('sorts keys at every depth and drops undefined, so key order never changes the hash', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"e":2,"f":1}]},"b":1}')
    expect(chainHash(GENESIS_HASH, { x: 1, y: 2 })).toBe(chainHash(GENESIS_HASH, { y: 2, x: 1 }))
    expect(chainHash(GENESIS_HASH, { x: 1 })).not.toBe(chainHash('1'.repeat(64), { x: 1 }))
  })
})

describe('audit log', () => {
  it('appends one chained JSON line per entry, fsynced, and continues the chain after reopening', async () => {
    const file = tempFile()
    const clock = new ManualClock(START_MS)
    const log = await openAuditLog({ path: file, clock })
    const first = await log.append(entry(1))
    expect(first).toMatchObject({ sequence: 1, previousHash: GENESIS_HASH, recordedAt: '2025-01-15T12:00:00.000Z', after: { amountMinor: '12345' } })
    const { hash, ...body } = first
    expect(hash).toBe(chainHash(GENESIS_HASH, body))
    clock.advance(1000)
    const second = await log.append(entry(2))
    expect(second.previousHash).toBe(first.hash)
    expect(log.syncedBytes).toBe(fs.statSync(file).size)
    await log.close()
    expect(fs.existsSync(`${file}.lock`)).toBe(false)

    const reopened = await openAuditLog({ path: file, clock })
    expect(reopened.headHash).toBe(second.hash)
    expect((await reopened.append(entry(3))).sequence).toBe(3)
    await reopened.close()
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(3)
    expect(JSON.parse(lines[0] as string)).toEqual(first)
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, entries: 3 })
  })

  it('serialises concurrent appends into one unforked chain (group commit)', async () => {
    const file = tempFile()
    const log = await openAuditLog({ path: file })
    const written = await Promise.all(Array.from({ length: 200 }, (_unused, index) => log.append(entry(index))))
    expect(written.map((record) => record.sequence)).toEqual(Array.from({ length: 200 }, (_unused, index) => index + 1))
    await log.close()
    const result = await verifyAuditFile(file)
    expect(result).toEqual({ ok: true, entries: 200, headHash: written[199]?.hash })
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { entity: { id: string } })
    expect(lines.map((line) => line.entity.id)).toEqual(Array.from({ length: 200 }, (_unused, index) => `c-${index}`))
  })

  it('lets one writer at a time hold a file, and takes over a dead writer\'s lock', async () => {
    const file = tempFile()
    const log = await openAuditLog({ path: file })
    await expect(openAuditLog({ path: file })).rejects.toThrow(/already open in process \d+ \(this one\)/)
    await log.close()
    fs.writeFileSync(`${file}.lock`, '999999999') // no such process
    const again = await openAuditLog({ path: file })
    await again.close()
  })

  it('refuses to continue a file that ends in a half-written line, and refuses entries once closed', async () => {
    const file = tempFile()
    const log = await openAuditLog({ path: file })
    await log.append(entry(1))
    await log.close()
    await expect(log.append(entry(2))).rejects.toThrow(/RISK_ERR_SHUTDOWN/)
    fs.appendFileSync(file, '{"sequence":2,"act')
    await expect(openAuditLog({ path: file })).rejects.toThrow(/RISK_ERR_STATE_CORRUPT: .* ends with an incomplete line/)
    expect(fs.existsSync(`${file}.lock`)).toBe(false)
  })
})

describe('audited routes', () => {
  it('records who, roles, action, entity and before/after after the handler, and only on success', async () => {
    const test = await buildBareTestApp()
    try {
      const roles = [API_ROLES.amlOfficer, API_ROLES.complianceOfficer]
      test.app.get('/cases/:id', { config: { roles, audit: { action: 'case.read', entity: 'case' } } }, async (request) => {
        const { id } = request.params as { id: string }
        if (id === 'missing') throw new RiskError('RISK_ERR_CASE_NOT_FOUND', `no case ${id}`)
        return { id, status: 'open' }
      })
      test.app.post('/cases/:caseId/resolve', { config: { roles, audit: { action: 'case.resolve', entity: 'case', idParam: 'caseId' } } }, async (request) => {
        recordAuditChange(request, { before: { status: 'open' }, after: { status: 'resolved', resolution: 'dismissed' } })
        return { status: 'resolved' }
      })
      test.app.post('/cases', { config: { roles, audit: { action: 'case.create', entity: 'case' } } }, async (request) => {
        recordAuditChange(request, { entityId: 'c-new', after: { status: 'open' } })
        return { id: 'c-new' }
      })
      const alice = bearer(tokenFor(['aml_officer'], 'alice'))
      expect((await test.app.inject({ url: '/cases/c-7', headers: alice })).statusCode).toBe(200)
      expect((await test.app.inject({ method: 'POST', url: '/cases/c-7/resolve', headers: bearer(tokenFor(['compliance_officer'], 'carol')) })).statusCode).toBe(200)
      expect((await test.app.inject({ method: 'POST', url: '/cases', headers: alice })).statusCode).toBe(200)
      // Not recorded: a refused caller, a failed read.
      expect((await test.app.inject({ url: '/cases/c-7', headers: bearer(tokenFor(['data_scientist'], 'dave')) })).statusCode).toBe(403)
      expect((await test.app.inject({ url: '/cases/missing', headers: alice })).statusCode).toBe(404)

      const lines = fs.readFileSync(test.audit.path, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
      expect(lines).toHaveLength(3)
      expect(lines[0]).toMatchObject({
        sequence: 1, action: 'case.read', entity: { type: 'case', id: 'c-7' }, recordedAt: '2025-01-15T12:00:00.000Z',
        actor: { subject: 'alice', roles: ['aml_officer'] }, request: { method: 'GET', route: '/cases/:id', ip: '127.0.0.1' },
      })
      expect(lines[1]).toMatchObject({ action: 'case.resolve', entity: { type: 'case', id: 'c-7' }, actor: { subject: 'carol' }, before: { status: 'open' }, after: { status: 'resolved', resolution: 'dismissed' } })
      expect(lines[2]).toMatchObject({ action: 'case.create', entity: { type: 'case', id: 'c-new' }, after: { status: 'open' } })
      expect(await verifyAuditFile(test.audit.path)).toMatchObject({ ok: true, entries: 3 })

      // GET /audit/status reports the same head, for compliance to keep elsewhere.
      const status = await test.app.inject({ url: '/audit/status', headers: bearer(tokenFor(['regulator_read'], 'reg')) })
      expect(status.json()).toEqual({ ok: true, entries: 3, headHash: test.audit.headHash })
    } finally {
      await test.close()
    }
  })

  it('records every one of many concurrent reads, in one intact chain', async () => {
    const test = await buildBareTestApp()
    try {
      test.app.get('/players/:playerId/timeline', { config: { roles: [API_ROLES.amlOfficer], audit: { action: 'player.timeline.read', entity: 'player', idParam: 'playerId' } } }, async () => ({ events: [] }))
      const headers = bearer(tokenFor(['aml_officer']))
      const responses = await Promise.all(Array.from({ length: 100 }, (_unused, index) => test.app.inject({ url: `/players/p-${index}/timeline`, headers })))
      expect(responses.every((response) => response.statusCode === 200)).toBe(true)
      const result = await verifyAuditFile(test.audit.path)
      expect(result).toMatchObject({ ok: true, entries: 100 })
      const ids = fs.readFileSync(test.audit.path, 'utf8').trimEnd().split('\n').map((line) => (JSON.parse(line) as { entity: { id: string } }).entity.id)
      expect(new Set(ids).size).toBe(100)
    } finally {
      await test.close()
    }
  })

  it('answers 5xx instead of the data when the read cannot be recorded', async () => {
    const test = await buildBareTestApp()
    try {
      test.app.get('/cases/:id', { config: { roles: [API_ROLES.amlOfficer], audit: { action: 'case.read', entity: 'case' } } }, async () => ({ secret: 'case data' }))
      await test.audit.close()
      const response = await test.app.inject({ url: '/cases/c-1', headers: bearer(tokenFor(['aml_officer'])) })
      expect(response.statusCode).toBe(500)
      expect(response.body).not.toContain('case data')
      expect(response.json().error.code).toBe('RISK_ERR_SHUTDOWN')
    } finally {
      await test.close()
    }
  })
})
