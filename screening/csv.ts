/**
 * A small RFC 4180 CSV reader: quoted fields, doubled quotes inside quotes, CR, LF or CRLF line
 * ends, line breaks inside quoted fields, and a trailing DOS end-of-file byte (0x1A, which OFAC's
 * legacy files end with). Fields are returned exactly as written (no trimming); callers decide.
 *
 * Example:
 *   parseCsv('36,"AEROCARIBBEAN, S.A.",-0- \r\n') // → [{ line: 1, fields: ['36', 'AEROCARIBBEAN, S.A.', '-0- '] }]
 */
export interface CsvRow {
  /** 1-based line number where the row starts, for error messages. */
  readonly line: number
  readonly fields: readonly string[]
}

const QUOTE = 34 // "
const CARRIAGE_RETURN = 13
const LINE_FEED = 10
const DOS_END_OF_FILE = 26

export function parseCsv(text: string, delimiter = ','): CsvRow[] {
  const delimiterCode = delimiter.charCodeAt(0)
  const rows: CsvRow[] = []
  let fields: string[] = []
  let line = 1
  let index = 0
  const length = text.charCodeAt(text.length - 1) === DOS_END_OF_FILE ? text.length - 1 : text.length
  while (index < length) {
    const rowLine = line
    // One row: fields separated by the delimiter, up to a line break or the end.
    for (;;) {
      let field = ''
      if (text.charCodeAt(index) === QUOTE) {
        // Quoted field: read to the closing quote; "" is a literal quote; line breaks are data.
        index += 1
        for (;;) {
          const close = text.indexOf('"', index)
          const end = close < 0 || close >= length ? length : close
          for (let position = index; position < end; position += 1) if (text.charCodeAt(position) === LINE_FEED) line += 1
          field += text.slice(index, end)
          if (end === length) {
            index = length
            break
          }
          if (text.charCodeAt(close + 1) === QUOTE) {
            field += '"'
            index = close + 2
            continue
          }
          index = close + 1
          break
        }
      }
      // Unquoted text (or what follows a closing quote) up to the delimiter or a line break.
      const start = index
      while (index < length) {
        const code = text.charCodeAt(index)
        if (code === delimiterCode || code === CARRIAGE_RETURN || code === LINE_FEED) break
        index += 1
      }
      field += text.slice(start, index)
      fields.push(field)
      if (index < length && text.charCodeAt(index) === delimiterCode) {
        index += 1
        continue
      }
      break
    }
    if (index < length) {
      index += text.charCodeAt(index) === CARRIAGE_RETURN && text.charCodeAt(index + 1) === LINE_FEED ? 2 : 1
      line += 1
    }
    // A line that is only a line break is not a record.
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields })
    fields = []
  }
  return rows
}
