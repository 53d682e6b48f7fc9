/**
 * ClickHouse stopped while decisions keep coming, then started again on the same ports: the
 * sink retries, Kafka holds the rows meanwhile, and every decision ends up in ClickHouse
 * exactly once. (A 10 s outage here; the 60 s one belongs to the long fault script.)
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { sleep } from '../../core/clock.js'
import { clickHouseStatus, startClickHouse, stopClickHouse } from '../../infra/clickhouse/launcher.js'
import { createClickHouse } from '../../sinks/clickhouse/client.js'
import { migrate } from '../../sinks/clickhouse/migrate.js'
import { sql } from '../../sinks/clickhouse/sql.js'
import type { Decision } from '../../schemas/generated/types.js'
import { EngineProcess, isolated, produce, type Message } from './support.js'

const golden = JSON.parse(fs.readFileSync(new URL('../../schemas/fixtures/risk.decisions.v1/v1.json', import.meta.url), 'utf8')) as Decision

describe('ClickHouse outage', () => {
  it('loses nothing and doubles nothing while ClickHouse is down', async () => {
    const substrate = inject('substrate')
    const test = await isolated('ch-outage')
    const clickhouse = createClickHouse(test.config.clickhouse)
    await migrate(clickhouse, test.config.clickhouse.database)
    const decision = (index: number): Message => {
      const withdrawalId = `wd-outage-${index}`
      return { topic: 'decisions', key: withdrawalId, value: test.codec.encode('decisions', { ...golden, withdrawalId, decisionId: `${withdrawalId}:1`, eventTimeMs: golden.eventTimeMs + index }) }
    }
    const sink = new EngineProcess(test, 'sink', 'sinks/main.ts').start()
    const count = async (final: boolean): Promise<number> =>
      Number((await clickhouse.query<{ rows: string }>(final ? sql`SELECT count() AS rows FROM decisions FINAL` : sql`SELECT count() AS rows FROM decisions`))[0]?.rows ?? 0)
    const waitForRows = async (rows: number, timeoutMs: number): Promise<void> => {
      const deadline = Date.now() + timeoutMs
      while ((await count(true).catch(() => -1)) < rows) {
        if (Date.now() > deadline) throw new Error(`expected ${rows} rows; see ${sink.logFile}`)
        await sleep(200)
      }
    }
    try {
      await produce(test, Array.from({ length: 500 }, (_, index) => decision(index)))
      await waitForRows(500, 60_000)

      const before = await clickHouseStatus(substrate.homeDir)
      if (!before.running) throw new Error('ClickHouse is not running')
      await stopClickHouse(substrate.homeDir)
      await produce(test, Array.from({ length: 1500 }, (_, index) => decision(500 + index)))
      await sleep(10_000)
      expect(sink.log()).toMatch(/ClickHouse insert failed; retrying/)
      await startClickHouse({ homeDir: substrate.homeDir, httpPort: before.info.httpPort, tcpPort: before.info.tcpPort })

      await waitForRows(2000, 60_000)
      await sleep(1_500) // a flush in flight would show up as an extra row
      expect(await count(true)).toBe(2000)
      const distinct = await clickhouse.query<{ ids: string }>(sql`SELECT uniqExact(decision_id) AS ids FROM decisions`)
      expect(Number(distinct[0]?.ids)).toBe(2000)
    } finally {
      await sink.stop()
      await clickhouse.close()
      fs.rmSync(path.join(test.workDir), { recursive: true, force: true })
    }
  })
})
