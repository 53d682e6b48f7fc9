/**
 * The first decision end to end, on the real substrate: withdrawal requests produced to the
 * local broker through the local registry -> engine process -> risk.decisions.v1 -> ClickHouse.
 * With the partition tasks on one processing thread (the default), on two, and on the engine's
 * main thread (PITBOSS_PROCESSING_THREADS=0); the metrics the tasks count reach /metrics each way.
 * The outputs go through librdkafka (the default where it is installed, as here) and, once,
 * through kafkajs (PITBOSS_KAFKA_OUTPUT_PRODUCER=kafkajs, with its OutputCoalescer).
 */
import fs from 'node:fs'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from '../../core/clock.js'
import { player, withdrawal } from '../../bench/events.js'
import { createClickHouse, type ClickHouse } from '../../sinks/clickhouse/client.js'
import { sql } from '../../sinks/clickhouse/sql.js'
import type { Decision } from '../../schemas/generated/types.js'
import { EngineProcess, TopicReader, encoded, isolated, produce, type Isolated } from './support.js'

const HOUR = 60 * 60 * 1000

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe.each([
  { processingThreads: '1', outputProducer: 'librdkafka' },
  { processingThreads: '2', outputProducer: 'librdkafka' },
  { processingThreads: '0', outputProducer: 'librdkafka' },
  { processingThreads: '1', outputProducer: 'kafkajs' },
])('end to end: withdrawal -> decision on Kafka -> row in ClickHouse ($processingThreads processing threads, outputs by $outputProducer)', ({ processingThreads, outputProducer }) => {
  let test: Isolated
  let engine: EngineProcess
  let sink: EngineProcess
  let clickhouse: ClickHouse
  let metricsPort: number

  beforeAll(async () => {
    // Withdrawals with no deposit behind them look risky to the shipped model; here the velocity
    // rule alone decides (the model has its own tests: model-hot-swap, replay-equality).
    test = await isolated('e2e', { PITBOSS_MODELS: 'off', PITBOSS_PROCESSING_THREADS: processingThreads, PITBOSS_KAFKA_OUTPUT_PRODUCER: outputProducer })
    metricsPort = await freePort()
    engine = new EngineProcess(test, 'engine', 'pipelines/main.ts', { PITBOSS_METRICS_PORT: String(metricsPort) }).start()
    sink = new EngineProcess(test, 'sink', 'sinks/main.ts').start()
    clickhouse = createClickHouse({ ...test.config.clickhouse })
  })

  afterAll(async () => {
    await engine.stop()
    await sink.stop()
    await clickhouse.close()
  })

  it('decides each withdrawal once, with its reasons, and lands the decisions in ClickHouse', async () => {
    const messages = [
      encoded(test, 'players', player({ playerId: 'alice', eventTimeMs: 0, jurisdiction: 'MT' })),
      encoded(test, 'players', player({ playerId: 'bob', eventTimeMs: 0, jurisdiction: 'UK' })),
      ...[1, 2, 3, 4].map((hour) => encoded(test, 'withdrawals', withdrawal({ playerId: 'alice', withdrawalId: `a${hour}`, eventTimeMs: hour * HOUR }))),
      ...[1, 2, 3].map((hour) => encoded(test, 'withdrawals', withdrawal({ playerId: 'bob', withdrawalId: `b${hour}`, eventTimeMs: hour * HOUR }))),
    ]
    const reader = await new TopicReader<Decision>(test, 'decisions').start()
    try {
      await produce(test, messages)
      await reader.waitFor((values) => values.length >= 7)
      const outcomes = Object.fromEntries(reader.values.map((decision) => [decision.decisionId, decision.outcome]))
      expect(outcomes).toEqual({
        'a1:1': 'APPROVE', 'a2:1': 'APPROVE', 'a3:1': 'APPROVE', 'a4:1': 'REVIEW',
        'b1:1': 'APPROVE', 'b2:1': 'APPROVE', 'b3:1': 'REVIEW',
      })
      // keyed by withdrawal id; the processing time rides in a header, not in the value
      expect(reader.raw.map((record) => record.key).sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3'])
      expect(reader.raw.every((record) => Number(record.headers['pitboss-processing-ms']) >= 0)).toBe(true)
      // the engine says which client produced them
      expect(fs.readFileSync(engine.logFile, 'utf8')).toContain(`"outputProducer":"${outputProducer}"`)
    } finally {
      await reader.stop()
    }

    // counted where the tasks run, served where /metrics is
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
    let metrics = ''
    const metricsDeadline = Date.now() + 10_000
    while (!/pitboss_decisions_total\{outcome="REVIEW"\} 2\b/.test(metrics) && Date.now() < metricsDeadline) {
      await sleep(100)
      metrics = await (await fetch(metricsUrl)).text()
    }
    expect(metrics).toMatch(/pitboss_decisions_total\{outcome="APPROVE"\} 5\b/)
    expect(metrics).toMatch(/pitboss_decisions_total\{outcome="REVIEW"\} 2\b/)
    expect(metrics).toMatch(/pitboss_events_processed_total\{topic="withdrawals"\} 7\b/)
    // each processing thread reports its own heap (the process's nodejs_heap_* metrics are the main thread's)
    while ((metrics.match(/^pitboss_processing_thread_heap_size_used_bytes\{/gm) ?? []).length < Number(processingThreads) && Date.now() < metricsDeadline + 5_000) {
      await sleep(200)
      metrics = await (await fetch(metricsUrl)).text()
    }
    const threadHeaps = [...metrics.matchAll(/^pitboss_processing_thread_heap_size_used_bytes\{thread="(\d+)"\} (\d+)/gm)]
    expect(threadHeaps.map((match) => match[1]).sort()).toEqual(Array.from({ length: Number(processingThreads) }, (_, index) => String(index)))
    expect(threadHeaps.every((match) => Number(match[2]) > 10 * 1024 * 1024)).toBe(true)

    // the registry holds the subjects the engine and this test registered
    const subjects = (await (await fetch(`${test.config.registry.url}/subjects`)).json()) as string[]
    expect(subjects).toContain(`${test.config.kafka.topicPrefix}risk.decisions.v1-value`)

    type Row = { decision_id: string; outcome: string; executions_detector: string[]; executions_status: string[] }
    let rows: Row[] = []
    const deadline = Date.now() + 60_000
    while (rows.length < 7 && Date.now() < deadline) {
      await sleep(250)
      rows = await clickhouse.query<Row>(sql`SELECT decision_id, outcome, executions_detector, executions_status FROM decisions FINAL ORDER BY decision_id`).catch(() => [])
    }
    expect(rows.map((row) => [row.decision_id, row.outcome])).toEqual([
      ['a1:1', 'APPROVE'], ['a2:1', 'APPROVE'], ['a3:1', 'APPROVE'], ['a4:1', 'REVIEW'], ['b1:1', 'APPROVE'], ['b2:1', 'APPROVE'], ['b3:1', 'REVIEW'],
    ])
    // each detector's execution is recorded beside the outcome; the velocity one is the hit
    const velocity = rows[3]?.executions_detector.indexOf('withdrawal_velocity@1') ?? -1
    expect(velocity).toBeGreaterThanOrEqual(0)
    expect(rows[3]?.executions_status[velocity]).toBe('hit')
  })
})
