/**
 * Client-side value binding for ClickHouse SQL.
 *
 * The development server (Debian's ClickHouse 18.16) has no server-side query parameters, so
 * values are rendered into the SQL text here, as literals that both 18.16 and current
 * ClickHouse read back as exactly the value given. Only text written in the template itself
 * (or produced by `identifier`, `joinSql`, `unsafeRawSql`) is trusted as SQL; every `${value}`
 * becomes a literal.
 *
 * Example:
 *   const query = sql`SELECT * FROM ${identifier('decisions')}
 *     WHERE player_id = ${playerId} AND event_time >= ${from} AND outcome IN ${['DECLINE', 'REVIEW']}`
 *   // playerId = "p'1", from = new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) renders
 *   // SELECT * FROM `decisions` WHERE player_id = 'p\'1'
 *   //   AND event_time >= toDateTime('2024-01-02 03:04:05', 'UTC') AND outcome IN ['DECLINE', 'REVIEW']
 *
 * Renderings:
 *   string   'text' with \\ \' \n \t \0 escaped and other control bytes as \xHH (lone UTF-16
 *            surrogates are refused: they have no UTF-8 form and would come back changed)
 *   number   finite numbers as-is, negatives in parentheses so `a -${-1}` never becomes the
 *            comment `a --1`; NaN, ±Infinity and subnormals (which 18.16 reads as 0) are refused
 *   bigint   as-is (negatives in parentheses), for Int64/UInt64 beyond 2^53
 *   boolean  1 / 0 (18.16 has no Bool type)
 *   null     NULL
 *   Date     toDateTime('YYYY-MM-DD hh:mm:ss', 'UTC'): whole seconds (milliseconds are dropped,
 *            i.e. floored), 1970-01-01 to 2105-12-31 (DateTime's range on 18.16); the explicit 'UTC'
 *            keeps the meaning independent of the server's time zone
 *   array    [a, b, ...] of the above, nested allowed
 *   SqlQuery inserted as SQL (composition of trusted fragments)
 * Anything else (undefined, plain objects, functions, symbols) is refused with
 * RISK_ERR_CLICKHOUSE_QUERY: binding it could only be a bug.
 *
 * Bound values are part of the query text, which the server caps at `max_query_size`
 * (256 KiB by default): bulk data goes through `ClickHouse.insert`, not literals.
 */
import { RiskError } from '../../core/errors.js'

// Only holders of this module-private token can mark text as trusted SQL.
const TRUSTED: unique symbol = Symbol('trusted sql')

/** A piece of SQL text that is safe to send: built only by `sql`, `identifier`, `joinSql` or `unsafeRawSql`. */
export class SqlQuery {
  readonly text: string
  // The token keeps a plain `{ text }` object (e.g. parsed from input) from ever passing as SQL.
  constructor(token: typeof TRUSTED, text: string) {
    if (token !== TRUSTED) throw new RiskError('RISK_ERR_CLICKHOUSE_QUERY', 'build SqlQuery values with sql`...`, identifier() or joinSql()')
    this.text = text
    Object.freeze(this)
  }

  toString(): string {
    return this.text
  }
}

function trusted(text: string): SqlQuery {
  return new SqlQuery(TRUSTED, text)
}

export type SqlValue = string | number | bigint | boolean | null | Date | SqlQuery | readonly SqlValue[]

const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/

// DateTime is a UInt32 of seconds, but 18.16's date tables end with 2105: beyond, values wrap.
const MAX_DATE_TIME_SECONDS = 4_291_747_199 // 2105-12-31 23:59:59 UTC

function refuse(message: string): never {
  throw new RiskError('RISK_ERR_CLICKHOUSE_QUERY', message)
}

/** Lexical context of a position in SQL text, enough to know whether a placeholder there is code. */
export type SqlLexState = 'code' | 'single-quoted' | 'double-quoted' | 'backquoted' | 'line-comment' | 'block-comment'

const QUOTE_STATES = { "'": 'single-quoted', '"': 'double-quoted', '`': 'backquoted' } as const

/**
 * Walks SQL text as ClickHouse's lexer does for strings, quoted identifiers and comments, calling
 * `onCode` for every character that is code (outside quotes and comments), and returns the state
 * at the end. Quotes escape with a backslash or by doubling; `--` and `#` start line comments
 * (`#` only in current ClickHouse, so it is treated as one to be safe); block comments do not nest
 * in 18.16 but do in current ClickHouse, so `/*` inside a block comment is refused as ambiguous.
 *
 * Example: `scanSql("SELECT 'a;b'; -- x")` returns 'line-comment'.
 */
export function scanSql(text: string, start: SqlLexState = 'code', onCode?: (index: number, character: string) => void): SqlLexState {
  let state: SqlLexState = start
  for (let index = 0; index < text.length; index++) {
    const character = text.charAt(index)
    const next = text.charAt(index + 1)
    switch (state) {
      case 'code':
        if (character === "'" || character === '"' || character === '`') state = QUOTE_STATES[character]
        else if ((character === '-' && next === '-') || character === '#') state = 'line-comment'
        else if (character === '/' && next === '*') {
          state = 'block-comment'
          index++
        } else onCode?.(index, character)
        break
      case 'single-quoted':
      case 'double-quoted':
      case 'backquoted': {
        const quote = state === 'single-quoted' ? "'" : state === 'double-quoted' ? '"' : '`'
        if (character === '\\') index++
        else if (character === quote) {
          if (next === quote) index++
          else state = 'code'
        }
        break
      }
      case 'line-comment':
        if (character === '\n' || character === '\r') state = 'code'
        break
      case 'block-comment':
        if (character === '*' && next === '/') {
          state = 'code'
          index++
        } else if (character === '/' && next === '*') {
          refuse('nested /* block comments */ are read differently by ClickHouse 18.16 and current versions; remove the inner /*')
        }
        break
    }
  }
  return state
}

function hexByte(code: number): string {
  return '\\x' + code.toString(16).toUpperCase().padStart(2, '0')
}

function renderString(value: string): string {
  if (/\p{Surrogate}/u.test(value)) refuse('a string value holds a lone UTF-16 surrogate, which has no UTF-8 form; repair the text before binding it')
  let out = "'"
  for (const character of value) {
    const code = character.codePointAt(0) ?? 0
    if (character === '\\') out += '\\\\'
    else if (character === "'") out += "\\'"
    else if (character === '\n') out += '\\n'
    else if (character === '\t') out += '\\t'
    else if (code === 0) out += '\\0'
    else if (code < 0x20 || code === 0x7f) out += hexByte(code)
    else out += character
  }
  return out + "'"
}

function renderNumber(value: number): string {
  if (!Number.isFinite(value)) refuse(`cannot bind ${value}: ClickHouse literals must be finite numbers`)
  if (value !== 0 && Math.abs(value) < 2.2250738585072014e-308) refuse(`cannot bind the subnormal number ${value}: ClickHouse 18.16 reads it as 0`)
  if (Object.is(value, -0)) return '(-0.)'
  const text = String(value)
  return value < 0 ? `(${text})` : text
}

/** Formats an instant as ClickHouse DateTime text in UTC, `YYYY-MM-DD hh:mm:ss` (milliseconds floored). For JSONEachRow rows and literals. */
export function formatDateTime(instant: Date | number): string {
  const epochMs = typeof instant === 'number' ? instant : instant.getTime()
  if (!Number.isFinite(epochMs)) refuse('cannot bind an invalid Date')
  const epochSeconds = Math.floor(epochMs / 1000)
  if (epochSeconds < 0 || epochSeconds > MAX_DATE_TIME_SECONDS) {
    refuse(`cannot bind ${new Date(epochMs).toISOString()}: ClickHouse DateTime holds 1970-01-01 to 2105-12-31 UTC`)
  }
  // toISOString is always UTC: "2024-01-02T03:04:05.678Z" -> "2024-01-02 03:04:05"
  return new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ')
}

/**
 * Renders one value as a ClickHouse literal (see the module comment for the rules).
 * Example: `literal(["a'b", 2, null])` -> `['a\'b', 2, NULL]`.
 */
export function literal(value: unknown): string {
  if (value === null) return 'NULL'
  if (value instanceof SqlQuery) return value.text
  switch (typeof value) {
    case 'string':
      return renderString(value)
    case 'number':
      return renderNumber(value)
    case 'bigint':
      return value < 0n ? `(${value})` : String(value)
    case 'boolean':
      return value ? '1' : '0'
    default:
      break
  }
  if (value instanceof Date) return `toDateTime('${formatDateTime(value)}', 'UTC')`
  if (Array.isArray(value)) return '[' + value.map((item: unknown) => literal(item)).join(', ') + ']'
  const kind = value === undefined ? 'undefined' : typeof value === 'object' ? `an object (${Object.prototype.toString.call(value)})` : `a ${typeof value}`
  return refuse(`cannot bind ${kind} as a ClickHouse value; pass a string, number, bigint, boolean, null, Date, array or sql fragment`)
}

/**
 * Tagged template that builds a SqlQuery, binding every `${value}` as a literal.
 * A placeholder inside a quoted string, quoted identifier or comment of the template is refused,
 * e.g. sql`WHERE id = '${id}'` (write sql`WHERE id = ${id}`).
 *
 * Example: sql`SELECT count() FROM decisions FINAL WHERE player_id = ${playerId}`
 */
export function sql(strings: TemplateStringsArray, ...values: readonly SqlValue[]): SqlQuery {
  let text = ''
  for (let index = 0; index < strings.length; index++) {
    const chunk = strings[index] ?? ''
    const state = scanSql(chunk)
    text += chunk
    if (index < values.length) {
      if (state !== 'code') refuse(`placeholder ${index + 1} sits inside a ${state.replace('-', ' ')} of the SQL template; put \${value} where a value goes, without quotes`)
      text += literal(values[index])
    } else if (state === 'line-comment') {
      // End the comment so that SQL composed after this fragment is not swallowed by it.
      text += '\n'
    } else if (state !== 'code') {
      refuse(`the SQL template ends inside an unterminated ${state.replace('-', ' ')}`)
    }
  }
  return trusted(text)
}

/**
 * A table, column or database name, checked against `^[A-Za-z_][A-Za-z0-9_]*$` and back-quoted.
 * Several parts make a qualified name.
 *
 * Example: identifier('pitboss', 'decisions') -> `pitboss`.`decisions`
 */
export function identifier(...parts: readonly string[]): SqlQuery {
  if (parts.length === 0) refuse('identifier() needs at least one name')
  for (const part of parts) {
    if (typeof part !== 'string' || !IDENTIFIER_PATTERN.test(part)) {
      refuse(`'${String(part)}' is not a valid identifier: use letters, digits and '_' and do not start with a digit`)
    }
  }
  return trusted(parts.map((part) => '`' + part + '`').join('.'))
}

/** True when `name` is a plain identifier usable without quoting rules beyond back-quotes. */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER_PATTERN.test(name)
}

/**
 * Joins fragments with a separator (default `, `).
 * Example: joinSql([identifier('a'), identifier('b')]) -> `a`, `b`
 */
export function joinSql(fragments: readonly SqlQuery[], separator: SqlQuery = trusted(', ')): SqlQuery {
  for (const fragment of fragments) {
    if (!(fragment instanceof SqlQuery)) refuse('joinSql() takes sql fragments only; bind values with sql`${value}`')
  }
  return trusted(fragments.map((fragment) => fragment.text).join(separator.text))
}

/**
 * Trusts `text` as SQL as it stands. Only for SQL the project ships (migration files); never for
 * anything that came from input.
 */
export function unsafeRawSql(text: string): SqlQuery {
  return trusted(text)
}
