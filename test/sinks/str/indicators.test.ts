import { describe, expect, it } from 'vitest'
import { DETECTORS } from '../../../detectors/index.js'
import { TYPOLOGIES } from '../../../graph/types.js'
import { BASE_INDICATOR, INDICATOR_CODES_BY_SOURCE, indicatorsFor } from '../../../sinks/str/indicators.js'
import { schemaEnumeration } from './fixtures.js'

describe('indicator table', () => {
  it('uses only codes of the goAML report_indicator_type enumeration', async () => {
    const codes = await schemaEnumeration('report_indicator_type')
    expect(codes.size).toBe(423)
    const used = [BASE_INDICATOR, ...Object.values(INDICATOR_CODES_BY_SOURCE).flat()]
    expect(used.filter((code) => !codes.has(code))).toEqual([])
  })

  it('has a row for every registered detector and every graph typology', () => {
    const sources = [...DETECTORS.map((detector) => detector.id), ...TYPOLOGIES]
    expect(sources.filter((id) => !Object.hasOwn(INDICATOR_CODES_BY_SOURCE, id))).toEqual([])
  })

  it('puts the base indicator first and lists each code once with all its sources', () => {
    expect(indicatorsFor(['deposit_structuring', 'pass_through', 'withdrawal_velocity', 'unknown_detector', 'loss_chasing'])).toEqual([
      { code: 'CTRGB', sources: [] },
      { code: 'ML002', sources: ['deposit_structuring'] },
      { code: 'ARIET', sources: ['pass_through'] },
      { code: 'LOWBL', sources: ['pass_through', 'withdrawal_velocity'] },
      { code: 'FRQDW', sources: ['withdrawal_velocity'] },
    ])
  })
})
