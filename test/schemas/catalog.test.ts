import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { TOPICS, type TopicKey } from '../../core/topics.js'
import { hasSchema, loadSchemaVersion, SCHEMA_CATALOG, SCHEMA_TOPIC_KEYS, schemaSubject, schemaVersionsOnDisk } from '../../schemas/catalog.js'

type Json = Record<string, unknown>

/** Every named or inline type definition in a schema, with the path to it. */
function walk(schema: unknown, path: string, visit: (node: Json, path: string) => void): void {
  if (Array.isArray(schema)) {
    schema.forEach((branch, index) => walk(branch, `${path}[${index}]`, visit))
    return
  }
  if (schema === null || typeof schema !== 'object') return
  const node = schema as Json
  visit(node, path)
  if (node.type === 'record') for (const field of node.fields as Json[]) walk(field.type, `${path}.${String(field.name)}`, visit)
  if (node.type === 'array') walk(node.items, `${path}[]`, visit)
  if (node.type === 'map') walk(node.values, `${path}{}`, visit)
}

function everySchemaVersion(): Array<{ topic: (typeof SCHEMA_TOPIC_KEYS)[number]; version: number; json: Json }> {
  return SCHEMA_TOPIC_KEYS.flatMap((topic) => schemaVersionsOnDisk(topic).map((version) => {
    const entry = loadSchemaVersion(topic, version)
    return { topic, version, json: JSON.parse(readFileSync(entry.file, 'utf8')) as Json }
  }))
}

describe('schema catalog', () => {
  it('has a parsed current schema for every catalog topic', () => {
    expect(Object.keys(SCHEMA_CATALOG).sort()).toEqual([...SCHEMA_TOPIC_KEYS].sort())
    for (const topic of SCHEMA_TOPIC_KEYS) {
      expect(SCHEMA_CATALOG[topic].type.typeName).toBe('record')
      expect(SCHEMA_CATALOG[topic].fullName).toMatch(/^io\.pitboss\.[a-z]+\.[A-Z][A-Za-z]+$/)
    }
    for (const topic of ['links', 'clusters', 'caseEvents', 'labels'] as TopicKey[]) expect(hasSchema(topic)).toBe(true)
    expect(Object.keys(TOPICS).filter((topic) => !hasSchema(topic as TopicKey))).toEqual([])
  })

  it('uses the highest version on disk as the current schema', () => {
    for (const topic of SCHEMA_TOPIC_KEYS) expect(SCHEMA_CATALOG[topic].version).toBe(Math.max(...schemaVersionsOnDisk(topic)))
  })

  it('gives each topic a distinct record name, so a payload of one topic is refused on another', () => {
    const names = SCHEMA_TOPIC_KEYS.map((topic) => SCHEMA_CATALOG[topic].fullName)
    expect(new Set(names).size).toBe(names.length)
  })

  it('names subjects with TopicNameStrategy and the deployment prefix', () => {
    expect(schemaSubject('', 'deposits')).toBe('casino.deposits.v1-value')
    expect(schemaSubject('t42.', 'decisions')).toBe(`t42.${TOPICS.decisions.name}-value`)
  })

  it('starts every input event with eventId, playerId and eventTimeMs', () => {
    // risk.clusters.v1 is read by the engine as a co-partitioned input, merged by event time.
    for (const topic of SCHEMA_TOPIC_KEYS.filter((key) => TOPICS[key].role === 'input' || key === 'clusters')) {
      const fields = (SCHEMA_CATALOG[topic].type as unknown as { fields: Array<{ name: string }> }).fields.slice(0, 3).map((field) => field.name)
      expect(fields, topic).toEqual(['eventId', 'playerId', 'eventTimeMs'])
    }
  })

  it.each(everySchemaVersion())('$topic v$version follows the house rules', ({ json }) => {
    const problems: string[] = []
    walk(json, '', (node, path) => {
      if (node.type === 'record' || node.type === 'enum') {
        if (typeof node.doc !== 'string' || node.doc === '') problems.push(`${path}: ${String(node.name)} has no doc`)
        const namespace = typeof node.namespace === 'string' ? node.namespace : (json.namespace as string)
        if (!/^io\.pitboss\.[a-z]+$/.test(namespace)) problems.push(`${path}: namespace ${namespace} is not io.pitboss.<area>`)
      }
      if (node.type === 'enum') {
        if (typeof node.default !== 'string' || !(node.symbols as string[]).includes(node.default)) problems.push(`${path}: enum ${String(node.name)} has no default symbol`)
      }
      if (node.type !== 'record') return
      for (const field of node.fields as Json[]) {
        const where = `${path}.${String(field.name)}`
        if (typeof field.doc !== 'string' || field.doc === '') problems.push(`${where}: no doc`)
        const fieldType = field.type
        if (Array.isArray(fieldType)) {
          // Optional fields are ["null", T] with default null, nothing else.
          if (fieldType.length !== 2 || fieldType[0] !== 'null' || field.default !== null) problems.push(`${where}: a union must be ["null", T] with default null`)
        }
        const inner = Array.isArray(fieldType) ? fieldType[1] : fieldType
        const isTimestamp = typeof inner === 'object' && inner !== null && (inner as Json).type === 'long' && (inner as Json).logicalType === 'timestamp-millis'
        if (isTimestamp && !String(field.name).endsWith('Ms')) problems.push(`${where}: a timestamp-millis field must be named ...Ms`)
        if (String(field.name).endsWith('Ms') && !isTimestamp) problems.push(`${where}: a ...Ms field must be a long with logicalType timestamp-millis`)
        if (String(field.name).endsWith('Minor')) {
          if (inner !== 'long') problems.push(`${where}: money must be a long of minor units`)
          if (!(node.fields as Json[]).some((other) => other.name === 'currency')) problems.push(`${where}: money needs a currency field beside it`)
        }
        if (inner === 'float' || (inner === 'double' && /amount|stake|win/i.test(String(field.name)))) problems.push(`${where}: money is never a float`)
      }
    })
    expect(problems).toEqual([])
  })
})
