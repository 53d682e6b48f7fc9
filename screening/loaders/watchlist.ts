/**
 * A generic CSV for PEP lists and the operator's own watchlists. Comma-separated (RFC 4180
 * quoting), UTF-8, one header row, one row per entry. Columns, by header name:
 *   entry_id       required; unique in the file
 *   full_name      required; as written ('Maria Elena GARCIA' or 'GARCIA, Maria Elena')
 *   type           individual (default) | entity | vessel | aircraft
 *   aliases        other names, separated by '|'
 *   weak_aliases   low-quality names (nicknames, short forms), separated by '|'
 *   dates_of_birth '|'-separated: YYYY, YYYY-MM, YYYY-MM-DD, 'YYYY to YYYY', 'circa YYYY'
 *   countries      '|'-separated ISO 3166-1 alpha-2 codes or English country names
 *   programs       '|'-separated categories (e.g. 'PEP:head-of-state', 'internal:chargeback-fraud')
 * The version is the content hash plus `publishedDate` when the caller knows it.
 *
 * Example file:
 *   entry_id,type,full_name,aliases,dates_of_birth,countries,programs
 *   pep-1,individual,"Jane Q. Example",Jane Example|J. Q. Example,1961-02-03,MT,PEP:minister
 */
import { RiskError } from '../../core/errors.js'
import { countryCode } from '../countries.js'
import { parseCsv } from '../csv.js'
import { listVersion, withEntryVersion } from '../list-version.js'
import { ENTRY_TYPES, type EntryName, type EntryType, type LoadedList } from '../types.js'
import { parseDateOfBirth } from './dates.js'
import { decodeText, readListFile, unique } from './read.js'

export interface WatchlistSource {
  readonly listId: string
  readonly path: string
  /** YYYY-MM-DD, when the list owner dates the file. */
  readonly publishedDate?: string
}

const split = (value: string): string[] => value.split('|').map((part) => part.trim()).filter((part) => part !== '')

export function parseWatchlistCsv(listId: string, text: string, publishedDate: string | null = null): LoadedList {
  const [header, ...rows] = parseCsv(text)
  if (header === undefined) throw new RiskError('RISK_ERR_INVALID_FIELD', `the watchlist file for ${listId} is empty; it needs a header row`, { listId })
  const column = new Map(header.fields.map((name, index) => [name.trim().toLowerCase(), index]))
  for (const required of ['entry_id', 'full_name']) {
    if (!column.has(required)) throw new RiskError('RISK_ERR_INVALID_FIELD', `the watchlist file for ${listId} has no ${required} column (see screening/loaders/watchlist.ts for the layout)`, { listId, column: required })
  }
  const read = (fields: readonly string[], name: string): string => {
    const index = column.get(name)
    return index === undefined ? '' : (fields[index] ?? '').trim()
  }
  const version = listVersion(listId, [text], publishedDate)
  const seen = new Set<string>()
  const entries = rows.map((row) => {
    const entryId = read(row.fields, 'entry_id')
    const full = read(row.fields, 'full_name')
    if (entryId === '' || full === '') throw new RiskError('RISK_ERR_INVALID_FIELD', `watchlist ${listId} line ${row.line}: entry_id and full_name must not be empty`, { listId, line: row.line })
    if (seen.has(entryId)) throw new RiskError('RISK_ERR_INVALID_FIELD', `watchlist ${listId} line ${row.line}: entry_id ${entryId} appears twice`, { listId, line: row.line, entryId })
    seen.add(entryId)
    const typeText = (read(row.fields, 'type') || 'individual').toLowerCase()
    if (!(ENTRY_TYPES as readonly string[]).includes(typeText)) {
      throw new RiskError('RISK_ERR_INVALID_FIELD', `watchlist ${listId} line ${row.line}: type '${typeText}' is not one of ${ENTRY_TYPES.join(', ')}`, { listId, line: row.line })
    }
    const datesOfBirth = split(read(row.fields, 'dates_of_birth')).map((text) => {
      const parsed = parseDateOfBirth(text)
      if (parsed === null) throw new RiskError('RISK_ERR_INVALID_FIELD', `watchlist ${listId} line ${row.line}: '${text}' is not a date of birth (YYYY, YYYY-MM-DD, 'YYYY to YYYY', 'circa YYYY')`, { listId, line: row.line })
      return parsed
    })
    const names: EntryName[] = [
      { full, parts: [full], kind: 'primary' },
      ...split(read(row.fields, 'aliases')).map((alias): EntryName => ({ full: alias, parts: [alias], kind: 'alias' })),
      ...split(read(row.fields, 'weak_aliases')).map((alias): EntryName => ({ full: alias, parts: [alias], kind: 'weak-alias' })),
    ]
    return withEntryVersion({
      listId,
      listVersion: version.version,
      entryId,
      type: typeText as EntryType,
      names,
      datesOfBirth,
      countries: unique(split(read(row.fields, 'countries')).map((name) => countryCode(name)).filter((code): code is string => code !== null)),
      programs: unique(split(read(row.fields, 'programs'))),
    })
  })
  return { version, entries }
}

export async function loadWatchlistCsv(source: WatchlistSource): Promise<LoadedList> {
  return parseWatchlistCsv(source.listId, decodeText(await readListFile(source.path, source.listId)), source.publishedDate ?? null)
}
