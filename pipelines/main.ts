/**
 * The engine process. SIGTERM/SIGINT: finish the batch in hand, checkpoint, commit, exit 0.
 * An unrecoverable error exits 1 so the supervisor restarts it (it resumes from its checkpoint).
 */
import { loadConfig } from '../core/config.js'
import { createLogger, deferSignals, exitAfterLogging } from '../core/logger.js'
import { startEngine } from './engine.js'

const config = loadConfig()
const logger = createLogger('engine', config.logLevel)

async function main(): Promise<void> {
  const signals = deferSignals(logger)
  const engine = await startEngine(config, logger)
  logger.info({ instance: config.instanceId, metricsPort: engine.metricsPort, stateDir: config.state.dir }, 'engine started')
  let stopping = false
  const shutdown = (code: number, reason: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ reason }, 'engine stopping')
    engine.stop().then(
      () => process.exit(code),
      (error: unknown) => {
        logger.fatal({ err: error }, 'engine did not stop cleanly')
        exitAfterLogging(logger, 1)
      },
    )
  }
  engine.runner.onFatal(() => shutdown(1, 'fatal error'))
  signals.whenStarted((reason) => shutdown(0, reason))
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'engine failed to start')
  process.exitCode = 1
  setTimeout(() => exitAfterLogging(logger, 1), 100).unref()
})
