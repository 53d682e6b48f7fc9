/**
 * The case store on a real RocksDB: atomic commits with chained events and outbox entries,
 * group commit, the outbox read/remove contract, one process per store.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isRiskError } from '../../core/errors.js'
import { GENESIS_HASH } from '../../cases/audit-chain.js'
import { CaseStore, type EventDraft } from '../../cases/store.js'

function draft(caseId: string, caseVersion: number): EventDraft {
  return { caseId, caseVersion, type: 'COMMENTED', status: 'OPEN', subjectKind: 'player', subjectId: 'p-1', actorId: 'anna', actorRole: 'aml_officer', occurredAtMs: 1_000, details: '{"text":"hi"}' }
}

describe('CaseStore', () => {
  let directory: string
  let store: CaseStore
  beforeEach(async () => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-case-store-'))
    store = await CaseStore.open(directory)
  })
  afterEach(async () => {
    await store.close()
    fs.rmSync(directory, { recursive: true, force: true })
  })

  it('writes records, chained events and their outbox entries in one commit', async () => {
    const [first] = await store.commit({ puts: [['case/C-1', { version: 1 }]], deletes: [], events: [draft('C-1', 1)], labels: [] })
    const [second] = await store.commit({ puts: [['case/C-1', { version: 2 }]], deletes: [], events: [draft('C-1', 2)], labels: [] })
    expect(first).toMatchObject({ eventId: 'C-1:1', sequence: 1, previousHash: GENESIS_HASH })
    expect(second).toMatchObject({ eventId: 'C-1:2', sequence: 2, previousHash: first!.hash })
    expect(await store.get('case/C-1')).toEqual({ version: 2 })
    expect(await store.timeline('C-1')).toEqual([first, second])
    expect((await store.readOutbox(10)).map((message) => message.value)).toEqual([first, second])
    expect(store.auditHead()).toEqual({ sequence: 2, hash: second!.hash })
  })

  it('groups concurrent commits into one chain in submission order', async () => {
    const commits = Array.from({ length: 50 }, (_, index) => store.commit({ puts: [[`case/C-${index}`, index]], deletes: [], events: [draft(`C-${index}`, 1), draft(`C-${index}`, 2)], labels: [] }))
    const results = await Promise.all(commits)
    expect(results.flat().map((event) => event.sequence)).toEqual(Array.from({ length: 100 }, (_, index) => index + 1))
    expect(await store.verifyAuditChain()).toMatchObject({ ok: true, checkedEvents: 100 })
    expect(await store.getMany(['case/C-0', 'case/C-49', 'case/none'])).toEqual([0, 49, undefined])
  })

  it('removes outbox entries only when told, oldest first', async () => {
    await store.commit({ puts: [], deletes: [], events: [draft('C-1', 1)], labels: [] })
    await store.commit({ puts: [], deletes: [], events: [draft('C-1', 2)], labels: [] })
    const [oldest] = await store.readOutbox(1)
    expect(oldest?.value).toMatchObject({ sequence: 1 })
    await store.removeOutbox([oldest!.outboxKey])
    expect((await store.readOutbox(10)).map((message) => (message.value as { sequence: number }).sequence)).toEqual([2])
  })

  it('keeps its head and id counters across a reopen, and refuses a second opener', async () => {
    expect(store.nextId('case')).toBe(1)
    await store.commit({ puts: [], deletes: [], events: [draft('C-1', 1)], labels: [] })
    const second = await CaseStore.open(directory).then(() => null, (error: unknown) => error)
    expect(isRiskError(second, 'RISK_ERR_STATE_WRITE')).toBe(true)
    await store.close()
    store = await CaseStore.open(directory)
    expect(store.nextId('case')).toBe(2)
    expect(store.auditHead().sequence).toBe(1)
  })

  it('refuses commits after close with RISK_ERR_SHUTDOWN, having written the ones before', async () => {
    const pending = store.commit({ puts: [['k/1', 1]], deletes: [], events: [], labels: [] })
    await store.close()
    await pending
    const error = await store.commit({ puts: [], deletes: [], events: [], labels: [] }).then(() => null, (caught: unknown) => caught)
    expect(isRiskError(error, 'RISK_ERR_SHUTDOWN')).toBe(true)
    store = await CaseStore.open(directory)
    expect(await store.get('k/1')).toBe(1)
  })
})

describe('CaseStore failures', () => {
  it('fails the whole group with RISK_ERR_STATE_WRITE when a change cannot be encoded, and writes the next one', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-case-store-'))
    const store = await CaseStore.open(directory)
    try {
      const bad = store.commit({ puts: [['k/bad', { amount: 10n }]], deletes: [], events: [draft('C-1', 1)], labels: [] })
      await expect(bad).rejects.toSatisfy((error: unknown) => isRiskError(error, 'RISK_ERR_STATE_WRITE'))
      expect(store.auditHead().sequence).toBe(0)
      const [event] = await store.commit({ puts: [['k/good', 1]], deletes: [], events: [draft('C-1', 1)], labels: [] })
      expect(event?.sequence).toBe(1)
      expect(await store.get('k/bad')).toBeUndefined()
    } finally {
      await store.close()
      fs.rmSync(directory, { recursive: true, force: true })
    }
  })
})
