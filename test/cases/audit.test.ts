/**
 * The audit log: hash-chained across cases, verified by recomputing, broken links named; the
 * store survives a restart with its chain and id counters; queries.
 */
import path from 'node:path'
import { RocksLevel } from '@nxtedition/rocksdb'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GENESIS_HASH, canonicalJson, eventHash } from '../../cases/audit-chain.js'
import type { CaseEvent } from '../../cases/types.js'
import { alert, anna, ben, openHarness, type Harness } from './support.js'

/** Rewrites one stored audit event behind the service's back (the service must be shut down). */
async function tamper(harness: Harness, sequence: number, change: (event: CaseEvent) => CaseEvent | null): Promise<void> {
  await harness.service.shutdown()
  const db = new RocksLevel(path.join(harness.directory, 'store'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  await db.open()
  const key = `audit/${String(sequence).padStart(16, '0')}`
  const [stored] = await db.getMany([key])
  const changed = change(JSON.parse(stored!.toString('utf8')) as CaseEvent)
  await db.batch([changed === null ? { type: 'del', key } : { type: 'put', key, value: Buffer.from(JSON.stringify(changed)) }])
  await db.close()
}

describe('audit chain', () => {
  let harness: Harness
  beforeEach(async () => { harness = await openHarness() })
  afterEach(async () => { await harness.cleanup() })

  async function someHistory(): Promise<string> {
    const { caseId } = await harness.service.ingestAlert(alert({ playerId: 'p-1' }))
    await harness.service.ingestAlert(alert({ playerId: 'p-2' }))
    const claimed = await harness.service.claim({ caseId, expectedVersion: 1, actor: anna })
    await harness.service.comment({ caseId, expectedVersion: claimed.version, actor: anna, text: 'first look' })
    await harness.service.assign({ caseId, expectedVersion: claimed.version + 1, actor: anna, assigneeId: 'ben' })
    return caseId
  }

  it('chains every event of every case, from the genesis hash, and verifies', async () => {
    const caseId = await someHistory()
    const verification = await harness.service.verifyAuditChain()
    expect(verification).toMatchObject({ ok: true, checkedEvents: 9, lastSequence: 9, firstBroken: null })
    const timeline = await harness.service.timeline(caseId)
    expect(timeline.map((event) => event.type)).toEqual(['CASE_OPENED', 'INCIDENT_OPENED', 'ALERT_ADDED', 'CLAIMED', 'COMMENTED', 'ASSIGNED'])
    expect(timeline.map((event) => event.caseVersion)).toEqual([1, 1, 1, 2, 3, 4])
    expect(timeline[0]!.previousHash).toBe(GENESIS_HASH)
    expect(timeline[3]).toMatchObject({ actorId: 'anna', actorRole: 'aml_officer', occurredAtMs: harness.clock.nowMs(), status: 'IN_REVIEW', eventId: `${caseId}:7` })
    expect(JSON.parse(timeline[5]!.details)).toEqual({ assigneeId: 'ben', previousAssigneeId: 'anna' })
    for (const event of timeline) expect(eventHash(event)).toBe(event.hash)
  })

  it('keeps chain, versions and id counters across a restart', async () => {
    const caseId = await someHistory()
    const before = await harness.service.verifyAuditChain()
    const service = await harness.reopen()
    expect(await service.verifyAuditChain()).toEqual(before)
    const next = await service.ingestAlert(alert({ playerId: 'p-3' }))
    expect(next.caseId).toBe('CASE-00000003')
    expect(next.incidentId).toBe('INC-00000003')
    await service.unclaim({ caseId, expectedVersion: 4, actor: ben })
    expect(await service.verifyAuditChain()).toMatchObject({ ok: true, checkedEvents: 13 })
  })

  it.each([
    ['an edited detail', (event: CaseEvent) => ({ ...event, details: event.details.replace('first look', 'nothing to see') }), 8, 7, /content does not match its hash/],
    ['an edited actor with its hash recomputed', (event: CaseEvent) => { const edited = { ...event, actorId: 'mallory' }; return { ...edited, hash: eventHash(edited) } }, 9, 8, /previousHash .* is not the hash of event 8/],
    ['a removed event', () => null, 9, 7, /sequence 9 follows 7/],
  ] as const)('names the first broken link after %s', async (_name, change, brokenAt, checked, reason) => {
    await someHistory()
    await tamper(harness, 8, change)
    const service = await harness.reopen()
    const verification = await service.verifyAuditChain()
    expect(verification.ok).toBe(false)
    expect(verification.firstBroken?.sequence).toBe(brokenAt)
    expect(verification.firstBroken?.reason).toMatch(reason)
    expect(verification.checkedEvents).toBe(checked)
  })

  it('notices events cut from the end against the head record', async () => {
    await someHistory()
    await tamper(harness, 9, () => null)
    const verification = await (await harness.reopen()).verifyAuditChain()
    expect(verification).toMatchObject({ ok: false, checkedEvents: 8, firstBroken: { sequence: 9 } })
    expect(verification.firstBroken?.reason).toMatch(/removed from the end/)
  })
})

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members, so any writer hashes the same bytes', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: null, y: 'x' }], c: undefined } })).toBe('{"a":{"d":[2,{"y":"x","z":null}]},"b":1}')
  })
})

describe('queries', () => {
  let harness: Harness
  beforeEach(async () => { harness = await openHarness() })
  afterEach(async () => { await harness.cleanup() })

  it('lists by status, assignee, priority and player, combined, in pages', async () => {
    const ids: string[] = []
    for (let index = 0; index < 7; index += 1) ids.push((await harness.service.ingestAlert(alert({ playerId: `p-${index}`, severity: index % 2 === 0 ? 'LOW' : 'CRITICAL' }))).caseId)
    await harness.service.claim({ caseId: ids[1]!, expectedVersion: 1, actor: anna })
    await harness.service.claim({ caseId: ids[2]!, expectedVersion: 1, actor: anna })
    const list = async (filter: Parameters<typeof harness.service.list>[0]): Promise<string[]> => (await harness.service.list(filter)).map((record) => record.caseId)
    expect(await list({})).toEqual(ids)
    expect(await list({ status: 'IN_REVIEW' })).toEqual([ids[1], ids[2]])
    expect(await list({ assigneeId: 'anna', priority: 'CRITICAL' })).toEqual([ids[1]])
    expect(await list({ status: 'OPEN', priority: 'LOW' })).toEqual([ids[0], ids[4], ids[6]])
    expect(await list({ playerId: 'p-3' })).toEqual([ids[3]])
    expect(await list({ limit: 3 })).toEqual(ids.slice(0, 3))
    expect(await list({ limit: 3, afterCaseId: ids[2] })).toEqual(ids.slice(3, 6))
    expect(await list({ status: 'OPEN', limit: 2, afterCaseId: ids[3] })).toEqual([ids[4], ids[5]])
    expect(await list({ status: 'CLOSED' })).toEqual([])
  })
})
