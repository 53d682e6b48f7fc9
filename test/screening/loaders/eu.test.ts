import { describe, expect, it } from 'vitest'
import { loadEuConsolidatedCsv, parseEuConsolidatedCsv } from '../../../screening/loaders/eu.js'
import { FIXTURES_DIRECTORY } from '../lists.js'

// The fixture is written by hand from the published column layout of the EU's
// csvFullSanctionsList_1_1 (a representative subset of its columns, same names and ';' separator,
// one row per name alias / birth date / citizenship); no real EU file is in the shared data.
describe('EU consolidated CSV loader', () => {
  it('groups rows by entity and reads names, dates of birth, countries and programme', async () => {
    const eu = await loadEuConsolidatedCsv({ listId: 'eu', path: `${FIXTURES_DIRECTORY}eu-consolidated-sample.csv` })
    expect(eu.version.publishedDate).toBe('2022-10-28')
    expect(eu.entries.map((entry) => [entry.entryId, entry.type])).toEqual([['13', 'individual'], ['2406', 'entity'], ['5001', 'individual']])
    const saddam = eu.entries[0]
    expect(saddam?.names.map((name) => `${name.kind}:${name.full}`)).toEqual(['primary:Saddam Hussein Al-Tikriti', 'alias:Abu Ali', 'alias:صدام حسين التكريتي'])
    expect(saddam?.datesOfBirth).toEqual([{ fromYear: 1937, toYear: 1937, month: 4, day: 28, approximate: false }])
    expect(saddam?.countries).toEqual(['IQ'])
    expect(saddam?.programs).toEqual(['IRQ'])
    expect(eu.entries[1]?.countries).toEqual(['RU'])
    expect(eu.entries[2]?.datesOfBirth).toEqual([{ fromYear: 1961, toYear: 1963, month: null, day: null, approximate: true }])
  })

  it('refuses a file without the columns it needs', () => {
    expect(() => parseEuConsolidatedCsv('eu', 'a;b\n1;2\n')).toThrow(expect.objectContaining({ code: 'RISK_ERR_INVALID_FIELD' }))
  })
})
