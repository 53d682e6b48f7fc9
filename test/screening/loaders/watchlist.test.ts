import { describe, expect, it } from 'vitest'
import { loadWatchlistCsv, parseWatchlistCsv } from '../../../screening/loaders/watchlist.js'
import { FIXTURES_DIRECTORY } from '../lists.js'

describe('generic watchlist CSV loader', () => {
  it('reads PEP and internal entries with aliases, dates, countries and programs', async () => {
    const list = await loadWatchlistCsv({ listId: 'pep', path: `${FIXTURES_DIRECTORY}watchlist-sample.csv`, publishedDate: '2026-03-01' })
    expect(list.version.version).toMatch(/^2026-03-01@/)
    const [jane, karl, casino] = list.entries
    expect(jane?.names.map((name) => name.kind)).toEqual(['primary', 'alias', 'alias', 'weak-alias'])
    expect(jane?.datesOfBirth).toEqual([{ fromYear: 1961, toYear: 1961, month: 2, day: 3, approximate: false }])
    expect(karl?.datesOfBirth).toEqual([
      { fromYear: 1970, toYear: 1970, month: null, day: null, approximate: true },
      { fromYear: 1975, toYear: 1977, month: null, day: null, approximate: false },
    ])
    expect(karl?.countries).toEqual(['RU', 'BY'])
    expect(casino?.type).toBe('entity')
    expect(casino?.countries).toEqual(['CW'])
  })

  it('refuses duplicate ids, unknown types and unreadable dates, naming the line', () => {
    const header = 'entry_id,type,full_name,dates_of_birth\n'
    expect(() => parseWatchlistCsv('w', `${header}1,individual,A B,\n1,individual,C D,\n`)).toThrow(/line 3.*appears twice/)
    expect(() => parseWatchlistCsv('w', `${header}1,robot,A B,\n`)).toThrow(/type 'robot'/)
    expect(() => parseWatchlistCsv('w', `${header}1,individual,A B,yesterday\n`)).toThrow(/'yesterday' is not a date of birth/)
  })
})
