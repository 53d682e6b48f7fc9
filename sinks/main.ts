/**
 * The ClickHouse sink process: applies migrations, then streams the casino input topics and the
 * engine's outputs into ClickHouse (sinks/clickhouse-sink.ts, routes in sinks/routes.ts, tables
 * in docs/clickhouse.md). SIGTERM flushes what is buffered and commits.
 */
import { systemClock } from '../core/clock.js'
import { loadConfig } from '../core/config.js'
import { createKafka } from '../core/kafka.js'
import { createLogger, deferSignals, exitAfterLogging } from '../core/logger.js'
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { untilAvailable } from '../pipelines/processing.js'
import { serveMetrics } from '../pipelines/metrics.js'
import { AvroCodec, createHttpRegistryClient } from '../schemas/codec.js'
import { createClickHouse } from './clickhouse/client.js'
import { migrate } from './clickhouse/migrate.js'
import { ClickHouseSink } from './clickhouse-sink.js'

const config = loadConfig()
const logger = createLogger('sink', config.logLevel)

async function main(): Promise<void> {
  const signals = deferSignals(logger)
  const clickhouse = createClickHouse(config.clickhouse)
  await untilAvailable('ClickHouse', () => migrate(clickhouse, config.clickhouse.database), logger)
  const codec = new AvroCodec(createHttpRegistryClient(config.registry.url), config.kafka.topicPrefix, { maxPayloadBytes: config.pipeline.maxPayloadBytes })
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'pitboss_process_' })
  const inserted = new Counter({ name: 'pitboss_sink_rows_inserted_total', help: 'rows inserted into ClickHouse, by table', labelNames: ['table'], registers: [registry] })
  const skipped = new Counter({ name: 'pitboss_sink_records_skipped_total', help: 'records the sink could not decode and skipped, by topic and reason code', labelNames: ['topic', 'reason'], registers: [registry] })
  const buffered = new Gauge({ name: 'pitboss_sink_buffered_rows', help: 'rows read from Kafka and not yet inserted into ClickHouse (buffered or being inserted)', registers: [registry] })
  const metricsServer = await serveMetrics(registry, config.metrics.host, config.metrics.port)
  const sink = new ClickHouseSink({ config, kafka: createKafka(config.kafka, logger), codec, clickhouse, clock: systemClock, logger, onInserted: (table, rows) => inserted.inc({ table }, rows), onSkipped: (topic, reason) => skipped.inc({ topic, reason }), onBuffered: (rows) => buffered.set(rows) })
  await sink.start()
  logger.info({ clickhouse: config.clickhouse.url, database: config.clickhouse.database, metricsPort: metricsServer.port }, 'sink started')
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'sink stopping')
    sink.stop().then(
      async () => {
        await clickhouse.close()
        await metricsServer.close()
        process.exit(0)
      },
      (error: unknown) => {
        logger.fatal({ err: error }, 'sink did not stop cleanly; uncommitted rows are re-read on restart')
        exitAfterLogging(logger, 1)
      },
    )
  }
  signals.whenStarted(shutdown)
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'sink failed to start')
  process.exitCode = 1
  setTimeout(() => exitAfterLogging(logger, 1), 100).unref()
})
