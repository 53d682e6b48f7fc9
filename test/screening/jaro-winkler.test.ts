import { describe, expect, it } from 'vitest'
import { jaro, jaroWinkler } from '../../screening/jaro-winkler.js'

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
