import { describe, expect, it } from 'vitest'
import { isRiskError } from '../../../core/errors.js'
import { SqlQuery, formatDateTime, identifier, joinSql, literal, sql } from '../../../sinks/clickhouse/sql.js'
import type { SqlValue } from '../../../sinks/clickhouse/sql.js'
import { useLocalClickHouse } from './local-server.js'

const server = useLocalClickHouse()

function expectQueryError(action: () => unknown, messagePart: string): void {
  try {
    action()
  } catch (error) {
    expect(isRiskError(error, 'RISK_ERR_CLICKHOUSE_QUERY')).toBe(true)
    expect((error as Error).message).toContain(messagePart)
    return
  }
  expect.fail(`expected RISK_ERR_CLICKHOUSE_QUERY containing "${messagePart}"`)
}

async function roundTrip(value: SqlValue): Promise<unknown> {
  const rows = await server.connect().query<{ v: unknown }>(sql`SELECT ${value} AS v`)
  expect(rows).toHaveLength(1)
  return rows[0]?.v
}

// Every BMP character except the surrogate block, then astral ones: one string covers all escapes.
const EVERY_BMP_CHARACTER = Array.from({ length: 0x10000 }, (_, code) => code)
  .filter((code) => code < 0xd800 || code > 0xdfff)
  .map((code) => String.fromCharCode(code))
  .join('')

const HOSTILE_STRINGS = [
  '',
  "'",
  "''",
  '\\',
  "\\'",
  "abc\\",
  "'; DROP TABLE canary; --",
  "' OR '1'='1",
  "\\'; DROP TABLE canary; --",
  "'' ; DROP TABLE canary; SELECT '",
  'a\0b',
  '\0',
  '\x00\x01\x02\x07\x08\x0b\x0c\r\x1b\x1f\x7f',
  'line\nbreak\ttab\rreturn',
  '\\x41 \\0 \\n \\N \\\\',
  '/* comment */ -- comment # comment',
  '{v:String} $1 ? :name',
  '`backquoted` "double"',
  'é 中文 😀 👩‍👩‍👧 \u200f\u2028\u2029\ufeff\ufffd',
  '\u0080\u009f',
  EVERY_BMP_CHARACTER,
  '\u{10000}\u{1F600}\u{10FFFF}',
  'x'.repeat(100_000),
]

describe('literal rendering', () => {
  it('escapes strings with backslashes only', () => {
    expect(literal("it's")).toBe("'it\\'s'")
    expect(literal('a\\b')).toBe("'a\\\\b'")
    expect(literal('a\nb\tc\0d\re\x7f')).toBe("'a\\nb\\tc\\0d\\x0De\\x7F'")
    expect(literal('é😀')).toBe("'é😀'")
  })

  it('renders numbers, bigints, booleans, null, dates and arrays', () => {
    expect(literal(42)).toBe('42')
    expect(literal(-1.5)).toBe('(-1.5)')
    expect(literal(-0)).toBe('(-0.)')
    expect(literal(1e21)).toBe('1e+21')
    expect(literal(-(2n ** 63n))).toBe('(-9223372036854775808)')
    expect(literal(true)).toBe('1')
    expect(literal(false)).toBe('0')
    expect(literal(null)).toBe('NULL')
    expect(literal(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 999)))).toBe("toDateTime('2024-01-02 03:04:05', 'UTC')")
    expect(literal(["a'b", 2, null, [true]])).toBe("['a\\'b', 2, NULL, [1]]")
  })

  it('keeps a negative value from forming a -- comment', () => {
    expect(sql`SELECT 1 -${-1}`.text).toBe('SELECT 1 -(-1)')
  })

  it('refuses values that cannot be bound', () => {
    expectQueryError(() => literal(Number.NaN), 'finite')
    expectQueryError(() => literal(Number.POSITIVE_INFINITY), 'finite')
    expectQueryError(() => literal(Number.MIN_VALUE), 'subnormal')
    expectQueryError(() => literal(undefined), 'undefined')
    expectQueryError(() => literal({ text: '1; DROP TABLE canary' }), 'object')
    expectQueryError(() => literal(() => 1), 'function')
    expectQueryError(() => literal(Symbol('s')), 'symbol')
    expectQueryError(() => literal('\ud800 lone surrogate'), 'surrogate')
    expectQueryError(() => literal(new Date(Number.NaN)), 'invalid Date')
    expectQueryError(() => literal(new Date(-1000)), 'DateTime holds')
    expectQueryError(() => literal(new Date(Date.UTC(2106, 0, 1))), 'DateTime holds')
    expectQueryError(() => literal([1, undefined]), 'undefined')
  })

  it('refuses a plain object posing as a fragment and SqlQuery built by hand', () => {
    const posing = { text: '1; DROP TABLE canary' } as unknown as SqlValue
    expectQueryError(() => sql`SELECT ${posing}`, 'cannot bind an object')
    const Constructor = SqlQuery as unknown as new (token: symbol, text: string) => SqlQuery
    expectQueryError(() => new Constructor(Symbol('trusted sql'), 'DROP TABLE canary'), 'build SqlQuery')
  })

  it('refuses placeholders inside quotes or comments of the template', () => {
    expectQueryError(() => sql`SELECT '${'x'}'`, 'placeholder 1 sits inside a single quoted')
    expectQueryError(() => sql`SELECT * FROM \`${'x'}\``, 'backquoted')
    expectQueryError(() => sql`SELECT 1 -- ${'x'}`, 'line comment')
    expectQueryError(() => sql`SELECT 1 /* ${'x'} */`, 'block comment')
    expectQueryError(() => sql`SELECT 'unterminated`, 'unterminated')
    expectQueryError(() => sql`SELECT 1 /* a /* b */`, 'nested')
    // Quotes and comments closed before the placeholder are fine.
    expect(sql`SELECT 'a''b' /* c */, ${'d'} -- e`.text).toBe("SELECT 'a''b' /* c */, 'd' -- e\n")
  })

  it('validates identifiers', () => {
    expect(identifier('pitboss', 'decisions').text).toBe('`pitboss`.`decisions`')
    for (const bad of ['', '1abc', 'a-b', 'a b', 'a`b', 'a.b', "a'", 'é']) expectQueryError(() => identifier(bad), 'not a valid identifier')
    expectQueryError(() => identifier(), 'at least one')
  })

  it('formats DateTime text in UTC, milliseconds floored', () => {
    expect(formatDateTime(0)).toBe('1970-01-01 00:00:00')
    expect(formatDateTime(Date.UTC(2024, 11, 31, 23, 59, 59, 999))).toBe('2024-12-31 23:59:59')
  })
})

describe('round trips through the real server', () => {
  it('returns every hostile string exactly and leaves the canary table alone', async () => {
    const clickhouse = server.connect()
    await clickhouse.command(sql`CREATE TABLE IF NOT EXISTS canary (x UInt8) ENGINE = Memory`)
    for (const value of HOSTILE_STRINGS) {
      expect(await roundTrip(value)).toBe(value)
    }
    // Also inside arrays and in WHERE clauses, where a broken escape would change the result.
    const shortOnes = HOSTILE_STRINGS.filter((value) => value.length < 1_000)
    expect(await roundTrip(shortOnes)).toEqual(shortOnes)
    const matched = await clickhouse.query<{ n: string }>(sql`SELECT count() AS n FROM system.one WHERE ${"x' OR 1=1 --"} = 'x'`)
    expect(matched).toEqual([{ n: '0' }])
    expect(await clickhouse.query(sql`EXISTS TABLE canary`)).toEqual([{ result: 1 }])
  })

  it('returns numbers exactly (integers beyond UInt32 come back as strings)', async () => {
    for (const value of [0, 1, -1, 0.1, -0.5, 1e21, -1e-7, 2.2250738585072014e-308, Number.MAX_VALUE, 123_456.789]) {
      expect(Number(await roundTrip(value))).toBe(value)
    }
    expect(Object.is(await roundTrip(-0), -0)).toBe(true)
    expect(await roundTrip(Number.MAX_SAFE_INTEGER)).toBe(String(Number.MAX_SAFE_INTEGER))
    for (const value of [2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 0n, -5n]) {
      expect(BigInt(String(await roundTrip(value)))).toBe(value)
    }
    expect(await roundTrip(sql`2 - ${-3}`)).toBe(5)
  })

  it('returns booleans as 1/0, NULL as null, dates in UTC', async () => {
    expect(await roundTrip(true)).toBe(1)
    expect(await roundTrip(false)).toBe(0)
    expect(await roundTrip(null)).toBeNull()
    const instant = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))
    expect(await roundTrip(instant)).toBe('2024-01-02 03:04:05')
    expect(await roundTrip(sql`toUnixTimestamp(${instant})`)).toBe(1_704_164_645)
    const last = new Date(Date.UTC(2105, 11, 31, 23, 59, 59))
    expect(await roundTrip(last)).toBe('2105-12-31 23:59:59')
    expect(await roundTrip(sql`toUnixTimestamp(${last})`)).toBe(last.getTime() / 1000)
    expect(await roundTrip([1, null, 3])).toEqual([1, null, 3])
    expect(await roundTrip([])).toEqual([])
  })

  it('composes fragments, identifiers and joined lists', async () => {
    const clickhouse = server.connect()
    const columns = joinSql([identifier('number'), sql`${'label'} AS ${identifier('tag')}`])
    const source = sql`(SELECT number FROM ${identifier('system', 'numbers')} LIMIT ${10})`
    const rows = await clickhouse.query(sql`SELECT ${columns} FROM ${source} WHERE number IN (${joinSql([sql`${1}`, sql`${2}`])}) ORDER BY number`)
    expect(rows).toEqual([{ number: '1', tag: 'label' }, { number: '2', tag: 'label' }])
    // A fragment ending in a line comment does not swallow what follows it.
    const commented = sql`SELECT 1 -- one`
    expect(await clickhouse.query(sql`${commented} + ${2} AS v`)).toEqual([{ v: 3 }])
  })
})
