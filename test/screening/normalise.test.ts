import { describe, expect, it } from 'vitest'
import { normaliseName, transliterate } from '../../screening/normalise.js'
import { phoneticKey } from '../../screening/phonetic.js'

describe('normaliseName', () => {
  it.each([
    ['HUSSEIN AL-TIKRITI, Saddam', ['hussein', 'tikriti', 'saddam']],
    ['Dr. Умаров Доку Хаматович', ['umarov', 'doku', 'khamatovich']],
    ['صدام حسين التكريتي', ['sdam', 'hsin', 'tkriti']],
    ['Σωκράτης Παπαδόπουλος', ['sokratis', 'papadopoulos']],
    ['José MÜLLER-Łukasz', ['jose', 'muller', 'lukasz']],
    ["Sheikh 'Abd al-Rahman bin 'Umayr", ['abd', 'rahman', 'umayr']],
    ['ANGLO-CARIBBEAN CO., LTD.', ['anglo', 'caribbean']],
    ['BANCO NACIONAL DE CUBA S.A.', ['banco', 'nacional', 'cuba']],
    ["O'Brien", ['obrien']],
  ])('%s → %j', (name, tokens) => {
    expect(normaliseName(name).tokens).toEqual(tokens)
  })

  it('says what it dropped, and keeps a name made only of droppable words', () => {
    expect(normaliseName('Mr John Smith Jr').dropped).toEqual([{ token: 'mr', kind: 'honorific' }, { token: 'jr', kind: 'honorific' }])
    expect(normaliseName('Al Co').tokens).toEqual(['al', 'co'])
  })

  it('transliterates Persian letters and the word-initial Arabic waw and ya', () => {
    expect(transliterate('يوسف')).toBe('yusf')
    expect(transliterate('وليد')).toBe('wlid')
    expect(transliterate('پرویز')).toBe('pruiz')
  })
})

describe('phoneticKey', () => {
  it('gives transliteration variants one key and keeps different names apart', () => {
    expect(new Set(['mohammed', 'muhammad', 'mohamad', 'mhmd'].map(phoneticKey))).toEqual(new Set(['mhmt']))
    expect(new Set(['hussein', 'husayn', 'hsin'].map(phoneticKey))).toEqual(new Set(['hsn']))
    expect(new Set(['yusuf', 'yousef', 'yusf'].map(phoneticKey))).toEqual(new Set(['asf']))
    expect(phoneticKey('saddam')).toBe(phoneticKey('sdam'))
    expect(phoneticKey('mahmoud')).not.toBe(phoneticKey('mohammed'))
    expect(phoneticKey('sergey')).toBe(phoneticKey('sergei'))
  })
})
