/**
 * ClickHouse stopped for 60 s while the sink is under load, then started again on the same
 * ports (issue 6, "How it is checked"): records keep arriving on seven topics during the outage
 * (casino inputs, decisions, alerts, payout and ledger commands), the sink retries and pauses,
 * Kafka holds the records meanwhile, and afterwards every row of every table is present exactly
 * once (count with FINAL equals the expected count and the count of distinct keys).
 */
import fs from 'node:fs'
import { describe, expect, inject, it } from 'vitest'
import { sleep } from '../../core/clock.js'
import { clickHouseStatus, startClickHouse, stopClickHouse } from '../../infra/clickhouse/launcher.js'
import type { SchemaTopicKey } from '../../schemas/catalog.js'
import { createClickHouse, type ClickHouse } from '../../sinks/clickhouse/client.js'
import { migrate } from '../../sinks/clickhouse/migrate.js'
import { identifier, sql, unsafeRawSql } from '../../sinks/clickhouse/sql.js'
import { keyOf, rowsPerRecord, variedRecord } from '../sinks/varied-records.js'
import { EngineProcess, isolated, produce, type Isolated, type Message } from './support.js'

const OUTAGE_MS = 60_000
const WAVE_EVERY_MS = 5_000
const TOPICS: readonly SchemaTopicKey[] = ['players', 'deposits', 'bets', 'decisions', 'alerts', 'payoutCommands', 'ledgerCommands']
const PER_TOPIC_PER_WAVE = 60

/** Each table's identity (its ORDER BY, docs/clickhouse.md), for counting distinct keys. */
const TABLE_KEYS: Readonly<Record<string, string>> = {
  events: 'topic, partition, offset',
  decisions: 'withdrawal_id, revision',
  decision_verdicts: 'withdrawal_id, revision',
  rule_executions: 'withdrawal_id, revision, execution_index',
  model_scores: 'withdrawal_id, revision, role, model_id, model_version',
  alerts: 'alert_id',
  payout_commands: 'idempotency_key',
  ledger_commands: 'idempotency_key',
}

/** Produces `count` new records per topic and adds the rows they must give to `expected`. */
class Load {
  readonly expected = new Map<string, number>()
  private next = 0

  constructor(private readonly test: Isolated) {}

  async wave(count: number): Promise<number> {
    const messages: Message[] = []
    for (const topic of TOPICS) {
      for (let index = this.next; index < this.next + count; index += 1) {
        const value = variedRecord(topic, index)
        messages.push({ topic, key: keyOf(topic, value), value: this.test.codec.encode(topic, value) })
      }
      for (const [table, rows] of Object.entries(rowsPerRecord(topic))) this.expected.set(table, (this.expected.get(table) ?? 0) + rows * count)
    }
    this.next += count
    await produce(this.test, messages)
    return messages.length
  }
}

async function finalCounts(clickhouse: ClickHouse, tables: Iterable<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (const table of tables) counts.set(table, Number((await clickhouse.query<{ n: string }>(sql`SELECT count() AS n FROM ${identifier(table)} FINAL`))[0]?.n))
  return counts
}

describe('ClickHouse outage', () => {
  it('loses nothing and doubles nothing in any table while ClickHouse is down for 60 s under load', async () => {
    const substrate = inject('substrate')
    const test = await isolated('ch-outage')
    const clickhouse = createClickHouse(test.config.clickhouse)
    await migrate(clickhouse, test.config.clickhouse.database)
    const load = new Load(test)
    const sink = new EngineProcess(test, 'sink', 'sinks/main.ts').start()
    const waitForAll = async (timeoutMs: number): Promise<void> => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const counts = await finalCounts(clickhouse, load.expected.keys()).catch(() => new Map<string, number>())
        if ([...load.expected].every(([table, rows]) => (counts.get(table) ?? -1) >= rows)) return
        if (Date.now() > deadline) throw new Error(`expected ${JSON.stringify([...load.expected])}, have ${JSON.stringify([...counts])}; see ${sink.logFile}`)
        await sleep(250)
      }
    }
    try {
      await load.wave(50)
      await waitForAll(60_000)

      const before = await clickHouseStatus(substrate.homeDir)
      if (!before.running) throw new Error('ClickHouse is not running')
      await stopClickHouse(substrate.homeDir)
      const downAtMs = Date.now()
      let producedDuringOutage = 0
      while (Date.now() - downAtMs < OUTAGE_MS) {
        const waveAtMs = Date.now()
        producedDuringOutage += await load.wave(PER_TOPIC_PER_WAVE)
        await sleep(Math.max(0, Math.min(WAVE_EVERY_MS - (Date.now() - waveAtMs), OUTAGE_MS - (Date.now() - downAtMs))))
      }
      expect(producedDuringOutage).toBeGreaterThanOrEqual(5_000)
      expect(sink.log()).toMatch(/ClickHouse insert failed; retrying/)
      await startClickHouse({ homeDir: substrate.homeDir, httpPort: before.info.httpPort, tcpPort: before.info.tcpPort })
      expect(Date.now() - downAtMs).toBeGreaterThanOrEqual(OUTAGE_MS)

      await waitForAll(90_000)
      await sleep(1_500) // a flush in flight would show up as an extra row
      const counts = await finalCounts(clickhouse, load.expected.keys())
      for (const [table, rows] of load.expected) {
        expect(counts.get(table), table).toBe(rows)
        const distinct = await clickhouse.query<{ keys: string }>(unsafeRawSql(`SELECT uniqExact(${TABLE_KEYS[table]}) AS keys FROM ${table}`))
        expect(Number(distinct[0]?.keys), table).toBe(rows)
      }
      // The sink kept its group membership through the outage rather than dying or being fenced.
      expect(sink.log()).not.toMatch(/sink failed|did not stop cleanly/)
    } finally {
      expect(await sink.stop()).toBe(0)
      await clickhouse.close()
      fs.rmSync(test.workDir, { recursive: true, force: true })
    }
  }, 240_000)
})
