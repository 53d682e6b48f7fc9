/**
 * The UN Security Council consolidated list (XML, https://scsanctions.un.org/resources/xml/en/consolidated.xml,
 * schema https://www.un.org/sc/resources/sc-sanctions.xsd). Read as a stream, one INDIVIDUAL or
 * ENTITY record at a time.
 *   INDIVIDUAL: DATAID, VERSIONNUM, FIRST_NAME…FOURTH_NAME, NAME_ORIGINAL_SCRIPT, UN_LIST_TYPE,
 *     INDIVIDUAL_ALIAS (QUALITY Good | Low | a.k.a. | f.k.a., ALIAS_NAME), NATIONALITY/VALUE,
 *     INDIVIDUAL_ADDRESS/COUNTRY, INDIVIDUAL_PLACE_OF_BIRTH/COUNTRY,
 *     INDIVIDUAL_DATE_OF_BIRTH (TYPE_OF_DATE EXACT | APPROXIMATELY | BETWEEN; DATE | YEAR | FROM_YEAR + TO_YEAR)
 *   ENTITY: DATAID, FIRST_NAME (the name; several joined by ' ; '), ENTITY_ALIAS, ENTITY_ADDRESS/COUNTRY
 * Aliases of quality 'Low' become weak aliases. The name in original script (Arabic, Cyrillic)
 * is kept as an alias: the normaliser transliterates it, which lets a query typed in that script
 * match directly. The version date is the root's dateGenerated.
 *
 * Example:
 *   const un = await loadUnConsolidatedList({ listId: 'un-consolidated', path: 'UN_consolidated.xml' })
 *   un.version.publishedDate // '2026-02-27'
 */
import { createReadStream } from 'node:fs'
import { createHash } from 'node:crypto'
import { RiskError } from '../../core/errors.js'
import { countryCode } from '../countries.js'
import { versionFromHash, withEntryVersion } from '../list-version.js'
import type { DateOfBirth, EntryName, ListEntry, LoadedList, NameKind } from '../types.js'
import { childrenNamed, childText, readXmlRecords, type XmlElement } from '../xml.js'
import { parseDateOfBirth } from './dates.js'
import { unique } from './read.js'

export interface UnListSource {
  readonly listId: string
  readonly path: string
}

function aliasKind(quality: string): NameKind {
  return quality.toLowerCase() === 'low' ? 'weak-alias' : 'alias'
}

function datesOfBirth(record: XmlElement): DateOfBirth[] {
  const dates: DateOfBirth[] = []
  for (const element of childrenNamed(record, 'INDIVIDUAL_DATE_OF_BIRTH')) {
    const kind = childText(element, 'TYPE_OF_DATE').toUpperCase()
    const approximate = kind === 'APPROXIMATELY'
    const from = childText(element, 'FROM_YEAR')
    const to = childText(element, 'TO_YEAR')
    if (from !== '' && to !== '') {
      dates.push({ fromYear: Number(from), toYear: Number(to), month: null, day: null, approximate })
      continue
    }
    const parsed = parseDateOfBirth(childText(element, 'DATE') || childText(element, 'YEAR'))
    if (parsed !== null) dates.push({ ...parsed, approximate: parsed.approximate || approximate })
  }
  return dates
}

function countries(record: XmlElement, prefix: 'INDIVIDUAL' | 'ENTITY'): string[] {
  const names = [
    ...childrenNamed(record, 'NATIONALITY').flatMap((element) => childrenNamed(element, 'VALUE').map((valueElement) => valueElement.text)),
    ...childrenNamed(record, `${prefix}_ADDRESS`).map((element) => childText(element, 'COUNTRY')),
    ...childrenNamed(record, `${prefix}_PLACE_OF_BIRTH`).map((element) => childText(element, 'COUNTRY')),
  ]
  return unique(names.map((name) => countryCode(name)).filter((code): code is string => code !== null))
}

function toEntry(record: XmlElement, listId: string, version: string): ListEntry {
  const isIndividual = record.name === 'INDIVIDUAL'
  const entryId = childText(record, 'DATAID')
  if (entryId === '') throw new RiskError('RISK_ERR_INVALID_FIELD', `a UN ${record.name} record has no DATAID; is the file the UN consolidated XML?`, { listId })
  const names: EntryName[] = []
  if (isIndividual) {
    const parts = ['FIRST_NAME', 'SECOND_NAME', 'THIRD_NAME', 'FOURTH_NAME'].map((name) => childText(record, name)).filter((part) => part !== '')
    names.push({ full: parts.join(' '), parts, kind: 'primary' })
  } else {
    // Entities sometimes carry two names in one field: 'COMPAGNIE … (CAGL) ; GREAT LAKES … (GLBC)'.
    const [primary, ...others] = childText(record, 'FIRST_NAME').split(/\s+;\s+/)
    names.push({ full: primary ?? '', parts: [primary ?? ''], kind: 'primary' })
    for (const other of others) names.push({ full: other, parts: [other], kind: 'alias' })
  }
  for (const original of childrenNamed(record, 'NAME_ORIGINAL_SCRIPT')) {
    const full = original.text.trim()
    if (full !== '') names.push({ full, parts: [full], kind: 'alias' })
  }
  for (const alias of childrenNamed(record, isIndividual ? 'INDIVIDUAL_ALIAS' : 'ENTITY_ALIAS')) {
    const full = childText(alias, 'ALIAS_NAME')
    if (full !== '') names.push({ full, parts: [full], kind: aliasKind(childText(alias, 'QUALITY')) })
  }
  return withEntryVersion({
    listId,
    listVersion: version,
    entryId,
    type: isIndividual ? 'individual' : 'entity',
    names: names.filter((name) => name.full !== ''),
    datesOfBirth: isIndividual ? datesOfBirth(record) : [],
    countries: countries(record, isIndividual ? 'INDIVIDUAL' : 'ENTITY'),
    programs: unique([childText(record, 'UN_LIST_TYPE')].filter((program) => program !== '')),
  })
}

/**
 * Parses the UN list from chunks (a file stream, or one string in tests). The version is
 * computed while reading, so the file is read once.
 */
export async function parseUnConsolidatedList(listId: string, chunks: AsyncIterable<string> | Iterable<string>): Promise<LoadedList> {
  const records: XmlElement[] = []
  let generated = ''
  const hash = createHash('sha256')
  const reader = readXmlRecords(['INDIVIDUAL', 'ENTITY'], (record) => records.push(record), (attributes) => {
    generated = attributes.dateGenerated ?? ''
  }, listId)
  for await (const chunk of chunks) {
    hash.update(chunk)
    reader.write(chunk)
  }
  reader.end()
  const publishedDate = /^\d{4}-\d{2}-\d{2}/.exec(generated)?.[0] ?? null
  // The SHA-256 of the file itself (one file, so no length prefix), computed while streaming.
  const version = versionFromHash(listId, hash.digest('hex'), publishedDate)
  return { version, entries: records.map((record) => toEntry(record, listId, version.version)) }
}

export async function loadUnConsolidatedList(source: UnListSource): Promise<LoadedList> {
  const stream = createReadStream(source.path, { encoding: 'utf8', highWaterMark: 256 * 1024 })
  try {
    return await parseUnConsolidatedList(source.listId, stream)
  } catch (error) {
    if (error instanceof RiskError) throw error
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `cannot read UN list file ${source.path}; check the path`, { listId: source.listId, path: source.path }, { cause: error })
  }
}
