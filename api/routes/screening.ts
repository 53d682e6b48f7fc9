/**
 * `GET /screening/status` (compliance_officer, issue 8 item 2): the sanctions and PEP lists in
 * PITBOSS_SCREENING_LISTS_DIR, each with its version (publication date and content hash) and
 * entry count, loaded with screening/directory.ts as the engine loads them.
 *
 * Loading a full OFAC list takes a second or more, so the answer is kept until a file in the
 * folder changes (size or modification time): repeated calls from the console cost a `stat`
 * per file. A folder that cannot be read is reported in `problem` (200), not as a server fault:
 * a status page must show what is wrong. The engine's live reload of the lists is not here.
 *
 * Example: GET /screening/status
 *   -> { "enabled": true, "listsDir": "/srv/lists", "checkedAtMs": 1767225600000,
 *        "lists": [{ "listId": "ofac-sdn", "version": "sha256:4f2a…", "publishedDate": null,
 *                    "contentHash": "sha256:4f2a…", "entryCount": 8976 }] }
 */
import fs from 'node:fs'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../../core/clock.js'
import { loadListsFromDirectory } from '../../screening/directory.js'
import { API_ROLES } from '../roles.js'

export interface ScreeningStatusDependencies {
  /** PITBOSS_SCREENING_LISTS_DIR as loaded by core/config.ts; null = screening is off. */
  readonly listsDir: string | null
}

export interface ScreeningListStatus {
  readonly listId: string
  readonly version: string
  readonly publishedDate: string | null
  readonly contentHash: string
  readonly entryCount: number
}

export interface ScreeningStatus {
  readonly enabled: boolean
  readonly listsDir: string | null
  /** When the lists were last read from disk (not when this answer was made). */
  readonly checkedAtMs: number | null
  readonly lists: readonly ScreeningListStatus[]
  /** Why the folder could not be read, e.g. a missing folder or no list in a known layout. */
  readonly problem?: string
}

/** Every file two levels down (the layouts screening/directory.ts reads), with size and mtime. */
function fingerprint(directory: string): string {
  const parts: string[] = []
  const visit = (folder: string, depth: number): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true }).sort((left, right) => (left.name < right.name ? -1 : 1))) {
      const full = path.join(folder, entry.name)
      if (entry.isDirectory()) {
        if (depth < 2) visit(full, depth + 1)
      } else {
        const stat = fs.statSync(full)
        parts.push(`${full}\u0000${stat.size}\u0000${stat.mtimeMs}`)
      }
    }
  }
  visit(directory, 1)
  return parts.join('\n')
}

export function registerScreeningRoutes(app: FastifyInstance, dependencies: ScreeningStatusDependencies, clock: Clock): void {
  let cached: { key: string; status: Promise<ScreeningStatus> } | null = null

  const load = async (listsDir: string): Promise<ScreeningStatus> => {
    const checkedAtMs = clock.nowMs()
    try {
      const lists = await loadListsFromDirectory(listsDir)
      return {
        enabled: true, listsDir, checkedAtMs,
        lists: lists.map(({ version, entries }) => ({ listId: version.listId, version: version.version, publishedDate: version.publishedDate, contentHash: version.contentHash, entryCount: entries.length })),
      }
    } catch (error) {
      return { enabled: true, listsDir, checkedAtMs, lists: [], problem: (error as Error).message }
    }
  }

  const status = async (): Promise<ScreeningStatus> => {
    const { listsDir } = dependencies
    if (listsDir === null) return { enabled: false, listsDir: null, checkedAtMs: null, lists: [] }
    let key: string
    try {
      key = fingerprint(listsDir)
    } catch (error) {
      return { enabled: true, listsDir, checkedAtMs: clock.nowMs(), lists: [], problem: `cannot read ${listsDir}: ${(error as Error).message}; set PITBOSS_SCREENING_LISTS_DIR to the folder holding the lists, or to 'off'` }
    }
    // Concurrent callers share one load; a changed folder starts a new one.
    if (cached === null || cached.key !== key) cached = { key, status: load(listsDir) }
    return cached.status
  }

  const listSchema = {
    type: 'object',
    required: ['listId', 'version', 'publishedDate', 'contentHash', 'entryCount'],
    properties: { listId: { type: 'string' }, version: { type: 'string' }, publishedDate: { type: ['string', 'null'] }, contentHash: { type: 'string' }, entryCount: { type: 'integer' } },
  } as const

  app.get('/screening/status', {
    config: { roles: [API_ROLES.complianceOfficer] },
    schema: {
      summary: 'Sanctions and PEP lists on disk: version and entry count of each', tags: ['screening'],
      response: {
        200: {
          type: 'object',
          required: ['enabled', 'listsDir', 'checkedAtMs', 'lists'],
          properties: {
            enabled: { type: 'boolean' },
            listsDir: { type: ['string', 'null'] },
            checkedAtMs: { type: ['integer', 'null'] },
            lists: { type: 'array', items: listSchema },
            problem: { type: 'string' },
          },
        },
      },
    },
  }, status)
}
