/**
 * The case worker process: files alerts into the case store and publishes case events and
 * labels (cases/worker.ts). One process per store: the store lives in config.cases.dir
 * (PITBOSS_CASES_DIR).
 * SIGTERM finishes the batch in hand, commits, and closes the store.
 */
import { systemClock } from '../core/clock.js'
import { loadConfig } from '../core/config.js'
import { createKafka } from '../core/kafka.js'
import { createLogger, exitAfterLogging } from '../core/logger.js'
import { AvroCodec, createHttpRegistryClient } from '../schemas/codec.js'
import { createCaseService } from './case-service.js'
import { CaseWorker } from './worker.js'

const config = loadConfig()
const logger = createLogger('cases', config.logLevel)

async function main(): Promise<void> {
  const codec = new AvroCodec(createHttpRegistryClient(config.registry.url), config.kafka.topicPrefix, { maxPayloadBytes: config.pipeline.maxPayloadBytes })
  await codec.registerAll()
  const directory = config.cases.dir
  const service = await createCaseService({ directory, clock: systemClock })
  const worker = new CaseWorker({
    config, kafka: createKafka(config.kafka, logger), codec, service, logger,
    onFatal: (error) => {
      logger.fatal({ err: error }, 'case worker cannot continue')
      exitAfterLogging(logger, 1)
    },
  })
  await worker.start()
  logger.info({ directory }, 'case worker started')
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'case worker stopping')
    worker.stop().then(() => service.shutdown()).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.fatal({ err: error }, 'case worker did not stop cleanly; uncommitted alerts are re-read on restart')
        exitAfterLogging(logger, 1)
      },
    )
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'case worker failed to start')
  process.exitCode = 1
  setTimeout(() => exitAfterLogging(logger, 1), 100).unref()
})
