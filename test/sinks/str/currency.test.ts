import { describe, expect, it } from 'vitest'
import { isRiskError } from '../../../core/errors.js'
import { CURRENCY_MINOR_UNIT_EXPONENTS, formatMinorUnits } from '../../../sinks/str/currency.js'
import { schemaEnumeration } from './fixtures.js'

describe('formatMinorUnits', () => {
  it.each([
    [1, 'EUR', '0.01'], [12_345, 'EUR', '123.45'], [100, 'EUR', '1.00'], [-5, 'EUR', '-0.05'], [0, 'EUR', '0.00'],
    [150_000, 'JPY', '150000'], [1, 'JPY', '1'],
    [1, 'KWD', '0.001'], [1_234_567, 'KWD', '1234.567'], [1, 'CLF', '0.0001'],
    [2n ** 53n + 1n, 'EUR', '90071992547409.93'], ['790000000000000000', 'EUR', '7900000000000000.00'], ['007', 'BHD', '0.007'],
  ] as const)('%s minor units of %s -> %s', (amount, currency, expected) => {
    expect(formatMinorUnits(amount, currency)).toBe(expected)
  })

  it('refuses amounts that are not integers and currencies it does not know', () => {
    for (const amount of [1.5, 2 ** 53 + 2, Number.NaN, '12.5', '1e3']) {
      expect(() => formatMinorUnits(amount, 'EUR')).toThrow(/not an integer number of minor units/)
    }
    try {
      formatMinorUnits(1, 'XBT')
      expect.fail('expected a RiskError')
    } catch (error) {
      expect(isRiskError(error, 'RISK_ERR_REQUEST_INVALID')).toBe(true)
    }
  })

  it('knows only currencies the goAML schema lists', async () => {
    const schemaCurrencies = await schemaEnumeration('currency_type')
    expect(Object.keys(CURRENCY_MINOR_UNIT_EXPONENTS).filter((code) => !schemaCurrencies.has(code))).toEqual([])
  })
})
