/**
 * The local schema registry's storage and rules, without HTTP: subjects hold numbered
 * versions, each version points at a global schema id, and a new version must pass the
 * subject's compatibility level. It mirrors Confluent Schema Registry's behaviour for the REST
 * subset in server.ts, so code that works against this registry works against Confluent's.
 *
 * Rules (as Confluent):
 * - Schema ids are global and stable. The same schema (compared in a stable JSON form: keys
 *   in a fixed order, no whitespace) gets the same id under every subject, even after the
 *   subjects that used it were deleted.
 * - Registering a schema a subject already has as a live version returns that version and id;
 *   nothing is written.
 * - Compatibility is checked against the latest live version (BACKWARD, FORWARD, FULL) or all
 *   live versions (the *_TRANSITIVE levels). BACKWARD means the new schema can read data
 *   written with the old one: `Type(new).createResolver(Type(old))` must succeed (avsc follows
 *   the Avro spec's schema resolution rules). FORWARD is the reverse, FULL both.
 * - Deleting a subject is soft first (versions hidden, ids still resolvable, subject-level
 *   config dropped); a permanent delete is only allowed after the soft one.
 *
 * Persistence: an append-only JSON-lines log, `registry.log.jsonl` in the data dir, one line
 * per registration, config change or deletion, replayed at open. Each line is written and
 * fdatasync'd before the call returns, so an HTTP answer is never sent for a change a crash
 * could lose. Writes are synchronous on purpose: the check-then-append of a registration can
 * then never interleave with another one, and a local registry sees a handful of writes.
 * A torn last line (crash mid-write) is dropped at replay; damage anywhere else stops the
 * open with RISK_ERR_STATE_CORRUPT. A lock file keeps a second process off the same dir.
 *
 * Example:
 *   const registry = SchemaRegistryStore.open({ dataDir: '/tmp/registry' })
 *   const deposit = '{"type":"record","name":"Deposit","fields":[{"name":"amountMinor","type":"long"}]}'
 *   registry.register('casino.deposits.v1-value', { schema: deposit })  // { id: 1, version: 1 }
 *   registry.register('audit-value', { schema: deposit })               // { id: 1, version: 1 }
 *   registry.getVersion('casino.deposits.v1-value', parseVersion('latest')).id  // 1
 *   registry.close()
 */
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import avro from 'avsc'
import { RiskError } from '../../core/errors.js'
import type { ErrorCode } from '../../core/errors.js'
import type { Logger } from '../../core/logger.js'
import { silentLogger } from '../../core/logger.js'

export const COMPATIBILITY_LEVELS = [
  'NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE',
] as const
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number]

/** Confluent's default, and ours. */
export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD'

/** Only Avro is implemented; JSON and PROTOBUF registrations are refused with 42201. */
export const SCHEMA_TYPES = ['AVRO'] as const
export type SchemaType = (typeof SCHEMA_TYPES)[number]

/**
 * Confluent's error codes (`error_code` in its error bodies). The HTTP status is the first
 * three digits: 40401 -> 404, 409 -> 409, 42201 -> 422, 50001 -> 500.
 */
export const REGISTRY_ERROR_CODES = {
  subjectNotFound: 40401,
  versionNotFound: 40402,
  schemaNotFound: 40403,
  subjectSoftDeleted: 40404,
  subjectNotSoftDeleted: 40405,
  subjectCompatibilityNotConfigured: 40408,
  incompatibleSchema: 409,
  invalidSchema: 42201,
  invalidVersion: 42202,
  invalidCompatibilityLevel: 42203,
  storeError: 50001,
} as const
export type RegistryErrorCode = (typeof REGISTRY_ERROR_CODES)[keyof typeof REGISTRY_ERROR_CODES]

export function httpStatusOf(errorCode: number): number {
  return errorCode >= 1000 ? Math.floor(errorCode / 100) : errorCode
}

/**
 * A refused registry request: a RiskError (for our own callers) carrying Confluent's
 * `errorCode` and the plain `detail` message the HTTP layer returns.
 */
export class RegistryError extends RiskError {
  readonly errorCode: RegistryErrorCode
  readonly httpStatus: number
  readonly detail: string

  constructor(errorCode: RegistryErrorCode, detail: string, options?: { cause?: unknown }) {
    // No RISK_ERR_* code names "not found" or "store failed" for the registry yet; the closest
    // are used: refusals as REGISTRY_REJECTED, failed log writes as STATE_WRITE.
    const riskCode: ErrorCode = errorCode === REGISTRY_ERROR_CODES.storeError ? 'RISK_ERR_STATE_WRITE' : 'RISK_ERR_REGISTRY_REJECTED'
    super(riskCode, detail, { errorCode }, { cause: options?.cause })
    this.name = 'RegistryError'
    this.errorCode = errorCode
    this.httpStatus = httpStatusOf(errorCode)
    this.detail = detail
  }
}

/** A version selector: a number from 1, or the latest live version. */
export type VersionSpec = number | 'latest'

const MAX_VERSION = 2 ** 31 - 1

/** Parses a version path segment like Confluent: `latest`, `-1` (latest) or 1..2^31-1; else 42202. */
export function parseVersion(raw: string): VersionSpec {
  if (raw === 'latest' || raw === '-1') return 'latest'
  if (/^\d+$/.test(raw)) {
    const version = Number(raw)
    if (version >= 1 && version <= MAX_VERSION) return version
  }
  throw new RegistryError(REGISTRY_ERROR_CODES.invalidVersion,
    `The specified version '${raw}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`)
}

/** Upper-cases and checks a compatibility level name; else 42203. */
export function parseCompatibilityLevel(raw: string): CompatibilityLevel {
  const level = raw.trim().toUpperCase()
  if ((COMPATIBILITY_LEVELS as readonly string[]).includes(level)) return level as CompatibilityLevel
  throw new RegistryError(REGISTRY_ERROR_CODES.invalidCompatibilityLevel,
    `Invalid compatibility level '${raw}'. Valid values are ${COMPATIBILITY_LEVELS.join(', ')}`)
}

/** What a client sends to register, look up or test a schema. */
export interface SchemaRequest {
  /** The schema as JSON text, e.g. `'{"type":"record","name":"Deposit","fields":[]}'`. */
  readonly schema: string
  /** AVRO when absent, as in Confluent's API. */
  readonly schemaType?: string
  /** Confluent schema references; not supported here, refused when non-empty. */
  readonly references?: readonly unknown[]
}

/** One version of a subject, as `GET /subjects/:subject/versions/:version` returns it. */
export interface SubjectVersionInfo {
  readonly subject: string
  readonly version: number
  readonly id: number
  readonly schema: string
  readonly schemaType: SchemaType
}

export interface RegisterResult {
  readonly id: number
  readonly version: number
  /** False when the subject already had this schema and nothing was written. */
  readonly created: boolean
}

export interface CompatibilityResult {
  readonly isCompatible: boolean
  /** One line per failed check, naming the version and direction; empty when compatible. */
  readonly messages: readonly string[]
}

// ---------------------------------------------------------------------------------------------
// Schema parsing, stable form and compatibility

/** A validated schema: its stable JSON text and avsc type. */
export interface ParsedSchema {
  readonly canonical: string
  readonly type: avro.Type
}

// Keys of a type object and of a record field, in the order the stable form writes them; other
// keys (custom properties such as `connect.name`) follow in alphabetical order.
const TYPE_KEY_ORDER = ['type', 'name', 'namespace', 'doc', 'aliases', 'fields', 'symbols', 'default', 'items', 'values', 'size', 'logicalType', 'precision', 'scale']
const FIELD_KEY_ORDER = ['name', 'type', 'doc', 'default', 'order', 'aliases']

function orderedKeys(object: Record<string, unknown>, order: readonly string[]): string[] {
  const keys = Object.keys(object)
  const known = order.filter((key) => keys.includes(key))
  const rest = keys.filter((key) => !order.includes(key)).sort()
  return [...known, ...rest]
}

/** JSON values that are not schemas (defaults, custom properties): keys sorted. */
function stableValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stableValue)
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>
    return Object.fromEntries(Object.keys(object).sort().map((key) => [key, stableValue(object[key])]))
  }
  return value
}

function stableSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(stableSchema) // a union
  if (schema === null || typeof schema !== 'object') return schema
  const object = schema as Record<string, unknown>
  const result: Record<string, unknown> = {}
  for (const key of orderedKeys(object, TYPE_KEY_ORDER)) {
    const value = object[key]
    if (key === 'type' || key === 'items' || key === 'values') result[key] = stableSchema(value)
    else if (key === 'fields' && Array.isArray(value)) result[key] = value.map(stableField)
    else result[key] = stableValue(value)
  }
  return result
}

function stableField(field: unknown): unknown {
  if (field === null || typeof field !== 'object' || Array.isArray(field)) return stableValue(field)
  const object = field as Record<string, unknown>
  const result: Record<string, unknown> = {}
  for (const key of orderedKeys(object, FIELD_KEY_ORDER)) {
    result[key] = key === 'type' ? stableSchema(object[key]) : stableValue(object[key])
  }
  return result
}

/**
 * Validates a schema request and returns the schema's stable JSON form and avsc type.
 * Throws 42201 for anything but a valid, self-contained Avro schema.
 *
 * Example: `parseSchema({ schema: '{ "type": "string" }' }).canonical` -> `'{"type":"string"}'`
 */
export function parseSchema(request: SchemaRequest): ParsedSchema {
  const schemaType = request.schemaType ?? 'AVRO'
  if (schemaType !== 'AVRO') {
    throw new RegistryError(REGISTRY_ERROR_CODES.invalidSchema,
      `Schema type '${schemaType}' is not supported by the local registry; only AVRO is (Confluent Schema Registry in production supports JSON and PROTOBUF)`)
  }
  if (request.references !== undefined && request.references.length > 0) {
    throw new RegistryError(REGISTRY_ERROR_CODES.invalidSchema,
      'Schema references are not supported by the local registry; inline the referenced types in the schema')
  }
  let json: unknown
  try {
    json = JSON.parse(request.schema)
  } catch (error) {
    throw new RegistryError(REGISTRY_ERROR_CODES.invalidSchema, `Invalid schema: not JSON (${(error as Error).message})`, { cause: error })
  }
  let type: avro.Type
  try {
    // noAnonymousTypes: the Avro spec (and Confluent's Java parser) require names on records, enums and fixed.
    type = avro.Type.forSchema(json as avro.Schema, { noAnonymousTypes: true })
  } catch (error) {
    throw new RegistryError(REGISTRY_ERROR_CODES.invalidSchema, `Invalid Avro schema: ${(error as Error).message}`, { cause: error })
  }
  return { canonical: JSON.stringify(stableSchema(json)), type }
}

function canRead(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    reader.createResolver(writer)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/**
 * Checks a candidate schema against earlier versions (oldest first) under a compatibility level.
 * Non-transitive levels look at the last one only.
 *
 * Example: with `previous = [{ version: 1, type: v1 }]`, adding a field without a default
 *   `checkCompatibility(v2, previous, 'BACKWARD')` ->
 *   `{ isCompatible: false, messages: ['BACKWARD: the new schema cannot read data written with version 1: no matching field for default-less ...'] }`
 */
export function checkCompatibility(
  candidate: avro.Type,
  previous: ReadonlyArray<{ readonly version: number; readonly type: avro.Type }>,
  level: CompatibilityLevel,
): CompatibilityResult {
  if (level === 'NONE' || previous.length === 0) return { isCompatible: true, messages: [] }
  const transitive = level.endsWith('_TRANSITIVE')
  const against = transitive ? previous : previous.slice(-1)
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL')
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL')
  const messages: string[] = []
  // Newest first, so the first message names the version a writer most likely meant to follow.
  for (const earlier of [...against].reverse()) {
    if (backward) {
      const problem = canRead(candidate, earlier.type)
      if (problem !== undefined) messages.push(`${level}: the new schema cannot read data written with version ${earlier.version}: ${problem}`)
    }
    if (forward) {
      const problem = canRead(earlier.type, candidate)
      if (problem !== undefined) messages.push(`${level}: version ${earlier.version} cannot read data written with the new schema: ${problem}`)
    }
  }
  return { isCompatible: messages.length === 0, messages }
}

// ---------------------------------------------------------------------------------------------
// The log

/** One line of `registry.log.jsonl`. `subject: null` in a config record is the global level. */
export type RegistryLogRecord =
  | { readonly op: 'register'; readonly subject: string; readonly version: number; readonly id: number; readonly schemaType: SchemaType; readonly schema: string }
  | { readonly op: 'config'; readonly subject: string | null; readonly compatibility: CompatibilityLevel }
  | { readonly op: 'delete-config'; readonly subject: string }
  | { readonly op: 'delete-subject'; readonly subject: string; readonly permanent: boolean }

export const LOG_FILE_NAME = 'registry.log.jsonl'
export const LOCK_FILE_NAME = 'registry.lock'

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1
}

function parseLogRecord(line: string): RegistryLogRecord | undefined {
  let value: Record<string, unknown>
  try {
    value = JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (value === null || typeof value !== 'object') return undefined
  const subjectOk = typeof value.subject === 'string' && value.subject !== ''
  switch (value.op) {
    case 'register':
      return subjectOk && isPositiveInteger(value.version) && isPositiveInteger(value.id) && value.schemaType === 'AVRO' && typeof value.schema === 'string'
        ? value as RegistryLogRecord : undefined
    case 'config':
      return (subjectOk || value.subject === null) && typeof value.compatibility === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value.compatibility)
        ? value as RegistryLogRecord : undefined
    case 'delete-config':
      return subjectOk ? value as RegistryLogRecord : undefined
    case 'delete-subject':
      return subjectOk && typeof value.permanent === 'boolean' ? value as RegistryLogRecord : undefined
    default:
      return undefined
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes `registry.lock` (holding our pid), taking over a lock whose process is gone. */
function acquireLock(lockPath: string, dataDir: string): void {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    // Written aside and hard-linked into place: the lock appears with its pid, never empty.
    const temporary = `${lockPath}.${process.pid}.${randomUUID()}.tmp`
    try {
      fs.writeFileSync(temporary, `${process.pid}\n`)
      fs.linkSync(temporary, lockPath)
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new RiskError('RISK_ERR_SUBSTRATE', `cannot create the lock file ${lockPath}: ${(error as Error).message}`, { dataDir }, { cause: error })
      }
    } finally {
      fs.rmSync(temporary, { force: true })
    }
    let holder = Number.NaN
    try {
      holder = Number(fs.readFileSync(lockPath, 'utf8').trim())
    } catch {
      continue // removed meanwhile: try again
    }
    if (Number.isSafeInteger(holder) && holder > 0 && isProcessAlive(holder)) {
      throw new RiskError('RISK_ERR_SUBSTRATE',
        `the registry data dir ${dataDir} is in use by process ${holder}; stop that registry or use another data dir`, { dataDir, pid: holder })
    }
    fs.rmSync(lockPath, { force: true }) // stale: its process is gone
  }
  throw new RiskError('RISK_ERR_SUBSTRATE', `cannot take the lock ${lockPath}; remove it if no registry is running`, { dataDir })
}

// ---------------------------------------------------------------------------------------------
// The store

interface StoredVersion {
  readonly version: number
  readonly id: number
  deleted: boolean
}

interface StoredSchema {
  readonly id: number
  readonly schemaType: SchemaType
  readonly canonical: string
  /** Parsed lazily: replay does not need avsc types until a compatibility check does. */
  type?: avro.Type
}

export interface OpenOptions {
  readonly dataDir: string
  readonly logger?: Logger
}

/** Options of reads that can include soft-deleted versions (`?deleted=true`). */
export interface DeletedOption {
  readonly includeDeleted?: boolean
}

export class SchemaRegistryStore {
  private readonly schemasById = new Map<number, StoredSchema>()
  private readonly idsByCanonical = new Map<string, number>()
  /** Versions in ascending order, soft-deleted ones included. */
  private readonly subjects = new Map<string, StoredVersion[]>()
  private readonly subjectCompatibility = new Map<string, CompatibilityLevel>()
  private globalCompatibility: CompatibilityLevel = DEFAULT_COMPATIBILITY
  private nextId = 1
  private logFd: number | undefined
  private logSizeBytes = 0

  private constructor(
    readonly dataDir: string,
    private readonly logger: Logger,
    private readonly logPath: string,
    private readonly lockPath: string,
  ) {}

  /** Opens (creating if needed) the data dir, takes its lock and replays the log. */
  static open(options: OpenOptions): SchemaRegistryStore {
    const dataDir = path.resolve(options.dataDir)
    fs.mkdirSync(dataDir, { recursive: true })
    const store = new SchemaRegistryStore(dataDir, options.logger ?? silentLogger, path.join(dataDir, LOG_FILE_NAME), path.join(dataDir, LOCK_FILE_NAME))
    acquireLock(store.lockPath, dataDir)
    try {
      store.replay()
      const existed = fs.existsSync(store.logPath)
      store.logFd = fs.openSync(store.logPath, 'a')
      if (!existed) store.syncDirectory() // make the new file's directory entry durable too
    } catch (error) {
      store.close()
      throw error
    }
    return store
  }

  /** Closes the log and releases the lock. Idempotent. */
  close(): void {
    if (this.logFd !== undefined) {
      fs.closeSync(this.logFd)
      this.logFd = undefined
    }
    try {
      if (fs.readFileSync(this.lockPath, 'utf8').trim() === String(process.pid)) fs.rmSync(this.lockPath, { force: true })
    } catch {
      // already gone
    }
  }

  // --- reads -----------------------------------------------------------------------------------

  /** Subjects with at least one live version (or any version, with includeDeleted), sorted. */
  listSubjects(options: DeletedOption = {}): string[] {
    return [...this.subjects.entries()]
      .filter(([, versions]) => versions.some((entry) => options.includeDeleted || !entry.deleted))
      .map(([subject]) => subject)
      .sort()
  }

  /** Version numbers of a subject; 40401 when it has none. */
  listVersions(subject: string, options: DeletedOption = {}): number[] {
    return this.visibleVersions(subject, options).map((entry) => entry.version)
  }

  /** One version; 40401 unknown subject, 40402 unknown version. */
  getVersion(subject: string, version: VersionSpec, options: DeletedOption = {}): SubjectVersionInfo {
    const versions = this.visibleVersions(subject, options)
    const entry = version === 'latest' ? versions.at(-1) : versions.find((candidate) => candidate.version === version)
    if (entry === undefined) throw new RegistryError(REGISTRY_ERROR_CODES.versionNotFound, `Version ${version} not found.`)
    return this.describe(subject, entry)
  }

  /** A schema by id, also when only soft-deleted versions use it; 40403 otherwise. */
  getSchemaById(id: number): { readonly schema: string; readonly schemaType: SchemaType } {
    const stored = this.schemasById.get(id)
    if (stored === undefined || this.versionsUsing(id, { includeDeleted: true }).length === 0) {
      throw new RegistryError(REGISTRY_ERROR_CODES.schemaNotFound, `Schema ${id} not found`)
    }
    return { schema: stored.canonical, schemaType: stored.schemaType }
  }

  /** The subject/version pairs that use a schema id; 40403 when the id is unknown. */
  getSubjectVersionsById(id: number, options: DeletedOption = {}): Array<{ subject: string; version: number }> {
    this.getSchemaById(id)
    return this.versionsUsing(id, options)
  }

  /** The version of a subject holding this schema (POST /subjects/:subject); 40401, 40403, 42201. */
  lookup(subject: string, request: SchemaRequest, options: DeletedOption = {}): SubjectVersionInfo {
    const versions = this.visibleVersions(subject, options)
    const parsed = parseSchema(request)
    const id = this.idsByCanonical.get(parsed.canonical)
    const entry = id === undefined ? undefined : versions.findLast((candidate) => candidate.id === id)
    if (entry === undefined) throw new RegistryError(REGISTRY_ERROR_CODES.schemaNotFound, 'Schema not found')
    return this.describe(subject, entry)
  }

  /**
   * Tests a schema against one version (or, with `version` undefined, against the versions the
   * subject's level names) without registering it. Against `latest` of a subject with no live
   * version the answer is compatible, as in Confluent.
   */
  testCompatibility(subject: string, version: VersionSpec | undefined, request: SchemaRequest): CompatibilityResult {
    const parsed = parseSchema(request)
    const level = this.effectiveCompatibility(subject)
    const live = this.liveVersions(subject)
    if (version === undefined) return checkCompatibility(parsed.type, this.typed(live), level)
    if (live.length === 0) {
      if (version === 'latest') return { isCompatible: true, messages: [] }
      throw this.subjectNotFound(subject)
    }
    const entry = version === 'latest' ? live.at(-1) : live.find((candidate) => candidate.version === version)
    if (entry === undefined) throw new RegistryError(REGISTRY_ERROR_CODES.versionNotFound, `Version ${version} not found.`)
    // One version was named, so the non-transitive form of the level applies.
    return checkCompatibility(parsed.type, this.typed([entry]), level)
  }

  /** The global level. */
  getGlobalCompatibility(): CompatibilityLevel {
    return this.globalCompatibility
  }

  /**
   * A subject's own level; 40408 when it has none, unless `defaultToGlobal` (then the global one).
   */
  getSubjectCompatibility(subject: string, options: { readonly defaultToGlobal?: boolean } = {}): CompatibilityLevel {
    const level = this.subjectCompatibility.get(subject)
    if (level !== undefined) return level
    if (options.defaultToGlobal) return this.globalCompatibility
    throw new RegistryError(REGISTRY_ERROR_CODES.subjectCompatibilityNotConfigured,
      `Subject '${subject}' does not have subject-level compatibility configured`)
  }

  /** The level a registration under this subject is checked with. */
  effectiveCompatibility(subject: string): CompatibilityLevel {
    return this.subjectCompatibility.get(subject) ?? this.globalCompatibility
  }

  // --- writes ----------------------------------------------------------------------------------

  /**
   * Registers a schema under a subject: 42201 if invalid, 409 if incompatible with the subject's
   * level; returns the existing version when the subject already holds this schema.
   */
  register(subject: string, request: SchemaRequest): RegisterResult {
    const parsed = parseSchema(request)
    const existingId = this.idsByCanonical.get(parsed.canonical)
    const live = this.liveVersions(subject)
    const already = existingId === undefined ? undefined : live.find((entry) => entry.id === existingId)
    if (already !== undefined) return { id: already.id, version: already.version, created: false }

    const level = this.effectiveCompatibility(subject)
    const result = checkCompatibility(parsed.type, this.typed(live), level)
    if (!result.isCompatible) {
      throw new RegistryError(REGISTRY_ERROR_CODES.incompatibleSchema,
        `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${result.messages.join('; ')}]`)
    }
    const id = existingId ?? this.nextId
    // Numbering continues past soft-deleted versions, as in Confluent.
    const version = (this.subjects.get(subject)?.at(-1)?.version ?? 0) + 1
    this.commit({ op: 'register', subject, version, id, schemaType: 'AVRO', schema: parsed.canonical })
    const stored = this.schemasById.get(id)
    if (stored !== undefined && stored.type === undefined) stored.type = parsed.type
    this.logger.info({ subject, version, schemaId: id }, 'schema registered')
    return { id, version, created: true }
  }

  /** Sets the global level (`subject` null) or a subject's; 42203 for an unknown level name. */
  setCompatibility(subject: string | null, level: string): CompatibilityLevel {
    const compatibility = parseCompatibilityLevel(level)
    this.commit({ op: 'config', subject, compatibility })
    this.logger.info({ subject, compatibility }, 'compatibility level set')
    return compatibility
  }

  /** Drops a subject's own level, returning it; 40408 when it had none. */
  deleteSubjectCompatibility(subject: string): CompatibilityLevel {
    const previous = this.getSubjectCompatibility(subject)
    this.commit({ op: 'delete-config', subject })
    return previous
  }

  /**
   * Deletes a subject, returning the versions deleted. Soft by default (40404 if already soft
   * deleted); `permanent` only after a soft delete (40405 otherwise) and then forgets the
   * versions. Schema ids stay reserved for their schemas either way.
   */
  deleteSubject(subject: string, options: { readonly permanent?: boolean } = {}): number[] {
    const versions = this.subjects.get(subject)
    if (versions === undefined || versions.length === 0) throw this.subjectNotFound(subject)
    const live = versions.filter((entry) => !entry.deleted)
    if (options.permanent) {
      if (live.length > 0) {
        throw new RegistryError(REGISTRY_ERROR_CODES.subjectNotSoftDeleted,
          `Subject '${subject}' was not deleted first before being permanently deleted`)
      }
      this.commit({ op: 'delete-subject', subject, permanent: true })
      this.logger.info({ subject }, 'subject permanently deleted')
      return versions.map((entry) => entry.version)
    }
    if (live.length === 0) {
      throw new RegistryError(REGISTRY_ERROR_CODES.subjectSoftDeleted,
        `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`)
    }
    this.commit({ op: 'delete-subject', subject, permanent: false })
    this.logger.info({ subject }, 'subject soft-deleted')
    return live.map((entry) => entry.version)
  }

  // --- internals -------------------------------------------------------------------------------

  private subjectNotFound(subject: string): RegistryError {
    return new RegistryError(REGISTRY_ERROR_CODES.subjectNotFound, `Subject '${subject}' not found.`)
  }

  private liveVersions(subject: string): StoredVersion[] {
    return (this.subjects.get(subject) ?? []).filter((entry) => !entry.deleted)
  }

  private visibleVersions(subject: string, options: DeletedOption): StoredVersion[] {
    const versions = (this.subjects.get(subject) ?? []).filter((entry) => options.includeDeleted || !entry.deleted)
    if (versions.length === 0) throw this.subjectNotFound(subject)
    return versions
  }

  private versionsUsing(id: number, options: DeletedOption): Array<{ subject: string; version: number }> {
    const result: Array<{ subject: string; version: number }> = []
    for (const [subject, versions] of this.subjects) {
      for (const entry of versions) {
        if (entry.id === id && (options.includeDeleted || !entry.deleted)) result.push({ subject, version: entry.version })
      }
    }
    // Code-unit order, as listSubjects: the same on every machine, whatever its locale.
    return result.sort((left, right) => (left.subject < right.subject ? -1 : left.subject > right.subject ? 1 : left.version - right.version))
  }

  private describe(subject: string, entry: StoredVersion): SubjectVersionInfo {
    const stored = this.schemasById.get(entry.id)
    if (stored === undefined) throw new RiskError('RISK_ERR_STATE_CORRUPT', `subject '${subject}' version ${entry.version} names unknown schema id ${entry.id}`)
    return { subject, version: entry.version, id: entry.id, schema: stored.canonical, schemaType: stored.schemaType }
  }

  private typed(versions: readonly StoredVersion[]): Array<{ version: number; type: avro.Type }> {
    return versions.map((entry) => {
      const stored = this.schemasById.get(entry.id)
      if (stored === undefined) throw new RiskError('RISK_ERR_STATE_CORRUPT', `version ${entry.version} names unknown schema id ${entry.id}`)
      stored.type ??= avro.Type.forSchema(JSON.parse(stored.canonical) as avro.Schema, { noAnonymousTypes: true })
      return { version: entry.version, type: stored.type }
    })
  }

  /** Writes a record durably, then applies it; on a failed write nothing changes. */
  private commit(record: RegistryLogRecord): void {
    if (this.logFd === undefined) throw new RegistryError(REGISTRY_ERROR_CODES.storeError, 'Error while storing: the registry store is closed')
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8')
    try {
      let written = 0
      while (written < line.length) written += fs.writeSync(this.logFd, line, written, line.length - written)
      fs.fdatasyncSync(this.logFd)
    } catch (error) {
      // Cut a partial line off so the next append does not glue onto it.
      try { fs.ftruncateSync(this.logFd, this.logSizeBytes) } catch { /* the replay drops a torn last line anyway */ }
      this.logger.error({ err: error, logPath: this.logPath }, 'registry log write failed')
      throw new RegistryError(REGISTRY_ERROR_CODES.storeError, `Error while storing to ${this.logPath}: ${(error as Error).message}`, { cause: error })
    }
    this.logSizeBytes += line.length
    this.apply(record)
  }

  private apply(record: RegistryLogRecord): void {
    switch (record.op) {
      case 'register': {
        if (!this.schemasById.has(record.id)) {
          this.schemasById.set(record.id, { id: record.id, schemaType: record.schemaType, canonical: record.schema })
          this.idsByCanonical.set(record.schema, record.id)
        }
        this.nextId = Math.max(this.nextId, record.id + 1)
        const versions = this.subjects.get(record.subject) ?? []
        versions.push({ version: record.version, id: record.id, deleted: false })
        this.subjects.set(record.subject, versions)
        return
      }
      case 'config':
        if (record.subject === null) this.globalCompatibility = record.compatibility
        else this.subjectCompatibility.set(record.subject, record.compatibility)
        return
      case 'delete-config':
        this.subjectCompatibility.delete(record.subject)
        return
      case 'delete-subject':
        if (record.permanent) {
          this.subjects.delete(record.subject)
        } else {
          for (const entry of this.subjects.get(record.subject) ?? []) entry.deleted = true
        }
        // Confluent drops the subject-level config with the subject.
        this.subjectCompatibility.delete(record.subject)
        return
    }
  }

  private replay(): void {
    if (!fs.existsSync(this.logPath)) return
    const text = fs.readFileSync(this.logPath, 'utf8')
    // Every acknowledged record ends with its newline; text after the last one is a write a crash
    // cut short, never acknowledged: drop it, so the next append does not glue onto it.
    const complete = text.slice(0, text.lastIndexOf('\n') + 1)
    if (complete.length < text.length) {
      this.logger.warn({ logPath: this.logPath }, 'dropping a torn last line of the registry log')
      fs.truncateSync(this.logPath, Buffer.byteLength(complete, 'utf8'))
    }
    for (const [index, line] of complete.split('\n').entries()) {
      if (line.trim() === '') continue
      const record = parseLogRecord(line)
      if (record === undefined) {
        throw new RiskError('RISK_ERR_STATE_CORRUPT',
          `${this.logPath} line ${index + 1} is not a registry log record; restore the file from a backup or move it away to start empty`,
          { logPath: this.logPath, line: index + 1 })
      }
      this.apply(record)
    }
    this.logSizeBytes = Buffer.byteLength(complete, 'utf8')
  }

  private syncDirectory(): void {
    const directoryFd = fs.openSync(this.dataDir, 'r')
    try {
      fs.fsyncSync(directoryFd)
    } finally {
      fs.closeSync(directoryFd)
    }
  }
}
