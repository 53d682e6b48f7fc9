/**
 * OFAC's legacy CSV layout, used by both the SDN list (sdn.csv, alt.csv, add.csv) and the
 * consolidated non-SDN list (cons_prim.csv, cons_alt.csv, cons_add.csv). No header row; '-0-'
 * (often followed by a space) means empty. Columns, per OFAC's "SDN CSV file specification":
 *   primary:  ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
 *             Vess_flag, Vess_owner, Remarks
 *   alias:    ent_num, alt_num, alt_type (aka | fka | nka), alt_name, alt_remarks
 *   address:  ent_num, add_num, address, city/state/postal code, country, add_remarks
 * Individuals are written 'LAST, First'. Dates of birth, nationality, citizenship, places of birth
 * and weak a.k.a.s ("a.k.a. 'BNC'") are inside Remarks, '; '-separated. SDN_Type is empty for
 * entities. The files carry no publication date, so the version is the content hash alone.
 *
 * Example:
 *   const sdn = await loadOfacList({ listId: 'ofac-sdn', primaryPath: 'sdn.csv', aliasPath: 'alt.csv', addressPath: 'add.csv' })
 *   sdn.entries.length // 8976 for the 2021-07 snapshot in ../shared/data
 */
import { RiskError } from '../../core/errors.js'
import { countryCode } from '../countries.js'
import { parseCsv } from '../csv.js'
import { listVersion, withEntryVersion } from '../list-version.js'
import type { DateOfBirth, EntryName, EntryType, ListEntry, LoadedList } from '../types.js'
import { parseDateOfBirth } from './dates.js'
import { decodeText, readListFile, unique } from './read.js'

export interface OfacListFiles {
  readonly listId: string
  readonly primaryPath: string
  readonly aliasPath: string
  /** Optional: addresses add countries to entries. */
  readonly addressPath?: string
}

export interface OfacListContents {
  readonly listId: string
  readonly primary: string
  readonly alias: string
  readonly address?: string
}

const EMPTY = '-0-'

function value(field: string | undefined): string {
  const trimmed = (field ?? '').trim()
  return trimmed === EMPTY ? '' : trimmed
}

const TYPES: Readonly<Record<string, EntryType>> = { individual: 'individual', vessel: 'vessel', aircraft: 'aircraft', '': 'entity' }

/** 'HUSSEIN AL-TIKRITI, Saddam' → ['Saddam', 'HUSSEIN AL-TIKRITI'] (given, family); entities stay whole. */
function nameParts(name: string, type: EntryType): string[] {
  if (type !== 'individual') return [name]
  const comma = name.indexOf(',')
  if (comma < 0) return [name]
  const family = name.slice(0, comma).trim()
  const given = name.slice(comma + 1).trim()
  return given === '' ? [family] : [given, family]
}

interface RemarkFacts {
  datesOfBirth: DateOfBirth[]
  countries: string[]
  weakAliases: string[]
}

/** Dates of birth, countries (nationality, citizenship, place of birth) and weak a.k.a.s from Remarks. */
function readRemarks(remarks: string): RemarkFacts {
  const facts: RemarkFacts = { datesOfBirth: [], countries: [], weakAliases: [] }
  for (const match of remarks.matchAll(/a\.k\.a\. '([^']+)'/g)) facts.weakAliases.push(match[1] as string)
  for (const rawPart of remarks.split(';')) {
    const part = rawPart.trim().replace(/^alt\.\s+/, '')
    const dob = /^DOB\s+(.+)$/.exec(part)
    if (dob) {
      const parsed = parseDateOfBirth(dob[1] as string)
      if (parsed !== null) facts.datesOfBirth.push(parsed)
      continue
    }
    const nationality = /^(?:nationality|citizen)\s+(.+?)\.?$/.exec(part)
    if (nationality) {
      const code = countryCode(nationality[1] as string)
      if (code !== null) facts.countries.push(code)
      continue
    }
    const birthPlace = /^POB\s+(.+?)\.?$/.exec(part)
    if (birthPlace) {
      // 'Baghdad, Iraq': the country is the last comma-separated part, when it is one.
      const last = (birthPlace[1] as string).split(',').at(-1) ?? ''
      const code = countryCode(last)
      if (code !== null) facts.countries.push(code)
    }
  }
  return facts
}

export function parseOfacList(contents: OfacListContents): LoadedList {
  const { listId } = contents
  const version = listVersion(listId, [contents.primary, contents.alias, contents.address ?? ''], null)
  const aliasesByEntry = new Map<string, EntryName[]>()
  const typeByEntry = new Map<string, EntryType>()
  const primaryRows = parseCsv(contents.primary)
  for (const row of primaryRows) {
    if (row.fields.length < 12) {
      throw new RiskError('RISK_ERR_INVALID_FIELD', `OFAC primary file of ${listId} line ${row.line} has ${row.fields.length} columns, expected 12; is it the legacy CSV layout?`, { listId, line: row.line })
    }
    typeByEntry.set(value(row.fields[0]), TYPES[value(row.fields[2]).toLowerCase()] ?? 'entity')
  }
  for (const row of parseCsv(contents.alias)) {
    if (row.fields.length < 4) {
      throw new RiskError('RISK_ERR_INVALID_FIELD', `OFAC alias file of ${listId} line ${row.line} has ${row.fields.length} columns, expected 5`, { listId, line: row.line })
    }
    const entryId = value(row.fields[0])
    const full = value(row.fields[3])
    if (full === '') continue
    const names = aliasesByEntry.get(entryId) ?? []
    // aka, fka and nka are all names the party is or was known by; OFAC marks none of them weak here.
    names.push({ full, parts: nameParts(full, typeByEntry.get(entryId) ?? 'entity'), kind: 'alias' })
    aliasesByEntry.set(entryId, names)
  }
  const addressCountries = new Map<string, string[]>()
  for (const row of contents.address === undefined ? [] : parseCsv(contents.address)) {
    const code = countryCode(value(row.fields[4]))
    if (code === null) continue
    const entryId = value(row.fields[0])
    const list = addressCountries.get(entryId) ?? []
    list.push(code)
    addressCountries.set(entryId, list)
  }
  const entries: ListEntry[] = primaryRows.map((row) => {
    const entryId = value(row.fields[0])
    const type = typeByEntry.get(entryId) ?? 'entity'
    const primaryName = value(row.fields[1])
    const facts = readRemarks(value(row.fields[11]))
    const names: EntryName[] = [
      { full: primaryName, parts: nameParts(primaryName, type), kind: 'primary' },
      ...(aliasesByEntry.get(entryId) ?? []),
      ...facts.weakAliases.map((full): EntryName => ({ full, parts: [full], kind: 'weak-alias' })),
    ]
    const vesselFlag = type === 'vessel' ? countryCode(value(row.fields[9])) : null
    return withEntryVersion({
      listId,
      listVersion: version.version,
      entryId,
      type,
      names,
      datesOfBirth: facts.datesOfBirth,
      countries: unique([...facts.countries, ...(addressCountries.get(entryId) ?? []), ...(vesselFlag === null ? [] : [vesselFlag])]),
      programs: unique(value(row.fields[3]).split(/\]\s*\[/).map((program) => program.replace(/[[\]]/g, '').trim()).filter((program) => program !== '')),
    })
  })
  return { version, entries }
}

export async function loadOfacList(files: OfacListFiles): Promise<LoadedList> {
  const [primary, alias, address] = await Promise.all([
    readListFile(files.primaryPath, files.listId),
    readListFile(files.aliasPath, files.listId),
    files.addressPath === undefined ? Promise.resolve(undefined) : readListFile(files.addressPath, files.listId),
  ])
  return parseOfacList({
    listId: files.listId,
    primary: decodeText(primary),
    alias: decodeText(alias),
    ...(address === undefined ? {} : { address: decodeText(address) }),
  })
}
