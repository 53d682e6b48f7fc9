import { beforeAll, describe, expect, it } from 'vitest'
import { loadOfacList, parseOfacList } from '../../../screening/loaders/ofac.js'
import type { LoadedList } from '../../../screening/types.js'
import { loadConsolidated, loadSdn } from '../lists.js'

const count = (list: LoadedList, kind: string): number => list.entries.reduce((total, entry) => total + entry.names.filter((name) => name.kind === kind).length, 0)

describe('OFAC legacy CSV loader on the real files', () => {
  let sdn: LoadedList
  let consolidated: LoadedList
  beforeAll(async () => { [sdn, consolidated] = await Promise.all([loadSdn(), loadConsolidated()]) })

  // ../shared/data/README.md says 8,977 entries and 11,911 aliases: it counts the final line
  // holding only OFAC's 0x1A end-of-file byte. The files hold 8,976 and 11,910 records
  // (`grep -c '^[0-9]' sdn.csv alt.csv`), and every entry id is distinct.
  it('reads every SDN entry and alias', () => {
    expect(sdn.entries).toHaveLength(8976)
    expect(new Set(sdn.entries.map((entry) => entry.entryId)).size).toBe(8976)
    expect(count(sdn, 'alias')).toBe(11910)
    expect(count(sdn, 'primary')).toBe(8976)
    expect(sdn.entries.filter((entry) => entry.type === 'individual').length).toBeGreaterThan(4000)
    expect(sdn.entries.filter((entry) => entry.type === 'vessel')).toHaveLength(406)
    expect(sdn.entries.filter((entry) => entry.type === 'aircraft')).toHaveLength(277)
  })

  it('reads the consolidated non-SDN list in the same layout (README: 443 with the 0x1A line)', () => {
    expect(consolidated.entries).toHaveLength(442)
    expect(count(consolidated, 'alias')).toBe(1073)
  })

  it('reads names, weak a.k.a.s, dates of birth, countries and programs of one entry', () => {
    const bank = sdn.entries.find((entry) => entry.entryId === '306')
    expect(bank?.names).toEqual([
      { full: 'BANCO NACIONAL DE CUBA', parts: ['BANCO NACIONAL DE CUBA'], kind: 'primary' },
      { full: 'NATIONAL BANK OF CUBA', parts: ['NATIONAL BANK OF CUBA'], kind: 'alias' },
      { full: 'BNC', parts: ['BNC'], kind: 'weak-alias' },
    ])
    expect(bank?.programs).toEqual(['CUBA'])
    expect(bank?.countries).toContain('CH')
    const haniya = consolidated.entries.find((entry) => entry.entryId === '9639')
    expect(haniya?.names[0]).toEqual({ full: 'HANIYA, Ismail Abdul Salah', parts: ['Ismail Abdul Salah', 'HANIYA'], kind: 'primary' })
    expect(haniya?.datesOfBirth).toEqual([{ fromYear: 1962, toYear: 1962, month: null, day: null, approximate: false }])
  })

  it('versions the list by content: the same bytes give the same version, a change gives another', async () => {
    expect(sdn.version.publishedDate).toBeNull()
    expect(sdn.version.version).toMatch(/^sha256:[0-9a-f]{12}$/)
    const again = await loadSdn()
    expect(again.version).toEqual(sdn.version)
    const primary = '1,"DOE, John","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 01 Jan 1960."\r\n'
    const first = parseOfacList({ listId: 'x', primary, alias: '' })
    const second = parseOfacList({ listId: 'x', primary: primary.replace('1960', '1961'), alias: '' })
    expect(first.version.version).not.toBe(second.version.version)
    expect(first.entries[0]?.entryVersion).not.toBe(second.entries[0]?.entryVersion)
  })

  it('names the file in the error when it is missing or not in the legacy layout', async () => {
    await expect(loadOfacList({ listId: 'x', primaryPath: '/nonexistent/sdn.csv', aliasPath: '/nonexistent/alt.csv' })).rejects.toMatchObject({ code: 'RISK_ERR_CONFIG_INVALID' })
    expect(() => parseOfacList({ listId: 'x', primary: 'name,type\r\n', alias: '' })).toThrow(expect.objectContaining({ code: 'RISK_ERR_INVALID_FIELD' }))
  })
})
