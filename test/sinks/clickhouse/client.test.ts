import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { isRiskError } from '../../../core/errors.js'
import type { RiskError } from '../../../core/errors.js'
import { createClickHouse } from '../../../sinks/clickhouse/client.js'
import { formatDateTime, identifier, sql } from '../../../sinks/clickhouse/sql.js'
import { useLocalClickHouse } from './local-server.js'

const server = useLocalClickHouse()

async function caught(action: Promise<unknown>): Promise<RiskError> {
  try {
    await action
  } catch (error) {
    if (isRiskError(error)) return error
    throw error
  }
  return expect.fail('expected a RiskError')
}

/** A port nothing listens on: bind port 0, read it, release it. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const listener = createServer().listen(0, '127.0.0.1', () => {
      const address = listener.address()
      listener.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 1))
    })
  })
}

describe('createClickHouse', () => {
  it('creates, inserts and queries; 64-bit integers come back as strings', async () => {
    await server.connect().command(sql`CREATE DATABASE IF NOT EXISTS client_test`)
    const clickhouse = server.connect('client_test')
    await clickhouse.command(sql`CREATE TABLE IF NOT EXISTS offsets (topic String, offset Int64, seen DateTime('UTC'), tags Array(String)) ENGINE = MergeTree ORDER BY topic`)
    await clickhouse.insert('offsets', [
      { topic: 'casino.deposits.v1', offset: '9223372036854775807', seen: formatDateTime(Date.UTC(2024, 0, 2, 3, 4, 5)), tags: ["a'b"] },
      { topic: 'casino.bets.v1', offset: 7, seen: 1_704_164_645, tags: [] },
    ])
    await clickhouse.insert('client_test.offsets', [])
    const rows = await clickhouse.query<{ topic: string; offset: string; seen: string; tags: string[] }>(
      sql`SELECT topic, offset, seen, tags FROM ${identifier('offsets')} ORDER BY topic`,
    )
    expect(rows).toEqual([
      { topic: 'casino.bets.v1', offset: '7', seen: '2024-01-02 03:04:05', tags: [] },
      { topic: 'casino.deposits.v1', offset: '9223372036854775807', seen: '2024-01-02 03:04:05', tags: ["a'b"] },
    ])
    expect(await clickhouse.ping()).toBe(true)
    const badRow = await caught(clickhouse.insert('offsets', [{ topic: 'x', unknown_column: 1 }]))
    expect(badRow.code).toBe('RISK_ERR_CLICKHOUSE_QUERY')
    expect(badRow.message).toContain('unknown_column')
  })

  it('reports a rejected query as RISK_ERR_CLICKHOUSE_QUERY with the server message', async () => {
    const clickhouse = server.connect()
    const syntax = await caught(clickhouse.query(sql`SELEC 1`))
    expect(syntax.code).toBe('RISK_ERR_CLICKHOUSE_QUERY')
    expect(syntax.retriable).toBe(false)
    expect(syntax.message).toMatch(/ClickHouse error 62: Syntax error/)
    expect(syntax.message).not.toContain('\n')
    const missing = await caught(clickhouse.query(sql`SELECT * FROM no_such_table`))
    expect(missing.message).toMatch(/ClickHouse error 60: .*no_such_table/)
    expect(missing.context.serverCode).toBe(60)
  })

  it('refuses table names that are not identifiers before sending anything', async () => {
    const clickhouse = server.connect()
    for (const table of ['offsets; DROP TABLE x', 'a.b.c', '', '`x`']) {
      expect((await caught(clickhouse.insert(table, [{ a: 1 }]))).code).toBe('RISK_ERR_CLICKHOUSE_QUERY')
    }
  })

  it('reports an unreachable server as retriable RISK_ERR_CLICKHOUSE_UNAVAILABLE', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`
    const clickhouse = createClickHouse({ url, database: 'default', username: 'default', password: '', requestTimeoutMs: 2_000 })
    try {
      const error = await caught(clickhouse.query(sql`SELECT 1`))
      expect(error.code).toBe('RISK_ERR_CLICKHOUSE_UNAVAILABLE')
      expect(error.retriable).toBe(true)
      expect(error.message).toContain(url)
      expect((await caught(clickhouse.command(sql`SELECT 1`))).code).toBe('RISK_ERR_CLICKHOUSE_UNAVAILABLE')
      expect((await caught(clickhouse.insert('t', [{ a: 1 }]))).code).toBe('RISK_ERR_CLICKHOUSE_UNAVAILABLE')
      expect(await clickhouse.ping()).toBe(false)
    } finally {
      await clickhouse.close()
    }
  })

  it('refuses a database name that is not an identifier', () => {
    expect(() => createClickHouse({ url: server.info().url, database: 'x; DROP', username: 'default', password: '' })).toThrow(/RISK_ERR_CONFIG_INVALID/)
  })
})
