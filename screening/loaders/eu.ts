/**
 * The EU consolidated financial sanctions list in its CSV layout ("csvFullSanctionsList_1_1",
 * https://webgate.ec.europa.eu/fsd/fsf): ';'-separated, one header row, and one row per piece
 * of an entity (each name alias, address, birth date, citizenship… gets its own row repeating
 * the Entity_* columns). Rows are grouped by Entity_LogicalId. Columns are found by header name,
 * so extra or reordered columns (the full file has over a hundred) do not matter. Read:
 *   fileGenerationDate (dd/mm/yyyy or yyyy-mm-dd), Entity_LogicalId, Entity_SubjectType_ClassificationCode
 *   (person | enterprise) or Entity_SubjectType (P | E), Entity_Regulation_Programme,
 *   NameAlias_WholeName (or First/Middle/LastName), BirthDate_BirthDate, BirthDate_Year,
 *   BirthDate_YearRangeFrom/To, BirthDate_Circa, Citizenship_CountryIso2Code, Address_CountryIso2Code,
 *   BirthDate_CountryIso2Code.
 * The first name alias of an entity is taken as primary; the file does not mark one.
 *
 * Example:
 *   const eu = await loadEuConsolidatedCsv({ listId: 'eu-consolidated', path: 'eu.csv' })
 */
import { RiskError } from '../../core/errors.js'
import { countryCode } from '../countries.js'
import { parseCsv } from '../csv.js'
import { listVersion, withEntryVersion } from '../list-version.js'
import type { DateOfBirth, EntryName, EntryType, ListEntry, LoadedList } from '../types.js'
import { parseDateOfBirth } from './dates.js'
import { decodeText, readListFile, unique } from './read.js'

export interface EuListSource {
  readonly listId: string
  readonly path: string
}

interface EntityDraft {
  type: EntryType
  names: EntryName[]
  datesOfBirth: DateOfBirth[]
  countries: string[]
  programs: string[]
}

function isoDate(text: string): string | null {
  const dayFirst = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text.trim())
  if (dayFirst) return `${dayFirst[3]}-${dayFirst[2]}-${dayFirst[1]}`
  return /^\d{4}-\d{2}-\d{2}/.exec(text.trim())?.[0] ?? null
}

export function parseEuConsolidatedCsv(listId: string, text: string): LoadedList {
  const [header, ...rows] = parseCsv(text, ';')
  if (header === undefined) throw new RiskError('RISK_ERR_INVALID_FIELD', `the EU list file for ${listId} is empty`, { listId })
  const column = new Map(header.fields.map((name, index) => [name.trim(), index]))
  for (const required of ['Entity_LogicalId', 'NameAlias_WholeName']) {
    if (!column.has(required)) {
      throw new RiskError('RISK_ERR_INVALID_FIELD', `the EU list file for ${listId} has no ${required} column; is it the csvFullSanctionsList_1_1 layout?`, { listId, column: required })
    }
  }
  const read = (fields: readonly string[], name: string): string => {
    const index = column.get(name)
    return index === undefined ? '' : (fields[index] ?? '').trim()
  }
  let publishedDate: string | null = null
  const drafts = new Map<string, EntityDraft>()
  for (const row of rows) {
    const entryId = read(row.fields, 'Entity_LogicalId')
    if (entryId === '') throw new RiskError('RISK_ERR_INVALID_FIELD', `EU list ${listId} line ${row.line} has no Entity_LogicalId`, { listId, line: row.line })
    publishedDate ??= isoDate(read(row.fields, 'fileGenerationDate'))
    const classification = (read(row.fields, 'Entity_SubjectType_ClassificationCode') || read(row.fields, 'Entity_SubjectType')).toLowerCase()
    const draft = drafts.get(entryId) ?? { type: classification === 'person' || classification === 'p' ? 'individual' : 'entity', names: [], datesOfBirth: [], countries: [], programs: [] }
    drafts.set(entryId, draft)
    const program = read(row.fields, 'Entity_Regulation_Programme')
    if (program !== '') draft.programs.push(program)
    const parts = ['NameAlias_FirstName', 'NameAlias_MiddleName', 'NameAlias_LastName'].map((name) => read(row.fields, name)).filter((part) => part !== '')
    const whole = read(row.fields, 'NameAlias_WholeName') || parts.join(' ')
    if (whole !== '' && !draft.names.some((name) => name.full === whole)) {
      draft.names.push({ full: whole, parts: parts.length > 0 ? parts : [whole], kind: draft.names.length === 0 ? 'primary' : 'alias' })
    }
    const from = read(row.fields, 'BirthDate_YearRangeFrom')
    const to = read(row.fields, 'BirthDate_YearRangeTo')
    const circa = ['1', 'true', 'yes'].includes(read(row.fields, 'BirthDate_Circa').toLowerCase())
    if (from !== '' && to !== '') draft.datesOfBirth.push({ fromYear: Number(from), toYear: Number(to), month: null, day: null, approximate: circa })
    else {
      const birth = parseDateOfBirth(read(row.fields, 'BirthDate_BirthDate') || read(row.fields, 'BirthDate_Year'))
      if (birth !== null) draft.datesOfBirth.push({ ...birth, approximate: birth.approximate || circa })
    }
    for (const name of ['Citizenship_CountryIso2Code', 'Address_CountryIso2Code', 'BirthDate_CountryIso2Code']) {
      const code = countryCode(read(row.fields, name))
      // The EU writes '00' for an unknown country.
      if (code !== null && code !== '00') draft.countries.push(code)
    }
  }
  const version = listVersion(listId, [text], publishedDate)
  const entries: ListEntry[] = [...drafts].map(([entryId, draft]) => withEntryVersion({
    listId,
    listVersion: version.version,
    entryId,
    type: draft.type,
    names: draft.names,
    datesOfBirth: unique(draft.datesOfBirth.map((date) => JSON.stringify(date))).map((date) => JSON.parse(date) as DateOfBirth),
    countries: unique(draft.countries),
    programs: unique(draft.programs),
  }))
  return { version, entries }
}

export async function loadEuConsolidatedCsv(source: EuListSource): Promise<LoadedList> {
  return parseEuConsolidatedCsv(source.listId, decodeText(await readListFile(source.path, source.listId)))
}
