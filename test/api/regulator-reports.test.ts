/** The regulator report's pure parts: UTC periods, CSV quoting, XML names and escaping, audit diffs. */
import { describe, expect, it } from 'vitest'
import { diffValues, periodRange, toCsv, toXml, xmlName } from '../../api/regulator-reports.js'

describe('periodRange', () => {
  it.each([
    ['daily', '2024-02-29', '2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['weekly', '2025-01-19', '2025-01-13T00:00:00.000Z', '2025-01-20T00:00:00.000Z'],
    ['weekly', '2025-01-13', '2025-01-13T00:00:00.000Z', '2025-01-20T00:00:00.000Z'],
    ['monthly', '2024-12-31', '2024-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
  ] as const)('%s of %s is [%s, %s)', (period, date, from, to) => {
    const { fromMs, toMs } = periodRange(period, date)
    expect([new Date(fromMs).toISOString(), new Date(toMs).toISOString()]).toEqual([from, to])
  })

  it('refuses dates that do not exist', () => {
    expect(() => periodRange('daily', '2025-02-29')).toThrow(/calendar date/)
  })
})

describe('toCsv', () => {
  it('quotes commas, quotes and newlines, joins arrays, defuses formulas, leaves numbers alone', () => {
    expect(toCsv([{ a: 'x,y', b: 'say "hi"', c: 'two\nlines', d: ['p', 'q'], e: '=SUM(A1)', f: -5, g: null }]))
      .toBe('a,b,c,d,e,f,g\r\n"x,y","say ""hi""","two\nlines",p|q,\'=SUM(A1),-5,\r\n')
  })
})

describe('toXml', () => {
  it('escapes text, names elements in snake_case, repeats array items and replaces characters XML cannot carry', () => {
    expect(toXml('report', { amountMinor: '5', decisions: [{ outcome: 'A&B <c>' }], note: 'bell\u0007', empty: null }))
      .toBe('<?xml version="1.0" encoding="UTF-8"?>\n<report>\n  <amount_minor>5</amount_minor>\n  <decisions>\n    <decision>\n      <outcome>A&amp;B &lt;c&gt;</outcome>\n    </decision>\n  </decisions>\n  <note>bell\uFFFD</note>\n  <empty/>\n</report>\n')
    expect([xmlName('1st'), xmlName('xmlThing'), xmlName('a b')]).toEqual(['_1st', '_xml_thing', 'a_b'])
  })
})

describe('diffValues', () => {
  it('lists changed leaves with paths, array items by index', () => {
    expect(diffValues({ a: 1, b: [1, 2], c: { d: 'x' } }, { a: 2, b: [1], c: { d: 'x' }, e: true })).toEqual([
      { path: 'a', before: 1, after: 2 }, { path: 'b[1]', before: 2, after: undefined }, { path: 'e', before: undefined, after: true },
    ])
    expect(diffValues(undefined, { a: 1 })).toEqual([{ path: '(whole)', before: undefined, after: { a: 1 } }])
  })
})
