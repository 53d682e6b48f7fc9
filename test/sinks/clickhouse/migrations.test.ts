/**
 * The shipped migrations applied to a real ClickHouse (Debian's 18.16 here): every table the
 * sink's routes write exists as a ReplacingMergeTree, takes its adapter's rows from the golden
 * fixtures as they are, reads them back, and keeps one row per key when a replay inserts them
 * again.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { ClickHouse } from '../../../sinks/clickhouse/client.js'
import { migrate } from '../../../sinks/clickhouse/migrate.js'
import { formatDateTime, sql, unsafeRawSql } from '../../../sinks/clickhouse/sql.js'
import { SINK_ROUTES, routedTables } from '../../../sinks/routes.js'
import type { Row, RowMeta } from '../../../sinks/rows.js'
import { loadFixture } from '../../schemas/fixtures.js'
import { useLocalClickHouse } from './local-server.js'

const server = useLocalClickHouse()
const DATABASE = 'migrations_all'
let clickhouse: ClickHouse

beforeAll(async () => {
  clickhouse = server.connect(DATABASE)
  await migrate(clickhouse, DATABASE)
})

/** Each route's rows for its topic's golden fixture, by table. */
function fixtureRows(insertedAtMs: number): Map<string, Row[]> {
  const byTable = new Map<string, Row[]>()
  for (const entry of SINK_ROUTES) {
    const meta: RowMeta = { latencyMs: 2.5, insertedAtMs, source: { topic: `t.${entry.topic}`, partition: 1, offset: '42', timestampMs: 1_715_691_000_750 } }
    const value = loadFixture(entry.topic).value
    for (const [table, toRows] of Object.entries(entry.tables)) byTable.set(table, [...(byTable.get(table) ?? []), ...toRows(value as never, meta)])
  }
  return byTable
}

const countOf = async (query: string): Promise<number> => Number((await clickhouse.query<{ n: string }>(unsafeRawSql(query)))[0]?.n)

describe('migrations', () => {
  it('create every routed table as a ReplacingMergeTree', async () => {
    const tables = await clickhouse.query<{ name: string; engine: string }>(sql`SELECT name, engine FROM system.tables WHERE database = ${DATABASE} ORDER BY name`)
    const engines = new Map(tables.map((table) => [table.name, table.engine]))
    expect(routedTables()).toEqual(['alerts', 'audit_log', 'case_events', 'dead_letters', 'decision_verdicts', 'decisions', 'events', 'labels', 'ledger_commands', 'model_scores', 'payout_commands', 'player_clusters', 'rule_executions', 'str_reports', 'withdrawal_events'])
    for (const table of routedTables()) expect(engines.get(table), table).toBe('ReplacingMergeTree')
  })

  it('take each adapter\'s rows, read them back, and keep one row per key after a replay', async () => {
    const first = fixtureRows(Date.UTC(2024, 4, 14, 12, 0, 0))
    const replay = fixtureRows(Date.UTC(2024, 4, 14, 13, 0, 0))
    // Separate inserts make separate parts, as a replay after a crash would.
    for (const [table, rows] of first) await clickhouse.insert(table, rows)
    for (const [table, rows] of replay) await clickhouse.insert(table, rows)
    for (const [table, rows] of first) {
      expect(rows.length, table).toBeGreaterThan(0)
      expect(await countOf(`SELECT count() AS n FROM ${table}`), table).toBe(rows.length * 2)
      expect(await countOf(`SELECT count() AS n FROM ${table} FINAL`), table).toBe(rows.length)
    }
    // The replayed copy wins (the latest inserted_at).
    expect(await clickhouse.query(sql`SELECT DISTINCT inserted_at FROM model_scores FINAL`)).toEqual([{ inserted_at: formatDateTime(Date.UTC(2024, 4, 14, 13, 0, 0)) }])
  })

  it('store values as the adapters give them: nullable scalars, arrays, 64-bit integers, JSON payloads', async () => {
    const executions = await clickhouse.query(sql`SELECT execution_index, detector_id, status, value, threshold, detail FROM rule_executions FINAL ORDER BY execution_index`)
    expect(executions).toEqual([
      { execution_index: 0, detector_id: 'deposit_withdraw_no_play', status: 'hit', value: 0.4, threshold: 1, detail: 'wagered 20000 of 49500 deposited' },
      { execution_index: 1, detector_id: 'withdrawal_velocity', status: 'no_hit', value: 1, threshold: 3, detail: null },
      { execution_index: 2, detector_id: 'shared_instrument', status: 'error', value: null, threshold: null, detail: 'cluster table not ready' },
    ])
    const champion = await clickhouse.query(sql`SELECT model_id, score, contributions_feature, contributions_value FROM model_scores FINAL WHERE role = ${'champion'}`)
    expect(champion).toEqual([{ model_id: 'withdrawal-risk-gbt', score: 0.8125, contributions_feature: ['wager_to_deposit_ratio_24h', 'vpn_logins_7d', 'account_age_days'], contributions_value: [0.3125, 0.125, -0.0625] }])
    const alert = await clickhouse.query(sql`SELECT window_start_ms, window_end_ms, evidence_event_ids FROM alerts FINAL`)
    expect(alert).toEqual([{ window_start_ms: '1715604201250', window_end_ms: '1715690601251', evidence_event_ids: ['evt-dp-20240513-009114', 'evt-dp-20240514-000341', 'evt-dp-20240514-004470', 'evt-dp-20240514-010022'] }])
    const events = await clickhouse.query<{ topic: string; offset: string; type: string; amount_minor: string; payload: string }>(
      sql`SELECT topic, offset, type, amount_minor, payload FROM events FINAL ORDER BY topic`,
    )
    expect(events.map((event) => [event.topic, event.offset, event.type, event.amount_minor])).toEqual([
      ['t.bets', '42', 'SETTLED', '20000'],
      ['t.deposits', '42', 'COMPLETED', '49500'],
      ['t.devices', '42', 'LOGIN', '0'],
      ['t.players', '42', 'KYC_CHANGED', '0'],
      ['t.transfers', '42', 'CHIP_TRANSFER', '15000'],
      ['t.withdrawals', '42', 'REQUESTED', '85000'],
    ])
    expect(JSON.parse(events[1]!.payload)).toEqual(loadFixture('deposits').value)
    expect(await clickhouse.query(sql`SELECT idempotency_key, emitted_at FROM payout_commands FINAL`)).toEqual([{ idempotency_key: 'wd:wd-881:PAY:1', emitted_at: '2024-05-14 12:50:00' }])
  })

  it('keep two copies of one operator event read at two offsets (events are keyed by Kafka position)', async () => {
    const [players] = SINK_ROUTES.filter((entry) => entry.topic === 'players')
    const value = loadFixture('players').value
    const at = (offset: string): readonly Row[] => players!.tables.events!(value as never, { latencyMs: 0, insertedAtMs: 0, source: { topic: 'retried.players', partition: 0, offset, timestampMs: 0 } })
    await clickhouse.insert('events', [...at('7'), ...at('8')])
    await clickhouse.insert('events', at('8'))
    expect(await clickhouse.query(sql`SELECT count() AS n, uniqExact(event_id) AS ids FROM events FINAL WHERE topic = ${'retried.players'}`)).toEqual([{ n: '2', ids: '1' }])
  })
})
