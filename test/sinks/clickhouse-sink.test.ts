/**
 * The ClickHouse sink against a real broker (the mock cluster) and a real ClickHouse, both
 * started in temp folders for this file, with the in-memory schema registry: every routed topic
 * lands in its tables once, a replay adds no row, and a batch whose tables are not all in keeps
 * its offsets uncommitted.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Kafka, Partitioners, logLevel } from 'kafkajs'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep, systemClock } from '../../core/clock.js'
import { loadConfig, type PitbossConfig } from '../../core/config.js'
import { silentLogger } from '../../core/logger.js'
import { topicCatalog, topicName } from '../../core/topics.js'
import { startBroker, stopBroker, type BrokerInfo } from '../../infra/broker/launcher.js'
import type { SchemaTopicKey } from '../../schemas/catalog.js'
import { AvroCodec } from '../../schemas/codec.js'
import { ClickHouseSink } from '../../sinks/clickhouse-sink.js'
import type { ClickHouse } from '../../sinks/clickhouse/client.js'
import { migrate } from '../../sinks/clickhouse/migrate.js'
import { identifier, sql } from '../../sinks/clickhouse/sql.js'
import { SINK_ROUTES } from '../../sinks/routes.js'
import { InMemorySchemaRegistry } from '../schemas/memory-registry.js'
import { useLocalClickHouse } from './clickhouse/local-server.js'
import { keyOf, rowsPerRecord, variedRecord } from './varied-records.js'

const server = useLocalClickHouse()
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-sink-test-'))
let broker: BrokerInfo

beforeAll(async () => {
  broker = await startBroker({ homeDir: home, topics: ['sink-a.', 'sink-b.', 'sink-c.'].flatMap((prefix) => topicCatalog(prefix)) })
})
afterAll(async () => {
  await stopBroker(home)
  fs.rmSync(home, { recursive: true, force: true })
})

interface Setup {
  readonly config: PitbossConfig
  readonly codec: AvroCodec
  readonly clickhouse: ClickHouse
  readonly kafka: Kafka
}

async function setUp(prefix: string, database: string, groupId: string): Promise<Setup> {
  const config = loadConfig({
    PITBOSS_HOME: home,
    PITBOSS_KAFKA_BROKERS: broker.bootstrap,
    PITBOSS_TOPIC_PREFIX: prefix,
    PITBOSS_KAFKA_GROUP_ID: groupId,
    PITBOSS_KAFKA_SESSION_TIMEOUT_MS: '6000',
    PITBOSS_KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    PITBOSS_KAFKA_MAX_WAIT_MS: '100',
    PITBOSS_CLICKHOUSE_URL: server.info().url,
    PITBOSS_CLICKHOUSE_DATABASE: database,
  })
  const codec = new AvroCodec(new InMemorySchemaRegistry(), prefix)
  await codec.registerAll()
  const clickhouse = server.connect(database)
  await migrate(clickhouse, database)
  return { config, codec, clickhouse, kafka: new Kafka({ brokers: [...config.kafka.brokers], logLevel: logLevel.NOTHING }) }
}

async function produce(setup: Setup, topic: SchemaTopicKey, values: readonly Record<string, unknown>[]): Promise<void> {
  const producer = setup.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  try {
    await producer.send({ topic: topicName(setup.config.kafka, topic), acks: -1, messages: values.map((value) => ({ key: keyOf(topic, value), value: setup.codec.encode(topic, value) })) })
  } finally {
    await producer.disconnect()
  }
}

async function countOf(clickhouse: ClickHouse, table: string, final: boolean): Promise<number> {
  const rows = await clickhouse.query<{ n: string }>(final ? sql`SELECT count() AS n FROM ${identifier(table)} FINAL` : sql`SELECT count() AS n FROM ${identifier(table)}`)
  return Number(rows[0]?.n)
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** Offsets the sink's group has committed on `topic`, summed over partitions (-1 = none counts as 0). */
async function committed(setup: Setup, topic: SchemaTopicKey): Promise<number> {
  const admin = setup.kafka.admin()
  await admin.connect()
  try {
    const [result] = await admin.fetchOffsets({ groupId: `${setup.config.kafka.groupId}-sink-clickhouse`, topics: [topicName(setup.config.kafka, topic)] })
    return (result?.partitions ?? []).reduce((sum, partition) => sum + Math.max(0, Number(partition.offset)), 0)
  } finally {
    await admin.disconnect()
  }
}

describe('ClickHouseSink', () => {
  it('writes every routed topic to its tables once, and a replay from the start adds no row', async () => {
    const setup = await setUp('sink-a.', 'sink_all_routes', 'sink-a-first')
    const perTopic = 25
    const expected = new Map<string, number>()
    for (const entry of SINK_ROUTES) {
      await produce(setup, entry.topic, Array.from({ length: perTopic }, (_, index) => variedRecord(entry.topic, index)))
      for (const [table, rows] of Object.entries(rowsPerRecord(entry.topic))) expected.set(table, (expected.get(table) ?? 0) + rows * perTopic)
    }
    expect(expected.get('events')).toBe(6 * perTopic)

    const first = new ClickHouseSink({ config: setup.config, kafka: setup.kafka, codec: setup.codec, clickhouse: setup.clickhouse, clock: systemClock, logger: silentLogger, maxAgeMs: 200 })
    await first.start()
    try {
      await until('every table filled', async () => {
        for (const [table, rows] of expected) if ((await countOf(setup.clickhouse, table, true)) < rows) return false
        return true
      })
    } finally {
      await first.stop()
    }
    for (const [table, rows] of expected) expect(await countOf(setup.clickhouse, table, true), table).toBe(rows)
    for (const entry of SINK_ROUTES) expect(await committed(setup, entry.topic), entry.topic).toBe(perTopic)

    // Another group reads everything again, as a sink restarted without its offsets would.
    const again = await setUp('sink-a.', 'sink_all_routes', 'sink-a-replay')
    let reinserted = 0
    const replay = new ClickHouseSink({ config: again.config, kafka: again.kafka, codec: setup.codec, clickhouse: setup.clickhouse, clock: systemClock, logger: silentLogger, maxAgeMs: 200, onInserted: (_table, rows) => { reinserted += rows } })
    await replay.start()
    const total = [...expected.values()].reduce((sum, rows) => sum + rows, 0)
    try {
      await until('the replay inserted', async () => reinserted >= total)
    } finally {
      await replay.stop()
    }
    for (const [table, rows] of expected) {
      expect(await countOf(setup.clickhouse, table, false), table).toBe(rows * 2)
      expect(await countOf(setup.clickhouse, table, true), table).toBe(rows)
    }
  })

  it('commits a batch only once every table of it is in, and retries only the tables missing', async () => {
    const setup = await setUp('sink-b.', 'sink_partial', 'sink-b')
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => { lines.push(line) } })
    await setup.clickhouse.command(sql`RENAME TABLE model_scores TO model_scores_parked`)
    const decisions = Array.from({ length: 10 }, (_, index) => variedRecord('decisions', index))
    const perDecision = rowsPerRecord('decisions')
    await produce(setup, 'decisions', decisions)

    const sink = new ClickHouseSink({ config: setup.config, kafka: setup.kafka, codec: setup.codec, clickhouse: setup.clickhouse, clock: systemClock, logger, maxAgeMs: 100, maxBackoffMs: 200 })
    await sink.start()
    try {
      await until('two failed attempts', async () => lines.filter((line) => line.includes('ClickHouse insert failed')).length >= 2)
      // decisions and rule_executions went in once; model_scores is missing, so nothing is committed.
      expect(await countOf(setup.clickhouse, 'decisions', false)).toBe(10)
      expect(await countOf(setup.clickhouse, 'rule_executions', false)).toBe(10 * perDecision.rule_executions!)
      expect(await committed(setup, 'decisions')).toBe(0)
      const failure = JSON.parse(lines.find((line) => line.includes('ClickHouse insert failed'))!) as { level: number; tablesDone: string[]; err: { code: string } }
      expect(failure).toMatchObject({ level: 50, tablesDone: ['decisions', 'decision_verdicts', 'rule_executions'], err: { code: 'RISK_ERR_CLICKHOUSE_QUERY' } })

      await setup.clickhouse.command(sql`RENAME TABLE model_scores_parked TO model_scores`)
      await until('the offsets committed', async () => (await committed(setup, 'decisions')) === 10)
    } finally {
      await sink.stop()
    }
    expect(await countOf(setup.clickhouse, 'model_scores', true)).toBe(10 * perDecision.model_scores!)
    expect(await countOf(setup.clickhouse, 'decisions', false)).toBe(10)
  })

  it('pauses reading once 2 x maxRows rows wait for ClickHouse, and resumes when they are in; reports the rows waiting', async () => {
    const setup = await setUp('sink-c.', 'sink_pause', 'sink-c')
    const lines: string[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(line) } })
    await setup.clickhouse.command(sql`RENAME TABLE decisions TO decisions_parked`)
    await produce(setup, 'decisions', Array.from({ length: 40 }, (_, index) => variedRecord('decisions', index)))
    const perDecision = Object.values(rowsPerRecord('decisions')).reduce((sum, rows) => sum + rows, 0)

    const buffered: number[] = []
    const sink = new ClickHouseSink({ config: setup.config, kafka: setup.kafka, codec: setup.codec, clickhouse: setup.clickhouse, clock: systemClock, logger, maxRows: 2 * perDecision, maxAgeMs: 100, maxBackoffMs: 200, onBuffered: (rows) => buffered.push(rows) })
    await sink.start()
    try {
      await until('the sink paused', async () => lines.some((line) => line.includes('sink paused')))
      await sleep(500)
      expect(await committed(setup, 'decisions')).toBe(0)
      // paused at 2 x maxRows buffered, with the rows of the batch being retried on top of them
      expect(buffered.at(-1)).toBeGreaterThan(4 * perDecision)
      expect(lines.some((line) => line.includes('sink resumed'))).toBe(false)
      await setup.clickhouse.command(sql`RENAME TABLE decisions_parked TO decisions`)
      await until('the offsets committed', async () => (await committed(setup, 'decisions')) === 40)
    } finally {
      await sink.stop()
    }
    expect(lines.some((line) => line.includes('sink resumed'))).toBe(true)
    expect(await countOf(setup.clickhouse, 'decisions', true)).toBe(40)
    expect(Math.max(...buffered)).toBeLessThanOrEqual(40 * perDecision)
    expect(buffered.at(-1)).toBe(0)
  })
})
