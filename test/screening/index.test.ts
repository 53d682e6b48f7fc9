import { beforeAll, describe, expect, it } from 'vitest'
import { buildScreener, DEFAULT_THRESHOLD, type Screener } from '../../screening/index.js'
import { parseWatchlistCsv } from '../../screening/loaders/watchlist.js'
import { loadSdn, loadUn } from './lists.js'

// Named cases from issue 7, against the real SDN list (plus the UN list where said).
describe('screener on the real SDN list', () => {
  let sdn: Screener
  beforeAll(async () => { sdn = buildScreener([await loadSdn()]) })

  const best = (screener: Screener, fullName: string, extra: { dateOfBirth?: string; country?: string } = {}) => screener.screen({ fullName, ...extra }).matches[0]

  it('matches an Arabic-script name to its Latin listing (SDN 7843, Saddam Hussein)', () => {
    const match = best(sdn, 'صدام حسين التكريتي')
    expect(match?.entryId).toBe('7843')
    expect(match?.score).toBeGreaterThanOrEqual(DEFAULT_THRESHOLD)
    expect(match?.features.pairs.map((pair) => pair.method)).toEqual(['phonetic', 'phonetic', 'phonetic'])
  })

  it('matches a Cyrillic name with a patronymic the list leaves out (SDN 12110, UMAROV, Doku)', () => {
    const match = best(sdn, 'Умаров Доку Хаматович')
    expect(match?.entryId).toBe('12110')
    expect(match?.features.unmatchedQueryTokens).toEqual(['khamatovich'])
  })

  it('ignores word order', () => {
    for (const name of ['Saddam Hussein al-Tikriti', 'al-Tikriti Hussein Saddam', 'Tikriti, Saddam Hussein']) {
      expect(best(sdn, name)?.entryId, name).toBe('7843')
      expect(best(sdn, name)?.score, name).toBe(1)
    }
  })

  it('keeps common names that only share frequent tokens with listed people below the threshold', () => {
    // 'Maria Garcia' meets 'GARCIA RODRIGUEZ, Martha' and 'GAXIOLA GARCIA, Maria Elena'; 'John Smith' only 'SMOOTH'.
    for (const name of ['John Smith', 'Maria Garcia', 'Ahmed Hassan']) {
      const result = sdn.screen({ fullName: name })
      expect(result.matches, name).toEqual([])
      expect(result.bestScore, name).toBeLessThan(DEFAULT_THRESHOLD)
    }
    // 'Mohammed Ali' is every part of 'ALI, Ahmed Mohammed' (SDN alias), so by name alone it is a
    // potential match; the player's date of birth, against the listed one, is what clears it.
    expect(sdn.screen({ fullName: 'Mohammed Ali' }).matches.map((match) => match.matchedName)).toEqual(['ALI, Ahmed Mohammed'])
    expect(sdn.screen({ fullName: 'Mohammed Ali', dateOfBirth: '1990-06-01' }).matches).toEqual([])
  })

  it('matches company names whatever their legal-form suffix', () => {
    for (const name of ['Anglo Caribbean Company Limited', 'ANGLO-CARIBBEAN CO LTD', 'Anglo-Caribbean Co., Ltd.']) {
      expect(best(sdn, name)?.entryId, name).toBe('173')
    }
    expect(best(sdn, 'Banco Nacional de Cuba S.A.')?.matchedName).toBe('BANCO NACIONAL DE CUBA')
  })

  it('tolerates a typo and a transliteration variant, and explains the score', () => {
    const match = best(sdn, 'Sadam Husein')
    expect(match?.entryId).toBe('7843')
    expect(match?.features.pairs.every((pair) => pair.similarity > 0.8)).toBe(true)
    expect(best(sdn, 'Mohamed Yahia Moujahid')?.matchedName).toBe('MUJAHID, Mohammed Yahya')
  })

  it('treats date of birth and country as evidence for or against', () => {
    // SDN 7843 lists DOB 28 Apr 1937 and Iraq.
    const supported = best(sdn, 'Saddam Hussein', { dateOfBirth: '1937-04-28', country: 'IQ' })
    expect(supported?.features.dateOfBirth).toBe('exact')
    expect(supported?.features.country).toBe('match')
    const contradicted = sdn.screen({ fullName: 'Saddam Hussein', dateOfBirth: '1990-01-01', country: 'MT' }).matches.find((match) => match.entryId === '7843')
    expect(contradicted === undefined || contradicted.features.dateOfBirth === 'contradicts').toBe(true)
    expect(contradicted?.score ?? 0).toBeLessThan(supported?.score ?? 0)
  })

  it('filters by entry type and honours the configured threshold', () => {
    expect(sdn.screen({ fullName: 'Anglo Caribbean Co', types: ['individual'] }).matches.every((match) => match.entryType === 'individual')).toBe(true)
    const strict = buildScreener([parseWatchlistCsv('w', 'entry_id,full_name\n1,Jonathan Doe\n')], { threshold: 0.99 })
    expect(strict.screen({ fullName: 'Jonathon Doe' }).matches).toEqual([])
    expect(strict.screen({ fullName: 'Jonathon Doe' }).bestScore).toBeGreaterThan(0.8)
    expect(() => buildScreener([], { threshold: 1.5 })).toThrow(expect.objectContaining({ code: 'RISK_ERR_CONFIG_INVALID' }))
  })
})

describe('screener over SDN and UN together', () => {
  it('finds a Cyrillic query directly through the UN original-script name, with list versions on the match', async () => {
    const [sdnList, unList] = await Promise.all([loadSdn(), loadUn()])
    const screener = buildScreener([sdnList, unList])
    const result = screener.screen({ fullName: 'Умаров Доку Хаматович' })
    const un = result.matches.find((match) => match.listId === 'un-consolidated')
    expect(un?.score).toBe(1)
    expect(un?.listVersion).toBe(unList.version.version)
    expect(result.matches.map((match) => match.listId)).toContain('ofac-sdn')
    expect(screener.listVersions).toEqual({ 'ofac-sdn': sdnList.version.version, 'un-consolidated': unList.version.version })
  })
})
