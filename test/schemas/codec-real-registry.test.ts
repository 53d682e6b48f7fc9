/**
 * The codec against the project's real local registry (infra/registry) instead of the stub:
 * registration, a round trip, the registry's BACKWARD check refusing an incompatible schema, and
 * an unknown id. Skipped for now: the lead wires it into the integration run (it then can take
 * the substrate's registry URL instead of starting its own).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRiskError } from '../../core/errors.js'
import { startRegistry, stopRegistry } from '../../infra/registry/launcher.js'
import { SCHEMA_CATALOG, SCHEMA_TOPIC_KEYS, schemaSubject } from '../../schemas/catalog.js'
import { AvroCodec, createHttpRegistryClient, WIRE_HEADER_BYTES } from '../../schemas/codec.js'
import { loadFixture } from './fixtures.js'

describe('AvroCodec with the real local registry', () => {
  let homeDir: string
  let url: string

  beforeAll(async () => {
    homeDir = mkdtempSync(path.join(os.tmpdir(), 'pitboss-codec-registry-'))
    url = (await startRegistry({ homeDir, logLevel: 'warn' })).url
  })

  afterAll(async () => {
    await stopRegistry(homeDir)
    rmSync(homeDir, { recursive: true, force: true })
  })

  it('registers every schema and round-trips every fixture', async () => {
    const codec = new AvroCodec(createHttpRegistryClient(url), 'real.')
    await codec.registerAll()
    for (const topic of SCHEMA_TOPIC_KEYS) {
      const { value, body } = loadFixture(topic)
      const bytes = codec.encode(topic, value)
      expect(bytes.subarray(WIRE_HEADER_BYTES).equals(body)).toBe(true)
      // A second codec has no cache: it must fetch the writer schema from the registry.
      const reader = new AvroCodec(createHttpRegistryClient(url), 'real.')
      expect(await reader.decode(topic, bytes)).toEqual({ ok: true, value, schemaId: codec.schemaId(topic) })
    }
  })

  it('is refused an incompatible change by the registry', async () => {
    const registry = createHttpRegistryClient(url)
    const subject = schemaSubject('real-incompatible.', 'deposits')
    await registry.register(subject, SCHEMA_CATALOG.deposits.schemaText)
    const schema = JSON.parse(SCHEMA_CATALOG.deposits.schemaText) as { fields: object[] }
    schema.fields.push({ name: 'channel', type: 'string', doc: 'no default: old records cannot be read' })
    const error = await registry.register(subject, JSON.stringify(schema)).then(() => null, (caught: unknown) => caught)
    expect(isRiskError(error, 'RISK_ERR_REGISTRY_REJECTED')).toBe(true)
  })

  it('answers an unknown id with null, which the codec dead-letters', async () => {
    const registry = createHttpRegistryClient(url)
    expect(await registry.getSchemaById(987_654)).toBeNull()
    const codec = new AvroCodec(registry, 'real.')
    const bytes = Buffer.from([0, 0, 0x0f, 0x12, 0x06, 0x02])
    expect(await codec.decode('deposits', bytes)).toMatchObject({ ok: false, code: 'RISK_ERR_DECODE_UNKNOWN_SCHEMA', schemaId: 987_654 })
  })
})
