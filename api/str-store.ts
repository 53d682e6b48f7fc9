/**
 * The durable store of STR drafts (issue 8, item 2): one JSON file per draft,
 * `<directory>/<draftId>.json`, holding the draft (with its revision), who made it and every
 * export of it. A draft is a regulator-bound document an officer works on for days, so it is
 * kept as a plain file an auditor can read, not in a database.
 *
 * - Writes are atomic: a temp file is written and fsync'ed, then renamed over the old one (a
 *   create links it into place, which fails when the draft exists), then the folder is fsync'ed.
 *   A crash leaves the old file or the new one, never half of either.
 * - Optimistic revisions: `update(draftId, expectedRevision, change)` refuses with
 *   RISK_ERR_CASE_CONFLICT (HTTP 409) when the stored revision is another one, so of two officers
 *   editing revision 3 one gets revision 4 and the other a conflict. Every stored change raises
 *   the revision by one (edits, approval, exports).
 * - One writer process per folder: changes to a draft are serialised in this process (a lock per
 *   draft); two API processes sharing a folder could both pass the revision check.
 *
 * Example:
 *   const store = await StrDraftStore.open('/var/lib/pitboss/str/drafts')
 *   const draftId = await store.nextDraftId('CASE-00000042')          // 'str-CASE-00000042-1'
 *   await store.create({ draft, createdBy: 'anna', createdAtMs, updatedAtMs: createdAtMs, exports: [] })
 *   const { after } = await store.update(draftId, 1, (current) => ({ ...current, draft: editDraft(current.draft, patch) }))
 */
import fs from 'node:fs'
import path from 'node:path'
import { KeyedMutex } from '../cases/keyed-mutex.js'
import { RiskError } from '../core/errors.js'
import type { StrDraft } from '../sinks/str/draft.js'

/** One export of an approved draft: the file the FIU received. */
export interface StrExportRecord {
  readonly fileName: string
  /** SHA-256 of the file's bytes (hex). */
  readonly sha256: string
  readonly filePath: string | null
  readonly exportedAtMs: number
  readonly exportedBy: string
}

export interface StrDraftRecord {
  /** The draft; `draft.revision` is the record's revision. */
  readonly draft: StrDraft
  readonly createdBy: string
  readonly createdAtMs: number
  readonly updatedAtMs: number
  /** Oldest first. */
  readonly exports: readonly StrExportRecord[]
}

/** Draft ids become file names: letters, digits, '.', '_' and '-' only. */
export const DRAFT_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/

function checkDraftId(draftId: string): void {
  if (!DRAFT_ID_PATTERN.test(draftId)) {
    throw new RiskError('RISK_ERR_REQUEST_INVALID', `draft id '${draftId.slice(0, 80)}' is not valid: use letters, digits, '.', '_' and '-' (at most 200)`, { field: 'draftId' })
  }
}

/** Money may be a bigint (minor units beyond 2^53): stored as a digit string, which a draft accepts too. */
function toJson(record: StrDraftRecord): string {
  return `${JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2)}\n`
}

export class StrDraftStore {
  private readonly locks = new KeyedMutex()
  /** Ids handed out by nextDraftId and not yet created, so two concurrent drafts of a case get two ids. */
  private readonly reserved = new Set<string>()
  private temporaryCounter = 0

  private constructor(readonly directory: string) {}

  /** Opens (creating) the folder. */
  static async open(directory: string): Promise<StrDraftStore> {
    const resolved = path.resolve(directory)
    await fs.promises.mkdir(resolved, { recursive: true })
    return new StrDraftStore(resolved)
  }

  private filePath(draftId: string): string {
    return path.join(this.directory, `${draftId}.json`)
  }

  /** The stored draft; RISK_ERR_NOT_FOUND (404) when there is none. */
  async get(draftId: string): Promise<StrDraftRecord> {
    checkDraftId(draftId)
    let text: string
    try {
      text = await fs.promises.readFile(this.filePath(draftId), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new RiskError('RISK_ERR_NOT_FOUND', `no STR draft ${draftId}; list a case's drafts or draft a new one with POST /cases/{caseId}/str`, { draftId })
      throw new RiskError('RISK_ERR_STATE_WRITE', `reading STR draft ${draftId} failed (${(error as Error).message}); retry`, { draftId }, { cause: error })
    }
    try {
      return JSON.parse(text) as StrDraftRecord
    } catch (error) {
      throw new RiskError('RISK_ERR_STATE_CORRUPT', `STR draft file ${this.filePath(draftId)} is not JSON; restore it from backup`, { draftId }, { cause: error })
    }
  }

  /** Every stored draft, by draft id. */
  async list(): Promise<StrDraftRecord[]> {
    const names = (await fs.promises.readdir(this.directory)).filter((name) => name.endsWith('.json')).sort()
    return Promise.all(names.map((name) => this.get(name.slice(0, -'.json'.length))))
  }

  /** The drafts of one case, oldest first. */
  async listForCase(caseId: string): Promise<StrDraftRecord[]> {
    return (await this.list()).filter((record) => record.draft.caseId === caseId).sort((left, right) => left.createdAtMs - right.createdAtMs)
  }

  /**
   * A draft id not used yet for the case: `str-<caseId>-<n>`, n one more than the case's drafts.
   * Unique in this process even under concurrent calls; `create` refuses a taken id anyway.
   */
  async nextDraftId(caseId: string): Promise<string> {
    const base = `str-${caseId.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 180)
    const release = await this.locks.acquire(`next:${base}`)
    try {
      for (let number = (await this.listForCase(caseId)).length + 1; ; number += 1) {
        const candidate = `${base}-${number}`
        if (!fs.existsSync(this.filePath(candidate)) && !this.reserved.has(candidate)) {
          this.reserved.add(candidate)
          return candidate
        }
      }
    } finally {
      release()
    }
  }

  /** Stores a new draft; RISK_ERR_CASE_CONFLICT when the id is taken. */
  async create(record: StrDraftRecord): Promise<StrDraftRecord> {
    const draftId = record.draft.draftId
    checkDraftId(draftId)
    const release = await this.locks.acquire(draftId)
    try {
      const temporaryPath = await this.writeTemporary(draftId, record)
      try {
        // link() fails with EEXIST instead of replacing: a create never overwrites a draft.
        await fs.promises.link(temporaryPath, this.filePath(draftId))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new RiskError('RISK_ERR_CASE_CONFLICT', `STR draft ${draftId} exists already; draft again for a new id`, { draftId })
        throw this.writeError(draftId, error)
      } finally {
        await fs.promises.rm(temporaryPath, { force: true })
      }
      await this.syncDirectory()
      return record
    } finally {
      this.reserved.delete(draftId)
      release()
    }
  }

  /**
   * Applies `change` to the stored draft when its revision is `expectedRevision`, and stores the
   * result with the revision raised by one. RISK_ERR_CASE_CONFLICT when the revision moved on;
   * errors thrown by `change` (a transition refused, a draft rule broken) pass through and
   * nothing is written.
   */
  async update(draftId: string, expectedRevision: number | null, change: (current: StrDraftRecord) => StrDraftRecord | Promise<StrDraftRecord>): Promise<{ before: StrDraftRecord; after: StrDraftRecord }> {
    checkDraftId(draftId)
    const release = await this.locks.acquire(draftId)
    try {
      const before = await this.get(draftId)
      if (expectedRevision !== null && before.draft.revision !== expectedRevision) {
        throw new RiskError('RISK_ERR_CASE_CONFLICT', `STR draft ${draftId} is at revision ${before.draft.revision}, not ${expectedRevision}; reload it and try again`, { draftId, revision: before.draft.revision })
      }
      const changed = await change(before)
      const after: StrDraftRecord = { ...changed, draft: { ...changed.draft, draftId, revision: before.draft.revision + 1 } }
      const temporaryPath = await this.writeTemporary(draftId, after)
      try {
        await fs.promises.rename(temporaryPath, this.filePath(draftId))
      } catch (error) {
        await fs.promises.rm(temporaryPath, { force: true })
        throw this.writeError(draftId, error)
      }
      await this.syncDirectory()
      return { before, after }
    } finally {
      release()
    }
  }

  private async writeTemporary(draftId: string, record: StrDraftRecord): Promise<string> {
    this.temporaryCounter += 1
    const temporaryPath = path.join(this.directory, `.${draftId}.${process.pid}.${this.temporaryCounter}.tmp`)
    try {
      const handle = await fs.promises.open(temporaryPath, 'w', 0o600)
      try {
        await handle.writeFile(toJson(record), 'utf8')
        await handle.sync()
      } finally {
        await handle.close()
      }
    } catch (error) {
      await fs.promises.rm(temporaryPath, { force: true })
      throw this.writeError(draftId, error)
    }
    return temporaryPath
  }

  /** A rename is durable only once the folder's entry is on disk. */
  private async syncDirectory(): Promise<void> {
    const handle = await fs.promises.open(this.directory, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  }

  private writeError(draftId: string, error: unknown): RiskError {
    return new RiskError('RISK_ERR_STATE_WRITE', `writing STR draft ${draftId} failed (${(error as Error).message}); retry`, { draftId, directory: this.directory }, { cause: error })
  }
}

const openStores = new Map<string, Promise<StrDraftStore>>()

/**
 * The process's one store for `directory`: the STR and regulator routes share it, so the
 * per-draft locks are one set. Opened on first use.
 */
export function sharedStrDraftStore(directory: string): Promise<StrDraftStore> {
  const resolved = path.resolve(directory)
  let store = openStores.get(resolved)
  if (store === undefined) {
    store = StrDraftStore.open(resolved)
    // A failed open (permissions, a full disk) is retried by the next request, not cached.
    store.catch(() => openStores.delete(resolved))
    openStores.set(resolved, store)
  }
  return store
}
