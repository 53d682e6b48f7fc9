/**
 * The case store: one RocksDB owned by one case-service process, where every change is ONE
 * atomic write batch, synced to disk (`sync: true`) before the caller hears "done". A batch
 * holds, together:
 *
 *   - the records the change writes or deletes (case, incidents, alerts, indexes), as JSON;
 *   - its case events, appended to the store-wide hash-chained audit log (`audit/<sequence>`,
 *     plus a per-case timeline index), see audit-chain.ts;
 *   - outbox entries (`outbox/<n>`) for each case event and label, which the relay publishes to
 *     Kafka and deletes only after the broker acknowledged them (outbox-relay.ts);
 *   - the head record (`meta/head`): last audit sequence and hash, outbox counter, id counters.
 *
 * So a crash leaves either all of a change or none of it, and never a change without its audit
 * events or its Kafka messages.
 *
 * Group commit: changes submitted while a batch is being written go into the next batch
 * together (in submission order), so N concurrent changes cost one fsync, not N. Callers must
 * not submit two changes to the same record at once; the case service's locks see to that.
 *
 * Example:
 *   const store = await CaseStore.open('/var/lib/pitboss/cases')
 *   const [event] = await store.commit({ puts: [['case/C-1', caseRecord]], deletes: [], events: [draft], labels: [] })
 *   event.sequence  // 1; event.hash is sha256 over it and GENESIS_HASH
 */
import fs from 'node:fs/promises'
import { RocksLevel } from '@nxtedition/rocksdb'
import { RiskError } from '../core/errors.js'
import { batchWriter, type BatchOperation } from '../pipelines/state/store.js'
import type { CaseEvent, CaseLabel } from '../schemas/generated/types.js'
import { GENESIS_HASH, sealEvent, verifyChain, type AuditVerification } from './audit-chain.js'
import type { OutboxMessage } from './types.js'

/** A case event before the store numbers, chains and seals it. */
export type EventDraft = Omit<CaseEvent, 'eventId' | 'sequence' | 'previousHash' | 'hash'>

export interface Mutation {
  /** Records to write, encoded as JSON. */
  readonly puts: ReadonlyArray<readonly [key: string, value: unknown]>
  readonly deletes: readonly string[]
  readonly events: readonly EventDraft[]
  readonly labels: readonly CaseLabel[]
}

/** Where the relay reads the outbox. */
export interface OutboxSource {
  /** The oldest `limit` entries, in the order they were written. */
  readOutbox(limit: number): Promise<OutboxMessage[]>
  /** Deletes published entries (synced). */
  removeOutbox(outboxKeys: readonly string[]): Promise<void>
  /** Calls the listener after every commit that added outbox entries; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void
}

interface Head {
  readonly version: 1
  readonly auditSequence: number
  readonly auditHash: string
  readonly outboxSequence: number
  /** Last number handed out per id kind (case, incident). */
  readonly counters: Readonly<Record<string, number>>
}

type Operation = BatchOperation

/**
 * The part of @nxtedition/rocksdb used here beyond pipelines/state/rocksdb.d.ts: synced batches
 * and bounded iterators (both are in the binding: `sync` is RocksDB's WriteOptions.sync).
 */
interface RocksDatabase {
  open(): Promise<void>
  close(): Promise<void>
  getMany(keys: string[]): Promise<Array<Buffer | undefined>>
  iterator(options: { gt?: string; gte?: string; lt: string; limit?: number }): AsyncIterable<[string, Buffer]>
}

const HEAD_KEY = 'meta/head'
const AUDIT_PREFIX = 'audit/'
const TIMELINE_PREFIX = 'timeline/'
const OUTBOX_PREFIX = 'outbox/'
/** Separates the parts of a composite key; ids may not contain it (the service checks). */
export const KEY_SEPARATOR = '\u0000'
/** Most changes written in one batch. */
const MAX_GROUP = 256

/** Zero-padded so that key order is numeric order. */
export function sequenceKey(sequence: number): string {
  return String(sequence).padStart(16, '0')
}

/** The smallest string greater than every string starting with `prefix`. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
}

interface Pending {
  readonly mutation: Mutation
  readonly resolve: (events: CaseEvent[]) => void
  readonly reject: (error: unknown) => void
}

export class CaseStore implements OutboxSource {
  private head: Head
  private readonly counters: Record<string, number>
  private queue: Pending[] = []
  private writing: Promise<void> | null = null
  private closed = false
  private readonly listeners = new Set<() => void>()

  private constructor(private readonly db: RocksDatabase, private readonly writer: ReturnType<typeof batchWriter>, readonly directory: string, head: Head) {
    this.head = head
    this.counters = { ...head.counters }
  }

  /** Opens (creating) the store. Fails with RISK_ERR_STATE_WRITE when another process holds it. */
  static async open(directory: string): Promise<CaseStore> {
    await fs.mkdir(directory, { recursive: true })
    const level = new RocksLevel(directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    const db = level as unknown as RocksDatabase
    try {
      await db.open()
    } catch (error) {
      throw new RiskError('RISK_ERR_STATE_WRITE', `cannot open the case store at ${directory} (is another case service using it?)`, { directory }, { cause: error })
    }
    const [stored] = await db.getMany([HEAD_KEY])
    const head: Head = stored === undefined
      ? { version: 1, auditSequence: 0, auditHash: GENESIS_HASH, outboxSequence: 0, counters: {} }
      : parseJson<Head>(stored, HEAD_KEY)
    return new CaseStore(db, batchWriter(level), directory, head)
  }

  async get<T>(key: string): Promise<T | undefined> {
    const [value] = await this.getMany<T>([key])
    return value
  }

  async getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    if (keys.length === 0) return []
    const values = await this.db.getMany([...keys])
    return values.map((value, index) => (value === undefined ? undefined : parseJson<T>(value, keys[index] as string)))
  }

  /** Keys (whole) and values starting with `prefix`, in key order, strictly after `after` when given. */
  async *scan(prefix: string, options: { after?: string; limit?: number } = {}): AsyncIterable<[string, Buffer]> {
    const range = options.after !== undefined && options.after >= prefix ? { gt: options.after } : { gte: prefix }
    yield* this.db.iterator({ ...range, lt: prefixEnd(prefix), ...(options.limit === undefined ? {} : { limit: options.limit }) })
  }

  /** The next number of an id kind; unique for the life of the store (a failed commit leaves a gap). */
  nextId(kind: string): number {
    const next = (this.counters[kind] ?? 0) + 1
    this.counters[kind] = next
    return next
  }

  /** Writes the change atomically and durably; resolves with its sealed events. */
  commit(mutation: Mutation): Promise<CaseEvent[]> {
    if (this.closed) return Promise.reject(new RiskError('RISK_ERR_SHUTDOWN', 'the case store is closed; the change was not written'))
    return new Promise((resolve, reject) => {
      this.queue.push({ mutation, resolve, reject })
      this.startWriting()
    })
  }

  private startWriting(): void {
    if (this.writing !== null) return
    this.writing = this.writeQueued().finally(() => {
      this.writing = null
      // A commit submitted by a caller resumed from the last group, before this ran, is still queued.
      if (this.queue.length > 0) this.startWriting()
    })
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP)
      let prepared: { operations: Operation[]; sealed: CaseEvent[][]; head: Head }
      try {
        prepared = this.prepare(group.map((pending) => pending.mutation))
        this.writer.write(prepared.operations, { sync: true })
      } catch (error) {
        const failure = new RiskError('RISK_ERR_STATE_WRITE', `writing ${group.length} case change(s) to ${this.directory} failed; nothing of them was written, retry`, { directory: this.directory }, { cause: error })
        for (const pending of group) pending.reject(failure)
        continue
      }
      const appended = prepared.head.outboxSequence > this.head.outboxSequence
      this.head = prepared.head
      group.forEach((pending, index) => pending.resolve(prepared.sealed[index] as CaseEvent[]))
      if (appended) for (const listener of this.listeners) listener()
    }
  }

  /** The write batch of a group: its records, its events numbered and chained after the head, outbox entries, the new head. */
  private prepare(mutations: readonly Mutation[]): { operations: Operation[]; sealed: CaseEvent[][]; head: Head } {
    let { auditSequence, auditHash, outboxSequence } = this.head
    const operations: Operation[] = []
    const sealed: CaseEvent[][] = []
    const outbox = (topic: OutboxMessage['topic'], key: string, value: unknown): void => {
      outboxSequence += 1
      operations.push({ type: 'put', key: OUTBOX_PREFIX + sequenceKey(outboxSequence), value: json({ topic, key, value }) })
    }
    for (const mutation of mutations) {
      const events: CaseEvent[] = []
      for (const key of mutation.deletes) operations.push({ type: 'del', key })
      for (const [key, value] of mutation.puts) operations.push({ type: 'put', key, value: json(value) })
      for (const draft of mutation.events) {
        auditSequence += 1
        const event = sealEvent({
          eventId: `${draft.caseId}:${auditSequence}`, sequence: auditSequence, caseId: draft.caseId, caseVersion: draft.caseVersion,
          type: draft.type, status: draft.status, subjectKind: draft.subjectKind, subjectId: draft.subjectId,
          actorId: draft.actorId, actorRole: draft.actorRole, occurredAtMs: draft.occurredAtMs, details: draft.details,
          previousHash: auditHash,
        })
        auditHash = event.hash
        operations.push({ type: 'put', key: AUDIT_PREFIX + sequenceKey(auditSequence), value: json(event) })
        operations.push({ type: 'put', key: TIMELINE_PREFIX + draft.caseId + KEY_SEPARATOR + sequenceKey(auditSequence), value: Buffer.alloc(0) })
        outbox('caseEvents', event.caseId, event)
        events.push(event)
      }
      for (const label of mutation.labels) outbox('labels', label.caseId, label)
      sealed.push(events)
    }
    const head: Head = { version: 1, auditSequence, auditHash, outboxSequence, counters: { ...this.counters } }
    operations.push({ type: 'put', key: HEAD_KEY, value: json(head) })
    return { operations, sealed, head }
  }

  /** Sequence and hash of the last audit event (0 and GENESIS_HASH when empty). */
  auditHead(): { sequence: number; hash: string } {
    return { sequence: this.head.auditSequence, hash: this.head.auditHash }
  }

  /** The whole audit log in order. */
  async *auditLog(): AsyncIterable<CaseEvent> {
    for await (const [key, value] of this.scan(AUDIT_PREFIX)) yield parseJson<CaseEvent>(value, key)
  }

  /** Recomputes the chain over the stored log and checks it ends where the head says. */
  verifyAuditChain(): Promise<AuditVerification> {
    return verifyChain(this.auditLog(), this.auditHead())
  }

  /** A case's events, oldest first. */
  async timeline(caseId: string): Promise<CaseEvent[]> {
    const keys: string[] = []
    const prefix = TIMELINE_PREFIX + caseId + KEY_SEPARATOR
    for await (const [key] of this.scan(prefix)) keys.push(AUDIT_PREFIX + key.slice(prefix.length))
    const events = await this.getMany<CaseEvent>(keys)
    return events.map((event, index) => {
      if (event === undefined) throw new RiskError('RISK_ERR_STATE_CORRUPT', `the timeline of ${caseId} names ${keys[index]}, which is not in the audit log`, { caseId })
      return event
    })
  }

  async readOutbox(limit: number): Promise<OutboxMessage[]> {
    const messages: OutboxMessage[] = []
    for await (const [key, value] of this.scan(OUTBOX_PREFIX, { limit })) {
      const entry = parseJson<Omit<OutboxMessage, 'outboxKey'>>(value, key)
      messages.push({ ...entry, outboxKey: key } as OutboxMessage)
    }
    return messages
  }

  async removeOutbox(outboxKeys: readonly string[]): Promise<void> {
    if (outboxKeys.length === 0) return
    try {
      this.writer.write(outboxKeys.map((key) => ({ type: 'del', key })), { sync: true })
    } catch (error) {
      // Not deleting only means publishing again; consumers de-duplicate by id.
      throw new RiskError('RISK_ERR_STATE_WRITE', `deleting ${outboxKeys.length} published outbox entries failed; they will be published again`, { directory: this.directory }, { cause: error })
    }
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Waits for the changes already submitted, then closes the database. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    while (this.writing !== null) await this.writing
    this.listeners.clear()
    await this.writer.close()
    await this.db.close()
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value))
}

function parseJson<T>(bytes: Buffer, key: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T
  } catch (error) {
    throw new RiskError('RISK_ERR_STATE_CORRUPT', `stored ${JSON.stringify(key)} in the case store is not valid JSON`, { key }, { cause: error })
  }
}
