import { describe, expect, it } from 'vitest'
import { SCHEMA_CATALOG, SCHEMA_TOPIC_KEYS } from '../../schemas/catalog.js'
import { AvroCodec, WIRE_HEADER_BYTES } from '../../schemas/codec.js'
import { loadFixture } from './fixtures.js'
import { InMemorySchemaRegistry } from './memory-registry.js'

// The golden bodies were cross-checked once against Apache Avro's own implementation
// (Debian python3-avro 1.11.1): it writes the same bytes for every fixture and reads them back.
describe.each(SCHEMA_TOPIC_KEYS)('golden fixture of %s', (topic) => {
  const { value, body } = loadFixture(topic)
  const type = SCHEMA_CATALOG[topic].type

  it('encodes to exactly its golden bytes', () => {
    expect(type.toBuffer(value).toString('hex')).toBe(body.toString('hex'))
  })

  it('decodes from its golden bytes back to its JSON', () => {
    expect(type.fromBuffer(body)).toEqual(value)
  })

  it('round-trips through the codec with the wire header', async () => {
    const codec = new AvroCodec(new InMemorySchemaRegistry(), 'golden.')
    await codec.registerAll()
    const bytes = codec.encode(topic, value)
    expect(bytes[0]).toBe(0)
    expect(bytes.readInt32BE(1)).toBe(codec.schemaId(topic))
    expect(bytes.subarray(WIRE_HEADER_BYTES).equals(body)).toBe(true)
    const decoded = await codec.decode(topic, bytes)
    expect(decoded).toEqual({ ok: true, value, schemaId: codec.schemaId(topic) })
  })
})
