import { createHash } from 'node:crypto'
import type { ListEntry, ListVersion } from './types.js'

/**
 * Builds a list version from the contents of the files a list was read from.
 *
 * Example:
 *   listVersion('un-consolidated', [xmlBytes], '2026-02-27') // → { version: '2026-02-27@9c1d…', ... }
 */
export function listVersion(listId: string, fileContents: readonly (Buffer | string)[], publishedDate: string | null): ListVersion {
  const hash = createHash('sha256')
  for (const content of fileContents) {
    // Length-prefix each file so moving bytes from one file to the next changes the hash.
    hash.update(`${Buffer.byteLength(content)}:`)
    hash.update(content)
  }
  return versionFromHash(listId, hash.digest('hex'), publishedDate)
}

/** A list version from a SHA-256 (hex) the caller computed, e.g. while streaming a large file. */
export function versionFromHash(listId: string, hex: string, publishedDate: string | null): ListVersion {
  const short = hex.slice(0, 12)
  return {
    listId,
    contentHash: `sha256:${hex}`,
    publishedDate,
    version: publishedDate === null ? `sha256:${short}` : `${publishedDate}@${short}`,
  }
}

/**
 * Adds `entryVersion`, a hash of what the entry says (not of where it sits in the file).
 *
 * Example: withEntryVersion({ listId: 'pep', entryId: '7', ... }).entryVersion // 'e:4b1f0c9a2d11'
 */
export function withEntryVersion(entry: Omit<ListEntry, 'entryVersion'>): ListEntry {
  const content = JSON.stringify([entry.type, entry.names, entry.datesOfBirth, entry.countries, entry.programs])
  return { ...entry, entryVersion: `e:${createHash('sha256').update(content).digest('hex').slice(0, 12)}` }
}
