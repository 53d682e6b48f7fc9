/**
 * The audit log (issue 8, item 3): append-only and hash-chained, one JSON line per entry, for
 * every state-changing action and every read of case or player data.
 *
 * Each entry holds `previousHash` and `hash = sha256(previousHash + canonicalJson(entry without
 * hash))`, so changing, inserting or deleting a line breaks the chain at that line
 * (`api/audit-verify.ts` finds it). Removing lines from the end leaves a valid shorter chain:
 * compare the head hash with one kept elsewhere (`verifyAuditFile(path, { expectedHeadHash })`).
 *
 * Durability: the file is opened O_APPEND and every batch of entries is fdatasync'ed before the
 * appends resolve (group commit: entries that arrive while a sync runs share the next one).
 * Chaining happens synchronously in `append`, in call order, so concurrent requests can neither
 * interleave bytes nor fork the chain; a lock file keeps a second process (or a second
 * `openAuditLog` of the same file) out. After a failed write the log refuses further entries,
 * since the chain in memory ran ahead of the file; restart the process to re-read the file's head.
 *
 * Example:
 *   const log = await openAuditLog({ path: '.pitboss/audit/api.jsonl' })
 *   await log.append({ actor: { subject: 'alice', roles: ['aml_officer'] }, action: 'case.read',
 *     entity: { type: 'case', id: 'c-17' } })
 *   // line: {"action":"case.read","actor":{...},"entity":{"id":"c-17","type":"case"},"hash":"9f…",
 *   //        "previousHash":"000…","recordedAt":"2025-…Z","sequence":1}
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { systemClock, type Clock } from '../core/clock.js'
import { RiskError } from '../core/errors.js'
import type { AuditChange } from './route-config.js'

/** The `previousHash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64)

export interface AuditEntryInput {
  readonly actor: { readonly subject: string; readonly roles: readonly string[]; readonly tokenId?: string | null }
  readonly action: string
  readonly entity: { readonly type: string; readonly id: string | null }
  readonly before?: unknown
  readonly after?: unknown
  readonly detail?: unknown
  readonly request?: { readonly method: string; readonly route: string; readonly requestId: string; readonly ip: string }
}

export interface AuditEntry extends AuditEntryInput {
  /** 1 for the first entry of the file, then +1 per entry. */
  readonly sequence: number
  readonly recordedAt: string
  readonly previousHash: string
  readonly hash: string
}

/**
 * JSON with object keys sorted (by UTF-16 code units, as RFC 8785) at every depth and no
 * whitespace: the same value always gives the same bytes, whatever order its keys were built in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`
  const record = value as Record<string, unknown>
  const members = Object.keys(record).sort().filter((key) => record[key] !== undefined).map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`)
  return `{${members.join(',')}}`
}

/** sha256(previousHash + canonicalJson(entry without `hash`)), hex. */
export function chainHash(previousHash: string, entryWithoutHash: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(previousHash).update(canonicalJson(entryWithoutHash)).digest('hex')
}

/**
 * What the file will read back as: a JSON round trip turns Dates into strings, bigints (money
 * in minor units) into decimal strings and drops undefined, so the hash covers exactly the
 * bytes the verifier will parse.
 */
function asStored<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner))) as T
}

interface Pending {
  readonly line: string
  readonly entry: AuditEntry
  readonly resolve: (entry: AuditEntry) => void
  readonly reject: (error: unknown) => void
}

export interface AuditLogOptions {
  readonly path: string
  readonly clock?: Clock
}

const TAIL_CHUNK_BYTES = 64 * 1024

async function readHead(handle: fs.promises.FileHandle, filePath: string): Promise<{ sequence: number; hash: string }> {
  const { size } = await handle.stat()
  if (size === 0) return { sequence: 0, hash: GENESIS_HASH }
  const corrupt = (why: string): RiskError => new RiskError('RISK_ERR_STATE_CORRUPT', `audit log ${filePath} ${why}; run \`npx tsx api/audit-verify.ts ${filePath}\` and keep the file for investigation before starting a new one`, { file: filePath })
  // Read backwards until the chunk holds the whole last line (entries are usually < 1 KiB).
  for (let chunkBytes = TAIL_CHUNK_BYTES; ; chunkBytes *= 2) {
    const length = Math.min(size, chunkBytes)
    const buffer = Buffer.alloc(length)
    await handle.read(buffer, 0, length, size - length)
    if (buffer[length - 1] !== 0x0a) throw corrupt('ends with an incomplete line (a crash during a write?)')
    const start = buffer.lastIndexOf(0x0a, length - 2)
    if (start === -1 && length < size) continue
    let last: Partial<AuditEntry>
    try {
      last = JSON.parse(buffer.subarray(start + 1, length - 1).toString('utf8')) as Partial<AuditEntry>
    } catch {
      throw corrupt('ends with a line that is not JSON')
    }
    if (typeof last.hash !== 'string' || typeof last.sequence !== 'number') throw corrupt('ends with a line that is not an audit entry')
    return { sequence: last.sequence, hash: last.hash }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** One writer per file: a second one would chain from the same head and fork the chain. */
async function acquireLock(lockPath: string, filePath: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await fs.promises.writeFile(lockPath, String(process.pid), { flag: 'wx', mode: 0o600 })
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number((await fs.promises.readFile(lockPath, 'utf8').catch(() => '')).trim())
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new RiskError('RISK_ERR_CONFIG_INVALID', `audit log ${filePath} is already open in process ${holder}${holder === process.pid ? ' (this one)' : ''}; give each API process its own PITBOSS_API_AUDIT_FILE`, { file: filePath })
      }
      // The holder died without closing: the lock is stale.
      await fs.promises.rm(lockPath, { force: true })
    }
  }
  throw new RiskError('RISK_ERR_CONFIG_INVALID', `cannot take the lock ${lockPath} for audit log ${filePath}`, { file: filePath })
}

export class AuditLog {
  private readonly queue: Pending[] = []
  private writing: Promise<void> | null = null
  private failure: RiskError | null = null
  private closed = false

  private constructor(
    readonly path: string,
    private readonly handle: fs.promises.FileHandle,
    private readonly lockPath: string,
    private readonly clock: Clock,
    private sequence: number,
    private head: string,
    private synced: number,
  ) {}

  /** Opens (creating it and its folder) the log and continues its chain from the last line. */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const filePath = path.resolve(options.path)
    await fs.promises.mkdir(path.dirname(filePath), { recursive: true })
    const lockPath = `${filePath}.lock`
    await acquireLock(lockPath, filePath)
    let handle: fs.promises.FileHandle | null = null
    try {
      handle = await fs.promises.open(filePath, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600)
      const reader = await fs.promises.open(filePath, 'r')
      const head = await readHead(reader, filePath).finally(() => reader.close())
      const { size } = await handle.stat()
      return new AuditLog(filePath, handle, lockPath, options.clock ?? systemClock, head.sequence, head.hash, size)
    } catch (error) {
      await handle?.close()
      await fs.promises.rm(lockPath, { force: true })
      throw error
    }
  }

  /** The hash of the last entry appended (GENESIS_HASH for an empty log): an anchor to keep elsewhere. */
  get headHash(): string {
    return this.head
  }

  /**
   * Bytes of the file known complete and synced: a reader that stops here never sees a line
   * half-written by a batch in flight.
   */
  get syncedBytes(): number {
    return this.synced
  }

  /**
   * Chains the entry now (call order is chain order) and resolves once it is on disk.
   * Rejects with RISK_ERR_AUDIT_WRITE if it could not be written; callers must not report the
   * audited action as done then.
   */
  append(input: AuditEntryInput): Promise<AuditEntry> {
    if (this.failure !== null) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(new RiskError('RISK_ERR_SHUTDOWN', `audit log ${this.path} is closed`))
    const body = asStored({ ...input, sequence: this.sequence + 1, recordedAt: new Date(this.clock.nowMs()).toISOString(), previousHash: this.head })
    const entry: AuditEntry = { ...body, hash: chainHash(this.head, body as unknown as Record<string, unknown>) }
    this.sequence = entry.sequence
    this.head = entry.hash
    return new Promise<AuditEntry>((resolve, reject) => {
      this.queue.push({ line: `${canonicalJson(entry)}\n`, entry, resolve, reject })
      // drain() always awaits a write before it can finish, so its `finally` (which clears
      // `writing`) runs after this assignment, and an append made after that starts a new drain.
      this.writing ??= this.drain()
    })
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.queue.length)
        try {
          const bytes = Buffer.from(batch.map((pending) => pending.line).join(''), 'utf8')
          for (let offset = 0; offset < bytes.length;) offset += (await this.handle.write(bytes, offset, bytes.length - offset)).bytesWritten
          await this.handle.datasync()
          this.synced += bytes.length
        } catch (error) {
          this.failure = new RiskError('RISK_ERR_AUDIT_WRITE', `writing audit log ${this.path} failed (${(error as Error).message}); the log refuses entries until the process restarts`, { file: this.path }, { cause: error })
          for (const pending of [...batch, ...this.queue.splice(0, this.queue.length)]) pending.reject(this.failure)
          return
        }
        for (const pending of batch) pending.resolve(pending.entry)
      }
    } finally {
      this.writing = null
    }
  }

  /** Waits for pending entries, then closes the file and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    while (this.writing !== null) await this.writing
    await this.handle.close()
    await fs.promises.rm(this.lockPath, { force: true })
  }
}

export const openAuditLog = (options: AuditLogOptions): Promise<AuditLog> => AuditLog.open(options)

/**
 * Lets a handler put the state before and after its change (or the id it created) into the
 * entry its route's `audit` declaration records.
 *
 * Example: `recordAuditChange(request, { before: caseBefore, after: caseAfter })`
 */
export function recordAuditChange(request: FastifyRequest, change: AuditChange): void {
  request.auditChange = { ...request.auditChange, ...change }
}

/**
 * Records every successful call of a route declaring `config.audit`, after its handler and
 * before the response leaves: if the entry cannot be written the caller gets a 5xx rather than
 * data whose read went unrecorded.
 */
export function installAuditHook(app: FastifyInstance, log: AuditLog): void {
  app.decorateRequest('auditChange', null)
  app.addHook('onSend', async (request, reply, payload) => {
    const declaration = request.routeOptions.config.audit
    // Error responses pass through: the error handler's own reply comes back through onSend.
    if (declaration === undefined || reply.statusCode >= 400) return payload
    const params = (request.params ?? {}) as Record<string, unknown>
    const idParam = declaration.idParam ?? ('id' in params ? 'id' : undefined)
    const change = request.auditChange
    const entityId = change?.entityId ?? (idParam === undefined || params[idParam] === undefined ? null : String(params[idParam]))
    const principal = request.principal
    await log.append({
      actor: principal === null ? { subject: 'anonymous', roles: [] } : { subject: principal.subject, roles: principal.roles, tokenId: principal.tokenId },
      action: declaration.action,
      entity: { type: declaration.entity, id: entityId },
      before: change?.before,
      after: change?.after,
      detail: change?.detail,
      request: { method: request.method, route: request.routeOptions.url ?? request.url, requestId: request.id, ip: request.ip },
    })
    return payload
  })
}
