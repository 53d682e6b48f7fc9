import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isRiskError } from '../../../core/errors.js'
import {
  LOCK_FILE_NAME, LOG_FILE_NAME, REGISTRY_ERROR_CODES, RegistryError, SchemaRegistryStore, parseSchema, parseVersion,
} from '../../../infra/registry/registry.js'

const deposit = (extraFields: object[] = []): string => JSON.stringify({
  type: 'record', name: 'Deposit', namespace: 'casino',
  fields: [{ name: 'playerId', type: 'string' }, { name: 'amountMinor', type: 'long' }, ...extraFields],
})
const withdrawal = JSON.stringify({ type: 'record', name: 'Withdrawal', namespace: 'casino', fields: [{ name: 'withdrawalId', type: 'string' }] })

function registryErrorCode(action: () => unknown): number | undefined {
  try {
    action()
  } catch (error) {
    if (error instanceof RegistryError) return error.errorCode
    throw error
  }
  return undefined
}

let dataDir: string
let store: SchemaRegistryStore

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-registry-store-'))
  store = SchemaRegistryStore.open({ dataDir })
})

afterEach(() => {
  store.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

function reopen(): SchemaRegistryStore {
  store.close()
  store = SchemaRegistryStore.open({ dataDir })
  return store
}

describe('schema ids and versions', () => {
  it('numbers versions per subject and ids globally', () => {
    expect(store.register('deposits-value', { schema: deposit() })).toEqual({ id: 1, version: 1, created: true })
    expect(store.register('withdrawals-value', { schema: withdrawal })).toEqual({ id: 2, version: 1, created: true })
    expect(store.register('deposits-value', { schema: deposit([{ name: 'currency', type: 'string', default: 'EUR' }]) }))
      .toEqual({ id: 3, version: 2, created: true })
    expect(store.listSubjects()).toEqual(['deposits-value', 'withdrawals-value'])
    expect(store.listVersions('deposits-value')).toEqual([1, 2])
    expect(store.getVersion('deposits-value', 'latest')).toMatchObject({ subject: 'deposits-value', version: 2, id: 3 })
    expect(store.getSubjectVersionsById(1)).toEqual([{ subject: 'deposits-value', version: 1 }])
  })

  it('gives the same schema the same id under every subject, whatever its whitespace and key order', () => {
    const first = store.register('deposits-value', { schema: deposit() })
    const reordered = JSON.stringify({
      namespace: 'casino', fields: [{ type: 'string', name: 'playerId' }, { type: 'long', name: 'amountMinor' }], name: 'Deposit', type: 'record',
    }, null, 2)
    const second = store.register('audit-value', { schema: reordered })
    expect(second).toEqual({ id: first.id, version: 1, created: true })
    expect(store.getSubjectVersionsById(first.id)).toEqual([{ subject: 'audit-value', version: 1 }, { subject: 'deposits-value', version: 1 }])
  })

  it('returns the existing version when a subject already holds the schema, writing nothing', () => {
    store.register('deposits-value', { schema: deposit() })
    store.register('deposits-value', { schema: deposit([{ name: 'currency', type: 'string', default: 'EUR' }]) })
    const logBytes = fs.statSync(path.join(dataDir, LOG_FILE_NAME)).size
    expect(store.register('deposits-value', { schema: deposit() })).toEqual({ id: 1, version: 1, created: false })
    expect(fs.statSync(path.join(dataDir, LOG_FILE_NAME)).size).toBe(logBytes)
    expect(store.listVersions('deposits-value')).toEqual([1, 2])
  })

  it('keeps defaults and docs in the schema identity (they matter to compatibility)', () => {
    const withDefault = parseSchema({ schema: deposit([{ name: 'currency', type: 'string', default: 'EUR' }]) })
    const withoutDefault = parseSchema({ schema: deposit([{ name: 'currency', type: 'string' }]) })
    expect(withDefault.canonical).not.toBe(withoutDefault.canonical)
    expect(parseSchema({ schema: ' { "type" : "string" } ' }).canonical).toBe('{"type":"string"}')
  })

  it('finds the version holding a schema, and says which part is missing', () => {
    store.register('deposits-value', { schema: deposit() })
    expect(store.lookup('deposits-value', { schema: deposit() })).toMatchObject({ version: 1, id: 1 })
    expect(registryErrorCode(() => store.lookup('deposits-value', { schema: withdrawal }))).toBe(REGISTRY_ERROR_CODES.schemaNotFound)
    expect(registryErrorCode(() => store.lookup('nobody-value', { schema: deposit() }))).toBe(REGISTRY_ERROR_CODES.subjectNotFound)
    expect(registryErrorCode(() => store.getVersion('deposits-value', 7))).toBe(REGISTRY_ERROR_CODES.versionNotFound)
    expect(registryErrorCode(() => store.getSchemaById(99))).toBe(REGISTRY_ERROR_CODES.schemaNotFound)
  })

  it('refuses invalid Avro, other schema types and references with 42201', () => {
    const invalid = [
      { schema: '{"type":"record","name":"Deposit"' },
      { schema: '{"type":"record","name":"Deposit","fields":[{"name":"amountMinor","type":"money"}]}' },
      { schema: '{"type":"record","fields":[]}' },
      { schema: '{"type":"record","name":"Deposit","fields":[{"name":"currency","type":"string","default":7}]}' },
      { schema: '{"type":"object"}', schemaType: 'JSON' },
      { schema: deposit(), references: [{ name: 'casino.Money', subject: 'money-value', version: 1 }] },
    ]
    for (const request of invalid) expect(registryErrorCode(() => store.register('deposits-value', request))).toBe(REGISTRY_ERROR_CODES.invalidSchema)
    expect(store.listSubjects()).toEqual([])
  })

  it('parses versions like Confluent', () => {
    expect(parseVersion('latest')).toBe('latest')
    expect(parseVersion('-1')).toBe('latest')
    expect(parseVersion('12')).toBe(12)
    for (const raw of ['0', '-2', 'x', '1.5', String(2 ** 31)]) expect(registryErrorCode(() => parseVersion(raw))).toBe(REGISTRY_ERROR_CODES.invalidVersion)
  })
})

describe('compatibility configuration', () => {
  it('has a global default of BACKWARD and per-subject levels', () => {
    expect(store.getGlobalCompatibility()).toBe('BACKWARD')
    expect(registryErrorCode(() => store.getSubjectCompatibility('deposits-value'))).toBe(REGISTRY_ERROR_CODES.subjectCompatibilityNotConfigured)
    expect(store.getSubjectCompatibility('deposits-value', { defaultToGlobal: true })).toBe('BACKWARD')
    expect(store.setCompatibility('deposits-value', 'full_transitive')).toBe('FULL_TRANSITIVE')
    expect(store.setCompatibility(null, 'NONE')).toBe('NONE')
    expect(store.effectiveCompatibility('deposits-value')).toBe('FULL_TRANSITIVE')
    expect(store.effectiveCompatibility('bets-value')).toBe('NONE')
    expect(store.deleteSubjectCompatibility('deposits-value')).toBe('FULL_TRANSITIVE')
    expect(store.effectiveCompatibility('deposits-value')).toBe('NONE')
    expect(registryErrorCode(() => store.setCompatibility(null, 'SOMETIMES'))).toBe(REGISTRY_ERROR_CODES.invalidCompatibilityLevel)
  })
})

describe('deleting subjects', () => {
  it('soft-deletes first, keeps ids resolvable, then deletes permanently', () => {
    store.register('deposits-value', { schema: deposit() })
    store.setCompatibility('deposits-value', 'NONE')
    expect(registryErrorCode(() => store.deleteSubject('deposits-value', { permanent: true }))).toBe(REGISTRY_ERROR_CODES.subjectNotSoftDeleted)
    expect(store.deleteSubject('deposits-value')).toEqual([1])
    expect(store.listSubjects()).toEqual([])
    expect(store.listSubjects({ includeDeleted: true })).toEqual(['deposits-value'])
    expect(registryErrorCode(() => store.getVersion('deposits-value', 'latest'))).toBe(REGISTRY_ERROR_CODES.subjectNotFound)
    expect(store.getVersion('deposits-value', 1, { includeDeleted: true }).id).toBe(1)
    expect(store.getSchemaById(1).schema).toContain('Deposit') // old messages still decode
    expect(registryErrorCode(() => store.getSubjectCompatibility('deposits-value'))).toBe(REGISTRY_ERROR_CODES.subjectCompatibilityNotConfigured)
    expect(registryErrorCode(() => store.deleteSubject('deposits-value'))).toBe(REGISTRY_ERROR_CODES.subjectSoftDeleted)

    // Re-registering after a soft delete continues the numbering and keeps the id.
    expect(store.register('deposits-value', { schema: deposit() })).toEqual({ id: 1, version: 2, created: true })
    store.deleteSubject('deposits-value')
    expect(store.deleteSubject('deposits-value', { permanent: true })).toEqual([1, 2])
    expect(registryErrorCode(() => store.getSchemaById(1))).toBe(REGISTRY_ERROR_CODES.schemaNotFound)
    expect(registryErrorCode(() => store.deleteSubject('deposits-value'))).toBe(REGISTRY_ERROR_CODES.subjectNotFound)
    // The id stays reserved for its schema.
    store.register('other-value', { schema: withdrawal })
    expect(store.register('deposits-value', { schema: deposit() })).toEqual({ id: 1, version: 1, created: true })
  })
})

describe('persistence', () => {
  it('replays registrations, configs and deletions after a restart', () => {
    store.register('deposits-value', { schema: deposit() })
    store.register('deposits-value', { schema: deposit([{ name: 'currency', type: 'string', default: 'EUR' }]) })
    store.register('withdrawals-value', { schema: withdrawal })
    store.setCompatibility('withdrawals-value', 'FORWARD')
    store.setCompatibility(null, 'FULL')
    store.register('bets-value', { schema: '"string"' })
    store.deleteSubject('bets-value')

    reopen()
    expect(store.listSubjects()).toEqual(['deposits-value', 'withdrawals-value'])
    expect(store.getVersion('deposits-value', 'latest')).toMatchObject({ version: 2, id: 2 })
    expect(store.getSubjectCompatibility('withdrawals-value')).toBe('FORWARD')
    expect(store.getGlobalCompatibility()).toBe('FULL')
    expect(store.listVersions('bets-value', { includeDeleted: true })).toEqual([1])
    // The id counter continues after the highest replayed id.
    expect(store.register('players-value', { schema: '"long"' }).id).toBe(5)
  })

  it('drops a torn last line (a write cut short by a crash) and appends cleanly after it', () => {
    store.register('deposits-value', { schema: deposit() })
    store.close()
    const logPath = path.join(dataDir, LOG_FILE_NAME)
    fs.appendFileSync(logPath, '{"op":"register","subject":"withdr')
    reopen()
    expect(store.listSubjects()).toEqual(['deposits-value'])
    store.register('withdrawals-value', { schema: withdrawal })
    reopen()
    expect(store.listSubjects()).toEqual(['deposits-value', 'withdrawals-value'])
  })

  it('refuses to open a log damaged before its last line', () => {
    store.register('deposits-value', { schema: deposit() })
    store.close()
    const logPath = path.join(dataDir, LOG_FILE_NAME)
    fs.writeFileSync(logPath, `not a record\n${fs.readFileSync(logPath, 'utf8')}`)
    let failure: unknown
    try {
      store = SchemaRegistryStore.open({ dataDir })
    } catch (error) {
      failure = error
    }
    expect(isRiskError(failure, 'RISK_ERR_STATE_CORRUPT')).toBe(true)
    expect((failure as Error).message).toContain('line 1')
    expect(fs.existsSync(path.join(dataDir, LOCK_FILE_NAME))).toBe(false) // a failed open releases its lock
    store = SchemaRegistryStore.open({ dataDir: fs.mkdtempSync(path.join(dataDir, 'fresh-')) }) // for afterEach
  })

  it('keeps a second store off a data dir in use, and takes over a stale lock', () => {
    expect(() => SchemaRegistryStore.open({ dataDir })).toThrow(/in use by process/)
    store.close()
    fs.writeFileSync(path.join(dataDir, LOCK_FILE_NAME), '2147483646\n') // a pid that is not running
    store = SchemaRegistryStore.open({ dataDir })
    expect(fs.readFileSync(path.join(dataDir, LOCK_FILE_NAME), 'utf8').trim()).toBe(String(process.pid))
  })
})
