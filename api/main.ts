/**
 * The API process: `buildApp` on the configured host and port. SIGTERM closes it gracefully.
 */
import { Registry, collectDefaultMetrics } from 'prom-client'
import { loadConfig } from '../core/config.js'
import { createLogger } from '../core/logger.js'
import { createClickHouse } from '../sinks/clickhouse/client.js'
import { buildApp } from './app.js'

const config = loadConfig()
const logger = createLogger('api', config.logLevel)

async function main(): Promise<void> {
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics, prefix: 'pitboss_process_' })
  const clickhouse = createClickHouse(config.clickhouse)
  const app = buildApp({ metrics, version: '0.1.0', checks: { clickhouse: () => clickhouse.ping() } })
  const address = await app.listen({ host: config.api.host, port: config.api.port })
  logger.info({ address }, 'api listening')
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'api stopping')
    app.close().then(() => clickhouse.close()).then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'api failed to start')
  process.exitCode = 1
})
