import { describe, expect, it } from 'vitest'
import { isRiskError } from '../../core/errors.js'
import { InMemorySchemaRegistry } from './memory-registry.js'

describe('in-memory registry stub', () => {
  it('rejects nothing: compatibility is the real registry\'s job', async () => {
    const registry = new InMemorySchemaRegistry()
    const first = await registry.register('s-value', JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'x', type: 'string' }] }))
    // An incompatible change (field type changed, no default) is accepted all the same.
    const second = await registry.register('s-value', JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'x', type: 'int' }] }))
    const notEvenAvro = await registry.register('s-value', 'not a schema')
    expect(new Set([first, second, notEvenAvro]).size).toBe(3)
    expect(registry.subjects.get('s-value')).toEqual([first, second, notEvenAvro])
  })

  it('gives one id per schema text across subjects, from 1, and null for unknown ids', async () => {
    const registry = new InMemorySchemaRegistry()
    expect(await registry.register('a-value', '"string"')).toBe(1)
    expect(await registry.register('b-value', '"string"')).toBe(1)
    expect(await registry.getSchemaById(1)).toBe('"string"')
    expect(await registry.getSchemaById(2)).toBeNull()
  })

  it('throws the retriable unavailable error when switched off', async () => {
    const registry = new InMemorySchemaRegistry()
    registry.available = false
    const error = await registry.getSchemaById(1).catch((caught: unknown) => caught)
    expect(isRiskError(error, 'RISK_ERR_REGISTRY_UNAVAILABLE') && error.retriable).toBe(true)
  })
})
