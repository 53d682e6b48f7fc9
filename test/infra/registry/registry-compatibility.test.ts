// Each compatibility level with a change it accepts and one it refuses, through the store's
// register (the path the HTTP API takes), on the Avro schema-resolution rules.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { REGISTRY_ERROR_CODES, RegistryError, SchemaRegistryStore } from '../../../infra/registry/registry.js'
import type { CompatibilityLevel } from '../../../infra/registry/registry.js'

type Field = { name: string; type: unknown; default?: unknown }
const record = (...fields: Field[]): string => JSON.stringify({ type: 'record', name: 'Deposit', namespace: 'casino', fields })
const enumRecord = (symbols: string[]): string => record({ name: 'method', type: { type: 'enum', name: 'Method', symbols } })

const playerId: Field = { name: 'playerId', type: 'string' }
const amountMinor: Field = { name: 'amountMinor', type: 'long' }
const currencyWithDefault: Field = { name: 'currency', type: 'string', default: 'EUR' }
const currency: Field = { name: 'currency', type: 'string' }

interface Case {
  readonly change: string
  readonly level: CompatibilityLevel
  /** Registered in order under NONE, then the level is set and `candidate` registered. */
  readonly history: readonly string[]
  readonly candidate: string
  readonly accepted: boolean
}

const cases: readonly Case[] = [
  { change: 'anything goes', level: 'NONE', history: [record(playerId, amountMinor)], candidate: record({ name: 'amountMinor', type: 'string' }), accepted: true },

  { change: 'adding a field with a default', level: 'BACKWARD', history: [record(playerId)], candidate: record(playerId, currencyWithDefault), accepted: true },
  { change: 'adding a field without a default', level: 'BACKWARD', history: [record(playerId)], candidate: record(playerId, currency), accepted: false },
  { change: 'removing a field', level: 'BACKWARD', history: [record(playerId, amountMinor)], candidate: record(playerId), accepted: true },
  { change: 'widening int to long', level: 'BACKWARD', history: [record({ name: 'count', type: 'int' })], candidate: record({ name: 'count', type: 'long' }), accepted: true },
  { change: 'changing a field from long to string', level: 'BACKWARD', history: [record(amountMinor)], candidate: record({ name: 'amountMinor', type: 'string' }), accepted: false },
  { change: 'adding an enum symbol', level: 'BACKWARD', history: [enumRecord(['CARD'])], candidate: enumRecord(['CARD', 'WALLET']), accepted: true },
  { change: 'renaming the record', level: 'BACKWARD', history: [record(playerId)], candidate: JSON.stringify({ type: 'record', name: 'Payment', namespace: 'casino', fields: [playerId] }), accepted: false },

  { change: 'adding a field without a default', level: 'FORWARD', history: [record(playerId)], candidate: record(playerId, currency), accepted: true },
  { change: 'removing a field without a default', level: 'FORWARD', history: [record(playerId, amountMinor)], candidate: record(playerId), accepted: false },
  { change: 'removing a field that had a default', level: 'FORWARD', history: [record(playerId, currencyWithDefault)], candidate: record(playerId), accepted: true },
  { change: 'widening int to long', level: 'FORWARD', history: [record({ name: 'count', type: 'int' })], candidate: record({ name: 'count', type: 'long' }), accepted: false },
  { change: 'adding an enum symbol', level: 'FORWARD', history: [enumRecord(['CARD'])], candidate: enumRecord(['CARD', 'WALLET']), accepted: false },

  { change: 'adding a field with a default', level: 'FULL', history: [record(playerId)], candidate: record(playerId, currencyWithDefault), accepted: true },
  { change: 'adding a field without a default', level: 'FULL', history: [record(playerId)], candidate: record(playerId, currency), accepted: false },
  { change: 'removing a field without a default', level: 'FULL', history: [record(playerId, amountMinor)], candidate: record(playerId), accepted: false },

  // The transitive levels: the candidate suits the latest version but not an earlier one.
  { change: 'dropping a default an earlier version relied on', level: 'BACKWARD', history: [record(playerId), record(playerId, currencyWithDefault)], candidate: record(playerId, currency), accepted: true },
  { change: 'dropping a default an earlier version relied on', level: 'BACKWARD_TRANSITIVE', history: [record(playerId), record(playerId, currencyWithDefault)], candidate: record(playerId, currency), accepted: false },
  { change: 'adding fields with defaults, one at a time', level: 'BACKWARD_TRANSITIVE', history: [record(playerId), record(playerId, currencyWithDefault)], candidate: record(playerId, currencyWithDefault, { name: 'bonusMinor', type: 'long', default: 0 }), accepted: true },
  { change: 'removing a field an earlier version needs', level: 'FORWARD', history: [record(playerId, currency), record(playerId, currencyWithDefault)], candidate: record(playerId), accepted: true },
  { change: 'removing a field an earlier version needs', level: 'FORWARD_TRANSITIVE', history: [record(playerId, currency), record(playerId, currencyWithDefault)], candidate: record(playerId), accepted: false },
  { change: 'adding a field without a default', level: 'FORWARD_TRANSITIVE', history: [record(playerId), record(playerId, amountMinor)], candidate: record(playerId, amountMinor, currency), accepted: true },
  { change: 'dropping a default an earlier version relied on', level: 'FULL', history: [record(playerId), record(playerId, currencyWithDefault)], candidate: record(playerId, currency), accepted: true },
  { change: 'dropping a default an earlier version relied on', level: 'FULL_TRANSITIVE', history: [record(playerId), record(playerId, currencyWithDefault)], candidate: record(playerId, currency), accepted: false },
  { change: 'adding fields with defaults, one at a time', level: 'FULL_TRANSITIVE', history: [record(playerId), record(playerId, currencyWithDefault)], candidate: record(playerId, currencyWithDefault, { name: 'bonusMinor', type: 'long', default: 0 }), accepted: true },
]

let dataDir: string
let store: SchemaRegistryStore

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-registry-compatibility-'))
  store = SchemaRegistryStore.open({ dataDir })
})

afterEach(() => {
  store.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('compatibility levels', () => {
  it.each(cases)('$level: $change -> accepted $accepted', ({ level, history, candidate, accepted }) => {
    const subject = 'casino.deposits.v1-value'
    store.setCompatibility(subject, 'NONE')
    for (const schema of history) store.register(subject, { schema })
    store.setCompatibility(subject, level)

    // The dry run and the registration agree.
    expect(store.testCompatibility(subject, undefined, { schema: candidate }).isCompatible).toBe(accepted)
    let refusal: RegistryError | undefined
    try {
      store.register(subject, { schema: candidate })
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error
      refusal = error
    }
    if (accepted) {
      expect(refusal).toBeUndefined()
      expect(store.listVersions(subject)).toHaveLength(history.length + 1)
    } else {
      expect(refusal?.errorCode).toBe(REGISTRY_ERROR_CODES.incompatibleSchema)
      expect(refusal?.detail).toContain(`${level}:`)
      expect(store.listVersions(subject)).toHaveLength(history.length)
    }
  })

  it('checks against live versions only: a soft-deleted subject starts over', () => {
    const subject = 'casino.deposits.v1-value'
    store.register(subject, { schema: record(playerId) })
    expect(store.testCompatibility(subject, 'latest', { schema: record(playerId, currency) }).isCompatible).toBe(false)
    store.deleteSubject(subject)
    expect(store.testCompatibility(subject, 'latest', { schema: record(playerId, currency) }).isCompatible).toBe(true)
    expect(store.register(subject, { schema: record(playerId, currency) }).version).toBe(2)
  })

  it('tests one named version with the direction of the subject level', () => {
    const subject = 'casino.deposits.v1-value'
    store.setCompatibility(subject, 'NONE')
    store.register(subject, { schema: record(playerId) })
    store.register(subject, { schema: record(playerId, currency) })
    store.setCompatibility(subject, 'BACKWARD_TRANSITIVE')
    const candidate = { schema: record(playerId, currency, amountMinor) }
    expect(store.testCompatibility(subject, 2, candidate).isCompatible).toBe(false)
    expect(store.testCompatibility(subject, 1, { schema: record(playerId, currencyWithDefault) })).toEqual({ isCompatible: true, messages: [] })
    const result = store.testCompatibility(subject, undefined, { schema: record(playerId, currency) })
    expect(result.isCompatible).toBe(false)
    expect(result.messages).toEqual([expect.stringContaining('version 1')])
  })
})
