import { appendFile, cp, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../core/clock.js'
import { isRiskError } from '../../../core/errors.js'
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, migrate, splitStatements } from '../../../sinks/clickhouse/migrate.js'
import { formatDateTime, sql } from '../../../sinks/clickhouse/sql.js'
import { useLocalClickHouse } from './local-server.js'

const server = useLocalClickHouse()
let scratchDir = ''
/** The shipped migrations' names, in order (001_decisions, 002_events_and_outputs, ...). */
let shipped: string[] = []

beforeAll(async () => {
  scratchDir = await mkdtemp(path.join(os.tmpdir(), 'pitboss-migrations-'))
  shipped = (await loadMigrations()).map((migration) => migration.name)
})
afterAll(async () => {
  if (scratchDir !== '') await rm(scratchDir, { recursive: true, force: true })
})

/** A private copy of the shipped migrations that a test may edit. */
async function copyOfMigrations(name: string): Promise<string> {
  const folder = path.join(scratchDir, name)
  await cp(DEFAULT_MIGRATIONS_DIR, folder, { recursive: true })
  return folder
}

async function expectMigrationError(action: Promise<unknown>, messagePart: string): Promise<void> {
  try {
    await action
  } catch (error) {
    expect(isRiskError(error, 'RISK_ERR_MIGRATION')).toBe(true)
    expect((error as Error).message).toContain(messagePart)
    return
  }
  expect.fail(`expected RISK_ERR_MIGRATION containing "${messagePart}"`)
}

function decisionRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    decision_id: 'wd-1:0',
    withdrawal_id: 'wd-1',
    revision: 0,
    player_id: 'player-7',
    outcome: 'REVIEW',
    player_reason_code: 'PENDING_REVIEW',
    reasons: ['deposit_structuring@1'],
    actions: ['hold'],
    amount_minor: '150000',
    currency: 'EUR',
    jurisdiction: 'MT',
    tier: 'standard',
    event_time: formatDateTime(1_704_164_645_678),
    event_time_ms: 1_704_164_645_678,
    rule_set_version: '2024-01-01.1',
    executions_detector: ['deposit_structuring@1', 'rapid_withdrawal@2'],
    executions_status: ['hit', 'no_hit'],
    executions_value: [3, 0.5],
    executions_threshold: [3, 0.8],
    model_id: 'gbm',
    model_version: '7',
    score: 0.42,
    cluster_id: 'cluster-3',
    source_topic: 'casino.withdrawals.v1',
    source_partition: 3,
    source_offset: '1042',
    latency_ms: 1.25,
    inserted_at: formatDateTime(1_704_164_646_000),
    ...overrides,
  }
}

describe('splitStatements', () => {
  it('splits on ; at line ends only, outside strings and comments', () => {
    const script = [
      '-- header comment;',
      "CREATE TABLE a (x String DEFAULT ';') ENGINE = Log;",
      "SELECT 'text;', 1; SELECT 2; -- trailing comment",
      '/* block;',
      'comment; */ SELECT `odd;name`;',
      '-- only a comment;',
      'SELECT 3',
    ].join('\n')
    expect(splitStatements(script)).toEqual([
      "-- header comment;\nCREATE TABLE a (x String DEFAULT ';') ENGINE = Log",
      "SELECT 'text;', 1; SELECT 2",
      '-- trailing comment\n/* block;\ncomment; */ SELECT `odd;name`',
      '-- only a comment;\nSELECT 3',
    ])
    expect(splitStatements('-- nothing here;\n\n')).toEqual([])
    expect(splitStatements('SELECT 1;\r\nSELECT 2;\r\n')).toEqual(['SELECT 1', 'SELECT 2'])
  })

  it('refuses a script that ends inside a string', () => {
    expect(() => splitStatements("SELECT 'open;\n")).toThrow(/RISK_ERR_MIGRATION/)
  })
})

describe('migrate', () => {
  it('creates the database and tables, records the migration, and is a no-op the second time', async () => {
    const clickhouse = server.connect('migrate_twice')
    const clock = new ManualClock(Date.UTC(2024, 5, 1, 12, 0, 0))
    expect(shipped.slice(0, 2)).toEqual(['001_decisions', '002_events_and_outputs'])
    expect(await migrate(clickhouse, 'migrate_twice', { clock })).toEqual({ applied: shipped, alreadyApplied: [] })
    expect(await migrate(clickhouse, 'migrate_twice', { clock })).toEqual({ applied: [], alreadyApplied: shipped })

    const recorded = await clickhouse.query<{ version: number; name: string; checksum: string; applied_at: string }>(sql`SELECT * FROM schema_migrations ORDER BY version`)
    expect(recorded).toHaveLength(shipped.length)
    expect(recorded[0]).toMatchObject({ version: 1, name: '001_decisions', applied_at: '2024-06-01 12:00:00' })
    expect(recorded[0]?.checksum).toMatch(/^[0-9a-f]{64}$/)

    const columns = await clickhouse.query<{ name: string; type: string }>(
      sql`SELECT name, type FROM system.columns WHERE database = ${'migrate_twice'} AND table = ${'decisions'}`,
    )
    expect(columns.map((column) => column.name)).toEqual(Object.keys(decisionRow()))
    expect(columns.find((column) => column.name === 'executions_value')?.type).toBe('Array(Float64)')
    const tables = await clickhouse.query<{ name: string; engine: string }>(sql`SELECT name, engine FROM system.tables WHERE database = ${'migrate_twice'} ORDER BY name`)
    expect(tables.filter((table) => ['dead_letters', 'decisions', 'schema_migrations'].includes(table.name))).toEqual([
      { name: 'dead_letters', engine: 'ReplacingMergeTree' },
      { name: 'decisions', engine: 'ReplacingMergeTree' },
      { name: 'schema_migrations', engine: 'ReplacingMergeTree' },
    ])
  })

  it('works from a client connected to another database', async () => {
    const clickhouse = server.connect('default')
    expect((await migrate(clickhouse, 'migrate_elsewhere')).applied).toEqual(shipped)
    expect(await clickhouse.query(sql`SELECT count() AS n FROM migrate_elsewhere.schema_migrations`)).toEqual([{ n: String(shipped.length) }])
  })

  it('fails with RISK_ERR_MIGRATION naming a recorded migration whose file changed or went missing', async () => {
    const migrationsDir = await copyOfMigrations('checksum')
    const clickhouse = server.connect('migrate_checksum')
    await migrate(clickhouse, 'migrate_checksum', { migrationsDir })
    const file = path.join(migrationsDir, '001_decisions.sql')
    await appendFile(file, '\n-- an edit after the fact\n')
    await expectMigrationError(migrate(clickhouse, 'migrate_checksum', { migrationsDir }), 'migration 001_decisions was applied but 001_decisions.sql has changed')
    await unlink(file)
    await expectMigrationError(migrate(clickhouse, 'migrate_checksum', { migrationsDir }), 'migration 001_decisions is recorded')
  })

  it('applies only new migrations, in order, and does not record a failing one', async () => {
    const migrationsDir = await copyOfMigrations('pending')
    const clickhouse = server.connect('migrate_pending')
    await migrate(clickhouse, 'migrate_pending', { migrationsDir })
    // Versions far above the shipped ones, so the test holds as migrations are added.
    await writeFile(path.join(migrationsDir, '901_broken.sql'), 'CREATE TABLE IF NOT EXISTS broken (x String) ENGINE = NoSuchEngine;\n')
    await writeFile(path.join(migrationsDir, '900_notes.sql'), "CREATE TABLE IF NOT EXISTS notes (note String) ENGINE = ReplacingMergeTree() ORDER BY note;\nINSERT INTO notes VALUES ('semi;colon');\n")
    await expectMigrationError(migrate(clickhouse, 'migrate_pending', { migrationsDir }), 'migration 901_broken failed at statement 1')
    const recorded = await clickhouse.query<{ name: string }>(sql`SELECT name FROM schema_migrations FINAL ORDER BY version`)
    expect(recorded.map((row) => row.name)).toEqual([...shipped, '900_notes'])
    expect(await clickhouse.query(sql`SELECT note FROM notes`)).toEqual([{ note: 'semi;colon' }])
  })

  it('refuses badly named files and duplicate versions', async () => {
    const clickhouse = server.connect()
    const badName = await copyOfMigrations('bad-name')
    await writeFile(path.join(badName, '2_Notes.sql'), 'SELECT 1;\n')
    await expectMigrationError(migrate(clickhouse, 'migrate_bad', { migrationsDir: badName }), '2_Notes.sql must be named NNN_name.sql')
    const duplicate = await copyOfMigrations('duplicate')
    await writeFile(path.join(duplicate, '001_again.sql'), 'SELECT 1;\n')
    await expectMigrationError(migrate(clickhouse, 'migrate_bad', { migrationsDir: duplicate }), 'share version 1')
    await expectMigrationError(migrate(clickhouse, 'bad-name'), "database name 'bad-name'")
  })
})

describe('001_decisions', () => {
  it('keeps one row per (withdrawal_id, revision) when a replay inserts a decision again', async () => {
    const clickhouse = server.connect('migrate_dedupe')
    await migrate(clickhouse, 'migrate_dedupe')
    // Separate inserts make separate parts, as a replay after a crash would.
    await clickhouse.insert('decisions', [decisionRow()])
    await clickhouse.insert('decisions', [decisionRow({ inserted_at: formatDateTime(1_704_164_700_000), latency_ms: 2.5 })])
    await clickhouse.insert('decisions', [decisionRow({ revision: 1, decision_id: 'wd-1:1', outcome: 'APPROVE' })])

    const raw = await clickhouse.query<{ n: string }>(sql`SELECT count() AS n FROM decisions`)
    expect(raw).toEqual([{ n: '3' }])
    const deduplicated = await clickhouse.query<{ n: string }>(sql`SELECT count() AS n FROM decisions FINAL WHERE withdrawal_id = ${'wd-1'} AND revision = ${0}`)
    expect(deduplicated).toEqual([{ n: '1' }])
    const kept = await clickhouse.query<Record<string, unknown>>(sql`SELECT * FROM decisions FINAL ORDER BY revision`)
    expect(kept).toHaveLength(2)
    expect(kept[0]).toMatchObject({ latency_ms: 2.5, amount_minor: '150000', source_offset: '1042', event_time: '2024-01-02 03:04:05', event_time_ms: '1704164645678' })
    expect(kept[1]).toMatchObject({ revision: 1, outcome: 'APPROVE' })
  })

  it('keeps one dead letter per source record', async () => {
    const clickhouse = server.connect('migrate_dedupe')
    await migrate(clickhouse, 'migrate_dedupe')
    const deadLetter = {
      dlq_id: 'casino.deposits.v1:2:77',
      source_topic: 'casino.deposits.v1',
      source_partition: 2,
      source_offset: '77',
      reason: 'RISK_ERR_DECODE_MAGIC_BYTE',
      message: 'the payload does not start with the magic byte 0',
      payload_base64: Buffer.from([1, 2, 3]).toString('base64'),
      event_time: formatDateTime(1_704_164_645_000),
      inserted_at: formatDateTime(1_704_164_646_000),
    }
    await clickhouse.insert('dead_letters', [deadLetter])
    await clickhouse.insert('dead_letters', [deadLetter])
    expect(await clickhouse.query(sql`SELECT count() AS n FROM dead_letters FINAL`)).toEqual([{ n: '1' }])
  })
})
