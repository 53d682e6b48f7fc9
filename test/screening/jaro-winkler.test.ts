import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../core/seeded-random.js'
import { characterCounts, characterTable, commonCharacterCount, jaro, jaroWinkler, jaroWinklerUpperBound } from '../../screening/jaro-winkler.js'

// Reference values from Winkler (1990) as tabulated in Cohen, Ravikumar & Fienberg (2003) and on
// the Jaro–Winkler distance article: MARTHA/MARHTA, DWAYNE/DUANE, DIXON/DICKSONX, JELLYFISH/SMELLYFISH.
describe('jaroWinkler', () => {
  it.each([
    ['martha', 'marhta', 0.944, 0.961],
    ['dwayne', 'duane', 0.822, 0.84],
    ['dixon', 'dicksonx', 0.767, 0.813],
    ['jellyfish', 'smellyfish', 0.896, 0.896],
  ])('%s / %s', (first, second, expectedJaro, expectedJaroWinkler) => {
    expect(jaro(first, second)).toBeCloseTo(expectedJaro, 3)
    expect(jaroWinkler(first, second)).toBeCloseTo(expectedJaroWinkler, 3)
    expect(jaroWinkler(second, first)).toBeCloseTo(expectedJaroWinkler, 3)
  })

  it('is 1 for equal strings and 0 with nothing in common', () => {
    expect(jaroWinkler('saddam', 'saddam')).toBe(1)
    expect(jaroWinkler('abc', 'xyz')).toBe(0)
    expect(jaroWinkler('', 'abc')).toBe(0)
  })
})

// The bound lets compareTokens skip Jaro (issue 10); a bound under the true value would change scores.
describe('jaroWinklerUpperBound', () => {
  const common = (first: string, second: string): number => {
    const firstCounts = characterCounts(first)
    const secondCounts = characterCounts(second)
    if (firstCounts === null || secondCounts === null) throw new Error('not countable')
    return commonCharacterCount(characterTable(firstCounts), secondCounts)
  }

  it('counts characters in common, position aside', () => {
    expect([...(characterCounts('anna') ?? [])]).toEqual([97, 2, 110, 2])
    expect(common('hussein', 'husayn')).toBe(4)
    expect(common('mohammed', 'muhammad')).toBe(6)
    expect(characterCounts('صدام')).toBeNull()
  })

  it('is never under Jaro-Winkler, on random and near-identical pairs', () => {
    const random = seededRandom(5)
    const word = (alphabet: string): string => Array.from({ length: 1 + Math.floor(random() * 9) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
    let tight = 0
    const under: string[] = []
    for (let trial = 0; trial < 20_000; trial += 1) {
      const first = word(trial % 2 === 0 ? 'abcdefghijklmnopqrstuvwxyz' : 'aeimnorsh')
      // Half the pairs are one edit apart, where the bound is close to the value.
      const second = trial % 4 < 2 ? word('aeimnorshkt') : first.slice(0, trial % first.length) + word('aeh').slice(0, 1) + first.slice((trial % first.length) + 1)
      const bound = jaroWinklerUpperBound(first, second, common(first, second))
      const value = jaroWinkler(first, second)
      if (bound < value) under.push(`${first} / ${second}: bound ${bound} < ${value}`)
      if (bound - value < 1e-12) tight += 1
    }
    expect(under).toEqual([])
    // Equal when every common character matches in order: the bound is as tight as it can be there.
    expect(tight).toBeGreaterThan(1000)
  })
})
