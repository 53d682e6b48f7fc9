import { describe, expect, it } from 'vitest'
import { parseCsv } from '../../screening/csv.js'

describe('parseCsv', () => {
  it('reads OFAC-style rows: quotes, commas inside quotes, CRLF and the trailing 0x1A byte', () => {
    const rows = parseCsv('36,"AERO, S.A.",-0- \r\n173,"say ""hi""",x\r\n\x1a')
    expect(rows.map((row) => row.fields)).toEqual([['36', 'AERO, S.A.', '-0- '], ['173', 'say "hi"', 'x']])
  })

  it('keeps line breaks inside quoted fields and reports the line each row starts on', () => {
    const rows = parseCsv('a;"one\ntwo";b\nc;d;e\n', ';')
    expect(rows).toEqual([{ line: 1, fields: ['a', 'one\ntwo', 'b'] }, { line: 3, fields: ['c', 'd', 'e'] }])
  })

  it('keeps empty fields and skips blank lines', () => {
    expect(parseCsv('a,,\n\n,b\n').map((row) => row.fields)).toEqual([['a', '', ''], ['', 'b']])
  })
})
