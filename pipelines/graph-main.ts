/**
 * The graph worker process (`npm run graph`): consumes risk.links.v1, publishes risk.clusters.v1
 * and cluster alerts. SIGTERM/SIGINT: recompute and snapshot what it holds, commit, exit 0. An
 * unrecoverable error exits 1 so the supervisor restarts it; it resumes from its RocksDB
 * snapshot and re-publishes identical records for anything published but not snapshotted.
 */
import { loadConfig } from '../core/config.js'
import { createLogger, exitAfterLogging } from '../core/logger.js'
import { startGraphWorker } from './graph-worker.js'

const config = loadConfig()
const logger = createLogger('graph', config.logLevel)

async function main(): Promise<void> {
  const running = await startGraphWorker(config, logger)
  logger.info({ instance: config.instanceId, metricsPort: running.metricsPort }, 'graph worker running')
  let stopping = false
  const shutdown = (code: number, reason: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ reason }, 'graph worker stopping')
    running.stop().then(
      () => process.exit(code),
      (error: unknown) => {
        logger.fatal({ err: error }, 'graph worker did not stop cleanly')
        exitAfterLogging(logger, 1)
      },
    )
  }
  running.worker.onFatal(() => shutdown(1, 'fatal error'))
  process.once('SIGTERM', () => shutdown(0, 'SIGTERM'))
  process.once('SIGINT', () => shutdown(0, 'SIGINT'))
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'graph worker failed to start')
  process.exitCode = 1
  setTimeout(() => exitAfterLogging(logger, 1), 100).unref()
})
