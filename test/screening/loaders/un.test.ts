import { beforeAll, describe, expect, it } from 'vitest'
import { parseUnConsolidatedList } from '../../../screening/loaders/un.js'
import type { LoadedList } from '../../../screening/types.js'
import { loadUn } from '../lists.js'

describe('UN consolidated XML loader on the real file', () => {
  let un: LoadedList
  beforeAll(async () => { un = await loadUn() })

  it('reads 730 individuals and 273 entities with their aliases', () => {
    expect(un.entries.filter((entry) => entry.type === 'individual')).toHaveLength(730)
    expect(un.entries.filter((entry) => entry.type === 'entity')).toHaveLength(273)
    // 3,043 alias elements, of which 2,174 carry a name (the rest are empty placeholders); quality Low → weak.
    const aliases = un.entries.flatMap((entry) => entry.names.filter((name) => name.kind !== 'primary'))
    expect(aliases.filter((name) => name.kind === 'weak-alias')).toHaveLength(615)
    expect(un.version.publishedDate).toBe('2026-02-27')
    expect(un.version.version).toMatch(/^2026-02-27@[0-9a-f]{12}$/)
  })

  it('reads names in parts and in original script, dates of birth, nationality and list type', () => {
    const saddam = un.entries.find((entry) => entry.names[0]?.full === 'SADDAM HUSSEIN AL-TIKRITI')
    expect(saddam?.names[0]?.parts).toEqual(['SADDAM', 'HUSSEIN', 'AL-TIKRITI'])
    expect(saddam?.names.map((name) => name.full)).toContain('صدام حسين التكريتي')
    expect(saddam?.names.find((name) => name.full === 'Abu Ali')?.kind).toBe('weak-alias')
    expect(saddam?.datesOfBirth).toEqual([{ fromYear: 1937, toYear: 1937, month: 4, day: 28, approximate: false }])
    expect(saddam?.countries).toEqual(['IQ'])
    expect(saddam?.programs).toEqual(['Iraq'])
    const ranged = un.entries.find((entry) => entry.datesOfBirth.some((date) => date.fromYear === 1973 && date.toYear === 1974))
    expect(ranged).toBeDefined()
  })

  it('gives the same entries whether the file arrives in one piece or in small chunks', async () => {
    const xml = '<?xml version="1.0"?><CONSOLIDATED_LIST dateGenerated="2026-01-02T00:00:00Z"><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>JOHN</FIRST_NAME><SECOND_NAME>DOE</SECOND_NAME><INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>JD &amp; co</ALIAS_NAME></INDIVIDUAL_ALIAS></INDIVIDUAL></INDIVIDUALS><ENTITIES><ENTITY><DATAID>2</DATAID><FIRST_NAME>A CORP ; B CORP</FIRST_NAME></ENTITY></ENTITIES></CONSOLIDATED_LIST>'
    const whole = await parseUnConsolidatedList('t', [xml])
    const pieces = await parseUnConsolidatedList('t', xml.match(/.{1,5}/gs) ?? [])
    expect(pieces).toEqual(whole)
    expect(whole.entries.map((entry) => entry.names.map((name) => `${name.kind}:${name.full}`))).toEqual([['primary:JOHN DOE', 'weak-alias:JD & co'], ['primary:A CORP', 'alias:B CORP']])
  })
})
