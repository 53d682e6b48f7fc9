/**
 * The schema catalog: for every topic that carries Avro, its current schema (the highest
 * `schemas/avro/<topic name>/v<N>.avsc`), read from disk once when this module loads, and the
 * avsc Type built from it (with safe longs, see avro-type.ts).
 *
 * Subjects follow Confluent's TopicNameStrategy: `${topicName}-value`, where the topic name
 * carries the deployment prefix (core/topics.ts).
 *
 * `links` and `clusters` are the graph worker's internal topics (pipelines/graph-worker.ts);
 * `caseEvents` and `labels` are written by the case service (cases/, docs/cases.md).
 * `transfersReceived` is the engine's repartition of transfers by the receiver (pipelines/processor.ts).
 * `auditEntries` is the API's audit log, relayed from its file by api/audit-relay.ts (docs/api.md).
 *
 * Example:
 *   SCHEMA_CATALOG.deposits.fullName          // 'io.pitboss.casino.Deposit'
 *   SCHEMA_CATALOG.deposits.version           // 1
 *   schemaSubject('t42.', 'deposits')         // 't42.casino.deposits.v1-value'
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import type { Type } from 'avsc'
import { TOPICS, type TopicKey } from '../core/topics.js'
import { parseAvroSchema } from './avro-type.js'

/** Topics with an Avro schema: every topic of the catalog (core/topics.ts). */
export const SCHEMA_TOPIC_KEYS = [
  'players', 'devices', 'deposits', 'transfers', 'bets', 'withdrawals',
  'reviews', 'payouts', 'screening',
  'decisions', 'alerts', 'payoutCommands', 'ledgerCommands', 'deadLetters', 'withdrawalEvents',
  'links', 'clusters', 'transfersReceived',
  'caseEvents', 'labels',
  'auditEntries',
] as const satisfies readonly TopicKey[]

export type SchemaTopicKey = (typeof SCHEMA_TOPIC_KEYS)[number]

export interface SchemaEntry {
  readonly topic: SchemaTopicKey
  /** N of the current `vN.avsc`. */
  readonly version: number
  /** Absolute path of the `.avsc` file. */
  readonly file: string
  /** The schema as registered: the file's JSON, compacted. */
  readonly schemaText: string
  readonly type: Type
  /** Full name of the top-level record, e.g. `io.pitboss.casino.Deposit`. A writer schema must have the same one. */
  readonly fullName: string
}

/** Folder holding `<topic name>/v<N>.avsc`. */
export const AVRO_DIR = fileURLToPath(new URL('./avro/', import.meta.url))

const VERSION_FILE = /^v([1-9]\d*)\.avsc$/

/** Versions of a topic's schema present on disk, ascending. */
export function schemaVersionsOnDisk(topic: SchemaTopicKey): number[] {
  const folder = path.join(AVRO_DIR, TOPICS[topic].name)
  return readdirSync(folder)
    .map((file) => VERSION_FILE.exec(file)?.[1])
    .filter((version): version is string => version !== undefined)
    .map(Number)
    .sort((left, right) => left - right)
}

/** Reads one version of a topic's schema from disk (the catalog holds only the current one). */
export function loadSchemaVersion(topic: SchemaTopicKey, version: number): SchemaEntry {
  const file = path.join(AVRO_DIR, TOPICS[topic].name, `v${version}.avsc`)
  const schemaText = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')))
  const type = parseAvroSchema(schemaText)
  if (type.typeName !== 'record' || type.name === undefined) throw new Error(`${file}: the top-level type must be a named record`)
  return Object.freeze({ topic, version, file, schemaText, type, fullName: type.name })
}

function loadCurrent(topic: SchemaTopicKey): SchemaEntry {
  const versions = schemaVersionsOnDisk(topic)
  const current = versions[versions.length - 1]
  if (current === undefined) throw new Error(`no v<N>.avsc under ${path.join(AVRO_DIR, TOPICS[topic].name)}`)
  return loadSchemaVersion(topic, current)
}

export const SCHEMA_CATALOG: Readonly<Record<SchemaTopicKey, SchemaEntry>> = Object.freeze(
  Object.fromEntries(SCHEMA_TOPIC_KEYS.map((topic) => [topic, loadCurrent(topic)])) as Record<SchemaTopicKey, SchemaEntry>,
)

export function hasSchema(topic: TopicKey): topic is SchemaTopicKey {
  return Object.hasOwn(SCHEMA_CATALOG, topic)
}

/** The registry subject of a topic's values (TopicNameStrategy). */
export function schemaSubject(topicPrefix: string, topic: TopicKey): string {
  return `${topicPrefix}${TOPICS[topic].name}-value`
}
