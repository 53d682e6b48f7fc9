/**
 * The wire codec: Avro in the Confluent wire format, through the schema registry.
 *
 *   byte 0      magic byte, always 0
 *   bytes 1..4  schema id, big-endian (the registry's global id of the writer schema)
 *   bytes 5..   the Avro binary body
 *
 * Values are registered under `${topicName}-value` (TopicNameStrategy, topic names with the
 * deployment prefix). Encoding writes the current catalog schema; decoding resolves whatever
 * writer schema the id names into the current (reader) schema, so records written with an
 * older or newer compatible version keep decoding.
 *
 * Decoding never throws for bad input: it returns `{ ok: false, code }` with the RISK_ERR_* code
 * the dead-letter route records. It throws (rejects) only for infrastructure, i.e. a registry
 * that does not answer (RISK_ERR_REGISTRY_UNAVAILABLE, retriable): an outage must be retried,
 * never turn good records into dead letters.
 *
 * Example:
 *   const codec = new AvroCodec(createHttpRegistryClient(config.registry.url), config.kafka.topicPrefix,
 *     { maxPayloadBytes: config.pipeline.maxPayloadBytes })
 *   await codec.registerAll()
 *   const bytes = codec.encode('decisions', decision)        // Buffer, header + body
 *   const result = await codec.decode('deposits', message.value)
 *   if (result.ok) use(result.value)                          // a Deposit
 *   else deadLetter(result.code, result.message, result.schemaId)
 */
import type { Type } from 'avsc'
import { RiskError, type ErrorCode } from '../core/errors.js'
import { INPUT_TOPIC_KEYS, TOPICS, type TopicKey } from '../core/topics.js'
import { checkAvroBounds, hasRepeatedValues } from './avro-bounds.js'
import { parseAvroSchema } from './avro-type.js'
import { hasSchema, SCHEMA_CATALOG, SCHEMA_TOPIC_KEYS, schemaSubject, type SchemaEntry, type SchemaTopicKey } from './catalog.js'
import type { TopicWireTypes } from './generated/types.js'
import type { SchemaRegistryClient } from './registry-client.js'

export { createHttpRegistryClient, type HttpRegistryClientOptions, type SchemaRegistryClient } from './registry-client.js'

/** Length of the Confluent wire header: magic byte + 4-byte schema id. */
export const WIRE_HEADER_BYTES = 5
const MAGIC_BYTE = 0
const INPUT_TOPICS: ReadonlySet<TopicKey> = new Set(INPUT_TOPIC_KEYS)
/** Same default as PITBOSS_MAX_PAYLOAD_BYTES (core/config.ts). */
const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024

/** The decoded value type of a topic (the generated wire type). */
export type WireValue<K extends TopicKey> = K extends keyof TopicWireTypes ? TopicWireTypes[K] : never

export type DecodeResult<T = unknown> =
  | { readonly ok: true; readonly value: T; readonly schemaId: number }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly schemaId: number | null }

export interface AvroCodecOptions {
  /**
   * Input payloads longer than this are refused with RISK_ERR_PAYLOAD_TOO_LARGE
   * (config.pipeline.maxPayloadBytes). Output topics are ours and exempt: a dead letter carries
   * an oversized input whole, so it is necessarily larger than the limit.
   */
  readonly maxPayloadBytes?: number
}

type Resolver = ReturnType<Type['createResolver']>

/** How a writer schema reads into one topic's reader schema: ready (resolver undefined when identical) or refused. */
type ReadPlan =
  | { readonly ok: true; readonly resolver: Resolver | undefined }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string }

interface WriterSchema {
  /** Null when the registry's schema text is not an Avro record schema we can parse. */
  readonly type: Type | null
  readonly problem: string | null
  /** Whether bodies need the bounds pre-check (the schema has arrays or maps, see avro-bounds.ts). */
  readonly checkBounds: boolean
  readonly plans: Map<SchemaTopicKey, ReadPlan>
}

function failure(code: ErrorCode, message: string, schemaId: number | null): DecodeResult<never> {
  return { ok: false, code, message, schemaId }
}

function schemaEntry(topic: TopicKey): SchemaEntry {
  if (!hasSchema(topic)) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `topic '${String(topic)}' (${TOPICS[topic as TopicKey].name}) has no Avro schema yet; see schemas/catalog.ts`, { topic: String(topic) })
  }
  return SCHEMA_CATALOG[topic]
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing'
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function describeType(type: Type): string {
  if (type.typeName === 'abstract:long') return 'long (a safe integer)'
  if (type.typeName === 'enum') return `one of ${(type as Type & { symbols: string[] }).symbols.join(', ')}`
  if (type.typeName.startsWith('union')) return (type as Type & { types: Type[] }).types.map(describeType).join(' or ')
  return type.name ?? type.typeName
}

/** Fields present in the value but not declared in the schema (they would be silently dropped). */
function undeclaredFields(type: Type, value: unknown, path: string, found: string[]): void {
  if (value === null || typeof value !== 'object') return
  switch (type.typeName) {
    case 'record': case 'error': {
      const fields = (type as Type & { fields: Array<{ name: string; type: Type }> }).fields
      const names = new Set(fields.map((field) => field.name))
      for (const key of Object.keys(value)) if (!names.has(key)) found.push(`${path}${key}`)
      for (const field of fields) undeclaredFields(field.type, (value as Record<string, unknown>)[field.name], `${path}${field.name}.`, found)
      return
    }
    case 'array':
      if (Array.isArray(value)) value.forEach((item, index) => undeclaredFields((type as Type & { itemsType: Type }).itemsType, item, `${path}${index}.`, found))
      return
    case 'map':
      for (const [key, inner] of Object.entries(value)) undeclaredFields((type as Type & { valuesType: Type }).valuesType, inner, `${path}${key}.`, found)
      return
    case 'union:unwrapped':
      for (const branch of (type as Type & { types: Type[] }).types) undeclaredFields(branch, value, path, found)
      return
  }
}

/** One line per problem, naming the field path, for an encode that failed validation. */
export function describeInvalidValue(type: Type, value: unknown): string[] {
  const problems: string[] = []
  type.isValid(value, {
    errorHook: (path, invalid, invalidType) => {
      problems.push(`${path.length === 0 ? '(the value)' : path.join('.')}: ${describeValue(invalid)} is not ${describeType(invalidType)}`)
    },
  })
  const extra: string[] = []
  undeclaredFields(type, value, '', extra)
  for (const field of extra) problems.push(`${field}: not a field of the schema (misspelt? it would be dropped)`)
  return problems
}

/**
 * Encodes values of the catalog topics and decodes them back, against a schema registry.
 * Writer schemas and their resolvers are cached by id: once an id has been seen, decoding a
 * record with it is synchronous work (see decodeCached).
 */
export class AvroCodec {
  private readonly maxPayloadBytes: number
  private readonly idsByTopic = new Map<SchemaTopicKey, number>()
  private readonly writers = new Map<number, WriterSchema>()
  private readonly pendingWriters = new Map<number, Promise<WriterSchema | null>>()

  constructor(
    private readonly registry: SchemaRegistryClient,
    private readonly topicPrefix: string,
    options: AvroCodecOptions = {},
  ) {
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
  }

  /**
   * Registers every catalog schema under its subject and remembers the ids; required before
   * encode. Throws RISK_ERR_REGISTRY_UNAVAILABLE (retry) or RISK_ERR_REGISTRY_REJECTED (a schema
   * change the registry finds incompatible: fix the schema, see schemas/README.md).
   */
  async registerAll(): Promise<void> {
    await Promise.all(SCHEMA_TOPIC_KEYS.map(async (topic) => {
      const entry = SCHEMA_CATALOG[topic]
      const id = await this.registry.register(schemaSubject(this.topicPrefix, topic), entry.schemaText)
      this.idsByTopic.set(topic, id)
      // Our own schema needs no registry round trip and no resolver to read back.
      const writer = this.writers.get(id) ?? writerOf(entry.type)
      writer.plans.set(topic, { ok: true, resolver: undefined })
      this.writers.set(id, writer)
    }))
  }

  /** The registry id of a topic's current schema (after registerAll). */
  schemaId(topic: TopicKey): number {
    schemaEntry(topic)
    const id = this.idsByTopic.get(topic as SchemaTopicKey)
    if (id === undefined) throw new RiskError('RISK_ERR_CONFIG_INVALID', `no schema id for '${topic}': call AvroCodec.registerAll() before encoding`, { topic })
    return id
  }

  /**
   * Validates and encodes a value with the topic's current schema, header included. Throws
   * RISK_ERR_INVALID_FIELD naming every bad field path (wrong type, missing, unsafe long,
   * unknown enum symbol, undeclared field) instead of writing a record nobody can trust.
   */
  encode(topic: TopicKey, value: unknown): Buffer {
    const entry = schemaEntry(topic)
    const id = this.schemaId(topic)
    if (!entry.type.isValid(value, { noUndeclaredFields: true })) {
      const problems = describeInvalidValue(entry.type, value)
      throw new RiskError('RISK_ERR_INVALID_FIELD', `cannot encode ${entry.fullName} for ${TOPICS[topic].name}: ${problems.join('; ')}`, { topic: TOPICS[topic].name })
    }
    const body = entry.type.toBuffer(value)
    const bytes = Buffer.allocUnsafe(WIRE_HEADER_BYTES + body.length)
    bytes[0] = MAGIC_BYTE
    bytes.writeInt32BE(id, 1)
    body.copy(bytes, WIRE_HEADER_BYTES)
    return bytes
  }

  /**
   * Decodes one record value. Checks, in order: null/empty (RISK_ERR_DECODE_MAGIC_BYTE), size
   * (RISK_ERR_PAYLOAD_TOO_LARGE), magic byte and header length (RISK_ERR_DECODE_MAGIC_BYTE),
   * schema id known (RISK_ERR_DECODE_UNKNOWN_SCHEMA), writer record is this topic's record
   * (RISK_ERR_DECODE_WRONG_SCHEMA), body decodes exactly (RISK_ERR_DECODE_AVRO). Rejects only
   * with RISK_ERR_REGISTRY_UNAVAILABLE (retriable) when the writer schema must be fetched and
   * the registry does not answer.
   */
  async decode<K extends TopicKey>(topic: K, bytes: Buffer | null): Promise<DecodeResult<WireValue<K>>> {
    const cached = this.decodeCached(topic, bytes)
    if (cached !== undefined) return cached
    const schemaId = (bytes as Buffer).readInt32BE(1)
    const writer = await this.fetchWriter(schemaId)
    if (writer === null) return failure('RISK_ERR_DECODE_UNKNOWN_SCHEMA', `schema id ${schemaId} is not registered in the schema registry`, schemaId)
    return this.decodeBody(topic, bytes as Buffer, schemaId, writer) as DecodeResult<WireValue<K>>
  }

  /**
   * The synchronous part of decode: the result, or undefined when the writer schema id has not
   * been seen yet (then call decode, which fetches it once). Lets a batch loop skip a promise
   * per record.
   */
  decodeCached<K extends TopicKey>(topic: K, bytes: Buffer | null): DecodeResult<WireValue<K>> | undefined {
    schemaEntry(topic)
    if (bytes === null || bytes.length === 0) return failure('RISK_ERR_DECODE_MAGIC_BYTE', 'the record has no value (null or empty payload)', null)
    if (INPUT_TOPICS.has(topic) && bytes.length > this.maxPayloadBytes) return failure('RISK_ERR_PAYLOAD_TOO_LARGE', `the payload is ${bytes.length} bytes, more than the maximum of ${this.maxPayloadBytes} (PITBOSS_MAX_PAYLOAD_BYTES)`, null)
    if (bytes[0] !== MAGIC_BYTE) return failure('RISK_ERR_DECODE_MAGIC_BYTE', `the payload starts with byte 0x${bytes[0]!.toString(16).padStart(2, '0')}, not the Confluent magic byte 0x00 (not Avro from a schema-registry serializer?)`, null)
    if (bytes.length < WIRE_HEADER_BYTES) return failure('RISK_ERR_DECODE_MAGIC_BYTE', `the payload is ${bytes.length} bytes, shorter than the 5-byte wire header`, null)
    const schemaId = bytes.readInt32BE(1)
    // The registry assigns ids from 1: anything else cannot be known, no need to ask.
    if (schemaId <= 0) return failure('RISK_ERR_DECODE_UNKNOWN_SCHEMA', `schema id ${schemaId} cannot exist (registry ids are positive)`, schemaId)
    const writer = this.writers.get(schemaId)
    if (writer === undefined) return undefined
    return this.decodeBody(topic, bytes, schemaId, writer) as DecodeResult<WireValue<K>>
  }

  private decodeBody(topic: TopicKey, bytes: Buffer, schemaId: number, writer: WriterSchema): DecodeResult {
    const reader = schemaEntry(topic)
    const plan = this.readPlan(reader, schemaId, writer)
    if (!plan.ok) return failure(plan.code, plan.message, schemaId)
    if (writer.checkBounds) {
      const problem = checkAvroBounds(writer.type!, bytes, WIRE_HEADER_BYTES)
      if (problem !== null) return failure('RISK_ERR_DECODE_AVRO', `the Avro body is malformed for schema id ${schemaId}: ${problem}`, schemaId)
    }
    let decoded: { value: unknown; offset: number }
    try {
      decoded = reader.type.decode(bytes, WIRE_HEADER_BYTES, plan.resolver)
    } catch (error) {
      return failure('RISK_ERR_DECODE_AVRO', `the Avro body does not decode with schema id ${schemaId}: ${(error as Error).message}`, schemaId)
    }
    if (decoded.offset < 0) return failure('RISK_ERR_DECODE_AVRO', `the Avro body is truncated (${bytes.length - WIRE_HEADER_BYTES} bytes) for schema id ${schemaId}`, schemaId)
    if (decoded.offset !== bytes.length) return failure('RISK_ERR_DECODE_AVRO', `${bytes.length - decoded.offset} trailing bytes after the Avro body of schema id ${schemaId}`, schemaId)
    return { ok: true, value: decoded.value, schemaId }
  }

  private readPlan(reader: SchemaEntry, schemaId: number, writer: WriterSchema): ReadPlan {
    const known = writer.plans.get(reader.topic)
    if (known !== undefined) return known
    let plan: ReadPlan
    if (writer.type === null) {
      plan = { ok: false, code: 'RISK_ERR_DECODE_WRONG_SCHEMA', message: `schema id ${schemaId} is not an Avro record schema (${writer.problem}); ${TOPICS[reader.topic].name} expects ${reader.fullName}` }
    } else if (writer.type.name !== reader.fullName && !(reader.type.aliases ?? []).includes(writer.type.name ?? '')) {
      plan = { ok: false, code: 'RISK_ERR_DECODE_WRONG_SCHEMA', message: `schema id ${schemaId} writes ${writer.type.name ?? writer.type.typeName}, but ${TOPICS[reader.topic].name} carries ${reader.fullName} (a record produced for another topic?)` }
    } else {
      try {
        plan = { ok: true, resolver: reader.type.createResolver(writer.type) }
      } catch (error) {
        plan = { ok: false, code: 'RISK_ERR_DECODE_AVRO', message: `schema id ${schemaId} cannot be read as the current ${reader.fullName}: ${(error as Error).message}` }
      }
    }
    writer.plans.set(reader.topic, plan)
    return plan
  }

  /** Fetches and parses a writer schema once, however many records ask for it concurrently. */
  private fetchWriter(schemaId: number): Promise<WriterSchema | null> {
    const pending = this.pendingWriters.get(schemaId)
    if (pending !== undefined) return pending
    const fetching = (async (): Promise<WriterSchema | null> => {
      const text = await this.registry.getSchemaById(schemaId)
      // Unknown ids are not cached: the id may be registered a moment later by a producer.
      if (text === null) return null
      const writer = this.writers.get(schemaId) ?? parseWriter(text)
      this.writers.set(schemaId, writer)
      return writer
    })().finally(() => this.pendingWriters.delete(schemaId))
    this.pendingWriters.set(schemaId, fetching)
    return fetching
  }
}

function writerOf(type: Type): WriterSchema {
  return { type, problem: null, checkBounds: hasRepeatedValues(type), plans: new Map() }
}

function parseWriter(text: string): WriterSchema {
  try {
    const type = parseAvroSchema(text)
    if (type.typeName !== 'record') return { type: null, problem: `a top-level ${type.typeName}`, checkBounds: false, plans: new Map() }
    return writerOf(type)
  } catch (error) {
    return { type: null, problem: (error as Error).message, checkBounds: false, plans: new Map() }
  }
}
