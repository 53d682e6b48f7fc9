/**
 * The rule-set routes on real files in a temp folder (test/api/helpers.ts): the shipped rule set
 * is the active file at start; versions are proposed, listed, read, diffed and activated.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RuleSet } from '../../../detectors/rule-set.js'
import { DetectorRegistry } from '../../../detectors/index.js'
import { bearer, buildTestApp, SHIPPED_RULE_SET, tokenFor, type TestApp } from '../helpers.js'

const admin = bearer(tokenFor(['rules_admin'], 'rita'))
const officer = bearer(tokenFor(['compliance_officer'], 'olga'))
const regulator = bearer(tokenFor(['regulator_read'], 'mga'))

type Document = Record<string, unknown> & { detectors: Record<string, { params: Record<string, unknown>; severity: string }>; overrides: Array<Record<string, unknown>>; decision: Record<string, unknown> }
const shipped = (): Document => JSON.parse(fs.readFileSync(SHIPPED_RULE_SET, 'utf8')) as Document

/** The shipped rule set as a new version: stricter velocity, an added UK+VIP override, a lower reviewAt. */
function stricter(version: string): Document {
  const document = shipped()
  delete document.previousVersion
  document.version = version
  document.detectors.withdrawal_velocity!.params.maxCount = 2
  document.detectors.withdrawal_velocity!.severity = 'high'
  document.overrides.push({ match: { jurisdiction: 'UK', tier: 'VIP' }, detectors: { withdrawal_velocity: { params: { maxCount: 4 } } } })
  document.decision.reviewAt = 0.4
  return document
}

describe('rule-set routes', () => {
  let test: TestApp
  beforeAll(async () => { test = await buildTestApp() })
  afterAll(async () => test.close())
  const activePath = (): string => path.join(test.directory, 'active-rule-set.json')

  it('lists the active file (not stored yet) and no versions at start', async () => {
    const response = await test.app.inject({ method: 'GET', url: '/rule-sets', headers: regulator })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ active: { version: '2026-11-26.5', contentHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), stored: false }, versions: [] })
  })

  it('proposes a version (201), fills in the audit fields, repeats as a no-op (200) and refuses other content (409)', async () => {
    const proposed = await test.app.inject({ method: 'POST', url: '/rule-sets', headers: admin, payload: stricter('2026-12-01.1') })
    expect(proposed.statusCode).toBe(201)
    const { summary } = proposed.json()
    expect(summary).toMatchObject({ version: '2026-12-01.1', author: 'rita', createdAtMs: test.clock.nowMs(), previousVersion: '2026-11-26.5' })
    const stored = JSON.parse(fs.readFileSync(path.join(test.directory, 'rule-sets', '2026-12-01.1.json'), 'utf8')) as Document
    expect(stored.contentHash).toBe(summary.contentHash)
    // The stored file is a rule set the engine loads as it is.
    expect(RuleSet.parse(stored, new DetectorRegistry()).rulesFor('MT', 'VERIFIED').get('withdrawal_velocity')?.params.maxCount).toBe(2)

    const again = await test.app.inject({ method: 'POST', url: '/rule-sets', headers: admin, payload: stricter('2026-12-01.1') })
    expect(again.statusCode).toBe(200)
    expect(again.json().created).toBe(false)
    const changed = stricter('2026-12-01.1')
    changed.detectors.withdrawal_velocity!.params.maxCount = 1
    const conflict = await test.app.inject({ method: 'POST', url: '/rule-sets', headers: admin, payload: changed })
    expect(conflict.statusCode).toBe(409)
    expect(conflict.json().error.message).toMatch(/already exists with other content/)
    const activeWithOtherContent = await test.app.inject({ method: 'POST', url: '/rule-sets', headers: admin, payload: { ...stricter('2026-11-26.5') } })
    expect(activeWithOtherContent.statusCode).toBe(409)
  })

  it('refuses invalid documents with 422 naming the problem', async () => {
    const badParams = stricter('2026-12-02.1')
    badParams.detectors.withdrawal_velocity!.params.maxCount = -1
    const invalid = await test.app.inject({ method: 'POST', url: '/rule-sets', headers: admin, payload: badParams })
    expect(invalid.statusCode).toBe(422)
    expect(invalid.json().error).toMatchObject({ code: 'RISK_ERR_RULE_SET_INVALID', message: expect.stringMatching(/withdrawal_velocity params/) })
    const unknownDetector = await test.app.inject({ method: 'POST', url: '/rule-sets', headers: admin, payload: { version: 'x-1', detectors: { nope: { enabled: true, severity: 'low', action: 'alert_only', params: {} } } } })
    expect(unknownDetector.statusCode).toBe(422)
    expect(unknownDetector.json().error).toMatchObject({ code: 'RISK_ERR_RULE_SET_INVALID', message: expect.stringMatching(/detector 'nope' is not registered/) })
    const wrongHash = await test.app.inject({ method: 'POST', url: '/rule-sets', headers: admin, payload: { ...stricter('2026-12-02.2'), contentHash: `sha256:${'0'.repeat(64)}` } })
    expect(wrongHash.statusCode).toBe(422)
    expect(fs.readdirSync(path.join(test.directory, 'rule-sets'))).toEqual(['2026-12-01.1.json'])
  })

  it('reads a version and diffs two: per detector, per override and the decision policy', async () => {
    const read = await test.app.inject({ method: 'GET', url: '/rule-sets/2026-12-01.1', headers: officer })
    expect(read.statusCode).toBe(200)
    expect(read.json()).toMatchObject({ version: '2026-12-01.1', author: 'rita', detectors: { withdrawal_velocity: { params: { maxCount: 2 } } } })
    expect((await test.app.inject({ method: 'GET', url: '/rule-sets/9999.1', headers: officer })).statusCode).toBe(404)

    const base = shipped()
    base.version = '2026-11-26.5'
    expect((await test.app.inject({ method: 'POST', url: '/rule-sets', headers: admin, payload: base })).statusCode).toBe(201)
    const diff = await test.app.inject({ method: 'GET', url: '/rule-sets/diff?from=2026-11-26.5&to=2026-12-01.1', headers: regulator })
    expect(diff.statusCode).toBe(200)
    const body = diff.json()
    expect(body.identical).toBe(false)
    expect(body.detectors).toEqual([{ detectorId: 'withdrawal_velocity', change: 'changed', fields: [{ field: 'params.maxCount', from: 3, to: 2 }, { field: 'severity', from: 'medium', to: 'high' }] }])
    expect(body.overrides).toEqual([{
      match: { jurisdiction: 'UK', tier: 'VIP' }, occurrence: 0, change: 'added',
      detectors: [{ detectorId: 'withdrawal_velocity', change: 'added', fields: [{ field: 'params.maxCount', from: null, to: 4 }] }], decision: [],
    }])
    expect(body.decision).toEqual([{ field: 'reviewAt', from: 0.5, to: 0.4 }])
    const same = (await test.app.inject({ method: 'GET', url: '/rule-sets/diff?from=2026-12-01.1&to=2026-12-01.1', headers: admin })).json()
    expect(same).toMatchObject({ identical: true, detectors: [], overrides: [], decision: [] })
  })

  it('activates a version atomically (audited before/after), repeats as a no-op, and the engine file is the stored one', async () => {
    const activated = await test.app.inject({ method: 'POST', url: '/rule-sets/2026-12-01.1/activate', headers: officer })
    expect(activated.statusCode).toBe(200)
    expect(activated.json()).toMatchObject({ changed: true, before: { version: '2026-11-26.5', stored: true }, after: { version: '2026-12-01.1', stored: true } })
    expect(fs.readFileSync(activePath(), 'utf8')).toBe(fs.readFileSync(path.join(test.directory, 'rule-sets', '2026-12-01.1.json'), 'utf8'))
    expect(fs.readdirSync(test.directory).filter((name) => name.endsWith('.tmp'))).toEqual([])
    const again = await test.app.inject({ method: 'POST', url: '/rule-sets/2026-12-01.1/activate', headers: admin })
    expect(again.json()).toMatchObject({ changed: false })
    expect((await test.app.inject({ method: 'POST', url: '/rule-sets/2026-12-01.1/activate', headers: regulator })).statusCode).toBe(403)
    expect((await test.app.inject({ method: 'POST', url: '/rule-sets/none.1/activate', headers: admin })).statusCode).toBe(404)

    const listing = (await test.app.inject({ method: 'GET', url: '/rule-sets', headers: admin })).json()
    expect(listing.active).toMatchObject({ version: '2026-12-01.1', stored: true })
    expect(listing.versions.map((summary: { version: string }) => summary.version).sort()).toEqual(['2026-11-26.5', '2026-12-01.1'])

    const entries = fs.readFileSync(test.audit.path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => String(entry.action).startsWith('rule_set.'))
    const activation = entries.find((entry) => entry.action === 'rule_set.activate')
    expect(activation).toMatchObject({ actor: { subject: 'olga' }, entity: { type: 'rule_set', id: '2026-12-01.1' }, before: { version: '2026-11-26.5' }, after: { version: '2026-12-01.1' } })
    expect(entries.filter((entry) => entry.action === 'rule_set.propose').map((entry) => (entry.entity as { id: string }).id)).toEqual(['2026-12-01.1', '2026-12-01.1', '2026-11-26.5'])
  })
})
