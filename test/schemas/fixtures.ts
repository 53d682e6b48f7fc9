/**
 * Golden fixtures: `schemas/fixtures/<topic name>/v<N>.json` (a realistic value) and
 * `v<N>.avro.hex` (its Avro body, without the wire header since ids depend on the registry).
 * JSON has no bytes, so `bytes` fields are written as hex strings in the fixture JSON; this
 * loader turns them into Buffers by walking the schema. Other tests may use these values as
 * realistic records.
 *
 * Example: `const { value, body } = loadFixture('deposits')` -> a Deposit and its Avro bytes.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import type { Type } from 'avsc'
import { TOPICS } from '../../core/topics.js'
import { loadSchemaVersion, SCHEMA_CATALOG, type SchemaTopicKey } from '../../schemas/catalog.js'

export const FIXTURES_DIR = fileURLToPath(new URL('../../schemas/fixtures/', import.meta.url))

/** Turns hex strings in `bytes` positions into Buffers, following the schema. */
export function withBuffers(type: Type, value: unknown): unknown {
  if (value === null || value === undefined) return value
  switch (type.typeName) {
    case 'bytes': return Buffer.from(value as string, 'hex')
    case 'record': {
      const fields = (type as Type & { fields: Array<{ name: string; type: Type }> }).fields
      return Object.fromEntries(fields.map((field) => [field.name, withBuffers(field.type, (value as Record<string, unknown>)[field.name])]))
    }
    case 'array': return (value as unknown[]).map((item) => withBuffers((type as Type & { itemsType: Type }).itemsType, item))
    case 'union:unwrapped': {
      const branches = (type as Type & { types: Type[] }).types.filter((branch) => branch.typeName !== 'null')
      return branches.length === 1 ? withBuffers(branches[0]!, value) : value
    }
    default: return value
  }
}

export function fixturePaths(topic: SchemaTopicKey, version: number): { json: string; hex: string } {
  const folder = path.join(FIXTURES_DIR, TOPICS[topic].name)
  return { json: path.join(folder, `v${version}.json`), hex: path.join(folder, `v${version}.avro.hex`) }
}

export function loadFixture(topic: SchemaTopicKey, version: number = SCHEMA_CATALOG[topic].version): { value: unknown; body: Buffer } {
  const paths = fixturePaths(topic, version)
  const type = loadSchemaVersion(topic, version).type
  const value = withBuffers(type, JSON.parse(readFileSync(paths.json, 'utf8')))
  const body = Buffer.from(readFileSync(paths.hex, 'utf8').trim(), 'hex')
  return { value, body }
}
