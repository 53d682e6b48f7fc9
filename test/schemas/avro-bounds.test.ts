import { describe, expect, it } from 'vitest'
import { checkAvroBounds, hasRepeatedValues } from '../../schemas/avro-bounds.js'
import { parseAvroSchema } from '../../schemas/avro-type.js'
import { SCHEMA_CATALOG, SCHEMA_TOPIC_KEYS } from '../../schemas/catalog.js'
import { loadFixture } from './fixtures.js'

const bag = parseAvroSchema({
  type: 'record',
  name: 'Bag',
  fields: [
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'counts', type: { type: 'map', values: 'long' } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'ratio', type: 'double' },
  ],
})

describe('checkAvroBounds', () => {
  it.each(SCHEMA_TOPIC_KEYS)('accepts the golden body of %s', (topic) => {
    expect(checkAvroBounds(SCHEMA_CATALOG[topic].type, loadFixture(topic).body, 0)).toBeNull()
  })

  it('accepts arrays and maps in several blocks, including blocks with a byte size', () => {
    const value = { tags: ['a', 'bb'], counts: { x: 1, y: -2 }, note: 'n', ratio: 0.5 }
    expect(checkAvroBounds(bag, bag.toBuffer(value), 0)).toBeNull()
    // tags as two blocks, the second with a negative count and its byte size (Avro spec, arrays).
    const tags = Buffer.from([2, 2, 0x61, 1, 6, 4, 0x62, 0x62, 0])
    const rest = bag.toBuffer({ ...value, tags: [] }).subarray(1)
    const body = Buffer.concat([tags, rest])
    expect(checkAvroBounds(bag, body, 0)).toBeNull()
    expect(bag.fromBuffer(body).tags).toEqual(['a', 'bb'])
  })

  it.each([
    { name: 'an array claiming more items than bytes left', body: [0xfe, 0xff, 0xff, 0xff, 0x0f, 0], problem: /claims 2147483647 items/ },
    { name: 'a map claiming more entries than bytes left', body: [0, 0x80, 0x10, 0], problem: /map block claims 1024/ },
    { name: 'a string longer than the body', body: [2, 0x7e, 0x61, 0], problem: /does not fit/ },
    { name: 'a union branch that does not exist', body: [0, 0, 6], problem: /branch 3/ },
    { name: 'a body cut inside a number', body: [0, 0, 0, 0x01], problem: /does not fit|ends inside/ },
    { name: 'a number longer than 10 bytes', body: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], problem: /longer than 10 bytes/ },
  ])('refuses $name', ({ body, problem }) => {
    expect(checkAvroBounds(bag, Buffer.from(body), 0)).toMatch(problem)
  })

  it('tells which schemas need the check: those with arrays or maps', () => {
    expect(SCHEMA_TOPIC_KEYS.filter((topic) => hasRepeatedValues(SCHEMA_CATALOG[topic].type))).toEqual(['decisions', 'alerts', 'clusters', 'labels', 'auditEntries'])
    expect(hasRepeatedValues(bag)).toBe(true)
  })
})
