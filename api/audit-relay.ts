/**
 * The audit relay (issue 6, item 5): publishes the API's audit log (api/audit.ts) to
 * `risk.audit.v1`, line by line, so the ClickHouse sink can keep it (`audit_log`, `str_reports`).
 *
 * The audit file is the outbox: an action is audited once its line is on disk, whether or not
 * the broker is up. The relay tails the file every 500 ms, checks each complete line against
 * the chain (sequence + 1, previousHash = the last hash, hash recomputed), publishes a batch with
 * acks -1, and only then records its position (byte offset, sequence, last hash) in a side file
 * written atomically (temp file, fsync, rename). After a crash it resumes from that position, so
 * at most the last unacknowledged batch is published twice; consumers de-duplicate by hash.
 *
 * A line that fails the chain check is never published: the relay logs an error and stops
 * relaying (state 'halted') until someone has run `npx tsx api/audit-verify.ts <file>`, since a
 * broken chain is evidence to keep, not to spread. A failing publish is retried with backoff
 * (capped at 5 s) and the position does not move meanwhile.
 *
 * Example:
 *   const relay = new AuditRelay({ auditPath: audit.path, syncedBytes: () => audit.syncedBytes,
 *     publisher: createKafkaAuditPublisher(config, codec, logger), codec, logger })
 *   await relay.start()      // reads '<audit file>.relay' if there is one
 *   ...
 *   await relay.stop()       // after the batch in hand; the position file says where to go on
 */
import fs from 'node:fs'
import path from 'node:path'
import type { KafkaConfig } from '../core/config.js'
import { RiskError, isRiskError } from '../core/errors.js'
import { createLazyProducer } from './lazy-producer.js'
import type { Logger } from '../core/logger.js'
import { topicName } from '../core/topics.js'
import type { AvroCodec } from '../schemas/codec.js'
import type { AuditEntry as AuditRecord } from '../schemas/generated/types.js'
import { GENESIS_HASH, canonicalJson, chainHash } from './audit.js'

/** One Kafka message of risk.audit.v1, encoded. */
export interface AuditMessage {
  readonly key: string
  readonly value: Buffer
}

export interface AuditPublisher {
  /** Produces the messages in order; resolves once the broker acknowledged all of them (acks -1). */
  publish(messages: readonly AuditMessage[]): Promise<void>
  close(): Promise<void>
}

/** Where the relay is in the audit file: everything before `byteOffset` was acknowledged. */
export interface AuditRelayPosition {
  readonly byteOffset: number
  /** Sequence of the last line before `byteOffset` (0 at the start of the file). */
  readonly sequence: number
  /** Hash of that line (GENESIS_HASH at the start of the file). */
  readonly lastHash: string
}

export const AUDIT_RELAY_STATES = { idle: 'idle', running: 'running', halted: 'halted', stopped: 'stopped' } as const
export type AuditRelayState = (typeof AUDIT_RELAY_STATES)[keyof typeof AUDIT_RELAY_STATES]

export interface AuditRelayOptions {
  /** The audit log's file (`AuditLog.path`). */
  readonly auditPath: string
  /** The side file holding the position; default `<auditPath>.relay`. */
  readonly positionPath?: string
  /**
   * Bytes of the file known complete and synced (`() => audit.syncedBytes` in the API process),
   * so a line is never published before it is durable in the file. Without it the relay reads up
   * to the last complete line (for a file no process is writing).
   */
  readonly syncedBytes?: () => number
  readonly publisher: AuditPublisher
  readonly codec: AvroCodec
  readonly logger: Logger
  /** Default 500 ms. */
  readonly pollIntervalMs?: number
  /** Most lines per publish (default 500). */
  readonly batchSize?: number
  /** Bytes read per batch (default 1 MiB); a longer line is read whole, alone. */
  readonly batchBytes?: number
}

const START: AuditRelayPosition = Object.freeze({ byteOffset: 0, sequence: 0, lastHash: GENESIS_HASH })
const HASH = /^[0-9a-f]{64}$/
const NEWLINE = 0x0a

/**
 * One audit line as its Avro record: `actor` is the subject, `before`/`after`/`detail`/`request`
 * are canonical JSON (null when the line has none; a stored JSON null is the string 'null').
 * Returns null when the line is not an audit entry's shape.
 *
 * Example: toAuditRecord({ sequence: 3, action: 'case.read', entity: { type: 'case', id: 'c-1' }, ... })
 *   -> { sequence: 3, action: 'case.read', entityType: 'case', entityId: 'c-1', before: null, ... }
 */
export function toAuditRecord(entry: Readonly<Record<string, unknown>>): AuditRecord | null {
  const actor = entry.actor as { subject?: unknown; roles?: unknown; tokenId?: unknown } | undefined
  const entity = entry.entity as { type?: unknown; id?: unknown } | undefined
  const atMs = typeof entry.recordedAt === 'string' ? Date.parse(entry.recordedAt) : Number.NaN
  if (typeof entry.sequence !== 'number' || typeof entry.hash !== 'string' || typeof entry.previousHash !== 'string' || typeof entry.action !== 'string' || !Number.isSafeInteger(atMs)) return null
  if (actor === undefined || actor === null || typeof actor.subject !== 'string' || !Array.isArray(actor.roles) || !actor.roles.every((role) => typeof role === 'string')) return null
  if (entity === undefined || entity === null || typeof entity.type !== 'string' || (entity.id !== null && typeof entity.id !== 'string')) return null
  const json = (value: unknown): string | null => (value === undefined ? null : canonicalJson(value))
  return {
    sequence: entry.sequence,
    hash: entry.hash,
    previousHash: entry.previousHash,
    atMs,
    actor: actor.subject,
    roles: actor.roles as string[],
    tokenId: typeof actor.tokenId === 'string' ? actor.tokenId : null,
    action: entry.action,
    entityType: entity.type,
    entityId: entity.id,
    before: json(entry.before),
    after: json(entry.after),
    detail: json(entry.detail),
    request: json(entry.request),
  }
}

/** The Kafka key: `entityType:entityId` (empty id for actions on a collection). */
export function auditMessageKey(record: Pick<AuditRecord, 'entityType' | 'entityId'>): string {
  return `${record.entityType}:${record.entityId ?? ''}`
}

/** Reads the position file; the start of the file when there is none. */
export async function readRelayPosition(positionPath: string): Promise<AuditRelayPosition> {
  let text: string
  try {
    text = await fs.promises.readFile(positionPath, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return START
    throw error
  }
  const corrupt = (): RiskError => new RiskError('RISK_ERR_STATE_CORRUPT', `audit relay position ${positionPath} is not a valid position; check the audit file with api/audit-verify.ts, then delete the position file to relay the whole file again (consumers de-duplicate by hash)`, { file: positionPath })
  let parsed: Partial<AuditRelayPosition>
  try {
    parsed = JSON.parse(text) as Partial<AuditRelayPosition>
  } catch {
    throw corrupt()
  }
  const { byteOffset, sequence, lastHash } = parsed
  if (!Number.isSafeInteger(byteOffset) || (byteOffset as number) < 0 || !Number.isSafeInteger(sequence) || (sequence as number) < 0 || typeof lastHash !== 'string' || !HASH.test(lastHash)) throw corrupt()
  return Object.freeze({ byteOffset: byteOffset as number, sequence: sequence as number, lastHash })
}

/** Writes the position so a crash leaves either the old file or the new one: temp, fsync, rename, fsync the folder. */
export async function writeRelayPosition(positionPath: string, position: AuditRelayPosition): Promise<void> {
  const temporary = `${positionPath}.tmp`
  const handle = await fs.promises.open(temporary, 'w', 0o600)
  try {
    await handle.writeFile(`${JSON.stringify({ byteOffset: position.byteOffset, sequence: position.sequence, lastHash: position.lastHash })}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.promises.rename(temporary, positionPath)
  const folder = await fs.promises.open(path.dirname(positionPath), 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}

export class AuditRelay {
  private status: AuditRelayState = AUDIT_RELAY_STATES.idle
  private position: AuditRelayPosition = START
  private loop: Promise<void> | null = null
  private wake: (() => void) | null = null
  private publishedCount = 0
  readonly positionPath: string
  private readonly pollIntervalMs: number
  private readonly batchSize: number
  private readonly batchBytes: number

  constructor(private readonly options: AuditRelayOptions) {
    this.positionPath = options.positionPath ?? `${options.auditPath}.relay`
    this.pollIntervalMs = options.pollIntervalMs ?? 500
    this.batchSize = options.batchSize ?? 500
    this.batchBytes = options.batchBytes ?? 1024 * 1024
  }

  get state(): AuditRelayState {
    return this.status
  }

  /** Lines acknowledged by the broker since start. */
  get published(): number {
    return this.publishedCount
  }

  /** What the position file says (updated after each acknowledged batch). */
  get current(): AuditRelayPosition {
    return this.position
  }

  /** Reads the position file and starts tailing. Throws RISK_ERR_STATE_CORRUPT for an unreadable position file. */
  async start(): Promise<void> {
    if (this.status === AUDIT_RELAY_STATES.running) return
    this.position = await readRelayPosition(this.positionPath)
    this.status = AUDIT_RELAY_STATES.running
    this.loop = this.run()
  }

  /** Stops after the batch in hand. */
  async stop(): Promise<void> {
    if (this.status === AUDIT_RELAY_STATES.running) this.status = AUDIT_RELAY_STATES.stopped
    this.wake?.()
    await this.loop
    this.loop = null
  }

  /**
   * Publishes every complete line after the position now; returns how many went out. Throws
   * what the publisher throws, and RISK_ERR_STATE_CORRUPT for a line that breaks the chain.
   */
  async drain(): Promise<number> {
    let published = 0
    for (;;) {
      const batch = await this.readBatch()
      if (batch === null) return published
      await this.options.publisher.publish(batch.messages)
      await writeRelayPosition(this.positionPath, batch.next)
      this.position = batch.next
      published += batch.messages.length
      this.publishedCount += batch.messages.length
    }
  }

  private async run(): Promise<void> {
    let failures = 0
    while (this.status === AUDIT_RELAY_STATES.running) {
      try {
        await this.drain()
        failures = 0
      } catch (error) {
        if (isRiskError(error, 'RISK_ERR_STATE_CORRUPT')) {
          this.status = AUDIT_RELAY_STATES.halted
          this.options.logger.error({ err: error, auditFile: this.options.auditPath, position: this.position }, 'audit relay halted: the audit file breaks its chain after the last relayed line; nothing after it is published')
          return
        }
        failures += 1
        const backoffMs = Math.min(5000, 100 * 2 ** Math.min(failures, 6))
        this.options.logger.warn({ err: error, attempt: failures, backoffMs }, 'publishing the audit log failed; retrying (the file keeps every entry)')
        await this.pause(backoffMs)
        continue
      }
      await this.pause(this.pollIntervalMs)
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.status !== AUDIT_RELAY_STATES.running) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null
        resolve()
      }, ms)
      this.wake = () => {
        clearTimeout(timer)
        this.wake = null
        resolve()
      }
    })
  }

  /** The next complete lines after the position, checked and encoded; null when there are none. */
  private async readBatch(): Promise<{ messages: AuditMessage[]; next: AuditRelayPosition } | null> {
    const { auditPath } = this.options
    let handle: fs.promises.FileHandle
    try {
      handle = await fs.promises.open(auditPath, 'r')
    } catch (error) {
      // The API creates the file when it opens the log; nothing to relay before that.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && this.position.byteOffset === 0) return null
      throw error
    }
    try {
      const { size } = await handle.stat()
      const end = Math.min(size, this.options.syncedBytes?.() ?? size)
      const start = this.position.byteOffset
      if (size < start) throw this.corrupt(`is ${size} bytes, shorter than the ${start} bytes already relayed (truncated or replaced?)`)
      if (end <= start) return null
      let chunk = Buffer.alloc(0)
      for (let length = Math.min(end - start, this.batchBytes); ; length = Math.min(end - start, length * 2)) {
        chunk = Buffer.alloc(length)
        const { bytesRead } = await handle.read(chunk, 0, length, start)
        chunk = chunk.subarray(0, bytesRead)
        if (chunk.includes(NEWLINE) || length >= end - start) break
      }
      const messages: AuditMessage[] = []
      let { sequence, lastHash } = this.position
      let consumed = 0
      while (messages.length < this.batchSize) {
        const newline = chunk.indexOf(NEWLINE, consumed)
        if (newline === -1) break
        const line = chunk.subarray(consumed, newline).toString('utf8')
        let record: AuditRecord
        let value: Buffer
        try {
          record = this.checked(line, sequence, lastHash)
          value = this.encoded(record)
        } catch (error) {
          // Publish the good lines before it first; the next batch starts at the broken line and halts.
          if (messages.length > 0) break
          throw error
        }
        messages.push({ key: auditMessageKey(record), value })
        sequence = record.sequence
        lastHash = record.hash
        consumed = newline + 1
      }
      if (messages.length === 0) return null
      return { messages, next: Object.freeze({ byteOffset: start + consumed, sequence, lastHash }) }
    } finally {
      await handle.close()
    }
  }

  /** The line as a record if it continues the chain; RISK_ERR_STATE_CORRUPT otherwise. */
  private checked(line: string, previousSequence: number, previousHash: string): AuditRecord {
    const lineNumber = previousSequence + 1
    let entry: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(line)
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object')
      entry = parsed as Record<string, unknown>
    } catch {
      throw this.corrupt(`line ${lineNumber} is not a JSON object`)
    }
    const { hash, ...body } = entry
    if (typeof hash !== 'string' || !HASH.test(hash)) throw this.corrupt(`line ${lineNumber} has no hash`)
    if (body.previousHash !== previousHash) throw this.corrupt(`line ${lineNumber}'s previousHash does not match the hash of the line before it`)
    if (chainHash(previousHash, body) !== hash) throw this.corrupt(`line ${lineNumber}'s content does not match its hash (edited?)`)
    if (body.sequence !== lineNumber) throw this.corrupt(`line ${lineNumber} has sequence ${String(body.sequence)}`)
    const record = toAuditRecord(entry)
    if (record === null) throw this.corrupt(`line ${lineNumber} is not an audit entry (actor, action, entity or recordedAt missing)`)
    return record
  }

  private encoded(record: AuditRecord): Buffer {
    try {
      return this.options.codec.encode('auditEntries', record)
    } catch (error) {
      throw this.corrupt(`line ${record.sequence} cannot be encoded as an audit record (${(error as Error).message})`)
    }
  }

  private corrupt(why: string): RiskError {
    const file = this.options.auditPath
    return new RiskError('RISK_ERR_STATE_CORRUPT', `audit file ${file} ${why}; the relay stopped. Run \`npx tsx api/audit-verify.ts ${file}\` and keep the file for investigation`, { file })
  }
}

/**
 * A kafkajs producer for risk.audit.v1 (acks -1, not idempotent: the test broker cannot do it;
 * a retry may publish a line twice, which consumers de-duplicate by hash). Connects on first use,
 * so the API starts while the broker is down.
 */
export function createKafkaAuditPublisher(config: { readonly kafka: KafkaConfig }, logger: Logger): AuditPublisher {
  const topic = topicName(config.kafka, 'auditEntries')
  const producer = createLazyProducer(config, logger)

  return {
    async publish(messages) {
      try {
        await producer.send(topic, messages)
      } catch (error) {
        throw new RiskError('RISK_ERR_KAFKA_PRODUCE', `producing ${messages.length} audit entries to ${topic} failed (${(error as Error).message}); the relay retries from the same line`, { topic }, { cause: error })
      }
    },
    async close() {
      await producer.close()
    },
  }
}
